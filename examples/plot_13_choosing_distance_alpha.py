"""
====================================================
Choosing ``distance_alpha``: accuracy against wiring
====================================================

``distance_alpha`` buys short wiring with accuracy: the distance penalty
``distance_alpha * sum(d**2 * w**2)`` charges every connection for its squared length. This
example walks the regularization path on the digits, draws test accuracy against
:func:`~sklearn_posnet.spatial.wiring_cost` (the length of the wiring, each connection weighted
by its relative strength), and then lets :class:`~sklearn.model_selection.GridSearchCV` pick the
shortest-wired network within one point of the best accuracy, with
:func:`~sklearn_posnet.model_selection.neg_wiring_cost` and
:func:`~sklearn_posnet.model_selection.shortest_wiring_within`.

The same path on MNIST and on a non-image data set, over three seeds, is in the results
(``benchmarks/regularization_path.py``).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.model_selection import neg_wiring_cost, shortest_wiring_within
from sklearn_posnet.spatial import modularity, wiring_cost

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed, short epoch budgets
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
common = dict(hidden_layer_sizes=(32,), max_iter=60, random_state=0)

# %%
# The path
# --------
# One fit per strength, and the plain network (no falloff, no penalty, fixed positions: the
# positional network's starting positions) as the reference point.
plain = PositionalMLPClassifier(
    falloff="none", distance_alpha=0.0, trainable_positions="none", **common
).fit(X_train, y_train)
distance_alphas = [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
rows = []
for distance_alpha in distance_alphas:
    clf = PositionalMLPClassifier(distance_alpha=distance_alpha, **common).fit(X_train, y_train)
    rows.append(
        {
            "distance_alpha": f"{distance_alpha:g}",
            "test accuracy": clf.score(X_test, y_test),
            "wiring cost / plain": wiring_cost(clf) / wiring_cost(plain),
            "modularity": modularity(clf, random_state=0),
        }
    )
path = pd.DataFrame(rows)
print(f"plain network: test accuracy {plain.score(X_test, y_test):.3f}")
print(path.to_string(index=False, float_format="{:.3f}".format))

# %%
# Reading the plot
# ----------------
# Moving right to left along the curve, the wiring shortens while accuracy first holds, then
# falls. Pick the strength at the knee: the shortest wiring whose accuracy you can still
# accept. The default, ``1e-4``, sits at the end of the flat part on the digits as on MNIST.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(path["wiring cost / plain"], path["test accuracy"], "o-", label="positional")
for _, row in path.iterrows():
    ax.annotate(
        row["distance_alpha"], (row["wiring cost / plain"], row["test accuracy"]),
        xytext=(4, 4), textcoords="offset points", fontsize=8,
    )  # fmt: skip
ax.plot(1.0, plain.score(X_test, y_test), "k*", ms=12, label="plain network")
ax.set_xlabel("wiring cost, relative to the plain network")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()

# %%
# Letting the search choose
# -------------------------
# The search records the wiring cost beside the accuracy (a dictionary ``scoring``) and refits
# the candidate with the shortest wiring among those within ``0.01`` (one point) of the best
# cross-validated accuracy.
search = GridSearchCV(
    PositionalMLPClassifier(**common),
    {"distance_alpha": [0.0, 1e-5, 1e-4, 1e-3]},
    scoring={"score": "accuracy", "wiring_cost": neg_wiring_cost},
    refit=shortest_wiring_within(0.01),
    cv=3,
).fit(X_train, y_train)
results = pd.DataFrame(
    {
        "distance_alpha": [f"{a:g}" for a in search.cv_results_["param_distance_alpha"]],
        "accuracy": search.cv_results_["mean_test_score"],
        "wiring cost": -search.cv_results_["mean_test_wiring_cost"],
    }
)
print(results.to_string(index=False, float_format="{:.3f}".format))
# With a callable ``refit`` the search has no ``best_score_`` and no ``score``: score its
# ``best_estimator_``.
chosen = search.best_estimator_
print(f"chosen: {search.best_params_}, test accuracy {chosen.score(X_test, y_test):.3f}")
