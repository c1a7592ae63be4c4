"""
======================================
The network before and after pruning
======================================

:func:`~sklearn_posnet.pruning.prune` physically removes hidden neurons: their positions,
weights and biases leave the module, so the pruned network is smaller, and
:func:`~sklearn_posnet.plotting.plot_network` draws what is left. The pruned estimator trains
on like any other: a few epochs of ``partial_fit`` recover much of the accuracy the pruning
cost.
"""

# %%
import copy

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.plotting import plot_network
from sklearn_posnet.pruning import prune

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
clf = PositionalMLPClassifier((32, 16), distance_alpha=1e-4, max_iter=100, random_state=0)
clf.fit(X_train, y_train)

pruned = prune(clf, amount=0.25)  # a quarter of the 48 hidden neurons, ranked together
fine_tuned = copy.deepcopy(pruned)
for _ in range(5):
    fine_tuned.partial_fit(X_train, y_train)

for name, model in [("original", clf), ("pruned", pruned), ("pruned, 5 more epochs", fine_tuned)]:
    print(
        f"{name}: hidden layers {model.hidden_layer_sizes}, {model.n_parameters_} parameters, "
        f"test accuracy {model.score(X_test, y_test):.3f}"
    )

# %%
# The original network and the fine-tuned pruned one, with the 60 strongest connections of
# each layer.
fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
for ax, (name, model) in zip(axes, [("original", clf), ("pruned and fine-tuned", fine_tuned)]):
    plot_network(model, ax=ax, top_k=60)
    ax.set_title(f"{name}: hidden layers {model.hidden_layer_sizes}")
plt.show()
