"""Check that a refactoring changes no result: fingerprints of fixed fits, bit for bit.

Prints one SHA-1 prefix per case (predict_proba or predict, and the loss curve) for the copy of
``sklearn_posnet`` that Python imports; run it once for each copy and compare the lines:

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/same_results.py   # this checkout
    OMP_NUM_THREADS=1 python benchmarks/same_results.py                # the installed copy

The first line says which copy ran.

The cases: the five fits of ``tests/data/make_training_expectations.py``; a warm start that
switches solver, from each solver; pruning then growth (guided and not) then ``partial_fit``
with recorded positions; a Poisson regressor. Fits run on one thread.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))
import make_training_expectations as expectations

import sklearn_posnet
from sklearn_posnet import (
    ParticleNetworkClassifier,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
    prune,
)


def fingerprint(*arrays) -> str:
    return hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()[
        :12
    ]


def main():
    torch.set_num_threads(1)
    print("package", Path(sklearn_posnet.__file__).parent)
    for name in expectations.CASES:
        estimator, proba = expectations.fit_case(name)
        print(name, fingerprint(proba, np.asarray(estimator.loss_curve_)))
    X, y = expectations.data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in ["lbfgs", "rmsprop", "sgd", "adam"]:
            estimator = PositionalMLPClassifier((8,), solver=solver, max_iter=3, random_state=0)
            estimator.fit(X, y)
            estimator.set_params(warm_start=True, solver="adam" if solver == "sgd" else "sgd")
            print("warm_start_from", solver, fingerprint(estimator.fit(X, y).predict_proba(X)))
        estimator = ParticleNetworkClassifier(
            (10, 6), max_iter=3, random_state=0, record_positions=True
        ).fit(X, y)
        estimator = prune(estimator, 4)
        estimator.grow_hidden_neurons(0, 3, X=X, y=y)
        estimator.grow_hidden_neurons(1, 2)
        estimator.partial_fit(X, y)
        frames = [layer.ravel() for frame in estimator.positions_history_ for layer in frame]
        print("prune_grow_partial_fit", fingerprint(estimator.predict_proba(X), *frames))
        regressor = PositionalMLPRegressor((5,), loss="poisson", max_iter=3, random_state=0)
        print("poisson", fingerprint(regressor.fit(X, y.astype(float)).predict(X)))


if __name__ == "__main__":
    main()
