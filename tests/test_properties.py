"""Property-based tests (hypothesis) over random small shapes, dimensions, falloffs and layouts.

The modules are checked in float64 against an independent numpy implementation of the papers'
formulas; the estimators and the pruner on tiny random fits.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.falloff import FALLOFFS
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP

try:
    from sklearn_posnet.pruning import prune
except ImportError:  # the pruning module is written separately
    prune = None

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMPY_FALLOFFS = {  # f as a function of the squared distance
    "inverse_square": lambda d2: 1.0 / (1.0 + d2),
    "gaussian": lambda d2: np.exp(-d2),
    "exponential": lambda d2: np.exp(-np.sqrt(d2)),
    "none": np.ones_like,
}
NUMPY_ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "swish": lambda x: x / (1.0 + np.exp(-x)),
}
assert set(NUMPY_FALLOFFS) == set(FALLOFFS)


def _numpy(tensor):
    return tensor.detach().double().numpy()


def _squared_distances(positions_out, positions_in):
    return ((positions_out[:, None, :] - positions_in[None, :, :]) ** 2).sum(axis=-1)


def _numpy_forward(x, effective_weights, biases, activation):
    for layer, (weight, bias) in enumerate(zip(effective_weights, biases)):
        x = x @ weight.T + bias
        if layer < len(biases) - 1:
            x = NUMPY_ACTIVATIONS[activation](x)
    return x


hidden_sizes = st.lists(st.integers(1, 6), min_size=0, max_size=3)
falloffs = st.sampled_from(sorted(FALLOFFS))
activations = st.sampled_from(sorted(NUMPY_ACTIVATIONS))
seeds = st.integers(0, 2**31 - 1)


@st.composite
def positional_networks(draw):
    position_dim = draw(st.integers(1, 3))
    input_layout = draw(st.sampled_from(["auto", "line", "random", "grid"]))
    input_shape = None
    if input_layout == "grid":
        input_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=position_dim)))
        n_inputs = int(np.prod(input_shape))
    else:
        n_inputs = draw(st.integers(1, 9))
    sizes = [n_inputs, *draw(hidden_sizes), draw(st.integers(1, 4))]
    module = PositionalMLP(
        sizes,
        position_dim=position_dim,
        falloff=draw(falloffs),
        length_scale=draw(st.floats(0.25, 4.0)),
        activation=draw(activations),
        input_layout=input_layout,
        input_shape=input_shape,
        output_layout=draw(st.sampled_from(["circle", "line", "random"])),
        hidden_spread=draw(st.floats(0.0, 3.0)),
        trainable_positions=draw(st.sampled_from(["hidden", "all", "none"])),
        generator=torch.Generator().manual_seed(draw(seeds)),
    )
    return module.double()


@st.composite
def particle_networks(draw):
    sizes = [draw(st.integers(1, 9)), *draw(hidden_sizes), draw(st.integers(1, 4))]
    module = ParticleNetwork(
        sizes,
        particle_dim=draw(st.integers(1, 3)),
        falloff=draw(falloffs),
        activation=draw(activations),
        weight_mode=draw(st.sampled_from(["materialized", "tiled"])),
        tile_size=draw(st.integers(1, 4)),
        generator=torch.Generator().manual_seed(draw(seeds)),
    )
    return module.double()


def _inputs(module, seed, n_rows=5):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n_rows, module.layer_sizes[0], generator=generator, dtype=torch.float64)


def _positional_effective_weights(module):
    falloff = NUMPY_FALLOFFS[module.falloff.name]
    scale2 = module.length_scale**2
    positions = [_numpy(p) for p in module.positions]
    return [
        falloff(_squared_distances(positions[layer + 1], positions[layer]) / scale2)
        * _numpy(weight)
        for layer, weight in enumerate(module.weights)
    ]


def _particle_effective_weights(module):
    falloff = NUMPY_FALLOFFS[module.falloff.name]
    positions = [_numpy(p) for p in module.positions]
    dipoles = [_numpy(v) for v in module.dipoles]
    return [
        (dipoles[layer + 1] @ dipoles[layer].T)
        * falloff(_squared_distances(positions[layer + 1], positions[layer]))
        for layer in range(len(module.biases))
    ]


@SETTINGS
@given(module=positional_networks(), seed=seeds)
def test_positional_network_matches_the_numpy_formula(module, seed):
    expected = _positional_effective_weights(module)
    for layer, weight in enumerate(expected):
        np.testing.assert_allclose(_numpy(module.effective_weight(layer)), weight, rtol=1e-12)
    x = _inputs(module, seed)
    with torch.no_grad():
        logits = _numpy(module(x))
    assert logits.shape == (len(x), module.layer_sizes[-1])
    assert np.isfinite(logits).all()
    biases = [_numpy(b) for b in module.biases]
    np.testing.assert_allclose(
        logits,
        _numpy_forward(_numpy(x), expected, biases, module.activation),
        rtol=1e-9,
        atol=1e-12,
    )


@SETTINGS
@given(module=particle_networks(), seed=seeds)
def test_particle_network_matches_the_numpy_formula(module, seed):
    expected = _particle_effective_weights(module)
    for layer, weight in enumerate(expected):
        np.testing.assert_allclose(
            _numpy(module.effective_weight(layer)), weight, rtol=1e-12, atol=1e-15
        )
    x = _inputs(module, seed)
    with torch.no_grad():
        logits = _numpy(module(x))
    assert np.isfinite(logits).all()
    biases = [_numpy(b) for b in module.biases]
    np.testing.assert_allclose(
        logits,
        _numpy_forward(_numpy(x), expected, biases, module.activation),
        rtol=1e-9,
        atol=1e-12,
    )


def _shifted_and_rotated(module, shift, rotation):
    moved = copy.deepcopy(module)
    with torch.no_grad():
        for position in moved.positions:
            position.copy_(position @ rotation.T + shift)
        for dipole in getattr(moved, "dipoles", []):
            dipole.copy_(dipole @ rotation.T)
    return moved


def _random_rotation(dim, seed):
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    q, _ = torch.linalg.qr(matrix)
    return q


@SETTINGS
@given(
    module=particle_networks(),
    seed=seeds,
    shift=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
    rotate=st.booleans(),
)
def test_particle_outputs_do_not_change_when_all_particles_move_together(
    module, seed, shift, rotate
):
    """A common translation of all positions (and a common rotation of positions and dipoles)
    leaves every distance and dipole product, hence every output, unchanged."""
    dim = module.particle_dim
    rotation = _random_rotation(dim, seed) if rotate else torch.eye(dim, dtype=torch.float64)
    moved = _shifted_and_rotated(module, torch.tensor(shift[:dim], dtype=torch.float64), rotation)
    x = _inputs(module, seed)
    with torch.no_grad():
        np.testing.assert_allclose(
            _numpy(moved(x)), _numpy(module(x)), rtol=1e-7, atol=1e-9 * (1 + max(map(abs, shift)))
        )


@SETTINGS
@given(
    module=positional_networks(),
    seed=seeds,
    shift=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
)
def test_positional_outputs_do_not_change_when_all_neurons_move_together(module, seed, shift):
    moved = _shifted_and_rotated(
        module,
        torch.tensor(shift[: module.position_dim], dtype=torch.float64),
        torch.eye(module.position_dim, dtype=torch.float64),
    )
    x = _inputs(module, seed)
    with torch.no_grad():
        np.testing.assert_allclose(
            _numpy(moved(x)), _numpy(module(x)), rtol=1e-7, atol=1e-9 * (1 + max(map(abs, shift)))
        )


# ------------------------------------------------------------------------------- estimators
@st.composite
def classification_data(draw):
    n_features = draw(st.integers(1, 6))
    n_classes = draw(st.integers(2, 4))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    y = np.arange(30) % n_classes
    X = rng.normal(size=(30, n_features)) + y[:, None]
    return X, y


@st.composite
def estimators(draw):
    common = {
        "hidden_layer_sizes": tuple(draw(hidden_sizes)),
        "falloff": draw(falloffs),
        "activation": draw(activations),
        "max_iter": 2,
        "batch_size": 10,
        "random_state": draw(seeds),
    }
    if draw(st.booleans()):
        return ParticleNetworkClassifier(particle_dim=draw(st.integers(1, 3)), **common)
    position_dim = draw(st.integers(1, 3))
    # "auto" with position_dim=1 fails on a perfect-square feature count: see the xfail below.
    layouts = ["auto", "line", "random"] if position_dim > 1 else ["line", "random"]
    return PositionalMLPClassifier(
        position_dim=position_dim,
        output_layout=draw(st.sampled_from(["circle", "line", "random"])),
        input_layout=draw(st.sampled_from(layouts)),
        **common,
    )


@settings(max_examples=15, deadline=None)
@given(estimator=estimators(), data=classification_data())
def test_estimators_predict_finite_probabilities_that_sum_to_one(estimator, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    probabilities = estimator.predict_proba(X)
    assert probabilities.shape == (len(X), len(np.unique(y)))
    assert np.isfinite(probabilities).all() and (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(
        estimator.predict(X), estimator.classes_[probabilities.argmax(axis=1)]
    )


def test_auto_input_layout_works_in_one_dimension():
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = np.arange(20) % 2
    PositionalMLPClassifier((3,), position_dim=1, max_iter=1, random_state=0).fit(X, y)


# ---------------------------------------------------------------------------------- pruning
_FITTED = {}


def _fitted(kind, hidden):
    """Fits shared between examples: the property is about pruning, not training."""
    key = (kind, hidden)
    if key not in _FITTED:
        X = np.random.default_rng(0).normal(size=(40, 5))
        y = np.arange(40) % 3
        cls = PositionalMLPClassifier if kind == "positional" else ParticleNetworkClassifier
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _FITTED[key] = (cls(hidden, max_iter=2, random_state=0).fit(X, y), X)
    return _FITTED[key]


@pytest.mark.skipif(prune is None, reason="sklearn_posnet.pruning is not available")
@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["positional", "particle"]),
    hidden=st.sampled_from([(1,), (3,), (4, 1), (2, 3, 2)]),
    amount=st.one_of(st.integers(0, 20), st.floats(0.0, 0.999)),
    scope=st.sampled_from(["global", "layer"]),
    criterion=st.sampled_from(["mean_squared_weight", "effective"]),
)
def test_pruning_never_leaves_a_layer_empty(kind, hidden, amount, scope, criterion):
    """Either the amount leaves every hidden layer at least one neuron and exactly that many
    neurons go, or the pruner refuses it, saying why; it never empties a layer."""
    estimator, X = _fitted(kind, hidden)

    def n_removed(size):  # the documented rule: an int is a count, a float a rounded fraction
        return amount if isinstance(amount, int) else round(amount * size)

    if scope == "layer":
        feasible = all(n_removed(size) <= size - 1 for size in hidden)
    else:
        feasible = n_removed(sum(hidden)) <= sum(hidden) - len(hidden)
    if not feasible:
        with pytest.raises(ValueError, match="at least one neuron per hidden layer"):
            prune(estimator, amount, scope=scope, criterion=criterion)
        return

    pruned = prune(estimator, amount, scope=scope, criterion=criterion)
    sizes = pruned.module_.layer_sizes
    assert len(sizes) == len(hidden) + 2
    assert sizes[0] == 5 and sizes[-1] == 3
    assert all(1 <= new <= old for new, old in zip(sizes[1:-1], hidden))
    if scope == "layer":
        assert list(sizes[1:-1]) == [size - n_removed(size) for size in hidden]
    else:
        assert sum(sizes[1:-1]) == sum(hidden) - n_removed(sum(hidden))
    assert pruned.hidden_layer_sizes == tuple(sizes[1:-1])
    probabilities = pruned.predict_proba(X)
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert estimator.module_.layer_sizes == (5, *hidden, 3)  # the original is untouched
