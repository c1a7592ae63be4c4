"""Why the spatial structure barely answered ``distance_alpha`` (issue 26): the measurements.

MNIST 784-128-10 at the estimator's geometry (``length_scale="auto"``, inputs on the pixel
grid spanning [-2, 2], outputs fixed on a circle of radius 5, hidden neurons drawn around the
origin and free to move), Adam at lr 3e-3, batch 128, ``alpha=1e-4``. For each penalty setting
the script measures, on the trained network:

- **scale**: the data loss, the L2 term and the distance term on one batch;
- **gradients**: the root-mean-square gradient that the data loss, the L2 term and the
  distance term give the input weights, the output weights and the hidden positions on that
  batch, and the ratio distance / data for each (Adam divides every gradient by the running
  RMS of its own total gradient, so this ratio is how far the penalty tilts each step);
- **positions**: how far the hidden neurons moved (mean net displacement against the bound
  ``lr x steps`` of Adam's steps) and their mean distance from the origin, which sits between
  the input grid (out to 2.8) and the output circle (at 5);
- **response**: test accuracy, :func:`~sklearn_posnet.spatial.wiring_cost` and the weighted
  mean connection length per layer.

It also measures the geometry itself: the falloff's values over each layer's connections at
initialization with ``length_scale="auto"`` and with the reference's 1.0, and the share of
the plain network's wiring cost carried by weights from pixels that are zero in every
training image (they get no gradient from the data, only from a penalty).

Usage::

    python benchmarks/distance_diagnosis.py --quick
    OMP_NUM_THREADS=1 python benchmarks/distance_diagnosis.py --seeds 0
"""

from __future__ import annotations

import sys

import _common as common
import numpy as np
import torch
import torch.nn.functional as F

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.spatial import mean_connection_length, wiring_cost

HIDDEN = (128,)
LR = 3e-3
BATCH = 128
#: (distance_reduction, distance_alpha): the old default and the old sweep's strengths with
#: the reference's layer mean, then the per-connection sum.
SETTINGS = [
    ("layer_mean", 0.0),
    ("layer_mean", 0.01),
    ("layer_mean", 0.3),
    ("sum", 1e-5),
    ("sum", 1e-4),
    ("sum", 1e-3),
]
COLUMNS = [
    "model", "distance_reduction", "distance_alpha", "seed", "test_accuracy", "wiring_cost",
    "mcl_inputs", "mcl_outputs", "data_loss", "l2_term", "distance_term",
    "grad_data_w_in", "grad_data_w_out", "grad_data_pos", "grad_l2_w_in", "grad_l2_w_out",
    "grad_l2_pos", "grad_dist_w_in", "grad_dist_w_out", "grad_dist_pos", "ratio_w_in",
    "ratio_w_out", "ratio_pos", "hidden_radius_start", "hidden_radius_end", "displacement",
    "displacement_bound",
]  # fmt: skip


def make_model(model, reduction, distance_alpha, seed, args):
    shared = dict(
        hidden_layer_sizes=HIDDEN, batch_size=BATCH, learning_rate_init=LR, alpha=1e-4,
        max_iter=args.epochs, n_iter_no_change=np.inf, random_state=seed, device=args.device,
        record_positions=True,
    )  # fmt: skip
    if model == "plain":
        return PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, trainable_positions="none", **shared
        )
    return PositionalMLPClassifier(
        distance_alpha=distance_alpha, distance_reduction=reduction, **shared
    )


def rms(tensor) -> float:
    return float(tensor.detach().double().square().mean().sqrt()) if tensor is not None else 0.0


def gradients(module, X, y, l2_weight, distance_alpha):
    """RMS gradient of the data loss, the L2 term and the distance term per tensor."""
    tensors = {"w_in": module.weights[0], "w_out": module.weights[1], "pos": module.positions[1]}
    terms = {
        "data": lambda: F.cross_entropy(module(X), y),
        "l2": lambda: l2_weight * module.weight_l2(),
        "dist": lambda: distance_alpha * module.distance_penalty(),
    }
    values, grads = {}, {}
    for name, term in terms.items():
        module.zero_grad()
        value = term()
        values[name] = float(value.detach())
        if value.requires_grad:
            value.backward()
        for tensor_name, tensor in tensors.items():
            grads[f"grad_{name}_{tensor_name}"] = rms(tensor.grad)
    module.zero_grad()
    return values, grads


def measure(estimator, X_batch, y_batch, distance_alpha, steps, X_test, y_test):
    module = estimator.module_
    values, grads = gradients(
        module,
        torch.as_tensor(X_batch, dtype=torch.float32),
        torch.as_tensor(np.searchsorted(estimator.classes_, y_batch)),
        0.5 * estimator.alpha / len(X_batch),
        distance_alpha,
    )
    history = estimator.positions_history_
    start, end = history[0][1], history[-1][1]
    lengths = mean_connection_length(estimator, per_layer=True)
    row = {
        "test_accuracy": round(estimator.score(X_test, y_test), 4),
        "wiring_cost": round(wiring_cost(estimator)),
        "mcl_inputs": round(float(lengths[0]), 3),
        "mcl_outputs": round(float(lengths[1]), 3),
        "data_loss": values["data"],
        "l2_term": values["l2"],
        "distance_term": values["dist"],
        **grads,
        "hidden_radius_start": round(float(np.linalg.norm(start, axis=1).mean()), 3),
        "hidden_radius_end": round(float(np.linalg.norm(end, axis=1).mean()), 3),
        "displacement": round(float(np.linalg.norm(end - start, axis=1).mean()), 3),
        "displacement_bound": round(LR * steps, 2),
    }
    for tensor in ("w_in", "w_out", "pos"):
        data = grads[f"grad_data_{tensor}"]
        row[f"ratio_{tensor}"] = grads[f"grad_dist_{tensor}"] / data if data else float("nan")
    return row


def geometry_rows(X_train, y_train, plain):
    """Falloff values over each layer's connections at initialization, and dead pixels."""
    rows = []
    for length_scale in ("auto", 1.0):
        module = PositionalMLPClassifier(
            hidden_layer_sizes=HIDDEN, length_scale=length_scale
        )._build_module(X_train.shape[1], 10, torch.Generator().manual_seed(0))
        for layer, name in enumerate(("inputs -> hidden", "hidden -> outputs")):
            with torch.no_grad():
                values = module.falloff_matrix(layer).double().numpy().ravel()
                lengths = module.squared_distances(layer).sqrt().double().numpy().ravel()
            rows.append(
                {
                    "length_scale": length_scale,
                    "resolved": round(module.length_scale, 3),
                    "layer": name,
                    "connections": values.size,
                    "median length": round(float(np.median(lengths)), 2),
                    "falloff min": round(float(values.min()), 3),
                    "falloff median": round(float(np.median(values)), 3),
                    "falloff max": round(float(values.max()), 3),
                }
            )
    dead = X_train.max(axis=0) == 0
    per_layer = wiring_cost(plain, per_layer=True)
    positions = [p.detach().double().numpy() for p in plain.module_.positions]
    weights = np.abs(plain.module_.effective_weight(0).detach().double().numpy())
    lengths = np.sqrt(((positions[1][:, None] - positions[0][None]) ** 2).sum(-1))
    dead_share = float((weights * lengths)[:, dead].sum() / (weights * lengths).sum())
    dead_row = {
        "dead pixels": int(dead.sum()),
        "share of pixels": round(float(dead.mean()), 3),
        "share of the plain network's input-layer wiring": round(dead_share, 3),
        "input layer's share of the wiring cost": round(float(per_layer[0] / per_layer.sum()), 3),
    }
    return rows, dead_row


#: The default's candidates, against the old default and no penalty, on small data.
DEFAULT_CANDIDATES = [("layer_mean", 0.01), ("sum", 0.0), ("sum", 1e-5), ("sum", 3e-5),
                      ("sum", 1e-4), ("sum", 3e-4)]  # fmt: skip


def default_rows(quick: bool):
    """Each candidate default at the estimators' other defaults on scikit-learn's digits
    (classifier, 4 splits) and diabetes (regressor, scaled X and y, 32 hidden, 300 epochs, 4
    splits): what the default penalty does on data far smaller than MNIST."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_posnet import PositionalMLPRegressor

    splits = range(1 if quick else 4)
    X_digits, y_digits = load_digits(return_X_y=True)
    X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
    rows = []
    for reduction, alpha in DEFAULT_CANDIDATES[:2] if quick else DEFAULT_CANDIDATES:
        penalty = dict(distance_reduction=reduction, distance_alpha=alpha)
        digits, wiring, diabetes = [], [], []
        for split in splits:
            X_train, X_test, y_train, y_test = train_test_split(
                X_digits / 16, y_digits, random_state=split
            )
            classifier = PositionalMLPClassifier(
                max_iter=20 if quick else 200, random_state=0, **penalty
            )
            classifier, _ = common.fit(classifier, X_train, y_train)
            digits.append(classifier.score(X_test, y_test))
            wiring.append(wiring_cost(classifier))
            X_train, X_test, y_train, y_test = train_test_split(
                X_diabetes, y_diabetes, random_state=split
            )
            regressor = TransformedTargetRegressor(
                make_pipeline(StandardScaler(), PositionalMLPRegressor(
                    (32,), max_iter=20 if quick else 300, random_state=0, **penalty
                )),
                transformer=StandardScaler(),
            )  # fmt: skip
            regressor, _ = common.fit(regressor, X_train, y_train)
            diabetes.append(regressor.score(X_test, y_test))
        rows.append(
            {
                "distance_reduction": reduction, "distance_alpha": alpha,
                "digits accuracy": round(float(np.mean(digits)), 4),
                "digits wiring cost": round(float(np.mean(wiring))),
                "diabetes R^2": round(float(np.mean(diabetes)), 3),
                "diabetes R^2 per split": " ".join(f"{v:.3f}" for v in diabetes),
            }
        )  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main(argv=None) -> None:
    arguments = common.parser("distance_diagnosis", __doc__.splitlines()[0])
    arguments.add_argument("--epochs", type=int, default=5)
    arguments.add_argument("--n-train", type=int, default=20000)
    args = arguments.parse_args(argv)
    settings = SETTINGS
    if args.quick:
        args.seeds, args.epochs, settings = args.seeds[:1], 1, [SETTINGS[1], SETTINGS[3]]
    X_train, y_train, X_test, y_test = common.mnist(args)
    X_train, y_train = X_train[: args.n_train], y_train[: args.n_train]
    steps = args.epochs * -(-len(X_train) // BATCH)
    rows = []
    configurations = [("plain", "layer_mean", 0.0)] + [("positional", *s) for s in settings]
    plain = None
    for seed in args.seeds:
        batch = np.random.RandomState(seed).choice(len(X_train), BATCH, replace=False)
        for model, reduction, alpha in configurations:
            estimator, _ = common.fit(
                make_model(model, reduction, alpha, seed, args), X_train, y_train
            )
            if model == "plain" and plain is None:
                plain = estimator
            row = {"model": model, "distance_reduction": reduction, "distance_alpha": alpha}
            row["seed"] = seed
            row.update(
                measure(estimator, X_train[batch], y_train[batch], alpha, steps, X_test, y_test)
            )
            rows.append(row)
            print({k: row[k] for k in COLUMNS[:7]}, flush=True)
    geometry, dead = geometry_rows(X_train, y_train, plain)
    defaults = default_rows(args.quick)
    write(common.output_stem(args), rows, geometry, dead, defaults, args, argv, len(X_train), steps)


def _pick(rows, names):
    return [{name: row[name] for name in names} for row in rows]


def write(stem, rows, geometry, dead, defaults, args, argv, n_train, steps):
    import csv

    stem.parent.mkdir(parents=True, exist_ok=True)
    with stem.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    key = ["model", "distance_reduction", "distance_alpha", "seed"]
    sections = [
        ("Response", [*key, "test_accuracy", "wiring_cost", "mcl_inputs", "mcl_outputs"]),
        ("Scale of the terms on one batch", [*key, "data_loss", "l2_term", "distance_term"]),
        (
            "RMS gradients on one batch (data, L2, distance) and the ratio distance / data",
            [*key, *(c for c in COLUMNS if c.startswith(("grad_", "ratio_")))],
        ),
        (
            "Hidden positions (mean distance from the origin: the input grid reaches 2.8, "
            "the outputs sit at 5)",
            [*key, "hidden_radius_start", "hidden_radius_end", "displacement",
             "displacement_bound"],
        ),
    ]  # fmt: skip
    text = [
        f"# {__doc__.splitlines()[0]}",
        "",
        __doc__.split("\n\n")[1],
        "",
        f"Command: `python benchmarks/distance_diagnosis.py {' '.join(argv or sys.argv[1:])}`; "
        f"{n_train} training images, {args.epochs} epoch(s) ({steps} Adam steps), 10000 test "
        "images.",
    ]
    for title, names in sections:
        text += ["", f"## {title}", "", common.markdown_table(_pick(rows, names))]
    text += ["", "## The falloff over each layer's connections at initialization", ""]
    text += [common.markdown_table(geometry), "", "## Pixels that are zero in every image", ""]
    text += [common.markdown_table([dead]), ""]
    text += ["## The default on small data", "", " ".join(default_rows.__doc__.split()), ""]
    text += [common.markdown_table(defaults), ""]
    stem.with_suffix(".md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
