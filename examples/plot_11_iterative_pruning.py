"""
==================================
One-shot against iterative pruning
==================================

Removing many neurons at once, without retraining, collapses accuracy. Structured-pruning
practice is iterative: remove some neurons, fine-tune, re-score, remove more.
:class:`~sklearn_posnet.pruning.NeuronPruner` does this with ``n_steps`` (a number of equal
steps, or the list of cumulative amounts to reach) and ``fine_tune_epochs`` (epochs of training
on the data given to ``fit`` after every step). Four ways to prune the same fitted network,
with the same total of 12 fine-tuning epochs wherever there is fine-tuning, and at least 4
neurons left in each hidden layer:

- one shot, no fine-tuning (the positional-neurons paper's protocol);
- one shot, then 12 epochs of fine-tuning;
- 4 steps of 3 epochs each, neurons ranked by their mean squared weight;
- the same with ``criterion="taylor"``: the first-order Taylor estimate of how much the loss on
  the training data would change without the neuron (``hidden_neuron_sensitivity``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
clf = PositionalMLPClassifier(
    (64, 32), distance_alpha=1e-4, batch_size=64, max_iter=100, random_state=0
)
clf.fit(X_train, y_train)
print(f"unpruned: {clf.n_parameters_} parameters, test accuracy {clf.score(X_test, y_test):.3f}")

schedules = {
    "one shot": dict(n_steps=1, fine_tune_epochs=0),
    "one shot + 12 epochs": dict(n_steps=1, fine_tune_epochs=12),
    "4 steps x 3 epochs": dict(n_steps=4, fine_tune_epochs=3),
    "4 steps x 3 epochs, taylor": dict(n_steps=4, fine_tune_epochs=3, criterion="taylor"),
}
amounts = [0.5, 0.7, 0.8, 0.9]
scores = {name: [] for name in schedules}
parameters = []
for amount in amounts:
    for name, schedule in schedules.items():
        pruner = NeuronPruner(clf, amount=amount, prefit=True, min_neurons_per_layer=4, **schedule)
        pruner.fit(X_train, y_train)
        scores[name].append(pruner.score(X_test, y_test))
    parameters.append(pruner.estimator_.n_parameters_)

# %%
# Accuracy left
# -------------
# Fine-tuning recovers most of what one-shot pruning loses. At an equal number of epochs,
# spreading them over several steps lets the network adapt before the next neurons are ranked,
# but leaves fewer epochs after the last cut: on this small data set, one cut followed by all
# the epochs does as well or better, and ranking by the Taylor estimate lifts the iterative
# schedule where 70-80% of the neurons go. How the two compare at larger scale, with more
# fine-tuning per step, is what ``benchmarks/pruning_frontier.py`` measures on MNIST
# (:ref:`results-frontier`).
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for name, values in scores.items():
    ax.plot(amounts, values, marker="o", label=name)
ax.set_xticks(amounts, [f"{a:.0%}\n{n} par." for a, n in zip(amounts, parameters)])
ax.set(xlabel="hidden neurons removed (parameters left)", ylabel="test accuracy")
ax.legend()
plt.show()
for index, amount in enumerate(amounts):
    line = ", ".join(f"{name} {values[index]:.3f}" for name, values in scores.items())
    print(f"{amount:.0%} removed: {line}")

# %%
# A schedule of amounts
# ---------------------
# ``n_steps`` also takes the cumulative amounts to reach, here removing most neurons early,
# while the network is large, and fewer as it gets small.
pruner = NeuronPruner(
    clf, amount=0.8, n_steps=[0.5, 0.7, 0.8], fine_tune_epochs=4, min_neurons_per_layer=4,
    prefit=True,
).fit(X_train, y_train)  # fmt: skip
print(
    f"schedule 50%, 70%, 80%: hidden sizes {pruner.estimator_.hidden_layer_sizes}, "
    f"test accuracy {pruner.score(X_test, y_test):.3f}"
)
print("kept neurons of the first hidden layer:", np.asarray(pruner.kept_neurons_[0]))
