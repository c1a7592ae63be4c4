"""
==========
Quickstart
==========

Train a :class:`~sklearn_posnet.PositionalMLPClassifier` on the digits, score it, and look at
where its neurons went.
"""

# %%
# Fit and score
# -------------
# The estimator is an ordinary scikit-learn classifier. Pixel values of the digits run from 0
# to 16, so dividing by 16 scales them to [0, 1].
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.plotting import plot_loss_curve, plot_network

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

clf = PositionalMLPClassifier(hidden_layer_sizes=(32, 16), max_iter=100, random_state=0)
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")
print(f"epochs: {clf.n_iter_}, parameters: {clf.n_parameters_}, fit time: {clf.fit_time_:.1f} s")

# %%
# The network in space
# --------------------
# The 64 input neurons sit on the 8x8 pixel grid (gray), the outputs on a circle (black, labelled
# with their digit); the hidden neurons (orange, green) moved during training. Lines are the
# strongest connections of each layer: red for positive, blue for negative effective weights.
fig, ax = plt.subplots(figsize=(6, 6))
plot_network(clf, ax=ax, top_k=80, legend=True)
ax.set_title("PositionalMLPClassifier on the digits")
plt.show()

# %%
# The training loss
# -----------------
ax = plot_loss_curve(clf)
ax.set_yscale("log")
plt.show()

# %%
# The fitted module
# -----------------
# ``module_`` is the torch module: its positions, and the effective weights of the equivalent
# plain MLP.
module = clf.module_
print(module)
print("hidden positions:", tuple(module.positions[1].shape))
print("effective weight shapes:", [tuple(w.shape) for w in module.effective_weights()])
