"""PositionNetwork.backprop: the training step's gradients by hand, against autograd's."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP, use_kernels
from sklearn_posnet.nn._fused import kernels_available
from sklearn_posnet.nn.activations import ACTIVATIONS, DERIVATIVES

pytestmark = pytest.mark.skipif(
    not kernels_available(), reason="the hand-derived backward runs over the C kernels"
)

ACTIVATION_NAMES = sorted(ACTIVATIONS)


def _batch(n_in, n_out, seed=0, n=23):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=generator)
    y = torch.randint(0, n_out, (n,), generator=generator)
    weights = torch.rand(n, generator=generator) + 0.5
    return x, y, weights


def _weighted_cross_entropy(weights):
    def loss_of(logits, y):
        if weights is None:
            return torch.nn.functional.cross_entropy(logits, y)
        per_sample = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        return (per_sample * weights).sum() / weights.sum()

    return loss_of


def _gradients(module):
    return {name: p.grad for name, p in module.named_parameters()}


def _by_autograd(module, x, loss_of, terms):
    module.zero_grad(set_to_none=True)
    logits, penalty = module.forward_with_penalty(x, **terms)
    loss = loss_of(logits) + penalty
    loss.backward()
    return loss.detach(), logits.detach(), _gradients(module)


def _by_hand(module, x, loss_of, terms):
    module.zero_grad(set_to_none=True)
    result = module.backprop(x, loss_of, **terms)
    assert result is not None, "the hand-derived backward did not apply"
    loss, logits = result
    assert not loss.requires_grad and not logits.requires_grad
    return loss, logits, _gradients(module)


def _assert_same_step(module, x, loss_of, terms, rtol=2e-5):
    hand = _by_hand(module, x, loss_of, terms)
    auto = _by_autograd(module, x, loss_of, terms)
    torch.testing.assert_close(hand[0], auto[0], rtol=rtol, atol=0)
    torch.testing.assert_close(hand[1], auto[1], rtol=rtol, atol=1e-6)
    assert hand[2].keys() == auto[2].keys()
    for name, grad in auto[2].items():
        if grad is None:
            assert hand[2][name] is None, name
            continue
        assert hand[2][name] is not None, name
        scale = float(grad.abs().max()) or 1.0
        # float32 products in another order: relative to the gradient's largest entry.
        torch.testing.assert_close(hand[2][name], grad, rtol=0, atol=rtol * scale, msg=name)


@pytest.mark.parametrize(
    "activation, falloff, trainable, terms",
    list(
        itertools.product(
            ACTIVATION_NAMES,
            ["inverse_square", "gaussian", "exponential"],
            ["hidden", "all", "none"],
            [{}, {"l2": 0.01}, {"distance": 0.05}, {"l2": 0.01, "distance": 0.05}],
        )
    ),
)
def test_positional_gradients_are_autograds(activation, falloff, trainable, terms):
    module = PositionalMLP(
        (9, 7, 5, 4),
        activation=activation,
        falloff=falloff,
        trainable_positions=trainable,
        generator=torch.Generator().manual_seed(1),
    )
    x, y, weights = _batch(9, 4)
    for sample_weights in (None, weights):
        loss = _weighted_cross_entropy(sample_weights)
        _assert_same_step(module, x, lambda logits, loss=loss: loss(logits, y), terms)


@pytest.mark.parametrize(
    "activation, terms, dim",
    list(itertools.product(ACTIVATION_NAMES, [{}, {"l2": 0.01}], [1, 2, 3])),
)
def test_particle_gradients_are_autograds(activation, terms, dim):
    module = ParticleNetwork((9, 7, 5, 4), particle_dim=dim, activation=activation)
    x, y, weights = _batch(9, 4, seed=2)
    for sample_weights in (None, weights):
        loss = _weighted_cross_entropy(sample_weights)
        _assert_same_step(module, x, lambda logits, loss=loss: loss(logits, y), terms)


def test_the_constant_falloff_with_a_distance_penalty_is_by_hand():
    module = PositionalMLP((6, 5, 3), falloff="none", generator=torch.Generator().manual_seed(0))
    x, y, _ = _batch(6, 3)
    loss = _weighted_cross_entropy(None)
    _assert_same_step(module, x, lambda logits: loss(logits, y), {"distance": 0.1})


def test_gradients_add_to_those_already_there():
    module = PositionalMLP((6, 5, 3), generator=torch.Generator().manual_seed(0))
    x, y, _ = _batch(6, 3)
    loss = _weighted_cross_entropy(None)
    _, _, once = _by_hand(module, x, lambda logits: loss(logits, y), {})
    once = {name: g.clone() for name, g in once.items() if g is not None}
    module.backprop(x, lambda logits: loss(logits, y))  # on top of the first
    for name, parameter in module.named_parameters():
        if name in once:
            torch.testing.assert_close(parameter.grad, 2 * once[name])


def _square(d):
    return 1.0 / (1.0 + d * d) ** 2


@pytest.mark.parametrize(
    "case",
    ["no kernels", "float64", "callable falloff", "plain layers", "tiled particles"],
)
def test_backprop_leaves_to_autograd_what_it_does_not_derive(case):
    x, y, _ = _batch(6, 3)
    terms = {"distance": 0.1}
    if case == "tiled particles":
        module = ParticleNetwork((6, 5, 3), weight_mode="tiled", tile_size=2)
        terms = {}
    elif case == "callable falloff":
        module = PositionalMLP((6, 5, 3), falloff=_square)
    elif case == "plain layers":
        module, terms = PositionalMLP((6, 5, 3), falloff="none"), {}
    else:
        module = PositionalMLP((6, 5, 3))
    if case == "float64":
        module, x = module.double(), x.double()

    def loss_of(logits):
        return torch.nn.functional.cross_entropy(logits, y)

    module.zero_grad(set_to_none=True)
    if case == "no kernels":
        with use_kernels(False):
            assert module.backprop(x, loss_of, **terms) is None
    else:
        assert module.backprop(x, loss_of, **terms) is None
    # Nothing was computed: no gradient appeared.
    assert all(p.grad is None for p in module.parameters())


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_every_activation_has_the_derivative_autograd_computes(name):
    pre = torch.linspace(-4, 4, 101, dtype=torch.float64).requires_grad_()
    post = ACTIVATIONS[name](pre)
    grad = torch.rand(101, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (expected,) = torch.autograd.grad(post, pre, grad)
    got = DERIVATIVES[name](grad.clone(), pre.detach(), post.detach())
    assert torch.equal(got, expected)  # autograd's own backward operator


# ------------------------------------------------------------------ the estimators' fits
def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


ESTIMATORS = {
    "positional": (PositionalMLPClassifier, {"hidden_layer_sizes": (12,)}),
    "positional-sgd-weights": (
        PositionalMLPClassifier,
        {"hidden_layer_sizes": (12, 7), "solver": "sgd", "activation": "tanh"},
    ),
    "positional-swish": (
        PositionalMLPClassifier,
        {"hidden_layer_sizes": (12,), "activation": "swish", "falloff": "gaussian"},
    ),
    "particle-logistic": (
        ParticleNetworkClassifier,
        {"hidden_layer_sizes": (12, 6), "activation": "logistic", "solver": "adam"},
    ),
    "particle": (ParticleNetworkClassifier, {"hidden_layer_sizes": (12,)}),
    "positional-regressor": (PositionalMLPRegressor, {"hidden_layer_sizes": (12,)}),
    "particle-regressor": (ParticleNetworkRegressor, {"hidden_layer_sizes": (12,), "alpha": 0.1}),
    "positional-lbfgs": (PositionalMLPClassifier, {"hidden_layer_sizes": (12,), "solver": "lbfgs"}),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_fit_by_hand_is_the_fit_by_autograd(name, monkeypatch):
    """The estimators train by hand where the kernels serve, with autograd's own operations
    (the same products, bias sums and activation backward operators): the fit is the same bit
    for bit, but with a particle network's L2, whose two gradient terms autograd adds in
    another order, where it is the same to float32 rounding."""
    cls, params = ESTIMATORS[name]
    X, y = _digits()
    if "regressor" in name:
        y = y / 10.0
    weights = np.linspace(0.5, 1.5, len(X)) if "weights" in name else None
    params = {"max_iter": 4, "random_state": 0, "n_threads": 1, **params}

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return cls(**params).fit(X, y, sample_weight=weights)

    by_hand = fit()
    calls = []
    module_class = type(by_hand.module_)
    original = module_class.backprop

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(module_class, "backprop", counted)
    fit()
    assert calls, "the fit did not go through backprop"
    monkeypatch.setattr(module_class, "hand_derived_layers", lambda self, **terms: None)
    by_autograd = fit()
    particle_l2 = issubclass(cls, (ParticleNetworkClassifier, ParticleNetworkRegressor)) and (
        params.get("alpha", 0.0) > 0
    )
    if not particle_l2:
        np.testing.assert_array_equal(by_hand.loss_curve_, by_autograd.loss_curve_)
        for a, b in zip(by_hand.module_.parameters(), by_autograd.module_.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    else:
        np.testing.assert_allclose(by_hand.loss_curve_, by_autograd.loss_curve_, rtol=1e-5)
