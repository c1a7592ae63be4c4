"""Tests of sklearn_posnet.spatial against brute-force loops over connections and paths."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier

from sklearn_posnet import NeuronPruner, ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.spatial import (
    distance_to_most_influenced_output,
    mean_connection_length,
    modularity,
    most_influenced_output,
    neuron_communities,
    output_influence,
    structure_permutation_test,
    wiring_cost,
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


# ------------------------------------------------------------------------- structure measures
def _plain(weights, positions=None):
    """A float64 PositionalMLP without falloff holding the given weights (and positions)."""
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    module = PositionalMLP(sizes, falloff="none", output_layout="random").double()
    with torch.no_grad():
        for layer, weight in enumerate(weights):
            module.weights[layer].copy_(torch.as_tensor(weight))
        for layer, position in enumerate(positions or []):
            module.positions[layer].copy_(torch.as_tensor(position))
    return module


def _blocks(rng, off_block=0.0):
    """A 20-20-10 network made of two halves joined only by weights of magnitude off_block."""
    first = np.kron(np.eye(2), np.ones((10, 10)))
    second = np.kron(np.eye(2), np.ones((5, 10)))
    weights = [
        (first + off_block * (1 - first)) * rng.uniform(0.5, 1.5, first.shape),
        (second + off_block * (1 - second)) * rng.uniform(0.5, 1.5, second.shape),
    ]
    for weight in weights:
        weight *= rng.choice([-1.0, 1.0], weight.shape)  # Q uses the magnitudes
    return weights


def test_wiring_cost_of_a_hand_computed_network():
    # inputs at (0, 0) and (3, 4), the hidden neuron at the origin, the output at (0, 1):
    # sum |W| d = 1 * 0 + |-2| * 5 + 4 * 1 = 14, mean |W| = 7 / 3, so the cost is 6.
    module = _plain(
        [np.array([[1.0, -2.0]]), np.array([[4.0]])],
        [[[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0]], [[0.0, 1.0]]],
    )
    assert wiring_cost(module) == pytest.approx(6.0, rel=1e-12)
    np.testing.assert_allclose(wiring_cost(module, per_layer=True), [30 / 7, 12 / 7], rtol=1e-12)


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_wiring_cost_ignores_the_weight_scale_and_follows_the_lengths(module):
    cost = wiring_cost(module)
    n_connections = sum(w.numel() for w in module.effective_weights())
    assert cost == pytest.approx(n_connections * mean_connection_length(module), rel=1e-12)
    scaled = module.dipoles if isinstance(module, ParticleNetwork) else module.weights
    with torch.no_grad():
        for tensor in scaled:
            tensor.mul_(-3.0)  # every effective weight is scaled by -3 (by 9 for dipoles)
    assert wiring_cost(module) == pytest.approx(cost, rel=1e-12)
    with torch.no_grad():
        for position in module.positions:
            position.zero_()  # every neuron at the origin: no wire at all
    assert wiring_cost(module) == 0.0
    np.testing.assert_array_equal(wiring_cost(module, per_layer=True), np.zeros(module.n_layers))


def test_wiring_cost_doubles_with_the_positions_and_is_nan_without_weights():
    module = _plain([np.ones((3, 4)), np.ones((2, 3))])
    cost = wiring_cost(module)
    with torch.no_grad():
        for position in module.positions:
            position.mul_(2.0)
    assert wiring_cost(module) == pytest.approx(2 * cost, rel=1e-12)
    with torch.no_grad():
        for weight in module.weights:
            weight.zero_()
    assert np.isnan(wiring_cost(module))


def test_two_disconnected_blocks_are_two_communities():
    rng = np.random.default_rng(0)
    module = _plain(_blocks(rng))
    block_of = [np.repeat([0, 1], 10), np.repeat([0, 1], 10), np.repeat([0, 1], 5)]
    # Q of the two blocks: 1 - a^2 - b^2 with a, b the blocks' shares of the total strength.
    weights = [np.abs(w) for w in _arrays(module)[1]]
    share = sum(w[:10, :10].sum() if i == 0 else w[:5, :10].sum() for i, w in enumerate(weights))
    share /= sum(w.sum() for w in weights)
    expected = 1 - share**2 - (1 - share) ** 2
    assert modularity(module, communities=block_of) == pytest.approx(expected, rel=1e-12)
    assert modularity(module, random_state=0) >= expected - 1e-12 > 0.49
    for labels, blocks in zip(neuron_communities(module, random_state=0), block_of, strict=True):
        for label in np.unique(labels):  # no community straddles the two blocks
            assert len(np.unique(blocks[labels == label])) == 1


def test_modularity_of_shuffled_weights_is_near_zero():
    rng = np.random.default_rng(1)
    blocks = _blocks(rng, off_block=0.2)
    shuffled = [rng.permutation(w.ravel()).reshape(w.shape) for w in blocks]
    dense = [rng.uniform(-1, 1, (20, 20)), rng.uniform(-1, 1, (10, 20))]
    assert modularity(_plain(blocks), random_state=0) > 0.3
    assert modularity(_plain(shuffled), random_state=0) < 0.2
    assert modularity(_plain(dense), random_state=0) < 0.12  # 0.07-0.095 over 30 seeds
    assert np.isnan(modularity(_plain([np.zeros((3, 4)), np.zeros((2, 3))]), random_state=0))


def test_density_keeps_the_strongest_connections():
    weights = [np.arange(1.0, 13.0).reshape(3, 4), np.arange(1.0, 7.0).reshape(2, 3)]
    module = _plain(weights)
    # 25% of the 18 connections, rounded up, is 5: the weights 8 to 12, all in the first layer.
    strongest = _plain([np.where(weights[0] >= 8, weights[0], 0.0), np.zeros((2, 3))])
    labels = [np.array([0, 0, 1, 1]), np.array([0, 1, 1]), np.array([0, 1])]
    assert modularity(module, communities=labels, density=0.25) == pytest.approx(
        modularity(strongest, communities=labels), rel=1e-12
    )
    assert modularity(module, communities=labels, density=1.0) == pytest.approx(
        modularity(module, communities=labels), rel=1e-12
    )
    counts = np.bincount(np.concatenate(neuron_communities(module, density=0.25, random_state=0)))
    assert np.all(np.diff(counts) <= 0)  # numbered by decreasing size
    for bad in (0, 1.5, -0.1, True, "half"):
        with pytest.raises(ValueError, match="density"):
            modularity(module, density=bad)


def test_permutation_test_tells_structure_from_none():
    rng = np.random.default_rng(2)
    weights = _blocks(rng, off_block=0.05)
    # Each block's neurons sit together, the two blocks 10 apart: strong connections are short.
    place = [np.repeat([0.0, 10.0], n // 2) for n in (20, 20, 10)]
    positions = [np.column_stack([x + rng.normal(0, 0.5, len(x)), np.zeros(len(x))]) for x in place]
    result = structure_permutation_test(_plain(weights, positions), n_shuffles=5, random_state=0)
    assert result.wiring_cost < result.wiring_cost_shuffled.min()
    assert result.modularity > result.modularity_shuffled.max()
    assert result.wiring_cost_pvalue == result.modularity_pvalue == pytest.approx(1 / 6)
    assert result.wiring_cost_shuffled.shape == result.modularity_shuffled.shape == (5,)
    # Unstructured weights on the same positions: the shuffles do not set them apart.
    dense = [rng.uniform(-1, 1, w.shape) for w in weights]
    plain = structure_permutation_test(_plain(dense, positions), n_shuffles=9, random_state=0)
    assert plain.wiring_cost_pvalue > 0.1 and plain.modularity_pvalue > 0.1
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_shuffles"):
            structure_permutation_test(_plain(weights, positions), n_shuffles=bad)


def test_plain_mlp_is_measured_on_the_positions_given():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        positional = PositionalMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    positions = positional.module_.positions
    twin = _plain([c.T for c in mlp.coefs_], [p.detach().numpy() for p in positions])
    assert wiring_cost(mlp, positions=positions) == pytest.approx(wiring_cost(twin), rel=1e-12)
    assert modularity(mlp, random_state=0) == pytest.approx(modularity(twin, random_state=0))
    with pytest.raises(ValueError, match="positions="):
        wiring_cost(mlp)
    with pytest.raises(ValueError, match="positions="):
        structure_permutation_test(mlp)
    with pytest.raises(ValueError, match="one array per neuron layer"):
        wiring_cost(mlp, positions=list(positions)[:2])
    with pytest.raises(ValueError, match=r"positions\[1\]"):
        wiring_cost(mlp, positions=[positions[0], np.zeros((7, 2)), positions[2]])
    with pytest.raises(ValueError, match="NaN"):
        wiring_cost(mlp, positions=[positions[0], np.full((8, 2), np.nan), positions[2]])
    with pytest.raises(ValueError, match="communities"):
        modularity(mlp, communities=[np.zeros(64, dtype=int)])
    with pytest.raises(NotFittedError):
        wiring_cost(MLPClassifier(), positions=positions)


def test_pruner_and_its_pruned_estimator_give_the_same_numbers():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pruner = NeuronPruner(
            PositionalMLPClassifier((12,), max_iter=3, random_state=0), amount=0.5
        ).fit(X, y)
    assert wiring_cost(pruner) == wiring_cost(pruner.estimator_.module_)
    assert mean_connection_length(pruner) == mean_connection_length(pruner.estimator_)
    labels = neuron_communities(pruner, random_state=0)
    assert [len(x) for x in labels] == [64, 6, 10]


def test_random_state_none_leaves_the_global_numpy_generator_alone():
    module = _plain([np.ones((3, 4)), np.ones((2, 3))])
    state = np.random.get_state()[1].copy()
    neuron_communities(module)
    structure_permutation_test(module, n_shuffles=2)
    assert_equal = np.testing.assert_array_equal
    assert_equal(np.random.get_state()[1], state)
    first = structure_permutation_test(module, n_shuffles=3, random_state=5)
    again = structure_permutation_test(module, n_shuffles=3, random_state=5)
    assert_equal(first.wiring_cost_shuffled, again.wiring_cost_shuffled)
    assert_equal(first.modularity_shuffled, again.modularity_shuffled)
