"""Grow-from-small against train-at-full-size, at equal epochs: accuracy, parameters, wiring cost.

For each dataset, family and seed, three networks of one hidden layer train for the same number
of epochs (one ``partial_fit`` call each, so that no arm stops early):

- full: the full hidden size from the first epoch;
- grown: a quarter of it at first, then ``grow_hidden_neurons`` adds a quarter at each of
  three epochs spread over the first three quarters of the run (new neurons near existing
  ones, placed at random, their outgoing weights or dipoles zero: the function is unchanged at
  each insertion), so it reaches the full size with a quarter of the epochs left;
- grown_gradient: the same schedule, each new neuron the best of 10 candidates by the gradient
  of the loss on the training data (``grow_hidden_neurons(..., X=X_train, y=y_train)``);
- small: the starting quarter throughout (what growth starts from).

Families: ``PositionalMLPClassifier`` and ``ParticleNetworkClassifier`` with their default
parameters (the positional one with the penalty of its defaults before issue 26,
``distance_alpha=0.01, distance_reduction="layer_mean"``). Datasets: scikit-learn's digits
(1,347 train / 450 test, one fixed stratified split) and an MNIST subset (the first
``--mnist-train`` training images, the 10,000 test images), skipped when the files are
missing. Reported: test accuracy, trainable parameters, :func:`sklearn_posnet.spatial.wiring_cost`
and :func:`~sklearn_posnet.spatial.modularity` (Louvain, seeded) of the final network, and the
training time.

Quick:  python benchmarks/growth_experiment.py --quick
Full:   OMP_NUM_THREADS=1 python benchmarks/growth_experiment.py --seeds 0 1 2
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.spatial import modularity, wiring_cost

FAMILIES = {"positional": PositionalMLPClassifier, "particle": ParticleNetworkClassifier}
ARMS = ["full", "grown", "grown_gradient", "small"]
COLUMNS = [
    "dataset", "family", "arm", "seed", "hidden_start", "hidden_final", "epochs", "growth_epochs",
    "test_accuracy", "train_accuracy", "n_parameters", "wiring_cost", "modularity", "fit_seconds",
]  # fmt: skip


def settings(args) -> dict:
    """Per dataset: full hidden size and epochs (smaller with ``--quick``)."""
    if args.quick:
        return {"digits": {"hidden": 16, "epochs": 8}}
    found = {"digits": {"hidden": 32, "epochs": 60}}
    if (args.data / "train-images-idx3-ubyte.gz").is_file() and args.mnist_train > 0:
        found["mnist"] = {"hidden": 64, "epochs": 20}
    return found


def data(name: str, args):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16, y, test_size=450, stratify=y, random_state=0
        )
        return X_train, y_train, X_test, y_test
    X_train, y_train, X_test, y_test = common.mnist(args)
    return X_train[: args.mnist_train], y_train[: args.mnist_train], X_test, y_test


def growth_epochs(epochs: int) -> list[int]:
    """The epochs before which a quarter of the full size is added: 1/4, 1/2 and 3/4 of the run."""
    return [max(1, round(epochs * k / 4)) for k in (1, 2, 3)]


def train(family: str, arm: str, hidden: int, epochs: int, seed: int, data_, args):
    X_train, y_train, X_test, y_test = data_
    start_size = hidden if arm == "full" else hidden // 4
    estimator = FAMILIES[family](hidden_layer_sizes=(start_size,), random_state=seed)
    if family == "positional":  # the defaults of the committed results (before issue 26)
        estimator.set_params(**common.PENALTY_BEFORE_ISSUE_26)
    estimator.set_params(device=args.device)
    schedule = growth_epochs(epochs) if arm.startswith("grown") else []
    guide = {"X": X_train, "y": y_train} if arm == "grown_gradient" else {}
    classes = np.unique(y_train)
    start = time.perf_counter()
    for epoch in range(epochs):
        if epoch in schedule:
            estimator.grow_hidden_neurons(0, hidden // 4, **guide)
        estimator.partial_fit(X_train, y_train, classes=classes)
    seconds = time.perf_counter() - start
    return {
        "hidden_start": start_size,
        "hidden_final": estimator.hidden_layer_sizes[0],
        "epochs": epochs,
        "growth_epochs": " ".join(map(str, schedule)),
        "test_accuracy": estimator.score(X_test, y_test),
        "train_accuracy": estimator.score(X_train, y_train),
        "n_parameters": estimator.n_parameters_,
        "wiring_cost": wiring_cost(estimator),
        "modularity": modularity(estimator, random_state=seed),
        "fit_seconds": seconds,
    }


def std(summary: dict, name: str) -> float:
    return float(np.nan_to_num(summary[f"{name}_std"]))


def table(rows):
    stats = common.grouped_mean(
        rows,
        ["dataset", "family", "arm", "hidden_final"],
        ["test_accuracy", "train_accuracy", "n_parameters", "wiring_cost", "modularity"],
    )
    return [
        {
            "dataset": s["dataset"],
            "family": s["family"],
            "arm": s["arm"],
            "final hidden": s["hidden_final"],
            "seeds": s["n_seeds"],
            "test accuracy": f"{s['test_accuracy']:.4f} ± {std(s, 'test_accuracy'):.4f}",
            "train accuracy": f"{s['train_accuracy']:.4f}",
            "parameters": f"{s['n_parameters']:.0f}",
            "wiring cost": f"{s['wiring_cost']:.4g} ± {std(s, 'wiring_cost'):.2g}",
            "modularity": f"{s['modularity']:.3f} ± {std(s, 'modularity'):.3f}",
        }
        for s in stats
    ]


def plot(stem: Path, rows, datasets) -> Path:
    """Bars of the mean test accuracy and wiring cost of every arm, with one std, per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["test_accuracy", "n_parameters", "wiring_cost"]
    figure, axes = plt.subplots(
        len(datasets), len(metrics), figsize=(11, 3.2 * len(datasets)), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for d, dataset in enumerate(datasets):
        for m, metric in enumerate(metrics):
            panel = axes[d, m]
            for f, family in enumerate(FAMILIES):
                for a, arm in enumerate(ARMS):
                    values = [
                        common.as_float(r[metric])
                        for r in rows
                        if (r["dataset"], r["family"], r["arm"]) == (dataset, family, arm)
                    ]
                    if values:
                        panel.bar(
                            f * (len(ARMS) + 1) + a, np.mean(values), yerr=np.std(values),
                            color=f"C{a}", capsize=3, label=arm if f == 0 else None,
                        )  # fmt: skip
            panel.set_xticks([f * (len(ARMS) + 1) + 1 for f in range(len(FAMILIES))])
            panel.set_xticklabels(list(FAMILIES))
            panel.set_title(f"{dataset}: {metric.replace('_', ' ')}", fontsize="small")
            if metric == "test_accuracy":
                values = [common.as_float(r[metric]) for r in rows if r["dataset"] == dataset]
                panel.set_ylim(max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.02))
    axes[0, 0].legend(fontsize="small")
    path = stem.with_suffix(".png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None) -> None:
    arguments = common.parser("growth_experiment", __doc__.splitlines()[0])
    arguments.add_argument(
        "--mnist-train", type=int, default=10000, help="MNIST training images (0: skip MNIST)"
    )
    args = arguments.parse_args(argv)
    stem = common.output_stem(args)
    command = "python benchmarks/growth_experiment.py " + " ".join(argv or sys.argv[1:])
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    found = settings(args)
    described = "; ".join(
        f"{name}: full hidden {s['hidden']}, {s['epochs']} epochs, growth before epochs "
        f"{growth_epochs(s['epochs'])}"
        for name, s in found.items()
    )
    notes = (
        f"{__doc__.split('Quick:')[0].strip()}\n\nCommand: `{command.strip()}`  \n"
        f"Machine load at the start (`uptime`): `{load}` (a shared machine: the times are "
        f"noisy).\n\nSettings: {described}. Mean ± standard deviation over the seeds."
    )
    results = common.Results(
        stem,
        COLUMNS,
        ["dataset", "family", "arm", "seed"],
        "Neuron growth: grow-from-small against full size at equal epochs",
        notes,
        resume=args.resume,
    )
    for dataset, setting in found.items():
        data_ = data(dataset, args)
        for seed in args.seeds:
            for family in FAMILIES:
                for arm in ARMS:
                    if results.done(dataset=dataset, family=family, arm=arm, seed=seed):
                        continue
                    with common.warnings.catch_warnings():
                        common.warnings.simplefilter("ignore", common.ConvergenceWarning)
                        row = train(
                            family, arm, setting["hidden"], setting["epochs"], seed, data_, args
                        )
                    row.update(dataset=dataset, family=family, arm=arm, seed=seed)
                    results.add(row, table)
                    print(
                        f"{dataset} {family:10s} {arm:14s} seed {seed}: test "
                        f"{row['test_accuracy']:.4f}, {row['n_parameters']} parameters, wiring "
                        f"{row['wiring_cost']:.4g}, Q {row['modularity']:.3f}, "
                        f"{row['fit_seconds']:.1f} s",
                        flush=True,
                    )
    print(plot(stem, results.rows, list(found)))


if __name__ == "__main__":
    main()
