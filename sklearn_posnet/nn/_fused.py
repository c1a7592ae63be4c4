"""Fused effective weights: ``falloff(d2 / s**2) * W`` with an analytic backward pass.

Built from autograd's elementwise operations, an effective weight costs a score of passes over an
``(n_out, n_in)`` matrix per training step (squared distances coordinate by coordinate, the
falloff, the product, and each of their backward operations). At MNIST sizes that rivals the
batch's matrix products. The functions here compute the same values with a handful of passes:

- the squared distances are computed once per parameter update and shared (see
  :class:`SquaredDistanceCache`) by the effective weight and the distance penalty;
- the backward pass reuses the forward's output: for the named falloffs ``dW_eff / d(d2)`` is a
  product of the output and the falloff (``-f * W_eff`` for the Gaussian, ``-f**2 * W`` for the
  inverse square), so the gradient with respect to the squared distances is one product;
- the position gradients ``sum_j h_ij * 2 (p_i - q_j)`` are two row/column sums and two thin
  matrix products instead of a broadcast per coordinate.

Falloffs other than the named ones (user callables) keep the plain autograd formula.
"""

from __future__ import annotations

import weakref

import torch

from ..falloff import FALLOFFS, Falloff

__all__ = [
    "SquaredDistanceCache",
    "distance_penalty",
    "falloff_weight",
    "has_fused_falloff",
    "squared_distances_no_grad",
]

_FUSED_FALLOFFS = ("inverse_square", "gaussian", "exponential")


def has_fused_falloff(falloff: Falloff) -> bool:
    """Whether ``falloff`` is a named falloff with an analytic derivative here."""
    return any(FALLOFFS[name] is falloff for name in _FUSED_FALLOFFS)


_LOG2_E = 1.4426950408889634


@torch.no_grad()
def squared_distances_no_grad(
    positions_out: torch.Tensor, positions_in: torch.Tensor
) -> torch.Tensor:
    """The exact squared distances of :func:`~sklearn_posnet.falloff.squared_distances`, untracked.

    Same arithmetic, coordinate by coordinate, on contiguous coordinate rows (three times faster
    than broadcasting a strided column) with the accumulation done in place.
    """
    coordinates_in = positions_in.T.contiguous()
    diff = positions_out[:, 0:1] - coordinates_in[0]
    total = diff * diff
    for k in range(1, positions_out.shape[1]):
        torch.sub(positions_out[:, k : k + 1], coordinates_in[k], out=diff)
        total.add_(diff.mul_(diff))  # not addcmul_: its fused multiply-add rounds differently
    return total


def _position_gradients(h, positions_out, positions_in, need_out, need_in, scale):
    """Gradients of ``scale * sum_ij h_ij * |p_i - q_j|**2`` with respect to ``p`` and ``q``.

    ``sum_j h_ij (p_i - q_j) = p_i * rowsum(h)_i - (h q)_i``: two sums and two thin products.
    A product with two or three columns is slow in BLAS, hence one matrix-vector product per
    coordinate for ``h q``, and ``(p^T h)^T`` for ``h^T p``.
    """
    grad_out = grad_in = None
    if need_out:
        h_q = torch.stack([h @ positions_in[:, k] for k in range(positions_in.shape[1])], dim=1)
        grad_out = (positions_out * h.sum(dim=1, keepdim=True) - h_q).mul_(2.0 * scale)
    if need_in:
        ht_p = (positions_out.T @ h).T
        grad_in = (positions_in * h.sum(dim=0)[:, None] - ht_p).mul_(2.0 * scale)
    return grad_out, grad_in


def _falloff_values(name: str, d2: torch.Tensor, inverse_scale2: float):
    """``f(d2 * c)`` for a named falloff, and the distance ``sqrt(d2 * c)`` where needed.

    ``exp(-x)`` is computed as ``exp2(-x * log2(e))``: equal up to rounding (relative error
    about ``x`` ulps) and, on CPU, several times faster than torch's ``exp``.
    """
    if name == "inverse_square":
        return torch.mul(d2, inverse_scale2).add_(1.0).reciprocal_(), None
    if name == "gaussian":
        return torch.mul(d2, -inverse_scale2 * _LOG2_E).exp2_(), None
    distance = torch.mul(d2, inverse_scale2).sqrt_()
    return torch.mul(distance, -_LOG2_E).exp2_(), distance


class _FalloffWeight(torch.autograd.Function):
    """``f(d2 * c) * weight``, its gradient with respect to the weight and both position sets."""

    @staticmethod
    def forward(ctx, weight, positions_out, positions_in, d2, name, inverse_scale2):
        falloff, distance = _falloff_values(name, d2, inverse_scale2)
        output = falloff * weight
        ctx.name, ctx.inverse_scale2 = name, inverse_scale2
        ctx.save_for_backward(falloff, output, distance, positions_out, positions_in)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        falloff, output, distance, positions_out, positions_in = ctx.saved_tensors
        need_weight, need_out, need_in = ctx.needs_input_grad[:3]
        grad_weight = grad_output * falloff if need_weight or ctx.name == "inverse_square" else None
        grad_out = grad_in = None
        if need_out or need_in:
            # dL/d(d2) = -c * h, h = g * W * (-f'(u)), written with what the forward kept.
            if ctx.name == "inverse_square":  # -f' = f**2: g * W * f**2 = (g * f) * W_eff
                h = grad_weight * output
            elif ctx.name == "gaussian":  # -f' = f
                h = grad_output * output
            else:  # exponential, -f' = f / (2 sqrt(u)), zero where u == 0
                h = torch.where(distance > 0, grad_output * output / (2.0 * distance), 0.0)
            grad_out, grad_in = _position_gradients(
                h, positions_out, positions_in, need_out, need_in, -ctx.inverse_scale2
            )
        return (grad_weight if need_weight else None), grad_out, grad_in, None, None, None


def falloff_weight(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    falloff: Falloff,
    length_scale: float = 1.0,
    d2: torch.Tensor | None = None,
) -> torch.Tensor:
    """``falloff(|p_i - q_j| / length_scale) * weight_ij``, with a fused backward where possible.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)
    falloff : Falloff
    length_scale : float, default=1.0
    d2 : Tensor of shape (n_out, n_in), optional
        The squared distances, if already computed (untracked).

    Returns
    -------
    Tensor of shape (n_out, n_in)
        Equal to the autograd formula ``falloff(d2 / length_scale**2) * weight`` in value and
        gradient.
    """
    if falloff.is_constant:
        return weight
    inverse_scale2 = 1.0 / (length_scale * length_scale)
    if not has_fused_falloff(falloff):
        from ..falloff import squared_distances

        distances = squared_distances(positions_out, positions_in)
        if inverse_scale2 != 1.0:
            distances = distances * inverse_scale2
        return falloff(distances) * weight
    if d2 is None:
        d2 = squared_distances_no_grad(positions_out, positions_in)
    return _FalloffWeight.apply(
        weight, positions_out, positions_in, d2, falloff.name, inverse_scale2
    )


class _DistancePenalty(torch.autograd.Function):
    """``mean(d2 * weight**2)`` and its gradient with respect to the weight and positions."""

    @staticmethod
    def forward(ctx, weight, positions_out, positions_in, d2):
        weighted = weight * d2
        value = torch.dot(weighted.reshape(-1), weight.reshape(-1)) / weight.numel()
        ctx.save_for_backward(weighted, weight, positions_out, positions_in)
        return value

    @staticmethod
    def backward(ctx, grad_output):
        weighted, weight, positions_out, positions_in = ctx.saved_tensors
        need_weight, need_out, need_in = ctx.needs_input_grad[:3]
        scale = grad_output / weight.numel()
        grad_weight = weighted * (2.0 * scale) if need_weight else None
        grad_out = grad_in = None
        if need_out or need_in:
            grad_out, grad_in = _position_gradients(
                weight * weight, positions_out, positions_in, need_out, need_in, scale
            )
        return grad_weight, grad_out, grad_in, None


def distance_penalty(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    d2: torch.Tensor | None = None,
) -> torch.Tensor:
    """``mean(|p_i - q_j|**2 * weight_ij**2)`` with a fused backward.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)
    d2 : Tensor of shape (n_out, n_in), optional
        The squared distances, if already computed (untracked).

    Returns
    -------
    Tensor
        A scalar.
    """
    if d2 is None:
        d2 = squared_distances_no_grad(positions_out, positions_in)
    return _DistancePenalty.apply(weight, positions_out, positions_in, d2)


class SquaredDistanceCache:
    """Squared distances per layer, recomputed only when a position tensor changed.

    A position tensor counts as unchanged while it is the same tensor object, at the same
    address, with the same in-place version counter: an optimizer step, ``copy_``,
    ``load_state_dict`` and ``.to()`` all change one of these. Within a training step the
    effective weight and the distance penalty then share one computation.
    """

    def __init__(self):
        self._entries: dict[int, tuple] = {}

    @staticmethod
    def _key(tensor: torch.Tensor) -> tuple:
        return (tensor.data_ptr(), tensor._version, tensor.shape, tensor.dtype, tensor.device)

    def get(self, layer: int, positions_out: torch.Tensor, positions_in: torch.Tensor):
        """The squared distances between ``positions_out`` and ``positions_in`` (untracked)."""
        entry = self._entries.get(layer)
        key = (self._key(positions_out), self._key(positions_in))
        if entry is not None:
            ref_out, ref_in, cached_key, d2 = entry
            if ref_out() is positions_out and ref_in() is positions_in and cached_key == key:
                return d2
        d2 = squared_distances_no_grad(positions_out, positions_in)
        self._entries[layer] = (weakref.ref(positions_out), weakref.ref(positions_in), key, d2)
        return d2

    def __getstate__(self):
        return {"_entries": {}}  # a cache, not state: never pickled

    def __deepcopy__(self, memo):
        return SquaredDistanceCache()

    def clear(self) -> None:
        """Forget every cached matrix."""
        self._entries.clear()
