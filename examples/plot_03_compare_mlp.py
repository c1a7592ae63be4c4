"""
===================================
Comparison with scikit-learn's MLP
===================================

:class:`~sklearn.neural_network.MLPClassifier`, the same MLP trained by this package
(``falloff="none"``, ``distance_alpha=0``), :class:`~sklearn_posnet.PositionalMLPClassifier`
and :class:`~sklearn_posnet.ParticleNetworkClassifier`, all with one hidden layer of 64
neurons, on the same cross-validation splits: accuracy, number of parameters and fit time.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16
hidden = (64,)
common = dict(hidden_layer_sizes=hidden, max_iter=100, random_state=0)
models = {
    "MLPClassifier": MLPClassifier(**common),
    "plain MLP (this package)": PositionalMLPClassifier(
        falloff="none", distance_alpha=0.0, **common
    ),
    "PositionalMLPClassifier": PositionalMLPClassifier(**common),
    "ParticleNetworkClassifier": ParticleNetworkClassifier(**common),
}


def n_parameters(estimator):
    """Trainable scalars: ``n_parameters_`` here, weights and biases for MLPClassifier."""
    if hasattr(estimator, "n_parameters_"):
        return estimator.n_parameters_
    return sum(array.size for array in estimator.coefs_ + estimator.intercepts_)


cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
rows = []
for name, model in models.items():
    start = time.perf_counter()
    scores = cross_validate(model, X, y, cv=cv, return_estimator=True)
    rows.append(
        {
            "model": name,
            "accuracy": scores["test_score"].mean(),
            "std": scores["test_score"].std(),
            "parameters": n_parameters(scores["estimator"][0]),
            "fit time (s)": scores["fit_time"].mean(),
        }
    )
table = pd.DataFrame(rows)
table.round(3)

# %%
# Accuracy against parameters
# ---------------------------
# The particle network gets its weights from far fewer parameters: two per dimension and
# neuron, plus the biases.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.errorbar(table["parameters"], table["accuracy"], yerr=table["std"], fmt="o")
for _, row in table.iterrows():
    ax.annotate(
        row["model"],
        (row["parameters"], row["accuracy"]),
        fontsize="small",
        xytext=(5, -12),
        textcoords="offset points",
    )
ax.set_xscale("log")
ax.set_xlabel("trainable parameters")
ax.set_ylabel("3-fold CV accuracy")
ax.set_xlim(np.min(table["parameters"]) / 2, np.max(table["parameters"]) * 4)
plt.show()
