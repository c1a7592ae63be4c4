"""Which compute path a module's effective weights take (the fused C kernels or torch operations),
and the switch that rules the kernels out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from torch import nn

from . import _fused
from .base import PositionNetwork

__all__ = ["ComputeBackend", "compute_backend", "use_kernels"]


@dataclass(frozen=True)
class ComputeBackend:
    """The compute path of a module's effective weights, and why.

    Attributes
    ----------
    name : {"kernels", "torch"}
        "kernels": the fused C kernels (one pass over each weight matrix forward, one backward);
        "torch": PyTorch operations (the same values, more passes).
    reason : str
        Why, in words.
    """

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def _refusal(module: PositionNetwork) -> str | None:
    """Why the kernels do not form ``module``'s effective weights, or None when they do."""
    falloff, position = module.falloff, module.positions[0]
    switched = _fused.kernel_refusal(None)
    if switched is not None:
        return switched
    if falloff.is_constant:
        return "falloff='none': the effective weights are the raw weights, nothing to fuse"
    return _fused.kernel_refusal(falloff, position)


@contextmanager
def use_kernels(enabled: bool = True) -> Iterator[None]:
    """Switch the fused C kernels on or off for the calling thread, for a ``with`` block.

    With ``use_kernels(False)`` every module computes with PyTorch operations, even where
    :func:`compute_backend` says "kernels": the same values (up to float32 rounding), more
    passes over each weight matrix. Use it to compare the two paths, or to rule the kernels out
    while looking for a problem. The previous setting comes back when the block ends, also when
    it raises; other threads keep their own (it is a :class:`contextvars.ContextVar`).

    Parameters
    ----------
    enabled : bool, default=True
        Whether the kernels may serve the calls in the block (where they apply at all).

    Examples
    --------
    >>> from sklearn_posnet.nn import PositionalMLP, compute_backend, use_kernels
    >>> module = PositionalMLP([4, 3, 2])
    >>> with use_kernels(False):
    ...     compute_backend(module).name
    'torch'
    """
    token = _fused.kernel_switch.set(bool(enabled))
    try:
        yield
    finally:
        _fused.kernel_switch.reset(token)


def compute_backend(module: nn.Module | None = None) -> ComputeBackend:
    """Which compute path the effective weights of ``module`` take, and why.

    On the CPU in float32, with a named falloff and positions in 1 to 3 dimensions, a
    :class:`PositionalMLP` or :class:`ParticleNetwork` forms its effective weights (and
    differentiates them) with the fused C kernels, when they were compiled at install; otherwise
    with PyTorch operations, which give the same values more slowly. While a module is traced,
    exported or compiled, it always takes the PyTorch operations (so that the tracer records
    them), whatever this says.

    Parameters
    ----------
    module : PositionalMLP, ParticleNetwork or fitted estimator, optional
        A fitted estimator stands for its ``module_``. The answer holds for the module's
        parameters as they are (dtype and device); a copy in another dtype or on another device
        may take another path. Without a module, whether the kernels were built (and are not
        switched off, see :func:`use_kernels`).

    Returns
    -------
    ComputeBackend
        ``name`` is "kernels" or "torch"; ``reason`` says why.

    Examples
    --------
    >>> from sklearn_posnet.nn import PositionalMLP, compute_backend
    >>> compute_backend(PositionalMLP([4, 3, 2]).double()).name
    'torch'
    """
    if module is not None and not isinstance(module, nn.Module):
        module = module.module_  # a fitted estimator
    if module is None:
        reason = _fused.kernel_refusal(None)
        if reason is None:
            return ComputeBackend("kernels", "the C kernels were built at install")
        return ComputeBackend("torch", reason)
    if not isinstance(module, PositionNetwork):
        raise TypeError(
            f"compute_backend takes a PositionalMLP, a ParticleNetwork or a fitted estimator "
            f"of this package, got {type(module).__name__}."
        )
    reason = _refusal(module)
    if reason is None:
        dim = module.positions[0].shape[1]
        return ComputeBackend(
            "kernels",
            f"float32 parameters on the CPU, positions in {dim} dimensions and "
            f"the named falloff {module.falloff.name!r}",
        )
    return ComputeBackend("torch", reason)
