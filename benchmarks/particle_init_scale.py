"""Why particle networks collapse under plain SGD and diverge under Poisson lbfgs (issue 25).

Small and CPU-only (scikit-learn's digits, 1,300 training and 497 test images scaled to [0, 1];
about a minute on one thread)::

    OMP_NUM_THREADS=1 python benchmarks/particle_init_scale.py

writes ``benchmarks/results/particle_init_scale.md``. Three parts:

1. the scale of the initial implied weights (root mean square per layer, against the
   Glorot-uniform RMS ``sqrt(2 / (n_in + n_out))`` that MLPClassifier starts from) and of the
   initial outputs, for a 64-128-10 particle and positional network;
2. plain SGD at MLPClassifier's learning rates (50 epochs): test accuracy and how many classes
   the fitted network still predicts;
3. ``loss="poisson"`` with lbfgs on the digit labels as counts (500 images, 100 iterations,
   seeds 0-2): diverged or the training D^2 score.

Parts 2 and 3 also run a candidate fix, not the package's behaviour: Lange's initialization
with each neuron layer's dipoles rescaled so that every layer's implied weights start at the
Glorot RMS (a least-squares split of the per-layer factors between the two neuron layers).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_tweedie_score
from sklearn.neural_network import MLPClassifier

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sklearn_posnet import (  # noqa: E402
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
)
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP  # noqa: E402

OUT = REPO_ROOT / "benchmarks" / "results" / "particle_init_scale.md"


def _rms(weight: torch.Tensor) -> float:
    return float(weight.double().pow(2).mean().sqrt())


def _glorot_rms(n_in: int, n_out: int) -> float:
    return math.sqrt(2.0 / (n_in + n_out))


@contextmanager
def glorot_scaled_dipoles():
    """Patch ParticleNetwork.reset_parameters: Lange's draws, then per-layer dipole factors
    ``c`` with ``c[l] * c[l + 1] * rms_l = glorot_l`` (least squares in log space)."""
    original = ParticleNetwork.reset_parameters

    def reset(self, generator=None):
        original(self, generator)
        with torch.no_grad():
            sizes = self.layer_sizes
            targets = [
                math.log(_glorot_rms(a, b) / max(_rms(w), 1e-12))
                for a, b, w in zip(sizes[:-1], sizes[1:], self.effective_weights())
            ]
            system = np.zeros((len(targets), len(sizes)))
            for layer in range(len(targets)):
                system[layer, layer] = system[layer, layer + 1] = 1.0
            logs = np.linalg.lstsq(system, np.array(targets), rcond=None)[0]
            for dipole, log_factor in zip(self.dipoles, logs):
                dipole.mul_(math.exp(log_factor))

    ParticleNetwork.reset_parameters = reset
    try:
        yield
    finally:
        ParticleNetwork.reset_parameters = original


def initial_scale(X) -> list[str]:
    rows = [
        "| network | seed | implied weight RMS per layer | Glorot RMS | initial output std |",
        "|---|---|---|---|---|",
    ]
    sizes = [64, 128, 10]
    glorot = [round(_glorot_rms(a, b), 3) for a, b in itertools.pairwise(sizes)]
    x = torch.as_tensor(X, dtype=torch.float32)
    for name, module_class in (("particle", ParticleNetwork), ("positional", PositionalMLP)):
        for seed in range(3):
            module = module_class(sizes, generator=torch.Generator().manual_seed(seed))
            with torch.no_grad():
                rms = [round(_rms(w), 3) for w in module.effective_weights()]
                output_std = float(module(x).std())
            rows.append(f"| {name} | {seed} | {rms} | {glorot} | {output_std:.1f} |")
    return rows


def sgd_sweep(X_train, y_train, X_test, y_test) -> list[str]:
    rows = [
        "| estimator | init | learning_rate_init | test accuracy | classes predicted |",
        "|---|---|---|---|---|",
    ]
    for learning_rate in (0.01, 0.1, 0.5):
        runs = [
            ("MLPClassifier", MLPClassifier, None),
            ("PositionalMLPClassifier", PositionalMLPClassifier, None),
            ("ParticleNetworkClassifier", ParticleNetworkClassifier, "Lange (the package's)"),
            ("ParticleNetworkClassifier", ParticleNetworkClassifier, "Glorot-scaled dipoles"),
        ]
        for name, cls, init in runs:
            estimator = cls(
                hidden_layer_sizes=(128,),
                solver="sgd",
                learning_rate_init=learning_rate,
                max_iter=50,
                random_state=0,
            )
            scaled = init == "Glorot-scaled dipoles"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                if scaled:
                    with glorot_scaled_dipoles():
                        estimator.fit(X_train, y_train)
                else:
                    estimator.fit(X_train, y_train)
            accuracy = estimator.score(X_test, y_test)
            n_classes = len(np.unique(estimator.predict(X_test)))
            rows.append(
                f"| {name} | {init or '-'} | {learning_rate} | {accuracy:.3f} | {n_classes} |"
            )
    return rows


def poisson_lbfgs(X, y) -> list[str]:
    rows = ["| init | seed | result |", "|---|---|---|"]
    for init in ("Lange (the package's)", "Glorot-scaled dipoles"):
        for seed in range(3):
            estimator = ParticleNetworkRegressor(
                loss="poisson", solver="lbfgs", max_iter=100, random_state=seed
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    if init.startswith("Glorot"):
                        with glorot_scaled_dipoles():
                            estimator.fit(X, y)
                    else:
                        estimator.fit(X, y)
                score = d2_tweedie_score(y, estimator.predict(X), power=1)
                result = f"D^2 {score:.3f} after {estimator.n_iter_} iterations"
            except ValueError as error:
                result = f"refused: {str(error).split('.')[0]}"
            rows.append(f"| {init} | {seed} | {result} |")
    return rows


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    lines = [
        "# Particle networks: initial scale, plain SGD and Poisson lbfgs",
        "",
        "`OMP_NUM_THREADS=1 python benchmarks/particle_init_scale.py` (digits, CPU).",
        "",
        "## 1. Initial implied weights and outputs (64-128-10, the first 500 images)",
        "",
        *initial_scale(X[:500]),
        "",
        "## 2. Plain SGD, 50 epochs (1,300 training images, 497 test images)",
        "",
        *sgd_sweep(X[:1300], y[:1300], X[1300:], y[1300:]),
        "",
        "## 3. loss='poisson', lbfgs, 100 iterations (the first 500 images, labels as counts)",
        "",
        *poisson_lbfgs(X[:500], y[:500]),
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
