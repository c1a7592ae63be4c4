"""The checked door to the fused C kernels of ``_kernels.c``.

The kernels compute one layer's effective weight (and penalty) forward and its gradients
backward, in float32 on the CPU. This module is their only caller: it checks every tensor
(``TypeError`` for a wrong dtype or type, ``ValueError`` for a wrong device, layout or shape)
before handing the C side NumPy views of them, which the C side checks again through the buffer
protocol (element type, contiguity, shape, writability, no output sharing memory with an input).
Nothing reaches the C side as a raw address.
"""

from __future__ import annotations

import torch

from ..falloff import Falloff

try:  # built from _kernels.c at install when a C compiler is available
    from . import _kernels
except ImportError:  # pragma: no cover - exercised where the build was skipped
    _kernels = None

__all__ = ["KernelLayer", "kernels_built"]


def kernels_built() -> bool:
    """Whether the C kernels were compiled at install."""
    return _kernels is not None


def _array(tensor: torch.Tensor | None, name: str, shape: tuple[int, int]):
    """A NumPy view of ``tensor`` after checking it is a contiguous float32 CPU matrix of
    ``shape``; None stays None."""
    if tensor is None:
        return None
    if (
        isinstance(tensor, torch.Tensor)
        and tensor.dtype is torch.float32
        and tensor.is_cpu
        and tensor.layout is torch.strided
        and tensor.shape == shape
        and tensor.is_contiguous()
    ):
        return (tensor.detach() if tensor.requires_grad else tensor).numpy()
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}.")
    if tensor.dtype is not torch.float32:
        raise TypeError(f"{name} must be float32 for the kernels, got {tensor.dtype}.")
    if not tensor.is_cpu or tensor.layout is not torch.strided:
        raise ValueError(
            f"{name} must be a dense CPU tensor for the kernels, got {tensor.device} "
            f"{tensor.layout}."
        )
    if tensor.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}.")
    raise ValueError(f"{name} must be contiguous for the kernels.")


class KernelLayer:
    """One layer's tensors, checked and viewed as the kernels take them.

    ``a`` is the weight (positional layer) or the dipole alignment ``v_i . u_j`` (particle
    layer, given both dipole sets and no weight; its penalty is 0). Every tensor must be a
    contiguous float32 CPU matrix: positions ``(n, dim)`` with ``dim`` 1 to 3, the weight
    ``(n_out, n_in)``, the dipoles as the positions. The input side is viewed transposed,
    ``(dim, n_in)``, so that the kernels' inner loops read contiguous memory.
    """

    def __init__(
        self,
        falloff: Falloff,
        inverse_scale2: float,
        l2: float,
        distance: float,
        positions_out: torch.Tensor,
        positions_in: torch.Tensor,
        weight: torch.Tensor | None = None,
        dipoles_out: torch.Tensor | None = None,
        dipoles_in: torch.Tensor | None = None,
    ):
        if positions_out.dim() != 2 or positions_in.dim() != 2:
            raise ValueError("positions must be matrices of shape (n, dim).")
        (n_out, dim), n_in = positions_out.shape, positions_in.shape[0]
        if not 1 <= dim <= 3:
            raise ValueError(f"The kernels take positions of dimension 1 to 3, got {dim}.")
        if (weight is None) == (dipoles_out is None or dipoles_in is None):
            raise ValueError("A layer takes either a weight or both dipole sets.")
        if falloff.kernel_code is None:
            raise ValueError(f"The kernels do not implement the falloff {falloff.name!r}.")
        self.shape = (n_out, n_in, dim)
        self.settings = (falloff.kernel_code, float(inverse_scale2), float(l2), float(distance))
        coordinates_in = positions_in.detach().T.contiguous()
        dipoles_t = None if dipoles_in is None else dipoles_in.detach().T.contiguous()
        self.arrays = (
            _array(positions_out, "positions_out", (n_out, dim)),
            _array(coordinates_in, "positions_in.T", (dim, n_in)),
            _array(weight, "weight", (n_out, n_in)),
            _array(dipoles_out, "dipoles_out", (n_out, dim)),
            _array(dipoles_t, "dipoles_in.T", (dim, n_in)),
        )

    def forward(self) -> tuple[torch.Tensor, float]:
        """``f(c * d2) * a`` and the penalty ``sum(w**2 * (l2 + distance * d2))``."""
        n_out, n_in, _ = self.shape
        output = torch.empty(n_out, n_in)
        penalty = _kernels.forward(
            *self.settings, *self.arrays, output.numpy(), torch.get_num_threads()
        )
        return output, penalty

    def backward(
        self,
        grad_output: torch.Tensor | None,
        grad_penalty: torch.Tensor | float | None,
        needs: tuple[bool, bool, bool, bool, bool],
    ) -> list[torch.Tensor | None]:
        """The gradients of ``<grad_output, out> + grad_penalty * penalty`` of :meth:`forward`.

        ``needs`` says which of the gradients with respect to (weight, positions_out,
        positions_in, dipoles_out, dipoles_in) to compute; the others are None.
        """
        n_out, n_in, dim = self.shape
        if grad_output is None:
            grad_output = torch.zeros(n_out, n_in)
        elif grad_output.dtype is torch.float32 and grad_output.is_cpu:
            grad_output = grad_output.contiguous()
        shapes = ((n_out, n_in), (n_out, dim), (dim, n_in), (n_out, dim), (dim, n_in))
        # The input side comes transposed and is accumulated: zeros; the rest is overwritten.
        grads = [
            None if not need else torch.zeros(shape) if index in (2, 4) else torch.empty(shape)
            for index, (need, shape) in enumerate(zip(needs, shapes))
        ]
        _kernels.backward(
            *self.settings,
            *self.arrays,
            torch.get_num_threads(),
            _array(grad_output, "grad_output", (n_out, n_in)),
            0.0 if grad_penalty is None else float(grad_penalty),
            *(None if g is None else g.numpy() for g in grads),
        )
        return [g.T if g is not None and index in (2, 4) else g for index, g in enumerate(grads)]
