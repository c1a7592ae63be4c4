"""
=================================================
Is the spatial structure real? Wiring and modules
=================================================

A positional network's falloff and distance penalty favour short strong connections. Two
numbers from :mod:`sklearn_posnet.spatial` say whether that produced structure:

- :func:`~sklearn_posnet.spatial.wiring_cost`: the summed length of the connections, each
  weighted by its ``|effective weight|`` relative to the mean (so that shrinking all weights
  does not lower it);
- :func:`~sklearn_posnet.spatial.modularity`: Newman's Q of the graph of all neurons with
  ``|effective weight|`` as edge weights, over communities found by Louvain.

Neither number means much alone: the baseline is the same network with its structure shuffled
(:func:`~sklearn_posnet.spatial.structure_permutation_test`: positions shuffled for the wiring
cost, weights shuffled for the modularity) and a plain MLP on the same positions. Modularity
needs networkx (``pip install sklearn_posnet[structure]``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.spatial import neuron_communities, structure_permutation_test

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
common = dict(hidden_layer_sizes=(32,), max_iter=150, random_state=0)
models = {
    "positional": PositionalMLPClassifier(distance_alpha=1e-4, **common),
    # The same network without falloff or penalty: a plain MLP whose neurons sit where the
    # positional network's started (same random_state), and never move.
    "plain MLP": PositionalMLPClassifier(falloff="none", distance_alpha=0.0, **common),
}
rows, tests = [], {}
for name, model in models.items():
    model.fit(X_train, y_train)
    tests[name] = test = structure_permutation_test(model, n_shuffles=10, random_state=0)
    rows.append(
        {
            "model": name,
            "test accuracy": model.score(X_test, y_test),
            "wiring cost": test.wiring_cost,
            "shuffled positions": test.wiring_cost_shuffled.mean(),
            "p (wiring)": test.wiring_cost_pvalue,
            "modularity": test.modularity,
            "shuffled weights": test.modularity_shuffled.mean(),
            "p (modularity)": test.modularity_pvalue,
        }
    )
print(pd.DataFrame(rows).to_string(index=False, float_format="{:.3f}".format))

# %%
# Against the shuffles
# --------------------
# Each bar is the network's value divided by the mean of its shuffles; the dots are the
# shuffles themselves. Below 1 for the wiring cost, the strong connections are the short ones;
# above 1 for the modularity, the weights form communities that shuffled weights do not.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for ax, (key, title) in zip(
    axes, [("wiring_cost", "wiring cost / shuffled"), ("modularity", "modularity / shuffled")]
):
    for index, name in enumerate(models):
        shuffled = tests[name][f"{key}_shuffled"]
        ax.bar(index, tests[name][key] / shuffled.mean(), color=f"C{index}", label=name)
        ax.plot(np.full(len(shuffled), index), shuffled / shuffled.mean(), "k.", alpha=0.4)
    ax.axhline(1.0, color="gray", lw=1, ls="--")
    ax.set_xticks(range(len(models)), list(models))
    ax.set_title(title)

# %%
# Where the communities are
# -------------------------
# The hidden neurons at their positions, coloured by community, with the output neurons (on
# the circle) in the colour of theirs. In the positional network, communities are places: a
# hidden neuron tends to share a community with the outputs near it. In the plain MLP the
# positions say nothing about the communities.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), layout="constrained")
for ax, (name, model) in zip(axes, models.items()):
    labels = neuron_communities(model, random_state=0)
    positions = [p.detach().numpy() for p in model.module_.positions]
    colors = plt.get_cmap("tab10")
    for layer, marker, size in [(1, "o", 40), (2, "s", 90)]:
        ax.scatter(
            *positions[layer].T, c=[colors(label % 10) for label in labels[layer]],
            marker=marker, s=size, edgecolors="k", linewidths=0.5,
        )  # fmt: skip
    ax.set_aspect("equal")
    ax.set_title(f"{name}: {len(np.unique(np.concatenate(labels)))} communities")
plt.show()
