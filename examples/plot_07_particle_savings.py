"""
=======================================
The particle network's parameter count
=======================================

A :class:`~sklearn_posnet.ParticleNetworkClassifier` stores no weights: each neuron is a
particle with a position and a dipole in ``particle_dim`` dimensions, and the weights are
implied. Its parameter count grows with the number of neurons, an MLP's with the number of
connections.
"""

# %%
# Counting
# --------
# A network of layer sizes :math:`N_0, \dots, N_L` with :math:`n`-dimensional particles has
# :math:`2n \sum_l N_l + \sum_{l>0} N_l` parameters; the MLP of the same shape
# :math:`\sum_l (N_l + 1) N_{l+1}`. The torch modules count their own.
import itertools

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_posnet import ParticleNetworkClassifier
from sklearn_posnet.nn import ParticleNetwork


def mlp_parameters(sizes):
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


widths = np.array([16, 32, 64, 128, 256, 512])
for inputs, label in [(64, "digits, 64-h-10"), (784, "MNIST, 784-h-10")]:
    particle_2d = [ParticleNetwork([inputs, h, 10], particle_dim=2).n_parameters for h in widths]
    particle_3d = [ParticleNetwork([inputs, h, 10], particle_dim=3).n_parameters for h in widths]
    mlp = [mlp_parameters([inputs, h, 10]) for h in widths]
    print(label)
    for h, p2, p3, m in zip(widths, particle_2d, particle_3d, mlp):
        print(f"  h={h:4d}: particles 2-D {p2:6d}, 3-D {p3:6d}, MLP {m:7d}  ({m / p2:5.1f}x)")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(widths, [mlp_parameters([64, h, 10]) for h in widths], "o-", label="MLP 64-h-10")
ax.plot(
    widths,
    [ParticleNetwork([64, h, 10], particle_dim=2).n_parameters for h in widths],
    "o-",
    label="particles (2-D) 64-h-10",
)
ax.plot(
    widths,
    [ParticleNetwork([64, h, 10], particle_dim=3).n_parameters for h in widths],
    "o-",
    label="particles (3-D) 64-h-10",
)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("hidden neurons h")
ax.set_ylabel("trainable parameters")
ax.legend()
plt.show()

# %%
# Accuracy for the parameters
# ---------------------------
# On the digits, the particle network's accuracy against an MLP's, both with one hidden layer.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
for h in (32, 128):
    particles = ParticleNetworkClassifier((h,), max_iter=100, random_state=0)
    particles.fit(X_train, y_train)
    mlp = MLPClassifier((h,), max_iter=100, random_state=0).fit(X_train, y_train)
    print(
        f"h={h:3d}: particles {particles.score(X_test, y_test):.3f} accuracy with "
        f"{particles.n_parameters_} parameters; MLP {mlp.score(X_test, y_test):.3f} with "
        f"{mlp_parameters([64, h, 10])}"
    )
