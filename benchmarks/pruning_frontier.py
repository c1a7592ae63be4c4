"""The pruning frontier on MNIST: test accuracy against parameters left after iterative pruning.

The practitioner's question (issue 17): for a given number of remaining parameters, which
training gives the best accuracy after pruning and fine-tuning? Networks of sizes
784-112-56-50-50-50-10 (swish, batch 128) train for ``--epochs`` epochs on ``--n-train``
MNIST training images; ``--n-validation`` other training images are the validation data; the
10,000 test images are used only to report. Families, each over a small grid of its
regularization strength:

- positional: inverse-square falloff with the reference's geometry (``length_scale=1``, input
  grid, output circle), ``alpha=0``, Adam lr 1e-3, over ``distance_alpha`` (``--distance-alphas``);
- vanilla: a plain MLP through the same code (``falloff="none"``, ``distance_alpha=0``, fixed
  positions), Adam lr 1e-3, no penalty;
- vanilla + L2: the same over MLPClassifier's L2 ``alpha`` (``--l2-alphas``);
- particle: ``ParticleNetworkClassifier`` with 3-D particles, RMSProp lr 5e-3 (Lange's), over
  the L2 ``alpha`` on its implied weights (``--particle-alphas``).

Every fitted network is pruned to budgets of 25%, 50%, 75% and 90% of its 318 hidden
neurons removed, one budget after the other: each budget continues from the previous one's
pruned and fine-tuned network with ``NeuronPruner(..., n_steps=--steps,
fine_tune_epochs=--fine-tune)`` (neurons ranked globally by ``--criterion``, default the
paper's mean squared weight, re-scored before every step, at least ``--min-neurons`` per
layer, one epoch over the training images = one ``partial_fit``). A budget's network has thus
had the fine-tuning of the budgets before it too, and its accuracy can exceed that of a smaller
budget. Beside it, the one-shot pruning of the unpruned network to the same budget, without
fine-tuning. Per seed, family and budget the grid value with the best validation accuracy is
chosen and its test accuracy reported; the table gives mean ± standard deviation over seeds and
lists the values chosen (over all seeds).

Quick:  python benchmarks/pruning_frontier.py --quick
Full:   OMP_NUM_THREADS=1 nice -n 10 python benchmarks/pruning_frontier.py --seeds 0 1 2
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner

HIDDEN = (112, 56, 50, 50, 50)
BUDGETS = [0.0, 0.25, 0.5, 0.75, 0.9]
FAMILIES = ["positional", "vanilla", "vanilla + L2", "particle"]
STRENGTH = {
    "positional": "distance_alpha",
    "vanilla": "none",
    "vanilla + L2": "alpha",
    "particle": "alpha",
}
COLUMNS = [
    "seed", "family", "strength_name", "strength", "budget", "n_hidden", "n_parameters",
    "validation_accuracy", "test_accuracy", "one_shot_test_accuracy", "n_train", "epochs",
    "fine_tune_epochs", "seconds",
]  # fmt: skip


def make_model(family: str, strength: float, seed: int, args):
    shared = dict(
        hidden_layer_sizes=HIDDEN,
        activation="swish",
        batch_size=128,
        max_iter=args.epochs,
        n_iter_no_change=np.inf,  # run all the epochs
        random_state=seed,
        device=args.device,
        n_threads=1,
    )
    if family == "particle":
        return ParticleNetworkClassifier(
            particle_dim=3, solver="rmsprop", learning_rate_init=5e-3, alpha=strength, **shared
        )
    shared.update(solver="adam", learning_rate_init=1e-3)
    if family == "positional":
        return PositionalMLPClassifier(
            distance_alpha=strength, distance_reduction="layer_mean", alpha=0.0,
            length_scale=1.0, input_layout="auto",
            output_layout="circle", **shared,
        )  # fmt: skip
    return PositionalMLPClassifier(
        falloff="none", distance_alpha=0.0, alpha=strength, trainable_positions="none", **shared
    )


def grid(family: str, args) -> list[float]:
    return {
        "positional": args.distance_alphas,
        "vanilla": [0.0],
        "vanilla + L2": args.l2_alphas,
        "particle": args.particle_alphas,
    }[family]


def chosen_rows(rows: list[dict]) -> list[dict]:
    """Per seed, family and budget, the row of the grid value with the best validation accuracy
    (ties: the first in the grid)."""
    best: dict[tuple, dict] = {}
    for row in rows:
        key = (str(row["seed"]), row["family"], str(row["budget"]))
        score = common.as_float(row["validation_accuracy"])
        if key not in best or score > common.as_float(best[key]["validation_accuracy"]):
            best[key] = row
    return list(best.values())


def family_stats(rows: list[dict]) -> list[dict]:
    chosen = chosen_rows(rows)
    stats = common.grouped_mean(
        chosen,
        ["family", "budget"],
        ["test_accuracy", "one_shot_test_accuracy", "n_parameters", "validation_accuracy"],
    )
    for entry in stats:
        entry["strengths"] = sorted(
            {
                f"{common.as_float(r['strength']):g}"
                for r in chosen
                if r["family"] == entry["family"] and str(r["budget"]) == entry["budget"]
            },
            key=float,
        )
    return stats


def _mean_std(entry: dict, name: str, digits: int = 4) -> str:
    std = entry[f"{name}_std"]
    return f"{entry[name]:.{digits}f}" + (f" ± {std:.{digits}f}" if std == std else "")


def summary_table(rows: list[dict]) -> list[dict]:
    stats = family_stats(rows)
    winners = {}
    for entry in stats:
        budget = entry["budget"]
        if budget not in winners or entry["test_accuracy"] > winners[budget][1]:
            winners[budget] = (entry["family"], entry["test_accuracy"])
    table = []
    for entry in sorted(stats, key=lambda e: (float(e["budget"]), FAMILIES.index(e["family"]))):
        strengths = ", ".join(entry["strengths"]) if entry["family"] != "vanilla" else ""
        table.append({
            "hidden neurons removed": f"{float(entry['budget']):.0%}",
            "family": entry["family"],
            "chosen strength": f"{STRENGTH[entry['family']]} {strengths}" if strengths else "",
            "parameters left": f"{entry['n_parameters']:.0f}",
            "test accuracy, iterative + fine-tuning": _mean_std(entry, "test_accuracy"),
            "test accuracy, one shot, no fine-tuning": _mean_std(entry, "one_shot_test_accuracy"),
            "best at this budget": "yes" if winners[entry["budget"]][0] == entry["family"] else "",
            "seeds": entry["n_seeds"],
        })  # fmt: skip
    return table


def verdict(rows: list[dict]) -> str:
    """The issue's 25% target, and the winner per budget, as text under the table."""
    stats = {(e["family"], float(e["budget"])): e for e in family_stats(rows)}
    lines = []
    if ("positional", 0.0) in stats and ("positional", 0.25) in stats:
        unpruned, pruned = stats[("positional", 0.0)], stats[("positional", 0.25)]
        drop = 100 * (unpruned["test_accuracy"] - pruned["test_accuracy"])
        lines.append(
            f"Target (25% of the hidden neurons removed, the best positional network within 0.5 "
            f"points of its unpruned accuracy): {pruned['test_accuracy']:.4f} against "
            f"{unpruned['test_accuracy']:.4f} unpruned, a drop of {drop:.2f} points: "
            f"{'met' if drop <= 0.5 else 'missed'}."
        )
    for budget in sorted({b for _, b in stats}):
        ranked = sorted(
            (e["test_accuracy"], family, e["n_parameters"])
            for (family, b), e in stats.items()
            if b == budget
        )[::-1]
        lines.append(
            f"{budget:.0%} removed, best first (parameters left): "
            + ", ".join(f"{family} {acc:.4f} ({n:,.0f})" for acc, family, n in ranked)
            + "."
        )
    if len({family for family, _ in stats}) > 1:
        lines.append(
            "The families keep different numbers of parameters at the same share of neurons "
            "(a particle network has no weight matrices, and the neurons pruned first differ): "
            "compare them at equal parameters in the plot."
        )
    return "\n\n".join(lines)


def plot(stem: Path, rows: list[dict]) -> None:
    stats = family_stats(rows)
    budgets = sorted({float(e["budget"]) for e in stats})

    def draw(ax):
        for index, family in enumerate(FAMILIES):
            points = sorted(
                (e["n_parameters"], e["test_accuracy"], np.nan_to_num(e["test_accuracy_std"]))
                for e in stats
                if e["family"] == family
            )
            if points:
                xs, mean, std = zip(*points, strict=True)
                ax.errorbar(
                    xs, mean, yerr=std, color=f"C{index}", marker="o", capsize=3, label=family
                )
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set(
            xlabel="parameters left (log scale)\npoints: "
            + ", ".join(f"{budget:.0%}" for budget in budgets)
            + " of the hidden neurons removed",
            ylabel="MNIST test accuracy",
            title="Iterative pruning with fine-tuning: the frontier of each family",
        )

    common.save_plot(stem, draw)


def split(n_samples: int, n_train: int, n_validation: int) -> tuple[np.ndarray, np.ndarray]:
    """One fixed split of the training images (the same for every seed and family)."""
    order = np.random.default_rng(12345).permutation(n_samples)
    return np.sort(order[:n_train]), np.sort(order[n_train : n_train + n_validation])


def prune_to_budgets(estimator, budgets, X, y, X_val, y_val, X_test, y_test, args):
    """Yield (budget, pruned estimator, validation, test, one-shot test accuracy, seconds)."""
    n_hidden = sum(estimator.hidden_layer_sizes)
    current = estimator
    for budget in budgets:
        start = time.perf_counter()
        n_removed = round(budget * n_hidden)
        one_shot = estimator
        if n_removed:
            one_shot = NeuronPruner(
                estimator, amount=n_removed, criterion=args.criterion, prefit=True,
                min_neurons_per_layer=args.min_neurons,
            ).fit(X, y).estimator_  # fmt: skip
        more = n_removed - (n_hidden - sum(current.hidden_layer_sizes))
        if more:
            current = NeuronPruner(
                current, amount=more, criterion=args.criterion, prefit=True, n_steps=args.steps,
                fine_tune_epochs=args.fine_tune, min_neurons_per_layer=args.min_neurons,
            ).fit(X, y).estimator_  # fmt: skip
        yield (
            budget,
            current,
            current.score(X_val, y_val),
            current.score(X_test, y_test),
            one_shot.score(X_test, y_test),
            time.perf_counter() - start,
        )


def main(argv=None) -> None:
    arguments = common.parser("pruning_frontier", __doc__.splitlines()[0])
    arguments.set_defaults(seeds=[0, 1, 2])
    arguments.add_argument("--epochs", type=int, default=30, help="training epochs")
    arguments.add_argument("--n-train", type=int, default=50000)
    arguments.add_argument("--n-validation", type=int, default=10000)
    arguments.add_argument("--budgets", type=float, nargs="+", default=BUDGETS)
    arguments.add_argument("--steps", type=int, default=3, help="pruning steps per budget")
    arguments.add_argument("--fine-tune", type=int, default=2, help="epochs after each step")
    arguments.add_argument(
        "--criterion", default="mean_squared_weight", help="NeuronPruner's criterion"
    )
    arguments.add_argument(
        "--families", nargs="+", choices=FAMILIES, default=FAMILIES, help="families to run"
    )
    arguments.add_argument("--min-neurons", type=int, default=5, help="per hidden layer")
    arguments.add_argument(
        "--distance-alphas", type=float, nargs="+", default=[0.0, 0.05, 0.25, 1.0]
    )
    arguments.add_argument(
        "--l2-alphas", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    )
    arguments.add_argument(
        "--particle-alphas", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 1e-1]
    )
    args = arguments.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.budgets = args.seeds[:1], 1, [0.0, 0.5]
        args.n_train, args.n_validation, args.steps = 2000, 1000, 2
        args.distance_alphas, args.l2_alphas, args.particle_alphas = [0.25], [1e-2], [0.0]
    X_all, y_all, X_test, y_test = common.mnist(args, quick_train=3000, quick_test=1000)
    train_rows, validation_rows = split(len(X_all), args.n_train, args.n_validation)
    X, y = X_all[train_rows], y_all[train_rows]
    X_val, y_val = X_all[validation_rows], y_all[validation_rows]
    stem = common.output_stem(args)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    notes = "\n\n".join(__doc__.split("\n\n")[1:4]) + (
        f"\n\nCommand: `python benchmarks/pruning_frontier.py {command}`; {len(X)} training, "
        f"{len(X_val)} validation and {len(X_test)} test images, {args.epochs} epochs of "
        f"training, {args.steps} pruning steps per budget with {args.fine_tune} epoch(s) of "
        f"fine-tuning after each, at least {args.min_neurons} neurons per hidden layer. "
        "Sized to run on one shared CPU thread in under an hour: three seeds, but fewer "
        "training epochs, pruning steps and grid values than a study with more time would "
        "take. "
        "'parameters left' is the mean over seeds of the chosen networks' trainable parameters."
    )
    results = common.Results(
        stem, COLUMNS, ["seed", "family", "strength", "budget"],
        "Pruning frontier: test accuracy against parameters left, MNIST", notes,
        resume=args.resume,
    )  # fmt: skip
    for seed in args.seeds:
        for family in args.families:
            for strength in grid(family, args):
                if results.done(seed=seed, family=family, strength=strength,
                                budget=args.budgets[-1]):  # fmt: skip
                    continue
                estimator, seconds = common.fit(make_model(family, strength, seed, args), X, y)
                stages = prune_to_budgets(
                    estimator, args.budgets, X, y, X_val, y_val, X_test, y_test, args
                )
                for budget, pruned, validation, test, one_shot, stage_seconds in stages:
                    seconds += stage_seconds
                    results.add({
                        "seed": seed, "family": family, "strength_name": STRENGTH[family],
                        "strength": strength, "budget": budget,
                        "n_hidden": sum(pruned.hidden_layer_sizes),
                        "n_parameters": pruned.n_parameters_, "validation_accuracy": validation,
                        "test_accuracy": test, "one_shot_test_accuracy": one_shot,
                        "n_train": len(X), "epochs": args.epochs,
                        "fine_tune_epochs": len(pruned.loss_curve_) - args.epochs,
                        "seconds": round(seconds, 1),
                    }, summary_table)  # fmt: skip
                    print(
                        f"seed {seed} {family:12s} {STRENGTH[family]} {strength:g} budget "
                        f"{budget:.2f}: {pruned.n_parameters_} parameters, validation "
                        f"{validation:.4f}, test {test:.4f} (one shot {one_shot:.4f}), "
                        f"{seconds:.0f}s so far",
                        flush=True,
                    )
            plot(stem, results.rows)
    results.write(summary_table)
    with stem.with_suffix(".md").open("a") as handle:
        handle.write(f"\n{verdict(results.rows)}\n")
    plot(stem, results.rows)
    print(verdict(results.rows))
    print(f"wrote {stem}.csv, .md, .png")


if __name__ == "__main__":
    main()
