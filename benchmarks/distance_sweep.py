"""Accuracy against spatial structure on MNIST: a sweep of ``distance_alpha``.

The positional model 784-128-10 at its defaults (``length_scale="auto"``, inverse square, 2-D)
with the reference's penalty (``distance_reduction="layer_mean"``, the default until issue 26)
for each ``distance_alpha``, and the plain MLP at the same topology
(``falloff="none", distance_alpha=0, trainable_positions="none"``) as the reference point. Each
row gives the test accuracy and :func:`~sklearn_posnet.spatial.mean_connection_length` (the
mean connection length weighted by the effective weights' magnitude; the plain MLP's is that
of its fixed initial positions). Adam at lr 3e-3 (the estimator's default), batch 128, a fixed
number of epochs.

Usage::

    python benchmarks/distance_sweep.py --quick        # 2,000 images, 1 epoch, 2 strengths
    OMP_NUM_THREADS=1 python benchmarks/distance_sweep.py --seeds 0
"""

from __future__ import annotations

import sys

import _common as common
import numpy as np

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.spatial import mean_connection_length

HIDDEN = (128,)
DISTANCE_ALPHAS = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0]
COLUMNS = [
    "model", "distance_alpha", "seed", "epochs", "test_accuracy", "mean_connection_length",
    "fit_seconds",
]  # fmt: skip


def make_model(model: str, distance_alpha: float, seed: int, args):
    shared = dict(
        hidden_layer_sizes=HIDDEN, batch_size=128, max_iter=args.epochs,
        n_iter_no_change=np.inf, random_state=seed, device=args.device,
    )  # fmt: skip
    if model == "plain MLP":
        return PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, trainable_positions="none", **shared
        )
    # The penalty as it was when this sweep was committed: the reference's layer mean (the
    # default then). benchmarks/regularization_path.py sweeps the per-connection sum.
    return PositionalMLPClassifier(
        distance_alpha=distance_alpha, distance_reduction="layer_mean", **shared
    )


def main(argv=None) -> None:
    arguments = common.parser("distance_sweep", __doc__.splitlines()[0])
    arguments.add_argument("--distance-alphas", type=float, nargs="+", default=DISTANCE_ALPHAS)
    arguments.add_argument("--epochs", type=int, default=20)
    args = arguments.parse_args(argv)
    if args.quick:
        args.distance_alphas, args.seeds, args.epochs = [0.0, 0.1], args.seeds[:1], 1
    X_train, y_train, X_test, y_test = common.mnist(args)
    notes = (
        f"{__doc__.split(chr(10) + chr(10))[1]}\n\nCommand: `python benchmarks/distance_sweep.py "
        f"{' '.join(argv or sys.argv[1:])}`; {len(X_train)} training and {len(X_test)} test "
        f"images, {args.epochs} epoch(s)."
    )
    results = common.Results(
        common.output_stem(args), COLUMNS, ["model", "distance_alpha", "seed"],
        "distance_alpha sweep on MNIST 784-128-10", notes, resume=args.resume,
    )  # fmt: skip
    configurations = [("positional", alpha) for alpha in args.distance_alphas]
    configurations.append(("plain MLP", 0.0))
    for seed in args.seeds:
        for model, alpha in configurations:
            if results.done(model=model, distance_alpha=alpha, seed=seed):
                continue
            estimator, seconds = common.fit(make_model(model, alpha, seed, args), X_train, y_train)
            results.add(
                {
                    "model": model, "distance_alpha": alpha, "seed": seed,
                    "epochs": estimator.n_iter_,
                    "test_accuracy": round(estimator.score(X_test, y_test), 4),
                    "mean_connection_length": round(float(mean_connection_length(estimator)), 3),
                    "fit_seconds": round(seconds, 1),
                }
            )  # fmt: skip
            print(results.rows[-1], flush=True)

    def draw(ax):
        for model, marker in (("positional", "o"), ("plain MLP", "s")):
            rows = [r for r in results.rows if r["model"] == model]
            ax.scatter(
                [common.as_float(r["mean_connection_length"]) for r in rows],
                [common.as_float(r["test_accuracy"]) for r in rows],
                marker=marker, label=model,
            )  # fmt: skip
            for r in rows if model == "positional" else []:
                ax.annotate(
                    r["distance_alpha"],
                    (common.as_float(r["mean_connection_length"]),
                     common.as_float(r["test_accuracy"])),
                )  # fmt: skip
        ax.set_xlabel("mean connection length (weighted by |effective weight|)")
        ax.set_ylabel("test accuracy")
        ax.legend()

    common.save_plot(common.output_stem(args), draw)


if __name__ == "__main__":
    main()
