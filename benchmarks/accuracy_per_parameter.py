"""MNIST accuracy per parameter: the best network of each kind within budgets of ~4k to 50k.

Candidates of every kind are trained on the first 50,000 training images for a fixed number
of epochs; for each budget (4k, 8k, 16k, 50k parameters) the candidate of each kind with the
highest accuracy on the last 10,000 training images (the validation split) among those within
the budget is selected, and its MNIST test accuracy is reported. The test set plays no part in
the selection.

- particle: ParticleNetworkClassifier, n=2 and n=3, RMSProp lr 0.005, batch 100 (Lange).
- positional: PositionalMLPClassifier, swish, Adam lr 1e-3, batch 128, distance penalty 0.25
  (Shader's MNIST settings), one hidden layer sized to each budget.
- pruned positional: a positional 784-128-10 network cut by ``sklearn_posnet.pruning.prune``
  to each budget's number of hidden neurons, then trained ``--finetune-epochs`` more epochs.
- MLP (ours): PositionalMLPClassifier with no falloff, penalty or positions, same training.
- MLPClassifier: scikit-learn, ReLU (it has no swish), Adam lr 1e-3, batch 128, alpha 1e-4.

Quick:  python benchmarks/accuracy_per_parameter.py --quick
Full:   OMP_NUM_THREADS=1 python benchmarks/accuracy_per_parameter.py --seeds 0
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import prune

BUDGETS = [4_000, 8_000, 16_000, 50_000]
KINDS = ["particle", "positional", "pruned positional", "MLP (ours)", "MLPClassifier"]
# kind -> candidate configurations: (particle_dim or None, hidden sizes)
DENSE_HIDDEN = [(5,), (10,), (20,), (40,), (62,)]
CANDIDATES = {
    "particle": [
        (2, (128,)),
        (2, (512,)),
        (3, (256, 128)),
        (2, (1024,)),
        (3, (512, 256)),
        (3, (1024, 512)),
    ],
    "positional": [(None, hidden) for hidden in DENSE_HIDDEN],
    "MLP (ours)": [(None, ()), *((None, hidden) for hidden in DENSE_HIDDEN)],
    "MLPClassifier": [(None, ()), *((None, hidden) for hidden in DENSE_HIDDEN)],
}
QUICK_CANDIDATES = {
    "particle": [(2, (128,))],
    "positional": [(None, (10,))],
    "MLP (ours)": [(None, (10,))],
    "MLPClassifier": [(None, (10,))],
}
PRUNE_FROM = (128,)
COLUMNS = [
    "kind", "config", "seed", "n_parameters", "validation_accuracy", "test_accuracy", "epochs",
    "fit_seconds",
]  # fmt: skip


def make_model(kind: str, particle_dim, hidden: tuple, seed: int, args):
    if kind == "particle":
        return ParticleNetworkClassifier(
            hidden, particle_dim=particle_dim, solver="rmsprop", learning_rate_init=0.005,
            batch_size=100, max_iter=args.epochs, n_iter_no_change=np.inf, random_state=seed,
            device=args.device,
        )  # fmt: skip
    if kind == "MLPClassifier":
        return MLPClassifier(
            hidden, batch_size=128, learning_rate_init=1e-3, max_iter=args.epochs,
            n_iter_no_change=args.epochs + 1, random_state=seed,
        )  # fmt: skip
    shared = dict(
        activation="swish", solver="adam", learning_rate_init=1e-3, batch_size=128,
        max_iter=args.epochs, n_iter_no_change=np.inf, random_state=seed, device=args.device,
    )  # fmt: skip
    if kind == "MLP (ours)":
        return PositionalMLPClassifier(
            hidden, falloff="none", distance_alpha=0.0, alpha=0.0, trainable_positions="none",
            **shared,
        )  # fmt: skip
    # The reference implementation's geometry and loss (the defaults fit the length scale
    # instead and sum the distance penalty over connections).
    return PositionalMLPClassifier(
        hidden, distance_alpha=0.25, distance_reduction="layer_mean", alpha=0.0,
        length_scale=1.0, input_layout="auto", output_layout="circle", **shared,
    )  # fmt: skip


def config_name(particle_dim, hidden: tuple) -> str:
    name = common.topology(784, hidden)
    return name if particle_dim is None else f"{name} n={particle_dim}"


def selection_table(rows: list[dict]) -> list[dict]:
    """Per budget and kind, the candidate of best validation accuracy within the budget."""
    stats = common.grouped_mean(
        rows, ["kind", "config"], ["n_parameters", "validation_accuracy", "test_accuracy"]
    )
    table = []
    for budget in BUDGETS:
        for kind in KINDS:
            within = [e for e in stats if e["kind"] == kind and e["n_parameters"] <= budget]
            if not within:
                continue
            best = max(within, key=lambda entry: entry["validation_accuracy"])
            std = best["test_accuracy_std"]
            table.append({
                "budget": budget, "kind": kind, "config": best["config"],
                "params": int(best["n_parameters"]),
                "validation acc": f"{best['validation_accuracy']:.4f}",
                "test acc": f"{best['test_accuracy']:.4f}" + (f" ± {std:.4f}" if std == std
                                                              else ""),
                "seeds": best["n_seeds"],
            })  # fmt: skip
    return table


def plot(stem: Path, rows: list[dict]) -> None:
    stats = common.grouped_mean(rows, ["kind", "config"], ["n_parameters", "test_accuracy"])

    def draw(ax):
        for kind, marker in zip(KINDS, "os^vD", strict=True):
            points = sorted(
                (e["n_parameters"], e["test_accuracy"]) for e in stats if e["kind"] == kind
            )
            if points:
                ax.plot(*zip(*points, strict=True), marker=marker, label=kind)
        for budget in BUDGETS:
            ax.axvline(budget, color="grey", ls=":", lw=1)
        ax.set(xscale="log", xlabel="trainable parameters (log)", ylabel="MNIST test accuracy",
               title="Accuracy per parameter on MNIST")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend()

    common.save_plot(stem, draw)


def record(results, kind, config, seed, estimator, seconds, epochs, splits) -> None:
    X_val, y_val, X_test, y_test = splits
    row = {
        "kind": kind, "config": config, "seed": seed,
        "n_parameters": common.n_parameters(estimator),
        "validation_accuracy": estimator.score(X_val, y_val),
        "test_accuracy": estimator.score(X_test, y_test), "epochs": epochs,
        "fit_seconds": round(seconds, 1),
    }  # fmt: skip
    results.add(row, selection_table)
    print(
        f"{kind:17s} {config:22s} seed {seed}: {row['n_parameters']:7d} params, validation "
        f"{row['validation_accuracy']:.4f}, test {row['test_accuracy']:.4f} ({seconds:.1f}s)",
        flush=True,
    )


def run_pruned(results, seed, args, X_fit, y_fit, splits) -> None:
    """Train one positional network, then prune a copy to each budget and fine-tune it."""
    budgets = [b for b in BUDGETS if not results.done(kind="pruned positional",
               config=f"{common.topology(784, PRUNE_FROM)} pruned to {b}", seed=seed)]  # fmt: skip
    if not budgets:
        return
    parent, seconds = common.fit(make_model("positional", None, PRUNE_FROM, seed, args),
                                 X_fit, y_fit)  # fmt: skip
    per_neuron = common.positional_parameters([784, 2, 10]) - common.positional_parameters(
        [784, 1, 10]
    )
    for budget in budgets:
        keep = min(PRUNE_FROM[0], (budget - 10) // per_neuron)
        start = time.perf_counter()
        pruned = prune(parent, PRUNE_FROM[0] - keep)
        for _ in range(args.finetune_epochs):
            pruned.partial_fit(X_fit, y_fit)
        config = f"{common.topology(784, PRUNE_FROM)} pruned to {budget}"
        epochs = f"{args.epochs}+{args.finetune_epochs}"
        record(results, "pruned positional", config, seed, pruned,
               seconds + time.perf_counter() - start, epochs, splits)  # fmt: skip


def main(argv=None) -> None:
    arguments = common.parser("accuracy_per_parameter", __doc__.splitlines()[0])
    arguments.add_argument("--epochs", type=int, default=20)
    arguments.add_argument("--finetune-epochs", type=int, default=3)
    args = arguments.parse_args(argv)
    if args.quick:
        args.epochs, args.finetune_epochs = 1, 1
    X_train, y_train, X_test, y_test = common.mnist(args, quick_train=3000, quick_test=2000)
    n_validation = len(X_train) // 6  # 10,000 of 60,000
    X_fit, y_fit = X_train[:-n_validation], y_train[:-n_validation]
    splits = (X_train[-n_validation:], y_train[-n_validation:], X_test, y_test)
    stem = common.output_stem(args)
    notes = (
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\n{__doc__.split(chr(10) + chr(10))[2]}"
        f"\n\nCommand: `python benchmarks/accuracy_per_parameter.py "
        f"{' '.join(argv or sys.argv[1:])}`; {len(X_fit)} training, {n_validation} validation, "
        f"{len(X_test)} test images, {args.epochs} epochs. Test accuracy ± standard deviation "
        "over seeds."
    )
    results = common.Results(stem, COLUMNS, ["kind", "config", "seed"], "Accuracy per "
                             "parameter on MNIST", notes, resume=args.resume)  # fmt: skip
    candidates = QUICK_CANDIDATES if args.quick else CANDIDATES
    for seed in args.seeds:
        for kind, configs in candidates.items():
            for particle_dim, hidden in configs:
                config = config_name(particle_dim, hidden)
                if results.done(kind=kind, config=config, seed=seed):
                    continue
                estimator = make_model(kind, particle_dim, hidden, seed, args)
                estimator, seconds = common.fit(estimator, X_fit, y_fit)
                record(results, kind, config, seed, estimator, seconds, args.epochs, splits)
        run_pruned(results, seed, args, X_fit, y_fit, splits)
        plot(stem, results.rows)
    results.write(selection_table)
    plot(stem, results.rows)
    print(f"wrote {stem}.csv, .md, .png")


if __name__ == "__main__":
    main()
