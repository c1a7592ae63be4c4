"""sklearn_posnet.nn.base: the one forward pass, and the doors the rest of the package reads."""

import copy
import threading

import pytest
import torch
import torch.nn.functional as F

from sklearn_posnet.nn import (
    ParticleNetwork,
    PositionalMLP,
    PositionNetwork,
    _fused,
    compute_backend,
    use_kernels,
)
from sklearn_posnet.nn.base import NeuronSnapshot, parameter_entries, propagate


def _seeded(seed):
    return torch.Generator().manual_seed(seed)


# One of each: a positional network, a particle network, a particle network formed in tiles.
NETWORKS = {
    "positional": PositionalMLP([6, 5, 4, 3], activation="tanh", generator=_seeded(0)),
    "particle": ParticleNetwork([6, 5, 4, 3], particle_dim=3, activation="swish"),
    "particle-tiled": ParticleNetwork([6, 5, 3], weight_mode="tiled", tile_size=2),
}
MODULES, IDS = list(NETWORKS.values()), list(NETWORKS)


def _plain_loop(x, layers, activation):
    """An independent plain MLP over ``layers``."""
    for index, (weight, bias) in enumerate(layers):
        x = F.linear(x, weight, bias)
        if index < len(layers) - 1:
            x = activation(x)
    return x


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_every_pass_is_the_plain_mlp_of_plain_layers(module):
    assert isinstance(module, PositionNetwork)
    x = torch.randn(7, module.layer_sizes[0], generator=_seeded(1))
    with torch.no_grad():
        layers = module.plain_layers()
        logits = module(x)
        torch.testing.assert_close(logits, _plain_loop(x, layers, module.hidden_activation))
        with_hidden, hidden = module.forward_with_hidden(x)
        with_penalty, penalty = module.forward_with_penalty(x)
        features = module.features(x)
    # The passes share one loop: the same logits, bit for bit.
    assert torch.equal(with_hidden, logits) and torch.equal(with_penalty, logits)
    assert [h.shape[1] for h in hidden] == list(module.layer_sizes[1:-1])
    assert torch.equal(hidden[-1], features)
    assert float(penalty) == 0.0


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_penalized_pass_adds_every_layers_share(module):
    x = torch.randn(5, module.layer_sizes[0], generator=_seeded(2))
    if isinstance(module, PositionalMLP):
        logits, penalty = module.forward_with_penalty(x, l2=0.3, distance=0.7)
        expected = 0.3 * module.weight_l2() + 0.7 * module.distance_penalty()
    else:
        logits, penalty = module.forward_with_penalty(x, l2=0.3)
        expected = 0.3 * module.weight_l2()
    assert torch.equal(logits, module(x))
    torch.testing.assert_close(penalty, expected)


def test_propagate_stops_at_depth_and_collects_the_hidden_activations():
    calls, hidden = [], []

    def layer_output(x, layer):
        calls.append(layer)
        return x + 1.0

    x = torch.zeros(2, 3)
    out = propagate(x, layer_output, 4, lambda t: 2.0 * t, depth=3, hidden=hidden)
    assert calls == [0, 1, 2]
    assert [float(h[0, 0]) for h in hidden] == [2.0, 6.0, 14.0]
    assert float(out[0, 0]) == 14.0
    # All layers: no activation after the last.
    assert float(propagate(x, layer_output, 2, lambda t: 2.0 * t)[0, 0]) == 3.0


@pytest.mark.parametrize("module", MODULES[:2], ids=IDS[:2])
def test_plain_layers_are_formed_in_the_dtype_asked_for(module):
    double = module.plain_layers(torch.float64)
    reference = [w.detach() for w in _double_copy(module).effective_weights()]
    for (weight, bias), expected, own_bias in zip(double, reference, module.biases, strict=True):
        assert weight.dtype == bias.dtype == torch.float64
        # Formed from float64 parameters, not formed in float32 and converted.
        assert torch.equal(weight, expected)
        assert torch.equal(bias, own_bias.detach().double())
    assert all(p.dtype == torch.float32 for p in module.parameters())  # left as it was
    own = module.plain_layers()
    assert all(w.dtype == torch.float32 for w, _ in own)
    with torch.no_grad():
        assert torch.equal(own[0][0], module.effective_weight(0))


def _double_copy(module):
    return copy.deepcopy(module).double()


def test_plain_layers_share_no_memory_with_the_parameters():
    # falloff="none": the effective weights are the raw weights themselves.
    module = PositionalMLP([4, 3, 2], falloff="none")
    (weight, bias), _ = module.plain_layers()
    weight.add_(1.0)
    bias.add_(1.0)
    assert not torch.equal(weight, module.weights[0].detach())
    assert not torch.equal(bias, module.biases[0].detach())
    assert not weight.requires_grad and not bias.requires_grad


@pytest.mark.parametrize("module", MODULES[:2], ids=IDS[:2])
def test_neuron_snapshot_is_a_detached_copy_of_positions_and_dipoles(module):
    snapshot = module.neuron_snapshot()
    assert isinstance(snapshot, NeuronSnapshot)
    assert len(snapshot.positions) == len(module.layer_sizes)
    for copied, own in zip(snapshot.positions, module.positions, strict=True):
        assert torch.equal(copied, own.detach()) and not copied.requires_grad
        assert copied.device.type == "cpu" and copied.data_ptr() != own.data_ptr()
    if isinstance(module, ParticleNetwork):
        for copied, own in zip(snapshot.dipoles, module.dipoles, strict=True):
            assert torch.equal(copied, own.detach()) and copied.data_ptr() != own.data_ptr()
    else:
        assert snapshot.dipoles is None
    snapshot.positions[1].add_(1.0)
    assert not torch.equal(snapshot.positions[1], module.positions[1].detach())


def _kernels_used(module) -> bool:
    """Whether the first layer's effective weight came from the C kernels (its autograd node
    says so)."""
    node = module.effective_weight(0).grad_fn
    if isinstance(module, ParticleNetwork):
        return type(node).__name__ == "_ParticleWeightBackward"
    return node.use_kernels


@pytest.mark.skipif(not _fused.kernels_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("module", MODULES[:2], ids=IDS[:2])
def test_use_kernels_switches_the_kernels_off_for_a_block(module):
    assert compute_backend(module).name == "kernels" and _kernels_used(module)
    with use_kernels(False):
        backend = compute_backend(module)
        assert backend.name == "torch" and "switched off" in backend.reason
        assert not _kernels_used(module)
        with use_kernels(True):  # nested blocks restore what they found
            assert compute_backend(module).name == "kernels"
        assert compute_backend(module).name == "torch"
    assert compute_backend(module).name == "kernels"
    with pytest.raises(RuntimeError), use_kernels(False):
        raise RuntimeError
    assert compute_backend(module).name == "kernels"


@pytest.mark.skipif(not _fused.kernels_available(), reason="the C kernels were not built")
def test_use_kernels_belongs_to_the_calling_thread():
    module = PositionalMLP([4, 3, 2])
    seen = []
    with use_kernels(False):
        thread = threading.Thread(target=lambda: seen.append(compute_backend(module).name))
        thread.start()
        thread.join()
        assert compute_backend(module).name == "torch"
    assert seen == ["kernels"]


@pytest.mark.parametrize("module", MODULES[:2], ids=IDS[:2])
def test_both_paths_give_the_same_training_values(module):
    x = torch.randn(4, module.layer_sizes[0], generator=_seeded(3))
    results = []
    for enabled in (True, False):
        module.zero_grad()
        with use_kernels(enabled):
            logits = module(x)
            logits.square().sum().backward()
        results.append(
            [logits.detach(), *(p.grad.clone() for p in module.parameters() if p.requires_grad)]
        )
    for kernel, plain in zip(*results, strict=True):
        torch.testing.assert_close(kernel, plain, rtol=1e-5, atol=1e-6)


def test_parameter_entries_are_the_list_in_index_order_after_replacing_and_appending():
    shared = torch.nn.Parameter(torch.zeros(1))
    entries = torch.nn.ParameterList(
        [torch.nn.Parameter(torch.full((k + 1,), float(k))) for k in range(4)]
    )
    entries[1] = torch.nn.Parameter(torch.ones(7))  # replaced in place
    entries.append(shared)
    entries.append(shared)  # the same parameter twice
    entries[0] = torch.nn.Parameter(torch.ones(2))
    assert [id(p) for p in parameter_entries(entries)] == [id(p) for p in entries]
    assert len(parameter_entries(entries)) == 6
