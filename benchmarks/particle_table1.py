"""Particle networks on MNIST: Lange's Table 1, with our MLP and scikit-learn's MLPClassifier.

Every topology is trained as a particle network with 2-D and 3-D particles, as a plain MLP
through our code path (``PositionalMLPClassifier`` with no falloff, no penalty, fixed
positions) and as ``MLPClassifier``. The paper's protocol: ReLU hidden layers, softmax output,
cross-entropy, RMSProp (lr 0.005, decay 0.99), batch 100, 50 epochs, all of them run
(``n_iter_no_change=inf``). ``MLPClassifier`` has no RMSProp: it runs Adam at its default
lr 0.001, batch 100, ``alpha=0``, 50 epochs.

Quick:  python benchmarks/particle_table1.py --quick
Full:   OMP_NUM_THREADS=1 python benchmarks/particle_table1.py --seeds 0
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

# The two topologies with numbers in the paper first, so a partial run has them.
TOPOLOGIES = [
    (128,), (256, 128), (), (16,), (32,), (64,), (256,), (512,), (64, 32), (128, 64),
]  # fmt: skip
QUICK_TOPOLOGIES = [(), (128,), (256, 128)]
MODELS = ["particle n=2", "particle n=3", "MLP (ours)", "MLPClassifier"]
# (model, topology) -> (train %, test %) as printed in Lange's Table 1. Only the entries we
# are sure of; the rest stay blank rather than guessed.
PAPER_ACCURACY = {
    ("particle n=2", "784-128-10"): (96.3, 95.4),
    ("particle n=3", "784-256-128-10"): (98.0, 96.6),
}
COLUMNS = [
    "model", "topology", "seed", "epochs", "train_accuracy", "test_accuracy", "n_parameters",
    "paper_parameters", "paper_train_accuracy", "paper_test_accuracy", "fit_seconds",
]  # fmt: skip


def make_model(model: str, hidden: tuple, epochs: int, seed: int, device: str):
    """The estimator of one row of the table, configured as the paper trained it."""
    shared = dict(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="rmsprop",
        learning_rate_init=0.005,
        batch_size=100,
        max_iter=epochs,
        n_iter_no_change=np.inf,
        random_state=seed,
        device=device,
    )
    if model.startswith("particle"):
        return ParticleNetworkClassifier(particle_dim=int(model[-1]), alpha=0.0, **shared)
    if model == "MLP (ours)":
        return PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, alpha=0.0, trainable_positions="none", **shared
        )
    return MLPClassifier(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=100,
        max_iter=epochs,
        n_iter_no_change=max(epochs, 1) + 1,  # never stop early: run all epochs
        random_state=seed,
    )


def paper_parameters(model: str, layer_sizes: list[int]) -> int:
    if model.startswith("particle"):
        return common.particle_parameters(layer_sizes, int(model[-1]))
    return common.mlp_parameters(layer_sizes)


def summary_table(rows: list[dict]) -> list[dict]:
    """One Markdown row per model and topology: means over seeds beside the paper's numbers."""
    table = []
    values = ["train_accuracy", "test_accuracy", "fit_seconds"]
    for entry in common.grouped_mean(rows, ["model", "topology"], values):
        source = next(
            r for r in rows if (r["model"], r["topology"]) == (entry["model"], entry["topology"])
        )
        std = entry["test_accuracy_std"]
        table.append({
            "model": entry["model"],
            "topology": entry["topology"],
            "params": source["n_parameters"],
            "paper params": source["paper_parameters"],
            "train %": f"{100 * entry['train_accuracy']:.1f}",
            "paper train %": source["paper_train_accuracy"],
            "test %": f"{100 * entry['test_accuracy']:.1f}"
            + ("" if math.isnan(std) else f" ± {100 * std:.1f}"),
            "paper test %": source["paper_test_accuracy"],
            "seeds": entry["n_seeds"],
            "epochs": source["epochs"],
            "fit s": f"{entry['fit_seconds']:.0f}",
        })  # fmt: skip
    return table


def plot(stem: Path, rows: list[dict]) -> None:
    summary = common.grouped_mean(rows, ["model", "topology"], ["test_accuracy"])

    def draw(ax):
        for model, marker in zip(MODELS, "os^v", strict=True):
            points = [
                (next(int(r["n_parameters"]) for r in rows if r["model"] == model
                      and r["topology"] == entry["topology"]), 100 * entry["test_accuracy"])
                for entry in summary if entry["model"] == model
            ]  # fmt: skip
            if points:
                ax.plot(*zip(*sorted(points), strict=True), marker=marker, ls="", label=model)
        for (model, name), (_, test) in PAPER_ACCURACY.items():
            sizes = [int(size) for size in name.split("-")]
            ax.plot(paper_parameters(model, sizes), test, "k*", ms=11)
        ax.plot([], [], "k*", ms=11, label="paper (Lange, Table 1)")
        ax.set(xscale="log", xlabel="trainable parameters", ylabel="MNIST test accuracy (%)",
               title="Particle networks vs MLPs on MNIST")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend()

    common.save_plot(stem, draw)


def main(argv=None) -> None:
    args = common.parser("particle_table1", __doc__.splitlines()[0]).parse_args(argv)
    args.epochs = 1 if args.quick else 50
    X_train, y_train, X_test, y_test = common.mnist(args)
    stem = common.output_stem(args)
    notes = (
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\nCommand: "
        f"`python benchmarks/particle_table1.py {' '.join(argv or sys.argv[1:])}`; "
        f"{len(X_train)} training and {len(X_test)} test images, {args.epochs} epochs. "
        "Accuracies in %; ± is the standard deviation over seeds. 'paper params' is the "
        "paper's formula (2n per particle + 1 bias per non-input neuron; weights + biases for "
        "an MLP); paper accuracies are filled only where we know them."
    )
    results = common.Results(stem, COLUMNS, ["model", "topology", "seed"], "Particle networks, "
                             "Table 1 (Lange) on MNIST", notes, resume=args.resume)  # fmt: skip
    topologies = QUICK_TOPOLOGIES if args.quick else TOPOLOGIES
    for seed in args.seeds:
        for hidden in topologies:
            layer_sizes = [X_train.shape[1], *hidden, 10]
            name = common.topology(X_train.shape[1], hidden)
            for model in MODELS:
                if results.done(model=model, topology=name, seed=seed):
                    continue
                estimator, seconds = common.fit(
                    make_model(model, hidden, args.epochs, seed, args.device), X_train, y_train
                )
                paper_train, paper_test = PAPER_ACCURACY.get((model, name), ("", ""))
                row = {
                    "model": model, "topology": name, "seed": seed,
                    "epochs": getattr(estimator, "n_iter_", args.epochs),
                    "train_accuracy": estimator.score(X_train, y_train),
                    "test_accuracy": estimator.score(X_test, y_test),
                    "n_parameters": common.n_parameters(estimator),
                    "paper_parameters": paper_parameters(model, layer_sizes),
                    "paper_train_accuracy": paper_train, "paper_test_accuracy": paper_test,
                    "fit_seconds": round(seconds, 1),
                }  # fmt: skip
                results.add(row, summary_table)
                plot(stem, results.rows)
                print(
                    f"{model:14s} {name:16s} seed {seed}: train {row['train_accuracy']:.4f} "
                    f"test {row['test_accuracy']:.4f} params {row['n_parameters']} "
                    f"(paper {paper_train or '-'}/{paper_test or '-'}) {seconds:.1f}s",
                    flush=True,
                )
    results.write(summary_table)
    plot(stem, results.rows)
    print(f"wrote {stem}.csv, .md, .png")


if __name__ == "__main__":
    main()
