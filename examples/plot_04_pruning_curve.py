"""
=============
Pruning curve
=============

How much accuracy is left when the least important hidden neurons are removed?
:func:`~sklearn_posnet.pruning.pruning_curve` prunes a fitted network by several amounts and
scores each pruned copy on held-out data; :func:`~sklearn_posnet.pruning.plot_pruning_curve`
draws the result. The curves compare a positional network trained with the distance penalty
and the same network trained without it, each pruned without retraining.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.pruning import plot_pruning_curve, pruning_curve

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
amounts = np.linspace(0.0, 0.9, 10)

fig, ax = plt.subplots(figsize=(6, 4))
for distance_alpha in (0.0, 1e-4):
    clf = PositionalMLPClassifier(
        (64,), distance_alpha=distance_alpha, max_iter=100, random_state=0
    ).fit(X_train, y_train)
    curve = pruning_curve(clf, X_test, y_test, amounts)
    plot_pruning_curve(curve.amounts, curve.scores, ax=ax, label=f"distance_alpha={distance_alpha}")
    print(f"distance_alpha={distance_alpha}")
    for amount, score, n_parameters in zip(curve.amounts, curve.scores, curve.n_parameters):
        print(f"  pruned {amount:.0%}: accuracy {score:.3f}, {n_parameters} parameters")
ax.set_xlabel("fraction of hidden neurons removed")
ax.set_ylabel("test accuracy")
plt.show()
