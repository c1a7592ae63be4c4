"""The torch modules: the papers' formulas, checked against independent numpy computations."""

import itertools

import numpy as np
import pytest
import torch

from sklearn_posnet.nn import ParticleNetwork, PositionalMLP


def _numpy_squared_distances(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def _seeded(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("length_scale", [1.0, 2.5])
def test_positional_effective_weight_is_inverse_square_falloff_times_weight(length_scale):
    net = PositionalMLP([16, 7, 5, 3], length_scale=length_scale, generator=_seeded())
    for layer in range(net.n_layers):
        p_in = net.positions[layer].detach().double().numpy()
        p_out = net.positions[layer + 1].detach().double().numpy()
        w = net.weights[layer].detach().double().numpy()
        d = np.sqrt(_numpy_squared_distances(p_out, p_in)) / length_scale
        expected = w / (1.0 + d**2)
        np.testing.assert_allclose(
            net.effective_weight(layer).detach().numpy(), expected, rtol=1e-5, atol=1e-7
        )


def test_positional_forward_is_a_dense_network_over_effective_weights():
    net = PositionalMLP([16, 7, 3], activation="tanh", generator=_seeded())
    x = torch.randn(4, 16, generator=_seeded(1))
    w0, w1 = (w.detach().numpy() for w in net.effective_weights())
    b0, b1 = (b.detach().numpy() for b in net.biases)
    expected = np.tanh(x.numpy() @ w0.T + b0) @ w1.T + b1
    np.testing.assert_allclose(net(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_positions_are_shared_between_adjacent_layers():
    net = PositionalMLP([9, 4, 3], generator=_seeded())
    assert len(net.positions) == 3  # one tensor per neuron layer, not one per weight layer
    before_in, before_out = (w.detach().clone() for w in net.effective_weights())
    with torch.no_grad():
        net.positions[1][0] += 1.0  # move one hidden neuron
    after_in, after_out = net.effective_weights()
    # the same move changes row 0 of the layer it feeds from and column 0 of the layer it feeds
    assert not torch.equal(before_in[0], after_in[0].detach())
    assert not torch.equal(before_out[:, 0], after_out[:, 0].detach())
    torch.testing.assert_close(before_in[1:], after_in[1:].detach())
    torch.testing.assert_close(before_out[:, 1:], after_out[:, 1:].detach())


def test_input_and_output_positions_frozen_hidden_trainable_by_default():
    net = PositionalMLP([9, 4, 5, 3], generator=_seeded())
    assert [p.requires_grad for p in net.positions] == [False, True, True, False]
    net_all = PositionalMLP([9, 4, 3], trainable_positions="all", generator=_seeded())
    assert all(p.requires_grad for p in net_all.positions)
    frozen_count = net.n_parameters
    weights_and_biases = sum(w.numel() for w in net.weights) + sum(b.numel() for b in net.biases)
    assert frozen_count == weights_and_biases + (4 + 5) * 2


def test_raw_weights_are_glorot_divided_by_mean_falloff():
    sizes = [64, 50, 10]
    net = PositionalMLP(sizes, generator=_seeded())
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        limit = np.sqrt(6.0 / (n_in + n_out))
        mean_falloff = net.falloff_matrix(layer).mean().item()
        rescaled = net.weights[layer].detach().numpy() * mean_falloff
        assert np.abs(rescaled).max() <= limit * (1 + 1e-6)
        assert np.abs(rescaled).max() > 0.9 * limit  # drawn across the whole range


def test_distance_penalty_sum_adds_every_connection_once():
    net = PositionalMLP([16, 7, 5, 3], distance_reduction="sum", generator=_seeded())
    total = 0.0
    for layer in range(net.n_layers):
        p_in = net.positions[layer].detach().double().numpy()
        p_out = net.positions[layer + 1].detach().double().numpy()
        w = net.weights[layer].detach().double().numpy()
        total += (_numpy_squared_distances(p_out, p_in) * w**2).sum()
    np.testing.assert_allclose(net.distance_penalty().item(), total, rtol=1e-5)
    x = torch.randn(4, 16, generator=_seeded(1))
    logits, penalty = net.forward_with_penalty(x, l2=0.1, distance=0.3)
    torch.testing.assert_close(logits, net(x))
    expected = 0.1 * net.weight_l2() + 0.3 * net.distance_penalty()
    torch.testing.assert_close(penalty, expected, rtol=1e-5, atol=0)
    assert "distance_reduction='sum'" in repr(net)
    with pytest.raises(ValueError, match="distance_reduction"):
        PositionalMLP([4, 2], distance_reduction="mean")


def test_hidden_spread_follows_the_reference_schedule():
    net = PositionalMLP([64, 2000, 2000, 2000, 2000, 10], generator=_seeded())
    spreads = [net.positions[i].detach().std().item() for i in range(1, 5)]
    np.testing.assert_allclose(spreads, [1.0, 1.5, 2.0, 2.0], rtol=0.05)


def test_distance_penalty_is_the_mean_over_layers_of_mean_d2_w2():
    net = PositionalMLP([16, 7, 5, 3], generator=_seeded())
    per_layer = []
    for layer in range(net.n_layers):
        p_in = net.positions[layer].detach().double().numpy()
        p_out = net.positions[layer + 1].detach().double().numpy()
        w = net.weights[layer].detach().double().numpy()
        per_layer.append((_numpy_squared_distances(p_out, p_in) * w**2).mean())
    np.testing.assert_allclose(net.distance_penalty().item(), np.mean(per_layer), rtol=1e-5)
    expected_l2 = sum((w.detach().double() ** 2).sum().item() for w in net.weights)
    np.testing.assert_allclose(net.weight_l2().item(), expected_l2, rtol=1e-5)


def test_falloff_none_is_a_plain_mlp():
    net = PositionalMLP([16, 7, 3], falloff="none", generator=_seeded())
    for layer in range(net.n_layers):
        assert net.effective_weight(layer) is net.weights[layer]
    plain = torch.nn.Sequential(torch.nn.Linear(16, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    with torch.no_grad():
        for linear, w, b in zip([plain[0], plain[2]], net.weights, net.biases):
            linear.weight.copy_(w)
            linear.bias.copy_(b)
    x = torch.randn(5, 16, generator=_seeded(2))
    torch.testing.assert_close(net(x), plain(x))


@pytest.mark.parametrize(
    ("sizes", "dim", "expected"),
    [([784, 128, 10], 2, 3826), ([784, 256, 128, 10], 3, 7462)],
)
def test_particle_parameter_count_is_eq5_of_the_paper(sizes, dim, expected):
    assert ParticleNetwork(sizes, particle_dim=dim).n_parameters == expected
    assert expected == 2 * dim * sum(sizes) + sum(sizes[1:])


def test_particle_effective_weight_is_dipole_alignment_times_gaussian():
    net = ParticleNetwork([12, 6, 4], particle_dim=3, generator=_seeded())
    for layer in range(net.n_layers):
        r_in, r_out = (net.positions[i].detach().double().numpy() for i in (layer, layer + 1))
        v_in, v_out = (net.dipoles[i].detach().double().numpy() for i in (layer, layer + 1))
        expected = (v_out @ v_in.T) * np.exp(-_numpy_squared_distances(r_out, r_in))
        np.testing.assert_allclose(
            net.effective_weight(layer).detach().numpy(), expected, rtol=1e-5, atol=1e-7
        )


def test_particle_init_follows_the_paper():
    net = ParticleNetwork([2000, 1000, 10], particle_dim=2, generator=_seeded())
    positions = net.positions[0].detach().numpy()
    assert abs(positions.std() - 0.5) < 0.02 and abs(positions.mean()) < 0.03
    for dipoles in net.dipoles:
        np.testing.assert_allclose(dipoles.detach().norm(dim=1).numpy(), 1.0, rtol=1e-5)
    limit = np.sqrt(6.0 / (2000 + 1000))
    bias = net.biases[0].detach().numpy()
    assert np.abs(bias).max() <= limit and np.abs(bias).max() > 0.9 * limit


def test_particle_output_is_unchanged_by_a_common_translation():
    net = ParticleNetwork([10, 6, 3], particle_dim=2, generator=_seeded()).double()
    x = torch.randn(4, 10, generator=_seeded(3), dtype=torch.float64)
    before = net(x).detach()
    with torch.no_grad():
        for positions in net.positions:
            positions += torch.tensor([3.0, -1.5], dtype=torch.float64)
    torch.testing.assert_close(net(x).detach(), before, rtol=1e-10, atol=1e-12)


def test_remove_mean_position_gradient_leaves_zero_mean_and_keeps_the_rest():
    net = ParticleNetwork([10, 6, 3], generator=_seeded())
    x = torch.randn(8, 10, generator=_seeded(4))
    net(x).square().sum().backward()
    grads = torch.cat([p.grad for p in net.positions]).clone()
    net.remove_mean_position_gradient()
    after = torch.cat([p.grad for p in net.positions])
    torch.testing.assert_close(after.mean(0), torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(after, grads - grads.mean(0))


def test_modules_are_reproducible_from_their_generator_and_leave_global_rng_alone():
    state = torch.random.get_rng_state()
    a = PositionalMLP([9, 4, 3], generator=_seeded(7))
    b = PositionalMLP([9, 4, 3], generator=_seeded(7))
    assert torch.equal(torch.random.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_repr_says_what_matters():
    text = repr(PositionalMLP([9, 4, 3], falloff="gaussian"))
    assert "layer_sizes=9-4-3" in text and "falloff='gaussian'" in text
    assert "particle_dim=3" in repr(ParticleNetwork([9, 4, 3], particle_dim=3))


def test_init_stays_finite_when_the_falloff_underflows_between_layers():
    # exp(-(5 / 0.5)**2) underflows float32's normal range: dividing by it would overflow
    net = PositionalMLP(
        [1, 2], position_dim=1, falloff="gaussian", length_scale=0.5, generator=_seeded()
    )
    assert torch.isfinite(net.weights[0]).all()
    limit = np.sqrt(6.0 / 3)
    assert net.weights[0].abs().max().item() <= limit / 1e-6 * (1 + 1e-6)
