"""Pruning hidden neurons on MNIST: Shader's Fig. 3, test accuracy against pruned fraction.

For each seed, a Bernoulli subset of the 60,000 training images (each kept with probability
0.25, as the reference did) trains networks of sizes 784-112-56-50-50-50-10 with swish and Adam
(lr 1e-3, batch 128) for a fixed number of epochs (``--epochs``; the paper gives none). Each
fitted network is then pruned by ``sklearn_posnet.pruning.pruning_curve``: fractions 0.05 to
0.5 of its 318 hidden neurons, ranked globally (all hidden layers together) by the mean of
their squared raw incoming and outgoing weights, the lowest removed, no retraining. Every
fraction prunes the same fitted network. Models:

- positional: inverse-square falloff, distance penalty 0.25 (the reference's), ``alpha=0``;
- vanilla: no falloff, no penalty, fixed positions (a plain MLP), ``alpha=0``;
- vanilla + L2: the same with MLPClassifier's L2 ``alpha``, picked per seed from
  ``--l2-alphas`` by the mean accuracy of its pruned networks (all fractions) on 5,000
  validation images drawn from the training images outside the subset: the regularized
  vanilla network most robust to pruning, the comparison the paper calls fair;
- particle: ``ParticleNetworkClassifier`` of the same sizes (``--particle-dim``, swish,
  RMSProp lr 0.005 as in Lange's paper, batch 128). It has no raw weights: its "raw" weight
  is the dipole alignment ``v_i . v_j``, the implied weight without the distance falloff.

Quick:  python benchmarks/pruning_experiment.py --quick
Full:   OMP_NUM_THREADS=1 python benchmarks/pruning_experiment.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import pruning_curve

FRACTIONS = [round(float(f), 2) for f in np.linspace(0.05, 0.5, 10)]
HIDDEN = (112, 56, 50, 50, 50)
TRAIN_FRACTION = 0.25
N_VALIDATION = 5000
# Test accuracy read off the paper's Fig. 3, per pruned fraction (issue 3).
REFERENCE = {
    "positional": [0.954, 0.952, 0.944, 0.898, 0.768, 0.671, 0.539, 0.332, 0.149, 0.102],
    "vanilla": [0.939, 0.886, 0.841, 0.771, 0.576, 0.435, 0.444, 0.179, 0.164, 0.098],
}
MODELS = ["positional", "vanilla", "vanilla + L2", "particle"]
COLUMNS = [
    "seed", "model", "alpha", "fraction", "n_removed", "n_parameters", "n_train", "epochs",
    "test_accuracy", "validation_mean_accuracy", "fit_seconds",
]  # fmt: skip


def make_model(model: str, alpha: float, seed: int, args):
    shared = dict(
        hidden_layer_sizes=HIDDEN,
        activation="swish",
        batch_size=128,
        max_iter=args.epochs,
        n_iter_no_change=np.inf,  # run all the epochs
        random_state=seed,
        device=args.device,
    )
    if model == "particle":
        return ParticleNetworkClassifier(
            particle_dim=args.particle_dim, solver="rmsprop", learning_rate_init=5e-3, **shared
        )
    shared.update(solver="adam", learning_rate_init=1e-3)
    if model == "positional":
        # The reference implementation's geometry and loss (the defaults fit the length scale
        # instead and sum the distance penalty over connections).
        return PositionalMLPClassifier(
            distance_alpha=0.25, distance_reduction="layer_mean", alpha=0.0,
            length_scale=1.0, input_layout="auto", output_layout="circle", **shared,
        )  # fmt: skip
    return PositionalMLPClassifier(
        falloff="none", distance_alpha=0.0, alpha=alpha, trainable_positions="none", **shared
    )


def split(n_samples: int, seed: int, quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """The Bernoulli training subset and validation rows drawn from the rest."""
    rng = np.random.default_rng(seed)
    in_subset = rng.random(n_samples) < TRAIN_FRACTION
    rest = np.flatnonzero(~in_subset)
    n_validation = min(N_VALIDATION, len(rest) // 2 if quick else len(rest))
    return np.flatnonzero(in_subset), np.sort(rng.choice(rest, n_validation, replace=False))


def selected_rows(rows: list[dict]) -> list[dict]:
    """Per seed and model the rows of the fit used: for L2, the alpha of best validation."""
    best: dict[tuple, float] = {}
    for row in rows:
        key = (str(row["seed"]), row["model"])
        score = common.as_float(row["validation_mean_accuracy"])
        if key not in best or score > best[key][1]:
            best[key] = (str(row["alpha"]), score)
    return [row for row in rows if str(row["alpha"]) == best[(str(row["seed"]), row["model"])][0]]


def summary_table(rows: list[dict]) -> list[dict]:
    stats = common.grouped_mean(selected_rows(rows), ["fraction", "model"], ["test_accuracy"])
    alphas = sorted({str(r["alpha"]) for r in selected_rows(rows) if r["model"] == "vanilla + L2"})
    by_fraction: dict[str, dict] = {}
    for entry in stats:
        line = by_fraction.setdefault(str(entry["fraction"]), {})
        std = entry["test_accuracy_std"]
        line[entry["model"]] = f"{entry['test_accuracy']:.4f}" + (
            f" ± {std:.4f}" if std == std else ""
        )
        line["seeds"] = entry["n_seeds"]
    removed = {str(r["fraction"]): r["n_removed"] for r in rows}
    table = []
    for fraction, line in sorted(by_fraction.items(), key=lambda item: float(item[0])):
        value = round(float(fraction), 2)
        index = FRACTIONS.index(value) if value in FRACTIONS else None
        table.append({
            "pruned fraction": fraction,
            "neurons removed": removed[fraction],
            **{model: line.get(model, "") for model in MODELS},
            "reference positional": "" if index is None else REFERENCE["positional"][index],
            "reference vanilla": "" if index is None else REFERENCE["vanilla"][index],
            "seeds": line["seeds"],
        })  # fmt: skip
    if table:
        table[0]["vanilla + L2"] = f"{table[0]['vanilla + L2']} (alpha {', '.join(alphas)})"
    return table


def plot(stem: Path, rows: list[dict]) -> None:
    stats = common.grouped_mean(selected_rows(rows), ["model", "fraction"], ["test_accuracy"])

    def draw(ax):
        common.draw_curves_against_reference(ax, stats, MODELS, REFERENCE, FRACTIONS, "paper")
        ax.set(
            xlabel="fraction of hidden neurons pruned (no retraining)",
            ylabel="MNIST test accuracy",
            title="Pruning hidden neurons (Shader, Fig. 3)",
        )

    common.save_plot(stem, draw)


def main(argv=None) -> None:
    arguments = common.parser("pruning_experiment", __doc__.splitlines()[0])
    arguments.set_defaults(seeds=[0, 1, 2, 3, 4])
    arguments.add_argument("--epochs", type=int, default=50, help="training epochs per model")
    arguments.add_argument("--fractions", type=float, nargs="+", default=FRACTIONS)
    arguments.add_argument(
        "--l2-alphas", type=float, nargs="+", default=[1e-3, 1e-2, 1e-1, 1.0],
        help="L2 strengths tried for 'vanilla + L2' (MLPClassifier's alpha)",
    )  # fmt: skip
    arguments.add_argument("--particle-dim", type=int, default=3)
    args = arguments.parse_args(argv)
    if args.quick:
        args.fractions, args.seeds, args.l2_alphas = [0.05, 0.5], args.seeds[:1], [1e-2]
        args.epochs = 1
    X_train, y_train, X_test, y_test = common.mnist(args, quick_train=4000, quick_test=2000)
    stem = common.output_stem(args)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    notes = "\n\n".join(__doc__.split("\n\n")[1:3]) + (
        f"\n\nCommand: `python benchmarks/pruning_experiment.py {command}`; {args.epochs} "
        f"epochs, {len(X_test)} test images. Mean test accuracy ± standard deviation over "
        "seeds; fraction 0 is the unpruned network. The reference columns are read off the "
        "paper's Fig. 3."
    )
    results = common.Results(stem, COLUMNS, ["seed", "model", "alpha", "fraction"],
                             "Pruning hidden neurons, Fig. 3 (Shader) on MNIST", notes,
                             resume=args.resume)  # fmt: skip
    fractions = [0.0, *args.fractions]
    for seed in args.seeds:
        train_rows, validation_rows = split(len(X_train), seed, args.quick)
        X, y = X_train[train_rows], y_train[train_rows]
        X_val, y_val = X_train[validation_rows], y_train[validation_rows]
        for model in MODELS:
            for alpha in args.l2_alphas if model == "vanilla + L2" else [0.0]:
                if results.done(seed=seed, model=model, alpha=alpha, fraction=fractions[-1]):
                    continue
                estimator, seconds = common.fit(make_model(model, alpha, seed, args), X, y)
                test = pruning_curve(estimator, X_test, y_test, fractions)
                validation = pruning_curve(estimator, X_val, y_val, args.fractions)
                for index, fraction in enumerate(fractions):
                    results.add({
                        "seed": seed, "model": model, "alpha": alpha, "fraction": fraction,
                        "n_removed": int(test.n_neurons_removed[index]),
                        "n_parameters": int(test.n_parameters[index]), "n_train": len(X),
                        "epochs": estimator.n_iter_,
                        "test_accuracy": float(test.scores[index]),
                        "validation_mean_accuracy": float(validation.scores.mean()),
                        "fit_seconds": round(seconds, 1),
                    }, summary_table)  # fmt: skip
                print(
                    f"seed {seed} {model:12s} alpha {alpha:g}: {len(X)} rows, "
                    f"{estimator.n_iter_} epochs ({seconds:.1f}s); test accuracy by fraction "
                    + " ".join(
                        f"{f:g}:{s:.3f}" for f, s in zip(fractions, test.scores, strict=True)
                    ),
                    flush=True,
                )
        plot(stem, results.rows)
    results.write(summary_table)
    plot(stem, results.rows)
    print(f"wrote {stem}.csv, .md, .png")


if __name__ == "__main__":
    main()
