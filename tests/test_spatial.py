"""Tests of sklearn_posnet.spatial against brute-force loops over connections and paths."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.spatial import (
    distance_to_most_influenced_output,
    mean_connection_length,
    most_influenced_output,
    output_influence,
)


def _modules():
    generator = torch.Generator().manual_seed(3)
    return [
        PositionalMLP([5, 4, 3, 2], output_layout="random", generator=generator).double(),
        ParticleNetwork([4, 3, 3, 2], particle_dim=3, generator=generator).double(),
    ]


def _arrays(module):
    with torch.no_grad():
        positions = [p.numpy().copy() for p in module.positions]
        weights = [w.numpy().copy() for w in module.effective_weights()]
    return positions, weights


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_mean_connection_length_is_the_weighted_mean_over_connections(module):
    positions, weights = _arrays(module)
    numerator, denominator = np.zeros(len(weights)), np.zeros(len(weights))
    for layer, weight in enumerate(weights):
        for i, j in itertools.product(range(weight.shape[0]), range(weight.shape[1])):
            distance = np.linalg.norm(positions[layer + 1][i] - positions[layer][j])
            numerator[layer] += abs(weight[i, j]) * distance
            denominator[layer] += abs(weight[i, j])
    np.testing.assert_allclose(
        mean_connection_length(module, per_layer=True), numerator / denominator, rtol=1e-12
    )
    assert mean_connection_length(module) == pytest.approx(numerator.sum() / denominator.sum())


def test_mean_connection_length_follows_the_geometry():
    module = PositionalMLP([6, 4, 3], falloff="none", generator=torch.Generator().manual_seed(0))
    before = mean_connection_length(module)
    with torch.no_grad():
        for position in module.positions:
            position.mul_(3.0)
        for weight in module.weights:
            weight.mul_(-2.0)  # the magnitudes' ratios, hence the weighting, are unchanged
    assert mean_connection_length(module) == pytest.approx(3.0 * before, rel=1e-6)
    with torch.no_grad():
        module.weights[0].zero_()
    lengths = mean_connection_length(module, per_layer=True)
    assert np.isnan(lengths[0]) and np.isfinite(lengths[1])


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_output_influence_sums_path_products(module):
    _, weights = _arrays(module)
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    n_layers = len(weights)
    influences = output_influence(module)
    assert len(influences) == n_layers - 1
    for hidden in range(1, n_layers):
        expected = np.zeros((sizes[hidden], sizes[-1]))
        for path in itertools.product(*(range(n) for n in sizes[hidden:])):
            product = 1.0
            for step, layer in enumerate(range(hidden, n_layers)):
                product *= abs(weights[layer][path[step + 1], path[step]])
            expected[path[0], path[-1]] += product
        np.testing.assert_allclose(influences[hidden - 1], expected, rtol=1e-12)
    np.testing.assert_allclose(influences[-1], np.abs(weights[-1]).T)


def test_output_influence_bounds_the_gradient_of_the_logits():
    module = PositionalMLP([6, 5, 4, 3], generator=torch.Generator().manual_seed(1)).double()
    influence = output_influence(module)[0]  # first hidden layer, shape (5, 3)
    generator = torch.Generator().manual_seed(2)
    for _ in range(5):
        hidden = torch.randn(5, generator=generator, dtype=torch.float64, requires_grad=True)
        second = torch.relu(module.effective_weight(1) @ hidden + module.biases[1])
        logits = module.effective_weight(2) @ second + module.biases[2]
        for k in range(3):
            (gradient,) = torch.autograd.grad(logits[k], hidden, retain_graph=True)
            assert np.all(np.abs(gradient.numpy()) <= influence[:, k] + 1e-12)


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_distance_to_most_influenced_output(module):
    positions, _ = _arrays(module)
    targets = most_influenced_output(module)
    distances = distance_to_most_influenced_output(module)
    for hidden, (influence, chosen, distance) in enumerate(
        zip(output_influence(module), targets, distances, strict=True), start=1
    ):
        np.testing.assert_array_equal(chosen, influence.argmax(axis=1))
        for neuron in range(len(chosen)):
            strongest = max(range(influence.shape[1]), key=lambda k: influence[neuron, k])
            assert chosen[neuron] == strongest
            expected = np.linalg.norm(positions[hidden][neuron] - positions[-1][strongest])
            assert distance[neuron] == pytest.approx(expected, rel=1e-12)


def test_estimators_and_their_modules_give_the_same_numbers():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for estimator in (
            PositionalMLPClassifier((8,), max_iter=3, random_state=0),
            ParticleNetworkClassifier((8,), max_iter=3, random_state=0),
        ):
            estimator.fit(X, y)
            assert mean_connection_length(estimator) == mean_connection_length(estimator.module_)
            for a, b in zip(
                distance_to_most_influenced_output(estimator),
                distance_to_most_influenced_output(estimator.module_),
                strict=True,
            ):
                np.testing.assert_array_equal(a, b)
    with pytest.raises(NotFittedError):
        mean_connection_length(PositionalMLPClassifier())
