"""Which compute path a module's effective weights take: the fused C kernels or torch operations."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..falloff import FALLOFFS
from . import _fused

__all__ = ["ComputeBackend", "compute_backend"]


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


def _why_not_kernels(falloff, dtype: torch.dtype, device: torch.device, dim: int) -> str | None:
    """Why the kernels do not serve a layer with this falloff, dtype, device and position
    dimension, or None when they do (the conditions of ``_fused``'s dispatch)."""
    if not _fused.kernels_available():
        return "the C kernels were not built at install (no C compiler was found then)"
    if not _fused.USE_KERNELS:
        return "the C kernels are switched off"
    if falloff.is_constant:
        return "falloff='none': the effective weights are the raw weights, nothing to fuse"
    if falloff.kernel_code is None or FALLOFFS.get(falloff.name) is not falloff:
        return f"the falloff {falloff.name!r} is not one of the named falloffs the kernels have"
    if device.type != "cpu":
        return f"the parameters are on {device}; the kernels run on the CPU"
    if dtype != torch.float32:
        return f"the parameters are {dtype}; the kernels compute in torch.float32"
    if not 1 <= dim <= 3:
        return f"the positions have {dim} dimensions; the kernels take 1 to 3"
    return None


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
        may take another path. Without a module, whether the kernels were built at all.

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
        if _fused.kernels_available():
            return ComputeBackend("kernels", "the C kernels were built at install")
        return ComputeBackend("torch", _why_not_kernels(None, torch.float32, None, 0))
    falloff = getattr(module, "falloff", None)
    positions = getattr(module, "positions", None)
    if falloff is None or positions is None:
        raise TypeError(
            f"compute_backend takes a PositionalMLP, a ParticleNetwork or a fitted estimator "
            f"of this package, got {type(module).__name__}."
        )
    position = positions[0]
    reason = _why_not_kernels(falloff, position.dtype, position.device, position.shape[1])
    if reason is None:
        return ComputeBackend(
            "kernels",
            f"float32 parameters on the CPU, positions in {position.shape[1]} dimensions and "
            f"the named falloff {falloff.name!r}",
        )
    return ComputeBackend("torch", reason)
