"""The regularization path of the distance penalty: accuracy against wiring cost (issue 26).

For a grid of ``distance_alpha`` (per-connection sum, ``distance_reduction="sum"``) and two
falloffs (inverse square and gaussian, ``length_scale="auto"``), the positional network's test
accuracy, :func:`~sklearn_posnet.spatial.wiring_cost`, :func:`~sklearn_posnet.spatial.modularity`
and :func:`~sklearn_posnet.spatial.structure_permutation_test` (100 shuffles, so that p can
fall below 0.01; the Louvain modularity of the strongest 10% of the connections, for speed;
``modularity_weighted``: that of all of them, without a test).
References at the same topology: the plain network through the same code path
(``falloff="none", distance_alpha=0, trainable_positions="none"``: fixed positions, the
positional network's initial ones), :class:`~sklearn.neural_network.MLPClassifier` measured on
those positions, and a BIMT-style penalty (Liu et al. 2023): ``lambda * sum |w| * d`` added to
the plain network's gradient on its fixed positions (no neuron swaps).

Two data sets: MNIST 784-128-10 (a subset of the training images, the full test set) and a
non-image one, ``make_classification`` with 40 features of which 10 informative and 10
redundant (linear combinations of them) and 20 pure noise, 10 classes, 20,000 samples
(standardized, 25% test), 40-64-10, the inputs evenly on a circle of radius 2. Adam at lr
3e-3 (MLPClassifier: its default 1e-3), batch 128, ``alpha=1e-4``, a fixed number of epochs.

Usage::

    python benchmarks/regularization_path.py --quick
    OMP_NUM_THREADS=1 python benchmarks/regularization_path.py --seeds 0 1 2
"""

from __future__ import annotations

import itertools
import math
import sys
import time
import warnings

import _common as common
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.spatial import modularity, structure_permutation_test

DISTANCE_ALPHAS = [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
FALLOFFS = ["inverse_square", "gaussian"]
BIMT_LAMBDAS = [1e-5, 1e-4, 1e-3]
N_SHUFFLES = 100
DENSITY = 0.1
COLUMNS = [
    "dataset", "model", "falloff", "strength", "seed", "epochs", "test_accuracy", "wiring_cost",
    "wiring_cost_vs_plain", "wiring_cost_pvalue", "modularity", "modularity_shuffled",
    "modularity_pvalue", "modularity_weighted", "fit_seconds",
]  # fmt: skip
VALUES = [
    "test_accuracy", "wiring_cost", "wiring_cost_vs_plain", "wiring_cost_pvalue", "modularity",
    "modularity_shuffled", "modularity_pvalue", "modularity_weighted",
]  # fmt: skip


class L1DistanceGradient(Callback):
    """BIMT-style wiring penalty ``strength * sum |w_ij| * d_ij`` on a positional module with
    fixed positions, added to the weights' gradients after each backward pass (the estimator's
    loss has no hook for an L1 term; its gradient, ``strength * sign(w) * d``, is all Adam
    needs)."""

    def __init__(self, strength: float):
        self.strength = strength

    def on_train_begin(self, net, **kwargs):
        module = net.module_
        with torch.no_grad():
            self.lengths_ = [module.squared_distances(layer).sqrt() for layer in range(2)]

    def on_grad_computed(self, net, named_parameters, **kwargs):
        with torch.no_grad():
            for weight, lengths in zip(net.module_.weights, self.lengths_, strict=True):
                weight.grad.add_(self.strength * torch.sign(weight) * lengths)


def datasets(args):
    """``name -> (X_train, y_train, X_test, y_test, hidden, epochs)``."""
    X_train, y_train, X_test, y_test = common.mnist(args)
    n_train = 2000 if args.quick else args.mnist_train
    found = {"mnist": (X_train[:n_train], y_train[:n_train], X_test, y_test, (128,), args.epochs)}
    n_samples = 2000 if args.quick else 20000
    X, y = make_classification(
        n_samples=n_samples, n_features=40, n_informative=10, n_redundant=10, n_classes=10,
        n_clusters_per_class=2, class_sep=1.5, random_state=0,
    )  # fmt: skip
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    found["make_classification"] = (
        scaler.transform(X_train), y_train, scaler.transform(X_test), y_test, (64,),
        args.tabular_epochs,
    )  # fmt: skip
    return found


def make_model(model, falloff, strength, seed, hidden, epochs, args):
    shared = dict(
        hidden_layer_sizes=hidden, batch_size=128, max_iter=epochs, n_iter_no_change=np.inf,
        random_state=seed, device=args.device, alpha=1e-4,
    )  # fmt: skip
    if model == "MLPClassifier":
        return MLPClassifier(hidden, batch_size=128, max_iter=epochs, random_state=seed)
    if model in ("plain", "BIMT-style"):
        callbacks = [L1DistanceGradient(strength)] if model == "BIMT-style" else None
        return PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, trainable_positions="none",
            callbacks=callbacks, **shared,
        )  # fmt: skip
    return PositionalMLPClassifier(
        falloff=falloff, distance_alpha=strength, distance_reduction="sum", **shared
    )


def structure(estimator, positions, seed):
    test = structure_permutation_test(
        estimator, n_shuffles=N_SHUFFLES, positions=positions, density=DENSITY,
        random_state=seed,
    )  # fmt: skip
    return {
        "wiring_cost": round(test.wiring_cost, 1),
        "wiring_cost_pvalue": round(test.wiring_cost_pvalue, 4),
        "modularity": round(test.modularity, 4),
        "modularity_shuffled": round(float(test.modularity_shuffled.mean()), 4),
        "modularity_pvalue": round(test.modularity_pvalue, 4),
        "modularity_weighted": round(modularity(estimator, random_state=seed), 4),
    }


def configurations(args):
    configs = [("plain", "none", 0.0), ("MLPClassifier", "none", 0.0)]
    configs += [("positional", f, a) for f in args.falloffs for a in args.distance_alphas]
    configs += [("BIMT-style", "none", s) for s in args.bimt_lambdas]
    return configs


MODEL_ORDER = ["plain", "MLPClassifier", "positional", "BIMT-style"]


def summary(rows):
    """Seed means, in a fixed order (data set, model, falloff, strength)."""
    datasets = list(dict.fromkeys(["mnist", "make_classification"] + [r["dataset"] for r in rows]))
    entries = [
        {k: v for k, v in entry.items() if not k.endswith("_std") or k == "test_accuracy_std"}
        for entry in common.grouped_mean(rows, ["dataset", "model", "falloff", "strength"], VALUES)
    ]
    return sorted(
        entries,
        key=lambda e: (
            datasets.index(e["dataset"]), MODEL_ORDER.index(e["model"]), e["falloff"] != "none",
            e["falloff"], float(e["strength"]),
        ),
    )  # fmt: skip


def targets(rows) -> str:
    """The issue's targets, checked on the seed means (and every seed for the p-values)."""
    lines = []
    stats = summary(rows)
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        plain = [s for s in stats if s["dataset"] == dataset and s["model"] == "plain"]
        if not plain:
            continue
        plain = plain[0]
        for falloff in dict.fromkeys(
            r["falloff"] for r in rows if r["dataset"] == dataset and r["model"] == "positional"
        ):
            path = sorted(
                (s for s in stats if s["dataset"] == dataset and s["model"] == "positional"
                 and s["falloff"] == falloff),
                key=lambda s: float(s["strength"]),
            )  # fmt: skip
            costs = [s["wiring_cost"] for s in path]
            monotone = all(b < a for a, b in itertools.pairwise(costs))
            lines.append(
                f"- {dataset}, {falloff}: the mean wiring cost over distance_alpha "
                f"{[float(s['strength']) for s in path]} is {[round(c) for c in costs]} "
                f"({'falls monotonically' if monotone else 'NOT monotone'})."
            )
            for s in path:
                seeds = [
                    r for r in rows if r["dataset"] == dataset and r["model"] == "positional"
                    and r["falloff"] == falloff and str(r["strength"]) == str(s["strength"])
                ]  # fmt: skip
                worst_p = max(common.as_float(r["modularity_pvalue"]) for r in seeds)
                drop = 100 * (plain["test_accuracy"] - s["test_accuracy"])
                ratio = s["wiring_cost"] / plain["wiring_cost"]
                met = drop <= 0.5 and ratio <= 0.5 and worst_p < 0.01
                lines.append(
                    f"- {dataset}, {falloff}, distance_alpha={float(s['strength']):g}: "
                    f"{drop:.2f} pp below the plain network's accuracy, {ratio:.2f} of its wiring "
                    f"cost, modularity p at most {worst_p:.4f} over the seeds: "
                    f"{'all three targets met' if met else 'not all three met'}."
                )
        lines.append("")
    return "\n".join(lines).strip()


def main(argv=None) -> None:
    arguments = common.parser("regularization_path", __doc__.splitlines()[0])
    arguments.add_argument("--distance-alphas", type=float, nargs="+", default=DISTANCE_ALPHAS)
    arguments.add_argument("--falloffs", nargs="+", default=FALLOFFS)
    arguments.add_argument("--bimt-lambdas", type=float, nargs="+", default=BIMT_LAMBDAS)
    arguments.add_argument("--epochs", type=int, default=10, help="MNIST epochs")
    arguments.add_argument("--tabular-epochs", type=int, default=30)
    arguments.add_argument("--mnist-train", type=int, default=30000)
    arguments.add_argument("--datasets", nargs="+", default=["mnist", "make_classification"])
    arguments.add_argument(
        "--report", action="store_true",
        help="only rewrite the Markdown and the plot from the CSV (keeping the run's command)",
    )  # fmt: skip
    args = arguments.parse_args(argv)
    if args.report:
        report(common.output_stem(args))
        return
    if args.quick:
        args.seeds, args.epochs, args.tabular_epochs = args.seeds[:1], 1, 2
        args.distance_alphas, args.falloffs, args.bimt_lambdas = [0.0, 1e-4], FALLOFFS[:1], [1e-4]
    global N_SHUFFLES
    if args.quick:
        N_SHUFFLES = 5
    data = datasets(args)
    notes = (
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\n{__doc__.split(chr(10) + chr(10))[2]}\n\n"
        f"Command: `python benchmarks/regularization_path.py {' '.join(argv or sys.argv[1:])}`; "
        f"MNIST: {len(data['mnist'][0])} training and {len(data['mnist'][2])} test images, "
        f"{args.epochs} epochs; make_classification: {len(data['make_classification'][0])} "
        f"training and {len(data['make_classification'][2])} test samples, "
        f"{args.tabular_epochs} epochs. `strength` is distance_alpha (positional) or lambda "
        "(BIMT-style); `wiring_cost_vs_plain` is the ratio to the plain network of the same seed; "
        f"p-values from {N_SHUFFLES} shuffles; the table gives seed means "
        "(`test_accuracy_std`: the spread over seeds)."
    )
    stem = common.output_stem(args)
    results = common.Results(
        stem, COLUMNS, ["dataset", "model", "falloff", "strength", "seed"],
        "Regularization path: accuracy against wiring cost", notes, resume=args.resume,
    )  # fmt: skip
    for name in args.datasets:
        X_train, y_train, X_test, y_test, hidden, epochs = data[name]
        for seed in args.seeds:
            plain_positions, plain_cost = None, None
            for model, falloff, strength in configurations(args):
                key = dict(dataset=name, model=model, falloff=falloff, strength=strength)
                done = results.done(**key, seed=seed)
                if done and model != "plain":  # the plain network is refit for its positions
                    continue
                estimator = make_model(model, falloff, strength, seed, hidden, epochs, args)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    estimator.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                positions = plain_positions if model == "MLPClassifier" else None
                row = {
                    **key, "seed": seed, "epochs": epochs,
                    "test_accuracy": round(estimator.score(X_test, y_test), 4),
                    **structure(estimator, positions, seed), "fit_seconds": round(seconds, 1),
                }  # fmt: skip
                if model == "plain":
                    plain_positions = [p.detach().numpy() for p in estimator.module_.positions]
                    plain_cost = row["wiring_cost"]
                    if done:
                        continue
                row["wiring_cost_vs_plain"] = round(row["wiring_cost"] / plain_cost, 4)
                results.add(row, summary)
                print({k: row[k] for k in COLUMNS[:12]}, flush=True)
    results.write(summary)
    finish(results)


def finish(results) -> None:
    with results.stem.with_suffix(".md").open("a") as handle:
        handle.write(f"\n## Targets (issue 26)\n\n{targets(results.rows)}\n")
    draw(results.stem, results.rows)


def report(stem) -> None:
    """Rewrite ``stem.md`` and ``stem.png`` from ``stem.csv``, with the notes already there."""
    text = stem.with_suffix(".md").read_text()
    title, _, rest = text.partition("\n\n")
    notes = rest[: rest.index("\n|")]
    results = common.Results(stem, COLUMNS, [], title.lstrip("# "), notes, resume=True)
    results.write(summary)
    finish(results)


def draw(stem, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = summary(rows)
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    figure, axes = plt.subplots(
        1, len(names), figsize=(6.5 * len(names), 4.5), layout="constrained", squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        for (model, falloff), marker in {
            ("positional", "inverse_square"): "o", ("positional", "gaussian"): "^",
            ("BIMT-style", "none"): "s", ("plain", "none"): "*", ("MLPClassifier", "none"): "P",
        }.items():  # fmt: skip
            path = sorted(
                (s for s in stats if s["dataset"] == name and s["model"] == model
                 and s["falloff"] == falloff),
                key=lambda s: float(s["strength"]),
            )  # fmt: skip
            if not path:
                continue
            label = model if model != "positional" else f"positional, {falloff}"
            ax.errorbar(
                [s["wiring_cost"] for s in path], [s["test_accuracy"] for s in path],
                yerr=[0 if math.isnan(s["test_accuracy_std"]) else s["test_accuracy_std"]
                      for s in path],
                marker=marker, ms=8 if marker == "*" else 5, capsize=2, label=label,
                ls="-" if len(path) > 1 else "none",
            )  # fmt: skip
            if model == "positional" and falloff == "inverse_square":
                for s in path:
                    ax.annotate(f"{float(s['strength']):g}", (s["wiring_cost"], s["test_accuracy"]),
                                fontsize=7, xytext=(3, 3), textcoords="offset points")  # fmt: skip
        plain = [s for s in stats if s["dataset"] == name and s["model"] == "plain"]
        if plain:  # the target: half the plain network's wiring, 0.5 pp below it
            ax.axvline(0.5 * plain[0]["wiring_cost"], color="gray", ls=":", lw=1)
            ax.axhline(
                plain[0]["test_accuracy"] - 0.005, color="gray", ls=":", lw=1,
                label="half the plain wiring, 0.5 pp below its accuracy",
            )  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("wiring cost (sum |w| d / mean |w|)")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.savefig(stem.with_suffix(".png"), dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
