#!/usr/bin/env bash
# Sizes of the package's modules and the `duplicates` counts, at a base commit and now (issue 24).
# Run from the repository root: bash benchmarks/file_sizes_and_duplicates.sh [BASE]
# (BASE defaults to cb0ab5b, where the split of _base.py started).
set -euo pipefail
base=${1:-cb0ab5b}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" | tar -x -C "$tmp"
echo "## wc -l sklearn_posnet/*.py sklearn_posnet/nn/*.py at $base"
(cd "$tmp" && wc -l sklearn_posnet/*.py sklearn_posnet/nn/*.py | sort -k2)
echo "## wc -l sklearn_posnet/*.py sklearn_posnet/nn/*.py now ($(git rev-parse --short HEAD))"
wc -l sklearn_posnet/*.py sklearn_posnet/nn/*.py | sort -k2
echo "## duplicates, the package (duplicates --repo sklearn_posnet)"
echo "$base: $(duplicates --repo "$tmp/sklearn_posnet" | head -1)"
echo "now: $(duplicates --repo sklearn_posnet | head -1)"
echo "## duplicates, the whole tree (duplicates)"
echo "$base: $(cd "$tmp" && duplicates | head -1)"
echo "now: $(duplicates | head -1)"
echo "## duplicates --change --base $base"
duplicates --change --base "$base"
echo "## duplicates --repo sklearn_posnet --most 40, at $base and now"
duplicates --repo "$tmp/sklearn_posnet" --most 40
duplicates --repo sklearn_posnet --most 40
