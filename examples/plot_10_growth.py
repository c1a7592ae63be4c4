"""
==============================
Growing a network as it learns
==============================

The positional-neurons paper ends with the opposite of pruning: insert neurons into a trained
network and let them find their place. ``grow_hidden_neurons`` adds hidden neurons to a fitted
:class:`~sklearn_posnet.PositionalMLPClassifier` (or
:class:`~sklearn_posnet.ParticleNetworkClassifier`) near existing ones, with zero outgoing
weights (zero dipoles for particles): the network's function does not change at insertion, and
further training (``partial_fit``) makes the new neurons contribute. Here a network starts with
8 hidden neurons and grows to 32 in three steps, against one trained at 32 from the start for
the same number of epochs.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.plotting import plot_network

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
classes = np.unique(y)
epochs, grow_at = 60, {15: 8, 30: 8, 45: 8}  # epoch -> neurons added before it

# %%
# The function is unchanged at insertion
# --------------------------------------
# The new neurons appear at the end of the layer, near randomly chosen existing ones. Their
# outgoing weights are zero, so the probabilities are the same (up to float rounding).
grown = PositionalMLPClassifier((8,), random_state=0)
for _ in range(15):
    grown.partial_fit(X_train, y_train, classes=classes)
before = grown.predict_proba(X_test)
grown.grow_hidden_neurons(0, 8, random_state=0)
after = grown.predict_proba(X_test)
print(f"hidden neurons: 8 -> {grown.hidden_layer_sizes[0]}")
print(f"largest change of a predicted probability: {np.abs(after - before).max():.1e}")

# %%
# Then it trains on
# -----------------
# The grown network keeps training, growing again at epochs 30 and 45; the full-size network
# trains the same 60 epochs at 32 neurons throughout.
full = PositionalMLPClassifier((32,), random_state=0)
curves = {"32 from the start": [], "grown from 8": []}
for epoch in range(epochs):
    full.partial_fit(X_train, y_train, classes=classes)
    curves["32 from the start"].append((epoch + 1, full.score(X_test, y_test)))
for epoch in range(15, epochs):  # the grown network has had its first 15 epochs above
    if epoch in grow_at and epoch > 15:
        grown.grow_hidden_neurons(0, grow_at[epoch], random_state=epoch)
    grown.partial_fit(X_train, y_train)
    curves["grown from 8"].append((epoch + 1, grown.score(X_test, y_test)))
for name, model in [("grown from 8", grown), ("32 from the start", full)]:
    print(
        f"{name}: {model.hidden_layer_sizes[0]} hidden neurons, {model.n_parameters_} "
        f"parameters, test accuracy {model.score(X_test, y_test):.3f}"
    )

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, points in curves.items():
    axes[0].plot(*zip(*points), label=name)
for epoch in grow_at:
    axes[0].axvline(epoch, color="gray", lw=0.8, ls=":")
axes[0].set(xlabel="epoch", ylabel="test accuracy", title="grown at the dotted epochs")
axes[0].set_ylim(0.5, 1.0)
axes[0].legend()
plot_network(grown, ax=axes[1], top_k=150, show_inputs=False)
axes[1].set_title("the grown network (hidden and output neurons)")
plt.show()

# %%
# Growing is not free: at equal epochs the small start costs the grown network the epochs its
# early neurons spent alone, and here it ends below the network trained at full size.
# ``benchmarks/growth_experiment.py`` makes this comparison over seeds, with the loss gradient
# choosing where new neurons go (``grow_hidden_neurons(..., X=X_train, y=y_train)``), and
# reports the wiring cost of each network as well (:ref:`results-growth`).
