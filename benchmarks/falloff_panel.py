"""Every named falloff in every dimension, on small classification data: does each one learn?

For the positional model, every named falloff x ``position_dim`` in {1, 2, 3}; for the particle
model, every falloff x ``particle_dim`` in {1, 2, 3, 4}; each at the estimator's defaults
(``falloff`` and the dimension aside; the positional penalty that of the defaults before issue
26, ``distance_alpha=0.01, distance_reduction="layer_mean"``, with which the tables were made),
after a ``StandardScaler`` in a ``Pipeline``, on
scikit-learn's bundled classification data (iris, wine, breast_cancer, digits) and two synthetic
sets (``make_classification``, ``make_moons``), 30% stratified test split per seed. The
references, on the same splits:

- ``MLPClassifier``: scikit-learn's, at its defaults (100 hidden neurons, like the positional
  model's default topology);
- ``plain (ours)``: ``PositionalMLPClassifier(falloff="none", distance_alpha=0,
  trainable_positions="none")``, a plain MLP at the positional model's topology and training
  settings;
- ``MLP (equal params)``: ``MLPClassifier`` with one hidden layer sized so that it has about
  as many parameters as the default particle network (``particle_dim=2``) on that data.

Writes ``falloff_panel[_quick].csv`` (one row per model, data set and seed), ``.md`` (mean test
accuracy per model and data set, the gap to ``MLPClassifier`` and the worst cells) and ``.png``
(a heat map of the gap to ``MLPClassifier``, in points).

Usage::

    python benchmarks/falloff_panel.py --quick          # < 60 s: iris and moons, 1 seed
    OMP_NUM_THREADS=1 python benchmarks/falloff_panel.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import csv
import math
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
    make_moons,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier  # noqa: E402

#: The positional penalty of the committed tables: the defaults before issue 26.
PENALTY_BEFORE_ISSUE_26 = {"distance_alpha": 0.01, "distance_reduction": "layer_mean"}

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
FALLOFFS = ("inverse_square", "gaussian", "exponential", "none")
POSITION_DIMS = (1, 2, 3)
PARTICLE_DIMS = (1, 2, 3, 4)
DATASETS = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "classification": lambda: make_classification(
        n_samples=600, n_features=20, n_informative=8, n_classes=3, random_state=0
    ),
    "moons": lambda: make_moons(n_samples=600, noise=0.25, random_state=0),
}
QUICK_DATASETS = ("iris", "moons")
REFERENCES = ("MLPClassifier", "plain (ours)", "MLP (equal params)")
COLUMNS = ["family", "model", "dim", "falloff", "dataset", "seed", "test_accuracy", "seconds"]


def particle_parameters(n_features: int, hidden: int, n_classes: int, dim: int) -> int:
    """Positions and dipoles of every particle plus the biases of the non-input layers."""
    return 2 * dim * (n_features + hidden + n_classes) + hidden + n_classes


def equal_parameter_hidden(n_features: int, n_classes: int, n_parameters: int) -> int:
    """Hidden neurons of a one-hidden-layer MLP with about ``n_parameters`` parameters."""
    return max(1, round((n_parameters - n_classes) / (n_features + 1 + n_classes)))


def configurations(max_iter: int | None):
    """``(family, model, dim, falloff, build)`` for every row of the panel."""
    extra = {} if max_iter is None else {"max_iter": max_iter}
    for dim in POSITION_DIMS:
        for falloff in FALLOFFS:
            yield (
                "positional", f"positional d={dim}", dim, falloff,
                lambda seed, n, k, dim=dim, falloff=falloff: PositionalMLPClassifier(
                    falloff=falloff, position_dim=dim, random_state=seed,
                    **PENALTY_BEFORE_ISSUE_26, **extra,
                ),
            )  # fmt: skip
    for dim in PARTICLE_DIMS:
        for falloff in FALLOFFS:
            yield (
                "particle", f"particle n={dim}", dim, falloff,
                lambda seed, n, k, dim=dim, falloff=falloff: ParticleNetworkClassifier(
                    falloff=falloff, particle_dim=dim, random_state=seed, **extra
                ),
            )  # fmt: skip
    yield (
        "reference", "MLPClassifier", "", "",
        lambda seed, n, k: MLPClassifier(random_state=seed, **extra),
    )  # fmt: skip
    yield (
        "reference", "plain (ours)", "", "none",
        lambda seed, n, k: PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, trainable_positions="none", random_state=seed,
            **extra,
        ),
    )  # fmt: skip
    yield (
        "reference", "MLP (equal params)", "", "",
        lambda seed, n, k: MLPClassifier(
            (equal_parameter_hidden(n, k, particle_parameters(n, 128, k, 2)),),
            random_state=seed, **extra,
        ),
    )  # fmt: skip


def run(datasets, seeds, max_iter, csv_path: Path) -> list[dict]:
    rows = []
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for name in datasets:
            X, y = DATASETS[name]()
            n_features, n_classes = X.shape[1], len(np.unique(y))
            for seed in seeds:
                X_train, X_test, y_train, y_test = train_test_split(
                    X, y, test_size=0.3, stratify=y, random_state=seed
                )
                for family, model, dim, falloff, build in configurations(max_iter):
                    pipeline = make_pipeline(StandardScaler(), build(seed, n_features, n_classes))
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        pipeline.fit(X_train, y_train)
                    row = dict(
                        family=family, model=model, dim=dim, falloff=falloff, dataset=name,
                        seed=seed, test_accuracy=round(pipeline.score(X_test, y_test), 4),
                        seconds=round(time.perf_counter() - start, 2),
                    )  # fmt: skip
                    writer.writerow(row)
                    handle.flush()
                    rows.append(row)
                print(f"{name} seed {seed} done", flush=True)
    return rows


def summary(rows: list[dict], datasets) -> tuple[list[str], dict, dict]:
    """Row labels, mean accuracy per (label, data set), and the MLPClassifier reference."""
    means: dict[tuple[str, str], float] = {}
    labels: list[str] = []
    for row in rows:
        label = row["model"] if row["family"] == "reference" else f"{row['model']} {row['falloff']}"
        if label not in labels:
            labels.append(label)
    for label in labels:
        for name in datasets:
            scores = [
                float(r["test_accuracy"])
                for r in rows
                if r["dataset"] == name
                and (r["model"] if r["family"] == "reference" else f"{r['model']} {r['falloff']}")
                == label
            ]
            means[label, name] = float(np.mean(scores)) if scores else math.nan
    reference = {name: means["MLPClassifier", name] for name in datasets}
    return labels, means, reference


def markdown(rows, datasets, seeds, command, seconds) -> str:
    labels, means, reference = summary(rows, datasets)
    header = "| model | " + " | ".join(datasets) + " | worst gap |"
    lines = [
        "# falloff_panel",
        "",
        f"Command: `{command}`; {len(seeds)} seed(s) {list(seeds)}, 30% stratified test split per "
        f"seed, StandardScaler in a Pipeline. {seconds:.0f} s on {platform.node() or 'a'} "
        "machine shared with other jobs (2 cores).",
        "",
        "Mean test accuracy; in brackets the difference to `MLPClassifier` in points "
        "(negative: below it). `plain (ours)` is `PositionalMLPClassifier(falloff='none', "
        "distance_alpha=0, trainable_positions='none')`; `MLP (equal params)` an "
        "`MLPClassifier` with as many parameters as the particle network with particle_dim=2.",
        "",
        header,
        "|" + "---|" * (len(datasets) + 2),
    ]
    worst = []
    for label in labels:
        cells, gaps = [], []
        for name in datasets:
            gap = 100 * (means[label, name] - reference[name])
            gaps.append(gap)
            cells.append(f"{means[label, name]:.3f} ({gap:+.1f})")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {min(gaps):+.1f} |")
        if label not in REFERENCES:
            worst.extend((gap, label, name) for gap, name in zip(gaps, datasets, strict=True))
    worst.sort()
    lines += ["", "Worst cells (gap to MLPClassifier, points):", ""]
    lines += [f"- {label} on {name}: {gap:+.1f}" for gap, label, name in worst[:10]]
    plain = {name: means["plain (ours)", name] for name in datasets}
    if "digits" in datasets:
        lines += [
            "",
            "Positional at its defaults (inverse_square, position_dim=2) on digits: "
            f"{means['positional d=2 inverse_square', 'digits']:.3f}; plain (ours): "
            f"{plain['digits']:.3f}; MLPClassifier: {reference['digits']:.3f}.",
        ]
    return "\n".join(lines) + "\n"


def heat_map(rows, datasets, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, means, reference = summary(rows, datasets)
    gaps = np.array(
        [[100 * (means[label, name] - reference[name]) for name in datasets] for label in labels]
    )
    figure, ax = plt.subplots(figsize=(1.4 * len(datasets) + 4, 0.32 * len(labels) + 1.5))
    image = ax.imshow(gaps, cmap="RdBu", vmin=-10, vmax=10, aspect="auto")
    ax.set_xticks(range(len(datasets)), datasets, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(datasets)):
            ax.text(j, i, f"{gaps[i, j]:+.1f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="test accuracy - MLPClassifier's (points)")
    ax.set_title("falloff panel: gap to MLPClassifier")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--max-iter", type=int, default=None, help="epochs of every model (default: its own)"
    )
    parser.add_argument("--quick", action="store_true", help="iris and moons, 1 seed, 30 epochs")
    parser.add_argument("--out", type=Path, default=None, help="path stem of the results")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.datasets, args.max_iter = [0], list(QUICK_DATASETS), 30
    stem = args.out or RESULTS_DIR / ("falloff_panel" + ("_quick" if args.quick else ""))
    command = "python benchmarks/falloff_panel.py " + " ".join(argv or sys.argv[1:])
    start = time.perf_counter()
    rows = run(args.datasets, args.seeds, args.max_iter, stem.with_suffix(".csv"))
    seconds = time.perf_counter() - start
    stem.with_suffix(".md").write_text(
        markdown(rows, args.datasets, args.seeds, command.strip(), seconds)
    )
    heat_map(rows, args.datasets, stem.with_suffix(".png"))
    print(f"wrote {stem}.csv/.md/.png in {seconds:.0f} s")


if __name__ == "__main__":
    main()
