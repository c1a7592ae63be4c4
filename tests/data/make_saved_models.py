"""Write ``saved_models_format2.pkl``: fitted estimators pickled in saved-state format 2, to check
that models saved before the base class was split (and its built configuration became a frozen
object) still load and continue.

Made with the code at commit cb0ab5b, from a directory where ``import sklearn_posnet`` finds
that version: ``python tests/data/make_saved_models.py``. Each entry holds the estimator, the
rows it predicts on and its ``predict`` output (and ``predict_proba`` for classifiers) at the
time it was saved.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import (
    NeuronPruner,
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)

OUT = Path(__file__).with_name("saved_models_format2.pkl")


def main():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    target = X[:, :2].sum(axis=1)
    common = {"max_iter": 3, "random_state": 0, "batch_size": 64}
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models["positional_pruned"] = (
            NeuronPruner(
                PositionalMLPClassifier((12, 6), record_positions=True, **common), amount=5
            )
            .fit(X, y)
            .estimator_
        )
        grown = ParticleNetworkClassifier((10,), record_positions=True, **common).fit(X, y)
        models["particle_grown"] = grown.grow_hidden_neurons(0, 3, random_state=1)
        models["positional_regressor"] = PositionalMLPRegressor([8], **common).fit(X, target)
        models["particle_regressor"] = ParticleNetworkRegressor(9, **common).fit(X, target)
    saved = {}
    for name, model in models.items():
        entry = {"model": model, "X": X[:50], "predict": model.predict(X[:50])}
        if hasattr(model, "predict_proba"):
            entry["predict_proba"] = model.predict_proba(X[:50])
        saved[name] = entry
    with OUT.open("wb") as file:
        pickle.dump(saved, file)


if __name__ == "__main__":
    main()
