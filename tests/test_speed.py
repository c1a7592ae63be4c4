"""The fast paths compute exactly what the reference formulas compute: values and gradients."""

import numpy as np
import pytest
import torch

from sklearn_posnet.falloff import get_falloff, squared_distances
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.nn._fused import (
    _squared_distances,
    distance_penalty,
    falloff_weight,
    penalized_falloff_weight,
    weight_penalty,
)

FUSED = ["inverse_square", "gaussian", "exponential"]


def _inputs(n_out=5, n_in=7, dim=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(n_out, n_in, generator=generator, dtype=torch.float64)
    positions_out = torch.randn(n_out, dim, generator=generator, dtype=torch.float64)
    positions_in = torch.randn(n_in, dim, generator=generator, dtype=torch.float64)
    return [t.requires_grad_() for t in (weight, positions_out, positions_in)]


def _reference_weight(weight, positions_out, positions_in, falloff, length_scale):
    d2 = squared_distances(positions_out, positions_in) / length_scale**2
    return get_falloff(falloff)(d2) * weight


def test_fused_squared_distances_are_bitwise_the_reference():
    _, positions_out, positions_in = _inputs(dim=3)
    expected = squared_distances(positions_out, positions_in)
    with torch.no_grad():
        assert torch.equal(_squared_distances(positions_out, positions_in), expected)


@pytest.mark.parametrize("falloff", FUSED)
@pytest.mark.parametrize("length_scale", [1.0, 1.7])
def test_falloff_weight_passes_gradcheck(falloff, length_scale):
    inputs = _inputs()

    def fused(weight, positions_out, positions_in):
        return falloff_weight(
            weight, positions_out, positions_in, get_falloff(falloff), length_scale
        )

    assert torch.autograd.gradcheck(fused, inputs)


@pytest.mark.parametrize("falloff", FUSED)
def test_falloff_weight_equals_reference_values_and_gradients(falloff):
    inputs = _inputs(n_out=9, n_in=4, dim=2, seed=1)
    upstream = torch.randn(9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    fused = falloff_weight(*inputs, get_falloff(falloff), 0.8)
    reference = _reference_weight(*inputs, falloff, 0.8)
    torch.testing.assert_close(fused, reference, rtol=1e-13, atol=0)
    fused_grads = torch.autograd.grad(fused, inputs, upstream)
    reference_grads = torch.autograd.grad(reference, inputs, upstream)
    for got, expected in zip(fused_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_exponential_falloff_gradient_is_zero_at_coincident_neurons():
    weight, positions_out, positions_in = _inputs(n_out=2, n_in=2, dim=2)
    with torch.no_grad():
        positions_in[0] = positions_out[0]
    fused = falloff_weight(weight, positions_out, positions_in, get_falloff("exponential"))
    reference = _reference_weight(weight, positions_out, positions_in, "exponential", 1.0)
    fused_grads = torch.autograd.grad(fused.sum(), (positions_out, positions_in))
    reference_grads = torch.autograd.grad(reference.sum(), (positions_out, positions_in))
    for got, expected in zip(fused_grads, reference_grads, strict=True):
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_distance_penalty_gradcheck_and_reference():
    inputs = _inputs(seed=3)
    assert torch.autograd.gradcheck(distance_penalty, inputs)
    weight, positions_out, positions_in = inputs
    reference = (squared_distances(positions_out, positions_in) * weight.square()).mean()
    torch.testing.assert_close(distance_penalty(*inputs), reference, rtol=1e-13, atol=0)


def test_only_needed_gradients_are_computed():
    weight, positions_out, positions_in = _inputs()
    positions_in.requires_grad_(False)
    fused = falloff_weight(weight, positions_out, positions_in, get_falloff("gaussian"))
    fused.sum().backward()
    assert positions_in.grad is None
    assert weight.grad is not None and positions_out.grad is not None


def _reference_penalty(weight, positions_out, positions_in, l2, distance):
    d2 = squared_distances(positions_out, positions_in)
    return (weight.square() * (l2 + distance * d2)).sum()


PENALTIES = [(0.0, 0.0), (0.7, 0.0), (0.0, 0.4), (0.7, 0.4)]


@pytest.mark.parametrize(("l2", "distance"), PENALTIES)
def test_weight_penalty_gradcheck_and_reference(l2, distance):
    inputs = _inputs(seed=5)
    assert torch.autograd.gradcheck(lambda *a: weight_penalty(*a, l2, distance), inputs)
    torch.testing.assert_close(
        weight_penalty(*inputs, l2, distance),
        _reference_penalty(*inputs, l2, distance),
        rtol=1e-13,
        atol=0,
    )


@pytest.mark.parametrize("falloff", [*FUSED, "none"])
@pytest.mark.parametrize(("l2", "distance"), PENALTIES)
def test_penalized_falloff_weight_gradcheck(falloff, l2, distance):
    inputs = _inputs(seed=6)

    def fused(*a):
        return penalized_falloff_weight(*a, get_falloff(falloff), 1.3, l2, distance)

    assert torch.autograd.gradcheck(fused, inputs)


@pytest.mark.parametrize("falloff", [*FUSED, "none", lambda d: 1 / (1 + d) ** 2])
@pytest.mark.parametrize("used", ["both", "weight", "penalty"])
def test_penalized_falloff_weight_equals_reference(falloff, used):
    """Values and gradients, also when only one of the two outputs reaches the loss."""
    inputs = _inputs(n_out=6, n_in=9, dim=2, seed=7)
    generator = torch.Generator().manual_seed(8)
    upstream = torch.randn(6, 9, dtype=torch.float64, generator=generator)
    l2, distance = 0.3, 0.05
    weight, penalty = penalized_falloff_weight(*inputs, get_falloff(falloff), 0.9, l2, distance)
    reference_weight = _reference_weight(*inputs, falloff, 0.9)
    reference_penalty = _reference_penalty(*inputs, l2, distance)
    torch.testing.assert_close(weight, reference_weight, rtol=1e-13, atol=0)
    torch.testing.assert_close(penalty, reference_penalty, rtol=1e-13, atol=0)

    def loss(w, p):
        return {"both": (w * upstream).sum() + 2.5 * p, "weight": (w * upstream).sum()}.get(
            used, 2.5 * p
        )

    wanted = [t for t in inputs if t.requires_grad]
    got = torch.autograd.grad(loss(weight, penalty), wanted, materialize_grads=True)
    expected = torch.autograd.grad(
        loss(reference_weight, reference_penalty),
        wanted,
        allow_unused=True,
        materialize_grads=True,
    )
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("falloff", ["inverse_square", "gaussian", "none"])
def test_positional_forward_with_penalty_is_forward_plus_penalties(falloff):
    module = PositionalMLP(
        [6, 5, 4, 3], falloff=falloff, generator=torch.Generator().manual_seed(0)
    ).double()
    x = torch.randn(8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = [p for p in module.parameters() if p.requires_grad]
    logits, penalty = module.forward_with_penalty(x, l2=0.02, distance=0.3)
    expected_logits = module(x)
    expected_penalty = 0.02 * module.weight_l2() + 0.3 * module.distance_penalty()
    torch.testing.assert_close(logits, expected_logits, rtol=1e-13, atol=0)
    torch.testing.assert_close(penalty, expected_penalty, rtol=1e-13, atol=0)
    got = torch.autograd.grad(logits.sin().sum() + penalty, params)
    expected = torch.autograd.grad(expected_logits.sin().sum() + expected_penalty, params)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weight_mode", ["materialized", "tiled"])
def test_particle_forward_with_penalty_is_forward_plus_weight_l2(weight_mode):
    module = ParticleNetwork(
        [6, 5, 3], weight_mode=weight_mode, tile_size=2, generator=torch.Generator().manual_seed(0)
    ).double()
    x = torch.randn(8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = list(module.parameters())
    logits, penalty = module.forward_with_penalty(x, l2=0.04)
    expected_logits, expected_penalty = module(x), 0.04 * module.weight_l2()
    torch.testing.assert_close(logits, expected_logits, rtol=1e-13, atol=0)
    torch.testing.assert_close(penalty, expected_penalty, rtol=1e-12, atol=0)
    got = torch.autograd.grad(logits.sin().sum() + penalty, params)
    expected = torch.autograd.grad(expected_logits.sin().sum() + expected_penalty, params)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-11, atol=1e-13)


def _reference_positional_loss(module, x):
    out = x
    for layer in range(module.n_layers):
        d2 = squared_distances(module.positions[layer + 1], module.positions[layer])
        weight = module.falloff(d2 / module.length_scale**2) * module.weights[layer]
        out = torch.nn.functional.linear(out, weight, module.biases[layer])
        if layer < module.n_layers - 1:
            out = module._activation(out)
    penalty = (
        sum(
            (
                squared_distances(module.positions[layer + 1], module.positions[layer])
                * module.weights[layer].square()
            ).mean()
            for layer in range(module.n_layers)
        )
        / module.n_layers
    )
    return out.square().sum() + penalty


@pytest.mark.parametrize("falloff", FUSED)
def test_positional_module_forward_and_gradients_match_reference(falloff):
    module = PositionalMLP(
        [6, 5, 4, 3],
        falloff=falloff,
        length_scale=1.3,
        trainable_positions="all",
        generator=torch.Generator().manual_seed(0),
    ).double()
    x = torch.randn(8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = [p for p in module.parameters() if p.requires_grad]
    fused_loss = module(x).square().sum() + module.distance_penalty()
    fused_grads = torch.autograd.grad(fused_loss, params)
    reference_loss = _reference_positional_loss(module, x)
    reference_grads = torch.autograd.grad(reference_loss, params)
    torch.testing.assert_close(fused_loss, reference_loss, rtol=1e-13, atol=0)
    for got, expected in zip(fused_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("falloff", FUSED)
def test_particle_module_forward_and_gradients_match_reference(falloff):
    module = ParticleNetwork(
        [6, 5, 4, 3],
        particle_dim=3,
        falloff=falloff,
        generator=torch.Generator().manual_seed(0),
    ).double()
    x = torch.randn(8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    params = list(module.parameters())
    fused_grads = torch.autograd.grad(module(x).square().sum(), params)
    out = x
    for layer in range(module.n_layers):
        alignment = module.dipoles[layer + 1] @ module.dipoles[layer].T
        d2 = squared_distances(module.positions[layer + 1], module.positions[layer])
        out = torch.nn.functional.linear(out, alignment * module.falloff(d2), module.biases[layer])
        if layer < module.n_layers - 1:
            out = module._activation(out)
    reference_grads = torch.autograd.grad(out.square().sum(), params)
    for got, expected in zip(fused_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-13)


def _particle_pair(falloff="gaussian", tile_size=3, sizes=(9, 7, 5, 4)):
    kwargs = dict(particle_dim=2, falloff=falloff, generator=torch.Generator().manual_seed(0))
    materialized = ParticleNetwork(sizes, weight_mode="materialized", **kwargs).double()
    tiled = ParticleNetwork(sizes, weight_mode="tiled", tile_size=tile_size, **kwargs).double()
    tiled.load_state_dict(materialized.state_dict())
    return materialized, tiled


@pytest.mark.parametrize("falloff", ["gaussian", "inverse_square", "none", lambda d: 1 / (1 + d)])
@pytest.mark.parametrize("tile_size", [1, 3, 100])
def test_tiled_particle_network_equals_materialized(falloff, tile_size):
    materialized, tiled = _particle_pair(falloff, tile_size)
    x = torch.randn(6, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x_m, x_t = x.clone().requires_grad_(), x.clone().requires_grad_()
    results = []
    for module, inputs in ((materialized, x_m), (tiled, x_t)):
        loss = module(inputs).sin().sum() + 0.3 * module.weight_l2()
        params = [inputs, *module.parameters()]
        grads = torch.autograd.grad(loss, params, allow_unused=True, materialize_grads=True)
        results.append((loss, grads))
    (loss_m, grads_m), (loss_t, grads_t) = results
    torch.testing.assert_close(loss_t, loss_m, rtol=1e-12, atol=0)
    for got, expected in zip(grads_t, grads_m, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_tiled_layer_passes_gradcheck():
    from sklearn_posnet.nn._tiled import tiled_particle_linear, tiled_weight_square_sum

    generator = torch.Generator().manual_seed(4)
    shapes = [(3, 5), (5, 2), (5, 2), (4, 2), (4, 2), (5,)]
    x, p_out, v_out, p_in, v_in, bias = (
        torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()
        for shape in shapes
    )
    x = x[:, :4].detach().requires_grad_()
    gaussian = get_falloff("gaussian")
    assert torch.autograd.gradcheck(
        lambda *a: tiled_particle_linear(*a, gaussian, tile_rows=2),
        (x, p_out, v_out, p_in, v_in, bias),
    )
    assert torch.autograd.gradcheck(
        lambda *a: tiled_weight_square_sum(*a, gaussian, tile_rows=2), (p_out, v_out, p_in, v_in)
    )


def test_weight_mode_auto_tiles_only_large_layers(monkeypatch):
    import sklearn_posnet.nn.particle as particle

    monkeypatch.setattr(particle, "TILED_ABOVE_CONNECTIONS", 40)
    module = ParticleNetwork([10, 5, 3])
    assert module.is_tiled(0) and not module.is_tiled(1)
    assert not ParticleNetwork([10, 5, 3], weight_mode="materialized").is_tiled(0)
    with pytest.raises(ValueError, match="weight_mode"):
        ParticleNetwork([10, 5, 3], weight_mode="lazy")


def test_particle_classifier_tiled_fit_equals_materialized():
    from sklearn.datasets import load_digits

    from sklearn_posnet import ParticleNetworkClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    # One full-batch step per epoch: the two paths round differently in float32 (the module
    # tests above show they agree to 1e-11 in float64), and every further step compounds that.
    params = dict(hidden_layer_sizes=(12,), batch_size=200, max_iter=3, random_state=0, tol=0.0)
    materialized = ParticleNetworkClassifier(weight_mode="materialized", **params).fit(X, y)
    tiled = ParticleNetworkClassifier(weight_mode="tiled", tile_size=5, **params).fit(X, y)
    assert tiled.module_.is_tiled(0)
    np.testing.assert_allclose(tiled.loss_curve_, materialized.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(
        tiled.predict_proba(X), materialized.predict_proba(X), rtol=1e-4, atol=1e-6
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")
@pytest.mark.parametrize("weight_mode", ["materialized", "tiled"])
def test_cuda_fused_and_tiled_paths_match_cpu(weight_mode):
    module = ParticleNetwork(
        [9, 7, 4], weight_mode=weight_mode, tile_size=3, generator=torch.Generator().manual_seed(0)
    ).double()
    x = torch.randn(5, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    cpu_grads = torch.autograd.grad(module(x).sum(), list(module.parameters()))
    module_cuda = module.to("cuda")
    cuda_grads = torch.autograd.grad(module_cuda(x.cuda()).sum(), list(module_cuda.parameters()))
    for got, expected in zip(cuda_grads, cpu_grads, strict=True):
        torch.testing.assert_close(got.cpu(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")
def test_cuda_positional_classifier_fits():
    from sklearn.datasets import load_digits

    from sklearn_posnet import PositionalMLPClassifier

    X, y = load_digits(return_X_y=True)
    clf = PositionalMLPClassifier((16,), max_iter=5, device="cuda", random_state=0)
    clf.fit(X[:200] / 16, y[:200])
    assert clf.score(X[:200] / 16, y[:200]) > 0.5
