"""
==========================================
Regression with positional neurons
==========================================

:class:`~sklearn_posnet.PositionalMLPRegressor` predicts real numbers the way
:class:`~sklearn.neural_network.MLPRegressor` does, with neurons that have positions. Here it
learns Friedman's benchmark function (10 features, 5 of them informative), next to
``MLPRegressor`` with the same hidden layer, inside a pipeline that scales ``X`` and ``y``. Then
the network's picture shows where the hidden neurons went: toward the informative inputs.
"""

# %%
# The data and the models
# -----------------------
# ``TransformedTargetRegressor`` standardizes ``y`` for training and turns the predictions back
# into ``y``'s units, so ``score`` (R^2) is on the original scale.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_posnet import PositionalMLPRegressor
from sklearn_posnet.plotting import plot_network

X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)


def scaled(regressor):
    return TransformedTargetRegressor(
        make_pipeline(StandardScaler(), regressor), transformer=StandardScaler()
    )


common = dict(hidden_layer_sizes=(32,), max_iter=1000, random_state=0)
models = {
    "PositionalMLPRegressor": scaled(PositionalMLPRegressor(**common)),
    "MLPRegressor": scaled(MLPRegressor(**common)),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:>22}: test R^2 {model.score(X_test, y_test):.3f}")

# %%
# Predicted against true values
# -----------------------------
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
for name, model in models.items():
    ax.scatter(y_test, model.predict(X_test), s=8, alpha=0.6, label=name)
limits = [y_test.min(), y_test.max()]
ax.plot(limits, limits, color="gray", linewidth=1)
ax.set_xlabel("true y")
ax.set_ylabel("predicted y")
ax.legend()

# %%
# Where the hidden neurons went
# -----------------------------
# The ten inputs (x0 to x9) sit evenly on a circle; the output neuron is fixed further out.
# Friedman's function uses only the first five features, and the distance penalty makes
# connections to the other five cost without helping: the first five inputs carry more of
# the effective weight (printed below), and the strongest connections (drawn) start there;
# x9 sits about as close to the output as x1 and carries about a third of its weight.
regressor = models["PositionalMLPRegressor"].regressor_[-1]
ax = plot_network(regressor, top_k=60)
inputs = regressor.module_.positions[0].detach().numpy()
for index, (x, y_position) in enumerate(inputs):
    ax.annotate(f"x{index}", (x, y_position), xytext=(-14, 4), textcoords="offset points")
incoming = np.abs(regressor.coefs_[0]).sum(axis=1)
print("summed |effective weight| from each input:", np.round(incoming, 1))
plt.show()
