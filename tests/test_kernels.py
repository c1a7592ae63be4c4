"""The fused C kernels compute what the PyTorch operations compute, in float32."""

import numpy as np
import pytest
import torch

from sklearn_posnet.falloff import FALLOFFS as FALLOFF_TABLE
from sklearn_posnet.falloff import get_falloff
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP, _fused, _kernel_calls, use_kernels

_kernels = pytest.importorskip("sklearn_posnet.nn._kernels")

pytestmark = pytest.mark.skipif(
    not _fused.kernels_available(), reason="the C kernels were not built on this machine"
)
FALLOFFS = ["inverse_square", "gaussian", "exponential"]


@pytest.fixture
def torch_path():
    """Run a callable once with the kernels and once with PyTorch operations only."""

    def both(function):
        results = []
        for use in (True, False):
            with use_kernels(use):
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
    assert _fused.kernel_refusal(None, weight, p_out, p_in) is None
    assert "float64" in _fused.kernel_refusal(None, weight.double(), p_out.double(), p_in.double())
    assert "4 dimensions" in _fused.kernel_refusal(
        None, weight, torch.zeros(4, 4), torch.zeros(5, 4)
    )


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


# ------------------------------------------------------------------------ the kernels' boundary
def _layer(n_out=4, n_in=6, dim=2):
    generator = torch.Generator().manual_seed(0)
    return [
        torch.randn(*shape, generator=generator)
        for shape in ((n_out, n_in), (n_out, dim), (n_in, dim))
    ]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda w, p, q: (w.double(), p, q), TypeError, "weight must be float32"),
        (lambda w, p, q: (w, p.double(), q), TypeError, "positions_out must be float32"),
        (lambda w, p, q: (w.to("meta"), p, q), ValueError, "CPU"),
        (lambda w, p, q: (w.to_sparse(), p, q), ValueError, "dense"),
        (lambda w, p, q: (w.T.contiguous().T, p, q), ValueError, "contiguous"),
        (lambda w, p, q: (w[:, :-1], p, q), ValueError, r"weight must have shape \(4, 6\)"),
        (lambda w, p, q: (w, p[:-1], q), ValueError, "weight must have shape"),
        (lambda w, p, q: (w, p, q[:, :1]), ValueError, r"positions_in.T must have shape"),
        (lambda w, p, q: (w, torch.zeros(4, 4), torch.zeros(6, 4)), ValueError, "dimension 1 to 3"),
        (lambda w, p, q: (w, p[0], q), ValueError, "matrices"),
        (lambda w, p, q: (w.numpy(), p, q), TypeError, "torch.Tensor"),
        (lambda w, p, q: (None, p, q), ValueError, "either a weight or both dipole"),
    ],
)
def test_kernel_calls_refuse_wrong_tensors(change, error, message):
    weight, p_out, p_in = change(*_layer())
    falloff = get_falloff("gaussian")
    with pytest.raises(error, match=message):
        _kernel_calls.KernelLayer(falloff, 1.0, 0.0, 0.0, p_out, p_in, weight)


def test_kernel_calls_refuse_a_wrong_gradient_and_falloff():
    weight, p_out, p_in = _layer()
    needs = (True, True, True, False, False)
    layer = _kernel_calls.KernelLayer(get_falloff("gaussian"), 1.0, 0.0, 0.0, p_out, p_in, weight)
    with pytest.raises(ValueError, match="grad_output must have shape"):
        layer.backward(torch.zeros(4, 5), None, needs)
    with pytest.raises(TypeError, match="grad_output must be float32"):
        layer.backward(torch.zeros(4, 6, dtype=torch.float64), None, needs)
    user = get_falloff(lambda d: 1.0 / (1.0 + d))
    with pytest.raises(ValueError, match="do not implement"):
        _kernel_calls.KernelLayer(user, 1.0, 0.0, 0.0, p_out, p_in, weight)


def _c_arguments():
    """Valid arguments of ``_kernels.forward``: falloff code, c, l2, distance, the layer's arrays
    (positions_out, coordinates_in, weight, dipoles_out, dipole_coordinates_in), out, threads."""
    weight, p_out, p_in = (t.numpy() for t in _layer())
    return [
        2,
        1.0,
        0.0,
        0.0,
        p_out,
        np.ascontiguousarray(p_in.T),
        weight,
        None,
        None,
        np.empty((4, 6), np.float32),
        1,
    ]


@pytest.mark.parametrize(
    ("index", "value", "error", "message"),
    [
        (6, lambda a: a[6].astype(np.float64), TypeError, "weight must hold float32"),
        (6, lambda a: a[6].astype(np.int32), TypeError, "weight must hold float32"),
        (6, lambda a: np.asfortranarray(a[6]), ValueError, "weight must be a C-contiguous"),
        (6, lambda a: a[6][:, :5], ValueError, "weight must be a C-contiguous"),
        (6, lambda a: np.ascontiguousarray(a[6][:, :5]), ValueError, r"shape \(4, 6\)"),
        (6, lambda a: a[6].reshape(-1), ValueError, "2-dimensional"),
        (6, lambda a: 7, TypeError, "weight must be a float32 array"),
        (4, lambda a: np.zeros((4, 5), np.float32), ValueError, "dimension 1 to 3"),
        (5, lambda a: a[5][:1], ValueError, "coordinates_in must have shape"),
        (9, lambda a: a[9][:3], ValueError, "out must have shape"),
        (9, lambda a: a[6], ValueError, "out shares memory with weight"),
        (9, lambda a: None, TypeError, "out is required"),
        (0, lambda a: 9, ValueError, "unknown falloff code"),
    ],
)
def test_c_kernels_check_every_array_they_are_given(index, value, error, message):
    arguments = _c_arguments()
    arguments[index] = value(arguments)
    with pytest.raises(error, match=message):
        _kernels.forward(*arguments)


def test_c_kernels_refuse_a_read_only_output_and_a_weight_with_dipoles():
    arguments = _c_arguments()
    arguments[9].flags.writeable = False
    with pytest.raises(ValueError, match="out must be a C-contiguous, writable"):
        _kernels.forward(*arguments)
    arguments = _c_arguments()
    arguments[7], arguments[8] = np.zeros((4, 2), np.float32), np.zeros((2, 6), np.float32)
    with pytest.raises(ValueError, match="not both"):
        _kernels.forward(*arguments)


def test_c_backward_checks_its_gradient_arrays():
    layer = _c_arguments()[:9]
    grad = np.zeros((4, 6), np.float32)

    def backward(grad_weight, grad_p_out, grad_qt):
        _kernels.backward(*layer, 1, grad, 0.0, grad_weight, grad_p_out, grad_qt, None, None)

    backward(
        np.empty((4, 6), np.float32), np.empty((4, 2), np.float32), np.zeros((2, 6), np.float32)
    )
    with pytest.raises(ValueError, match="grad_positions_out must have shape"):
        backward(None, np.empty((4, 3), np.float32), None)
    with pytest.raises(ValueError, match="grad_weight shares memory with grad"):
        backward(grad, None, None)
    with pytest.raises(TypeError, match="grad_coordinates_in must hold float32"):
        backward(None, None, np.zeros((2, 6)))


@pytest.mark.parametrize("kind", ["positional", "particle"])
def test_kernel_path_saves_its_inputs_for_backward(kind):
    """An input changed in place between forward and backward is caught by autograd's version
    check (save_for_backward), not silently differentiated at the new values."""
    weight, p_out, p_in = (t.requires_grad_() for t in _layer())
    if kind == "positional":
        out, _ = _fused.penalized_falloff_weight(weight, p_out, p_in, get_falloff("gaussian"))
    else:
        out = _fused.particle_weight(
            p_out, torch.ones_like(p_out), p_in, torch.ones_like(p_in), get_falloff("gaussian")
        )
    assert type(out.grad_fn).__name__ in ("_FalloffWeightBackward", "_ParticleWeightBackward")
    with torch.no_grad():
        p_in.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


DISTANCES = [0.0, 1e-30, 1e-20, 1e-4, 0.1, 0.5, 1.0, 2.0, 5.0, 9.0, 30.0, 1e3, 1e6, 1e20]


@pytest.mark.parametrize("name", sorted(FALLOFF_TABLE))
@pytest.mark.parametrize("inverse_scale2", [1.0, 0.37])
def test_c_falloff_is_the_python_definition(name, inverse_scale2):
    """The C kernels' float32 arithmetic against the table's definition in float64, over
    distances from 0 through tiny to huge (where both give 0 or 1 exactly)."""
    falloff = FALLOFF_TABLE[name]
    d = torch.tensor(DISTANCES, dtype=torch.float64)
    p_in = d[:, None].float()  # one output neuron at 0, inputs along a line
    p_out = torch.zeros(1, 1)
    weight = torch.ones(1, len(d))
    if name == "none":
        dipoles = (torch.ones(1, 1), torch.ones(len(d), 1))
        layer = _kernel_calls.KernelLayer(
            falloff, inverse_scale2, 0, 0, p_out, p_in, None, *dipoles
        )
    else:
        layer = _kernel_calls.KernelLayer(falloff, inverse_scale2, 0, 0, p_out, p_in, weight)
    got, _ = layer.forward()
    u = p_in.double()[:, 0] ** 2 * inverse_scale2  # the float32 positions, exactly
    expected = falloff.of_squared_distance(u)
    torch.testing.assert_close(got[0].double(), expected, rtol=2e-6, atol=1e-30)
    assert got[0, 0] == 1.0 and torch.isfinite(got).all()
    # far away: 0 (the kernels' exp2 stops at float32's smallest normal number, 2**-126)
    smallest_normal = torch.finfo(torch.float32).tiny
    assert got[0, -1] == 1.0 if name == "none" else 0.0 <= got[0, -1] <= smallest_normal


@pytest.mark.parametrize("name", ["inverse_square", "gaussian", "exponential"])
def test_c_falloff_slope_is_the_python_decay(name):
    """The kernels' derivative with respect to the input positions against the table's
    ``decay`` in float64 (the gradient of ``sum_j f(|p - q_j|**2)`` is ``2 decay(u) (p - q_j)``)."""
    falloff = FALLOFF_TABLE[name]
    d = torch.tensor([d for d in DISTANCES if 1e-4 <= d <= 30.0], dtype=torch.float64)
    p_in, p_out, weight = d[:, None].float(), torch.zeros(1, 1), torch.ones(1, len(d))
    layer = _kernel_calls.KernelLayer(falloff, 1.0, 0.0, 0.0, p_out, p_in, weight)
    grads = layer.backward(torch.ones(1, len(d)), None, (False, False, True, False, False))
    u = p_in.double()[:, 0] ** 2
    expected = -2.0 * falloff.decay(u, falloff.of_squared_distance(u)) * p_in.double()[:, 0]
    torch.testing.assert_close(grads[2][:, 0].double(), expected, rtol=1e-5, atol=1e-30)
