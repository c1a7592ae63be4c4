"""
=====================================================
Choosing the falloff and the penalties by grid search
=====================================================

The estimators work inside a :class:`~sklearn.pipeline.Pipeline` and
:class:`~sklearn.model_selection.GridSearchCV` like any scikit-learn classifier. Here a scaler
and a :class:`~sklearn_posnet.PositionalMLPClassifier` are searched over the falloff (with its
``length_scale``) and the two penalties: the plain L2 penalty ``alpha`` and the
distance-weighted ``distance_alpha``.

The output neurons sit on a circle of radius 5 around the input grid, which spans [-2, 2].
The inverse-square falloff still passes a few percent of a weight across that distance, the Gaussian
:math:`e^{-d^2}` almost nothing unless ``length_scale`` stretches it, and a list of grids lets
each falloff get its own settings.
"""

# %%
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_posnet import PositionalMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=900, random_state=0)

pipeline = make_pipeline(
    MinMaxScaler(),
    PositionalMLPClassifier(hidden_layer_sizes=(32,), batch_size=64, max_iter=30, random_state=0),
)
step = "positionalmlpclassifier__"
param_grid = [
    {
        f"{step}falloff": ["inverse_square"],
        f"{step}distance_alpha": [0.0, 0.1],
        f"{step}alpha": [1e-4, 1e-2],
    },
    {
        f"{step}falloff": ["gaussian"],
        f"{step}length_scale": [1.0, 3.0],
        f"{step}distance_alpha": [0.0, 0.1],
    },
]
search = GridSearchCV(pipeline, param_grid, cv=3).fit(X_train, y_train)

# %%
# Every combination, best first
# -----------------------------
results = pd.DataFrame(search.cv_results_)
columns = {
    f"param_{step}falloff": "falloff",
    f"param_{step}length_scale": "length_scale",
    f"param_{step}distance_alpha": "distance_alpha",
    f"param_{step}alpha": "alpha",
    "mean_test_score": "CV accuracy",
    "std_test_score": "std",
    "mean_fit_time": "fit time (s)",
}
table = results[list(columns)].rename(columns=columns).sort_values("CV accuracy", ascending=False)
print(table.to_string(index=False, na_rep="default", float_format="{:.3g}".format))

# %%
# The best pipeline, refitted on the whole training set
# -----------------------------------------------------
print("best parameters:", {name.removeprefix(step): v for name, v in search.best_params_.items()})
print(f"test accuracy: {search.score(X_test, y_test):.3f}")
