"""sklearn_posnet.nn.compute_backend says which path a module's weights take, and why."""

import pytest
import torch

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.nn import (
    ComputeBackend,
    ParticleNetwork,
    PositionalMLP,
    _fused,
    _kernel_calls,
    compute_backend,
)

KERNELS = _fused.kernels_available()


def _uses_kernels(module, monkeypatch) -> bool:
    """Whether a training step of ``module`` actually went through the C kernels."""
    calls = []
    original = _kernel_calls.KernelLayer.forward

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(_kernel_calls.KernelLayer, "forward", counting)
        x = torch.zeros(3, module.layer_sizes[0], dtype=next(module.parameters()).dtype)
        module(x).sum().backward()
    return bool(calls)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: PositionalMLP([5, 4, 3]), "kernels" if KERNELS else "torch"),
        (lambda: ParticleNetwork([5, 4, 3], particle_dim=3), "kernels" if KERNELS else "torch"),
        (lambda: PositionalMLP([5, 4, 3]).double(), "torch"),
        (lambda: ParticleNetwork([5, 4, 3], particle_dim=4), "torch"),
        (lambda: PositionalMLP([5, 4, 3], falloff="none"), "torch"),
        (lambda: PositionalMLP([5, 4, 3], falloff=lambda d: 1 / (1 + d)), "torch"),
    ],
)
def test_compute_backend_says_what_the_module_does(make, expected, monkeypatch):
    module = make()
    backend = compute_backend(module)
    assert isinstance(backend, ComputeBackend)
    assert backend.name == expected and backend.reason
    assert _uses_kernels(module, monkeypatch) == (expected == "kernels")


def test_compute_backend_reasons():
    if not KERNELS:  # every module: the kernels' absence is the reason
        assert "not built" in compute_backend().reason
        assert "not built" in compute_backend(PositionalMLP([5, 4, 3])).reason
        return
    assert compute_backend().name == "kernels"
    assert "float64" in compute_backend(PositionalMLP([5, 4, 3]).double()).reason
    assert "4 dimensions" in str(compute_backend(PositionalMLP([5, 4, 3], position_dim=4)))
    assert "'<lambda>'" in compute_backend(ParticleNetwork([5, 4, 3], falloff=lambda d: d)).reason


def test_compute_backend_takes_a_fitted_estimator_and_refuses_other_modules(digits):
    X, y = digits
    clf = PositionalMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X[:40], y[:40])
    assert compute_backend(clf) == compute_backend(clf.module_)
    with pytest.raises(TypeError, match="PositionalMLP"):
        compute_backend(torch.nn.Linear(2, 2))
