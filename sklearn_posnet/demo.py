"""Train both estimators and MLPClassifier on scikit-learn's digits and compare them.

Run with ``python -m sklearn_posnet.demo``.
"""

from __future__ import annotations

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from . import ParticleNetworkClassifier, PositionalMLPClassifier


def _n_parameters(estimator) -> int:
    if hasattr(estimator, "n_parameters_"):
        return estimator.n_parameters_
    return sum(c.size for c in estimator.coefs_) + sum(b.size for b in estimator.intercepts_)


def compare(random_state: int = 0) -> list[dict]:
    """Fit each model on 75% of digits and score it on the rest.

    Returns
    -------
    rows : list of dict
        One per model: ``model``, ``test_accuracy``, ``n_parameters``, ``fit_seconds``.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=random_state
    )
    models = {
        "PositionalMLPClassifier": PositionalMLPClassifier(random_state=random_state),
        "ParticleNetworkClassifier": ParticleNetworkClassifier(random_state=random_state),
        "PositionalMLPClassifier(falloff='none')": PositionalMLPClassifier(
            falloff="none", distance_alpha=0.0, random_state=random_state
        ),
        "MLPClassifier": MLPClassifier(random_state=random_state),
    }
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": name,
                "test_accuracy": model.score(X_test, y_test),
                "n_parameters": _n_parameters(model),
                "fit_seconds": seconds,
            }
        )
    return rows


def main() -> None:
    print("Digits (8x8 images, 10 classes), 75% train / 25% test, hidden layers as defaults.\n")
    rows = compare()
    width = max(len(row["model"]) for row in rows)
    print(f"{'model':<{width}}  {'test accuracy':>13}  {'parameters':>10}  {'fit time':>9}")
    for row in rows:
        print(
            f"{row['model']:<{width}}  {row['test_accuracy']:>13.4f}  "
            f"{row['n_parameters']:>10,}  {row['fit_seconds']:>8.2f}s"
        )


if __name__ == "__main__":
    main()
