#!/usr/bin/env bash
# Builds the fused kernels with clang (Debian's, with and without its OpenMP runtime) in a
# temporary copy of the project and runs tests/test_kernels.py against each build: the check
# that setup.py's flags work for a compiler other than GCC. Installs clang and libomp-dev
# itself (as root, through apt) where clang is missing: CI machines start fresh.
#
# Usage: bash tools/build_with_clang.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang >/dev/null 2>&1 || ! dpkg -s libomp-dev >/dev/null 2>&1; then
    echo "-- installing clang and libomp-dev"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libomp-dev >/dev/null
fi
clang --version | head -n 1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build_and_test() {
    local label="$1" openmp="$2"
    rm -rf "$work/copy"
    mkdir "$work/copy"
    cp -r setup.py pyproject.toml README.md sklearn_posnet tests "$work/copy/"
    rm -f "$work"/copy/sklearn_posnet/nn/_kernels*.so
    echo "-- clang, $label: build"
    # LDSHARED too: setuptools links with the compiler Python was built with unless told.
    (cd "$work/copy" && CC=clang LDSHARED="clang -shared" SKLEARN_POSNET_OPENMP="$openmp" \
        python setup.py -q build_ext --inplace 2>&1 | grep -Ev "^(running|copying)|Deprecat|\*\*\*|!!|corresp|Please|By 20|See https|^$" || true)
    local so
    so="$(ls "$work"/copy/sklearn_posnet/nn/_kernels*.so)"
    if ! readelf -p .comment "$so" | grep -qi clang; then
        echo "the kernels were not built by clang" >&2
        exit 1
    fi
    echo "-- clang, $label: tests/test_kernels.py against $so"
    (cd "$work/copy" && python -c "import sklearn_posnet.nn._kernels as k; from sklearn_posnet.nn import compute_backend; print(k.__file__, compute_backend())" \
        && python -m pytest -q -p no:randomly -p no:cacheprovider -o addopts="" tests/test_kernels.py)
}

build_and_test "OpenMP (libomp)" 1
# Without OpenMP, as with Apple's clang without libomp: -fopenmp-simd, one thread, same results.
build_and_test "no OpenMP" 0
