"""The fused C kernels compute what the PyTorch operations compute, in float32."""

import pytest
import torch

from sklearn_posnet.falloff import get_falloff
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP, _fused

pytestmark = pytest.mark.skipif(
    not _fused.kernels_available(), reason="the C kernels were not built on this machine"
)
FALLOFFS = ["inverse_square", "gaussian", "exponential"]


@pytest.fixture
def torch_path(monkeypatch):
    """Run a callable once with the kernels and once with PyTorch operations only."""

    def both(function):
        results = []
        for use in (True, False):
            monkeypatch.setattr(_fused, "USE_KERNELS", use)
            results.append(function())
        return results

    return both


def _tensors(shapes, seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=generator).requires_grad_() for shape in shapes]


def _assert_close(got, expected):
    for g, e in zip(got, expected, strict=True):
        g, e = g.detach(), e.detach()
        # float32: errors of a few ulps of the largest entry, from the order of the sums
        torch.testing.assert_close(g, e, rtol=2e-5, atol=2e-5 * float(e.abs().max()))


def _assert_as_accurate(kernel, torch32, torch64):
    """The kernel's float32 error (against float64) is at most that of PyTorch's float32 ops,
    up to a few ulps: where the formula is ill-conditioned both lose the same digits."""
    for k, t, exact in zip(kernel, torch32, torch64, strict=True):
        k, t, exact = k.detach().double(), t.detach().double(), exact.detach()
        scale = float(exact.abs().max())
        assert float((k - exact).abs().max()) <= 4 * float((t - exact).abs().max()) + 1e-6 * scale


@pytest.mark.parametrize("falloff", FALLOFFS)
@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize(("l2", "distance"), [(0.0, 0.0), (0.3, 0.05)])
@pytest.mark.parametrize("frozen", [None, 1, 2])
def test_positional_layer_kernel_equals_torch(torch_path, falloff, dim, l2, distance, frozen):
    weight, p_out, p_in = _tensors([(37, 53), (37, dim), (53, dim)], seed=dim)
    if frozen is not None:  # input or output neurons that do not move
        (p_out, p_in)[frozen - 1].requires_grad_(False)
    upstream = torch.randn(37, 53, generator=torch.Generator().manual_seed(9))
    inputs = [t for t in (weight, p_out, p_in) if t.requires_grad]

    def run():
        out, penalty = _fused.penalized_falloff_weight(
            weight, p_out, p_in, get_falloff(falloff), 1.3, l2, distance
        )
        grads = torch.autograd.grad((out * upstream).sum() + 1.7 * penalty, inputs)
        return [out, penalty, *grads]

    kernel, reference = torch_path(run)
    _assert_close(kernel, reference)


@pytest.mark.parametrize("falloff", FALLOFFS)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_particle_layer_kernel_equals_torch(torch_path, falloff, dim):
    tensors = _tensors([(37, dim), (37, dim), (53, dim), (53, dim)], seed=10 + dim)
    upstream = torch.randn(37, 53, generator=torch.Generator().manual_seed(9))

    def run(tensors=tensors, upstream=upstream):
        out = _fused.particle_weight(*tensors, get_falloff(falloff))
        return [out, *torch.autograd.grad((out * upstream).sum(), tensors)]

    kernel, reference = torch_path(run)
    exact = run([t.detach().double().requires_grad_() for t in tensors], upstream.double())
    _assert_as_accurate(kernel, reference, exact)


def test_only_the_penalty_reaches_the_loss(torch_path):
    weight, p_out, p_in = _tensors([(20, 30), (20, 2), (30, 2)], seed=3)

    def run():
        _, penalty = _fused.penalized_falloff_weight(
            weight, p_out, p_in, get_falloff("gaussian"), 1.0, 0.2, 0.1
        )
        return list(torch.autograd.grad(penalty, (weight, p_out, p_in)))

    kernel, reference = torch_path(run)
    _assert_close(kernel, reference)


def test_kernels_are_used_only_where_they_apply():
    weight, p_out, p_in = _tensors([(4, 5), (4, 2), (5, 2)], seed=0)
    out, _ = _fused.penalized_falloff_weight(weight, p_out, p_in, get_falloff("gaussian"))
    assert type(out.grad_fn).__name__ == "_FalloffWeightBackward"
    assert _fused._kernel_applies(weight, p_out, p_in)
    assert not _fused._kernel_applies(weight.double(), p_out.double(), p_in.double())
    assert not _fused._kernel_applies(weight, torch.zeros(4, 4), torch.zeros(5, 4))  # dim 4


@pytest.mark.parametrize("threads", [1, 2])
def test_results_do_not_depend_on_the_number_of_threads(threads):
    """Column sums are added per fixed block of rows, in block order."""
    tensors = _tensors([(300, 2), (300, 2), (400, 2), (400, 2)], seed=5)
    upstream = torch.randn(300, 400, generator=torch.Generator().manual_seed(6))
    results = []
    previous = torch.get_num_threads()
    try:
        for count in (threads, 3 - threads):
            torch.set_num_threads(count)
            out = _fused.particle_weight(*tensors, get_falloff("gaussian"))
            results.append([out, *torch.autograd.grad((out * upstream).sum(), tensors)])
    finally:
        torch.set_num_threads(previous)
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("module_type", ["positional", "particle"])
def test_modules_train_the_same_with_and_without_kernels(torch_path, module_type):
    x = torch.rand(16, 12, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (16,), generator=torch.Generator().manual_seed(2))

    def run():
        generator = torch.Generator().manual_seed(0)
        if module_type == "positional":
            module = PositionalMLP([12, 8, 3], generator=generator)
            kwargs = {"l2": 0.01, "distance": 0.1}
        else:
            module = ParticleNetwork([12, 8, 3], generator=generator)
            kwargs = {"l2": 0.01}
        logits, penalty = module.forward_with_penalty(x, **kwargs)
        loss = torch.nn.functional.cross_entropy(logits, y) + penalty
        params = [p for p in module.parameters() if p.requires_grad]
        return [loss, *torch.autograd.grad(loss, params)]

    kernel, reference = torch_path(run)
    _assert_close(kernel, reference)
