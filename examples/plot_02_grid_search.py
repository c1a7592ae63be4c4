"""
=====================================================
Choosing the falloff and the penalties by grid search
=====================================================

The estimators work inside a :class:`~sklearn.pipeline.Pipeline` and
:class:`~sklearn.model_selection.GridSearchCV` like any scikit-learn classifier. Here a scaler
and a :class:`~sklearn_posnet.PositionalMLPClassifier` are searched over the ``falloff`` and the
distance-weighted penalty ``distance_alpha``, and the cross-validated accuracy of every
combination is drawn as a heat-map.

The output neurons sit on a circle of radius 5 around the input grid, which spans [-2, 2]. How
far a falloff reaches over those distances decides how much signal gets through: the
inverse-square falloff :math:`1 / (1 + d^2)` still passes a few percent of a weight across the
whole layout, the Gaussian :math:`e^{-d^2}` almost nothing unless ``length_scale`` stretches it.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_posnet import PositionalMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=600, random_state=0)

# A learning rate of 0.01 (the user guide's advice for the digits) lets 15 epochs suffice.
classifier = PositionalMLPClassifier(
    hidden_layer_sizes=(32,), batch_size=64, max_iter=15, learning_rate_init=0.01, random_state=0
)
pipeline = make_pipeline(MinMaxScaler(), classifier)
step = "positionalmlpclassifier__"
falloffs = ["inverse_square", "exponential", "gaussian", "none"]
distance_alphas = [0.0, 1e-4, 1e-3]
param_grid = {f"{step}falloff": falloffs, f"{step}distance_alpha": distance_alphas}
search = GridSearchCV(pipeline, param_grid, cv=3).fit(X_train, y_train)

# %%
# Cross-validated accuracy over falloff and penalty
# -------------------------------------------------
# One cell per combination: the mean accuracy over the three folds. ``falloff="none"`` is a
# plain MLP (its positions only enter the penalty), the baseline for every other row. A row
# that stays dark whatever the penalty belongs to a falloff whose reach is too short for the
# distances between the layers: raise its ``length_scale``.
results = pd.DataFrame(search.cv_results_)
scores = results.pivot_table(
    index=f"param_{step}falloff", columns=f"param_{step}distance_alpha", values="mean_test_score"
).loc[falloffs, distance_alphas]

fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
image = ax.imshow(scores.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
for (row, column), value in np.ndenumerate(scores.to_numpy()):
    ax.text(
        column,
        row,
        f"{value:.2f}",
        ha="center",
        va="center",
        color="white" if value < 0.6 else "black",
    )
ax.set_xticks(range(len(distance_alphas)), [str(a) for a in distance_alphas])
ax.set_yticks(range(len(falloffs)), falloffs)
ax.set_xlabel("distance_alpha")
ax.set_ylabel("falloff")
fig.colorbar(image, ax=ax, label="3-fold CV accuracy")
plt.show()

# %%
# Every combination, best first
# -----------------------------
columns = {
    f"param_{step}falloff": "falloff",
    f"param_{step}distance_alpha": "distance_alpha",
    "mean_test_score": "CV accuracy",
    "std_test_score": "std",
    "mean_fit_time": "fit time (s)",
}
table = results[list(columns)].rename(columns=columns)
table.sort_values("CV accuracy", ascending=False).round(3).reset_index(drop=True)

# %%
# The best pipeline, refitted on the whole training set
# -----------------------------------------------------
print("best parameters:", {name.removeprefix(step): v for name, v in search.best_params_.items()})
print(f"test accuracy: {search.score(X_test, y_test):.3f}")
