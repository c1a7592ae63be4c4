"""Geometry that fits the falloff: length_scale="auto", the "even" and "sphere" layouts, and the
initial falloffs of both networks for every named falloff and dimension."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.falloff import FALLOFFS, get_falloff
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.nn.layouts import circle, grid, line, resolve_layout, sphere
from sklearn_posnet.nn.length_scale import (
    auto_length_scale,
    half_value_distance,
    mean_squared_connection_lengths,
)

DECAYING = ("inverse_square", "gaussian", "exponential")


def _seeded(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("inverse_square", 1.0), ("gaussian", math.sqrt(math.log(2))), ("exponential", math.log(2))],
)
def test_half_value_distance_of_the_named_falloffs(name, expected):
    assert half_value_distance(get_falloff(name)) == pytest.approx(expected, rel=1e-6)


def test_half_value_distance_of_a_callable_matches_the_named_falloff():
    assert half_value_distance(get_falloff(lambda d: torch.exp(-d * d))) == pytest.approx(
        half_value_distance(get_falloff("gaussian")), rel=1e-6
    )
    # A steep callable gets a short half-value distance: f(u) = exp(-(4u)^4) halves at u ~ 0.23.
    steep = half_value_distance(get_falloff(lambda d: torch.exp(-((4 * d) ** 4))))
    assert steep == pytest.approx(math.log(2) ** 0.25 / 4, rel=1e-5)


@pytest.mark.parametrize(
    "function",
    [
        lambda d: 0.6 + 0.4 * torch.exp(-d),  # never falls to half of f(0)
        lambda d: d * torch.exp(-d),  # zero at 0
        lambda d: torch.full_like(d, float("nan")),
    ],
)
def test_half_value_distance_falls_back_to_one(function):
    assert half_value_distance(get_falloff(function)) == 1.0


def test_mean_squared_connection_lengths_is_the_expectation_over_draws():
    inputs, outputs = grid((3, 4), 2), circle(5, 2)
    expected = mean_squared_connection_lengths([(inputs, 0.0), (None, 1.5), (outputs, 0.0)], 2)
    generator = _seeded()
    sums = np.zeros(2)
    n_draws = 400
    for _ in range(n_draws):
        hidden = torch.randn(50, 2, generator=generator) * 1.5
        sums[0] += torch.cdist(hidden, inputs).square().mean().item()
        sums[1] += torch.cdist(outputs, hidden).square().mean().item()
    np.testing.assert_allclose(sums / n_draws, expected, rtol=0.02)


def test_reference_geometry_is_reachable_exactly():
    reference = PositionalMLP(
        [64, 100, 10], length_scale=1.0, input_layout="auto", output_layout="circle",
        generator=_seeded(),
    )  # fmt: skip
    assert reference.length_scale == 1.0
    np.testing.assert_array_equal(reference.positions[0].detach(), grid((8, 8), 2))
    np.testing.assert_array_equal(reference.positions[-1].detach(), circle(10, 2))
    # In 2-D the default layouts are the reference's; only the length scale differs.
    default = PositionalMLP([64, 100, 10], generator=_seeded())
    for ours, theirs in zip(default.positions, reference.positions, strict=True):
        np.testing.assert_array_equal(ours.detach(), theirs.detach())
    assert default.length_scale == pytest.approx(math.sqrt(25 + 2 * 1.0))


@pytest.mark.parametrize("falloff", sorted(FALLOFFS))
def test_auto_length_scale_depends_on_neither_the_draws_nor_the_hidden_sizes(falloff):
    scales = {
        PositionalMLP([13, hidden, 4], falloff=falloff, generator=_seeded(seed)).length_scale
        for seed in (0, 1)
        for hidden in (3, 50)
    }
    assert len(scales) == 1
    if falloff == "none":
        assert scales == {1.0}


def test_auto_length_scale_of_a_callable_is_the_named_falloffs():
    named = PositionalMLP([10, 8, 3], falloff="gaussian", position_dim=3, generator=_seeded())
    custom = PositionalMLP(
        [10, 8, 3], falloff=lambda d: torch.exp(-d * d), position_dim=3, generator=_seeded()
    )
    assert custom.length_scale == pytest.approx(named.length_scale, rel=1e-6)


def test_explicit_length_scale_is_kept_and_auto_is_checked():
    assert PositionalMLP([4, 3, 2], length_scale=2.5).length_scale == 2.5
    with pytest.raises(ValueError, match="length_scale must be 'auto' or positive"):
        PositionalMLP([4, 3, 2], length_scale=-1.0)


def _initial_falloffs(module):
    return [module.falloff_matrix(layer).detach() for layer in range(module.n_layers)]


@pytest.mark.parametrize("falloff", DECAYING)
@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize(("n_inputs", "n_outputs"), [(4, 2), (64, 10), (30, 200)])
def test_auto_geometry_gives_every_layer_a_usable_falloff(falloff, dim, n_inputs, n_outputs):
    module = PositionalMLP(
        [n_inputs, 32, 16, n_outputs], falloff=falloff, position_dim=dim, generator=_seeded()
    )
    for values in _initial_falloffs(module):
        assert 0.3 < values.mean() < 1.0
        assert (values < 0.01).float().mean() < 0.01
    # Every hidden position receives a gradient of the size the inverse square gives.
    x = torch.randn(64, n_inputs, generator=_seeded(1))
    module(x).square().mean().backward()
    for hidden in module.positions[1:-1]:
        assert hidden.grad.abs().mean() > 1e-4


def test_reference_geometry_starves_the_gaussian_falloff():
    """What "auto" avoids: at length_scale=1 the gaussian output layer is nearly disconnected."""
    module = PositionalMLP(
        [64, 100, 10], falloff="gaussian", length_scale=1.0, input_layout="auto",
        output_layout="circle", generator=_seeded(),
    )  # fmt: skip
    assert _initial_falloffs(module)[-1].median() < 1e-6


def test_sphere_layout_is_equidistant_and_spreads_many_outputs():
    np.testing.assert_array_equal(sphere(7, 2, 5.0), circle(7, 2))
    np.testing.assert_array_equal(sphere(7, 1, 2.0), line(7, 1))
    points = sphere(200, 3, 5.0)
    np.testing.assert_allclose(points.norm(dim=1), 5.0, rtol=1e-5)
    nearest = torch.cdist(points, points).fill_diagonal_(math.inf).min(dim=1).values
    on_a_circle = 2 * math.pi * 5.0 / 200
    assert nearest.min() > 4 * on_a_circle
    padded = sphere(5, 4, 1.0)
    assert padded.shape == (5, 4) and torch.all(padded[:, 3] == 0)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_even_layout_is_a_grid_for_images_and_a_sphere_otherwise(dim):
    g = _seeded()
    image = resolve_layout("even", 64, dim, generator=g, role="input")
    auto = resolve_layout("auto", 64, dim, generator=g, role="input")
    np.testing.assert_array_equal(image, auto)
    tabular = resolve_layout("even", 5, dim, generator=g, role="input")
    np.testing.assert_array_equal(tabular, sphere(5, dim, 2.0))
    output = resolve_layout("sphere", 5, dim, generator=g, role="output")
    np.testing.assert_array_equal(output, sphere(5, dim, 5.0))


@pytest.mark.parametrize("falloff", sorted(FALLOFFS))
@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_particle_initial_falloffs_are_usable_in_every_dimension(falloff, dim):
    module = ParticleNetwork([20, 32, 5], particle_dim=dim, falloff=falloff, generator=_seeded())
    for layer in range(module.n_layers):
        d2 = module.squared_distances(layer).detach()
        values = module.falloff(d2)
        assert values.mean() > 0.1
        assert (values < 1e-3).float().mean() < 0.01


@pytest.mark.parametrize("falloff", DECAYING)
def test_one_dimensional_particle_weights_have_one_sign_pattern(falloff):
    """Why particle_dim=1 is capacity-limited: sign(w_ij) = sign(v_i) * sign(v_j)."""
    module = ParticleNetwork([6, 9, 3], particle_dim=1, falloff=falloff, generator=_seeded())
    for layer in range(module.n_layers):
        weight = module.effective_weight(layer).detach()
        signs = torch.outer(module.dipoles[layer + 1][:, 0], module.dipoles[layer][:, 0]).sign()
        assert torch.equal(weight.sign(), signs)


def test_estimator_exposes_the_length_scale_it_used_and_keeps_it_when_pickled():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    clf = PositionalMLPClassifier((8,), falloff="gaussian", max_iter=5, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    expected = auto_length_scale(
        get_falloff("gaussian"),
        [(sphere(4, 2, 2.0), 0.0), (None, 1.0), (sphere(3, 2, 5.0), 0.0)],
        2,
    )
    assert clf.length_scale_ == pytest.approx(expected)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.length_scale_ == clf.length_scale_
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    fixed = PositionalMLPClassifier((8,), length_scale=3.0, max_iter=1, random_state=0)
    with pytest.warns(Warning):
        assert fixed.fit(X, y).length_scale_ == 3.0


def test_particle_default_dimension_is_unchanged():
    assert ParticleNetworkClassifier().particle_dim == 2
