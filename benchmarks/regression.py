"""The regressors against MLPRegressor: R^2 on scikit-learn's bundled data and synthetic data.

Every model has the same topology (one hidden layer of ``--hidden`` ReLU neurons) and sees the
same data: for each seed, a fresh 75/25 train/test split, X standardized on the training rows,
and y standardized by ``TransformedTargetRegressor`` (its predictions are back in y's units, so
R^2 is on the original scale). All train with Adam for at most ``--epochs`` epochs, batch
``min(200, n)``, their own default learning rate and ``alpha``, and each of two stopping rules:
the training loss (``tol``, ``n_iter_no_change``: the default) and ``early_stopping=True`` (10%
of the training rows held out, the parameters of the best epoch kept). Models:

- positional: ``PositionalMLPRegressor`` with its defaults (inverse-square falloff, 2-D
  positions) but the penalty of the defaults before issue 26 (``distance_alpha=0.01``,
  ``distance_reduction="layer_mean"``), with which the committed table was made;
- particle: ``ParticleNetworkRegressor`` with its defaults but Adam and
  ``batch_size="auto"``, as the others;
- falloff none: ``PositionalMLPRegressor(falloff="none", distance_alpha=0)``, a plain MLP
  through our code path;
- MLPRegressor: scikit-learn's.

Data: ``load_diabetes`` (442 x 10), ``load_linnerud`` (20 x 3, three targets),
``make_friedman1`` (1,000 x 10, noise 1), ``make_regression`` (1,000 x 20, three targets,
noise 10).

Quick:  python benchmarks/regression.py --quick
Full:   OMP_NUM_THREADS=1 python benchmarks/regression.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_linnerud, make_friedman1, make_regression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkRegressor, PositionalMLPRegressor

MODELS = ("positional", "particle", "falloff none", "MLPRegressor")


def datasets(quick: bool) -> dict:
    data = {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(n_samples=1000, noise=1.0, random_state=0),
    }
    if not quick:
        data["linnerud (3 targets)"] = load_linnerud(return_X_y=True)
        data["make_regression (3 targets)"] = make_regression(
            n_samples=1000, n_features=20, n_informative=10, n_targets=3, noise=10, random_state=0
        )
    return data


STOPPING = {"training loss": False, "early_stopping": True}


def model(name: str, hidden: int, epochs: int, seed: int, early_stopping: bool):
    common_params = {
        "hidden_layer_sizes": (hidden,),
        "max_iter": epochs,
        "early_stopping": early_stopping,
        "random_state": seed,
    }
    if name == "positional":
        return PositionalMLPRegressor(**common.PENALTY_BEFORE_ISSUE_26, **common_params)
    if name == "particle":
        return ParticleNetworkRegressor(solver="adam", batch_size="auto", **common_params)
    if name == "falloff none":
        return PositionalMLPRegressor(falloff="none", distance_alpha=0.0, **common_params)
    return MLPRegressor(**common_params)


def main(argv=None) -> None:
    parser = common.parser("regression", __doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64, help="hidden neurons")
    parser.add_argument("--epochs", type=int, default=500, help="most epochs per fit")
    args = parser.parse_args(argv)
    epochs = 20 if args.quick else args.epochs
    stem = common.output_stem(args)
    command = "python benchmarks/regression.py" + (" --quick" if args.quick else "")
    if not args.quick and args.seeds != [0]:
        command = "OMP_NUM_THREADS=1 " + command + " --seeds " + " ".join(map(str, args.seeds))
    results = common.Results(
        stem,
        ["data", "stopping", "model", "seed", "r2", "epochs", "fit_seconds"],
        ["data", "stopping", "model", "seed"],
        "Regression: the regressors against MLPRegressor",
        notes=__doc__.split("\n\n", 1)[1].split("\nQuick:")[0]
        + f"\n\nCommand: `{command}`; {args.hidden} hidden neurons, at most {epochs} epochs. "
        "Test R^2, mean ± standard deviation over seeds (splits and initializations).",
        resume=args.resume,
    )

    def table(rows):
        stats = common.grouped_mean(
            rows, ["data", "stopping", "model"], ["r2", "epochs", "fit_seconds"]
        )
        return [
            {
                "data": entry["data"],
                "stopping": entry["stopping"],
                "model": entry["model"],
                "test R^2": f"{entry['r2']:.3f} ± {np.nan_to_num(entry['r2_std']):.3f}",
                "epochs": f"{entry['epochs']:.0f}",
                "fit seconds": f"{entry['fit_seconds']:.2f}",
                "seeds": entry["n_seeds"],
            }
            for entry in stats
        ]

    for data_name, (X, y) in datasets(args.quick).items():
        for seed in args.seeds:
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
            for (stopping, early_stopping), name in itertools.product(STOPPING.items(), MODELS):
                if data_name.startswith("linnerud") and early_stopping:
                    continue  # 15 training rows: a held-out 10% is 2 rows
                if results.done(data=data_name, stopping=stopping, model=name, seed=seed):
                    continue
                estimator = model(name, args.hidden, epochs, seed, early_stopping)
                regressor = TransformedTargetRegressor(
                    make_pipeline(StandardScaler(), estimator), transformer=StandardScaler()
                )
                start = time.perf_counter()
                common.fit(regressor, X_train, y_train)
                seconds = time.perf_counter() - start
                r2 = regressor.score(X_test, y_test)
                fitted = regressor.regressor_[-1]
                results.add(
                    {
                        "data": data_name,
                        "stopping": stopping,
                        "model": name,
                        "seed": seed,
                        "r2": r2,
                        "epochs": fitted.n_iter_,
                        "fit_seconds": seconds,
                    },
                    table,
                )
                print(
                    f"{data_name:>28} {stopping:>14} {name:>13} seed {seed}: R^2 {r2:.3f} "
                    f"({seconds:.2f}s)"
                )

    def draw(ax):
        rows = [row for row in results.rows if row["stopping"] == "training loss"]
        stats = common.grouped_mean(rows, ["data", "model"], ["r2"])
        names = list(dict.fromkeys(entry["data"] for entry in stats))
        width = 0.8 / len(MODELS)
        for index, name in enumerate(MODELS):
            entries = {entry["data"]: entry for entry in stats if entry["model"] == name}
            ax.bar(
                np.arange(len(names)) + index * width,
                [entries[data]["r2"] for data in names],
                width,
                yerr=[np.nan_to_num(entries[data]["r2_std"]) for data in names],
                label=name,
            )
        ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, fontsize=8)
        ax.set_ylabel("test R^2 (stopping on the training loss)")
        # Below -0.5 (linnerud's 20 rows) the bars are cut: the table has the values.
        ax.set_ylim(max(-0.5, ax.get_ylim()[0]), 1.0)
        ax.legend(fontsize=8)

    common.save_plot(stem, draw)
    print(f"wrote {stem}.csv, .md, .png")


if __name__ == "__main__":
    main()
