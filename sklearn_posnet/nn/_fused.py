"""Fused effective weights and penalties with analytic backward passes.

A positional layer's training step needs its effective weight ``f(d2 / s**2) * W`` and its
penalty ``sum(W**2 * (l2 + distance * d2))``. Built from autograd's elementwise operations these
cost some forty operations over the ``(n_out, n_in)`` matrix per step (squared distances
coordinate by coordinate, the falloff, the products, the penalty, and each of their backward
operations): at MNIST sizes, more than the batch's matrix products. :class:`_FalloffWeight`
computes both in one autograd node with a handful of operations:

- the squared distances are formed once and serve the falloff and the penalty;
- the backward pass reuses the forward's output: for the named falloffs ``dW_eff / d(d2)`` is a
  product of the output and the falloff (``-f * W_eff`` for the Gaussian, ``-f**2 * W`` for the
  inverse square), and the penalty's share ``distance * W**2`` is added to that matrix, so both
  reach the positions through one gradient matrix;
- the position gradients ``sum_j h_ij * 2 (p_i - q_j)`` are a row or column sum and one thin
  matrix product, laid out as ``(n, n_in) @ (n_in, d)`` with the thin operand transposed, the
  layout BLAS is fast at.

Falloffs other than the named ones (user callables) keep the plain autograd formula for the
weight, and :func:`weight_penalty` for the penalty.
"""

from __future__ import annotations

import torch

from ..falloff import FALLOFFS, Falloff, squared_distances

__all__ = [
    "distance_penalty",
    "falloff_weight",
    "has_fused_falloff",
    "penalized_falloff_weight",
    "squared_distances_no_grad",
    "weight_penalty",
]

_FUSED_FALLOFFS = ("inverse_square", "gaussian", "exponential")


def has_fused_falloff(falloff: Falloff) -> bool:
    """Whether ``falloff`` is a named falloff with an analytic derivative here."""
    return falloff.name in _FUSED_FALLOFFS and FALLOFFS[falloff.name] is falloff


_LOG2_E = 1.4426950408889634


@torch.no_grad()
def squared_distances_no_grad(
    positions_out: torch.Tensor, positions_in: torch.Tensor
) -> torch.Tensor:
    """The exact squared distances of :func:`~sklearn_posnet.falloff.squared_distances`, untracked.

    Same arithmetic, coordinate by coordinate, on contiguous coordinate rows (three times faster
    than broadcasting a strided column) with the accumulation done in place.
    """
    return _squared_distances(positions_out, positions_in)


def _squared_distances(positions_out, positions_in):
    # Untracked only where grad mode is off, as in an autograd Function's forward.
    coordinates_in = positions_in.T.contiguous()
    diff = positions_out[:, 0:1] - coordinates_in[0]
    total = diff * diff
    for k in range(1, positions_out.shape[1]):
        torch.sub(positions_out[:, k : k + 1], coordinates_in[k], out=diff)
        total.add_(diff.mul_(diff))  # not addcmul_: its fused multiply-add rounds differently
    return total


def _position_gradients(h, positions_out, positions_in, need_out, need_in, scale):
    """Gradients of ``scale * sum_ij h_ij * |p_i - q_j|**2`` with respect to ``p`` and ``q``.

    ``sum_j h_ij (p_i - q_j) = p_i * rowsum(h)_i - (h q)_i``. The thin products are written
    ``h @ (q^T)^T`` and ``(p^T h)^T``: with the thin operand transposed BLAS takes them three times
    faster than ``h @ q`` with a contiguous ``q``.
    """
    grad_out = grad_in = None
    if need_out:
        h_q = torch.mm(h, positions_in.T.contiguous().T)
        grad_out = (positions_out * h.sum(dim=1, keepdim=True)).sub_(h_q).mul_(2.0 * scale)
    if need_in:
        ht_p = torch.mm(positions_out.T, h).T
        grad_in = (positions_in * h.sum(dim=0)[:, None]).sub_(ht_p).mul_(2.0 * scale)
    return grad_out, grad_in


def _falloff_values(name: str, d2: torch.Tensor, inverse_scale2: float):
    """``f(d2 * c)`` for a named falloff, and the distance ``sqrt(d2 * c)`` where needed.

    ``exp(-x)`` is computed as ``exp2(-x * log2(e))``: equal up to rounding (relative error
    about ``x`` ulps) and, on CPU, several times faster than torch's ``exp``.
    """
    if name == "inverse_square":
        if inverse_scale2 == 1.0:
            return torch.add(d2, 1.0).reciprocal_(), None
        return torch.mul(d2, inverse_scale2).add_(1.0).reciprocal_(), None
    if name == "gaussian":
        return torch.mul(d2, -inverse_scale2 * _LOG2_E).exp2_(), None
    distance = torch.mul(d2, inverse_scale2).sqrt_()
    return torch.mul(distance, -_LOG2_E).exp2_(), distance


def _penalty_forward(weight, d2, l2, distance):
    """``sum(W**2 * (l2 + distance * d2))`` as ``scale * <W, G>``; returns ``(value, G, scale)``.

    ``G`` is kept for the backward pass: the penalty's gradient with respect to ``W`` is
    ``2 * scale * G``. With no penalty, ``G`` is None and the value a zero.
    """
    if distance:
        if l2:
            penalized, scale = torch.addcmul(weight, weight, d2, value=distance / l2), l2
        else:
            penalized, scale = weight * d2, distance
    elif l2:
        penalized, scale = weight, l2
    else:
        return weight.new_zeros(()), None, 0.0
    return torch.dot(weight.reshape(-1), penalized.reshape(-1)) * scale, penalized, scale


class _FalloffWeight(torch.autograd.Function):
    """``(f(c * d2) * W, sum(W**2 * (l2 + distance * d2)))`` and their gradients.

    Inputs: the raw weight, both position sets, the falloff's name (a fused one, or "none" for
    the constant falloff, whose output is ``W`` itself), ``c = 1 / length_scale**2``, and the
    penalty's coefficients ``l2`` and ``distance``.
    """

    @staticmethod
    def forward(ctx, weight, positions_out, positions_in, name, inverse_scale2, l2, distance):
        constant = name == "none"
        d2 = None if constant and not distance else _squared_distances(positions_out, positions_in)
        if constant:
            falloff = root = None
            output = weight.view_as(weight)
        else:
            falloff, root = _falloff_values(name, d2, inverse_scale2)
            output = falloff * weight
        penalty, penalized, scale = _penalty_forward(weight, d2, l2, distance)
        ctx.name, ctx.inverse_scale2 = name, inverse_scale2
        ctx.scale, ctx.distance = scale, distance
        ctx.save_for_backward(
            weight,
            falloff,
            None if constant else output,
            root,
            penalized,
            positions_out,
            positions_in,
        )
        ctx.set_materialize_grads(False)
        return output, penalty

    @staticmethod
    def backward(ctx, grad_output, grad_penalty):
        weight, falloff, output, root, penalized, positions_out, positions_in = ctx.saved_tensors
        need_weight, need_out, need_in = ctx.needs_input_grad[:3]
        need_positions = need_out or need_in
        name, c = ctx.name, ctx.inverse_scale2
        grad_weight = h = None
        if grad_output is not None:
            if name == "none":
                grad_weight = grad_output  # never modified in place below
            elif need_weight or (need_positions and name == "inverse_square"):
                grad_weight = grad_output * falloff
            if need_positions and name != "none":
                # dL/d(d2) = -c * h, h = g * W * (-f'(u)), written with what the forward kept.
                if name == "inverse_square":  # -f' = f**2: g * W * f**2 = (g * f) * W_eff
                    h = grad_weight * output
                elif name == "gaussian":  # -f' = f
                    h = grad_output * output
                else:  # exponential, -f' = f / (2 sqrt(u)), zero where u == 0
                    h = torch.where(root > 0, grad_output * output / (2.0 * root), 0.0)
        if grad_penalty is not None and penalized is not None:
            if need_weight:  # + 2 * scale * G * grad_penalty
                step = grad_penalty * (2.0 * ctx.scale)
                if grad_weight is None:
                    grad_weight = penalized * step
                elif grad_weight is grad_output:
                    grad_weight = torch.addcmul(grad_output, penalized, step)
                else:
                    grad_weight.addcmul_(penalized, step)
            if need_positions and ctx.distance:  # dL/d(d2) += grad_penalty * distance * W**2
                weighted = weight * (grad_penalty * (-ctx.distance / c))
                h = weight * weighted if h is None else h.addcmul_(weight, weighted)
        grad_out = grad_in = None
        if h is not None:
            grad_out, grad_in = _position_gradients(
                h, positions_out, positions_in, need_out, need_in, -c
            )
        return (
            grad_weight if need_weight else None,
            grad_out,
            grad_in,
            None,
            None,
            None,
            None,
        )


class _WeightPenalty(torch.autograd.Function):
    """``sum(W**2 * (l2 + distance * d2))`` and its gradient with respect to ``W`` and positions."""

    @staticmethod
    def forward(ctx, weight, positions_out, positions_in, l2, distance):
        d2 = _squared_distances(positions_out, positions_in) if distance else None
        value, penalized, scale = _penalty_forward(weight, d2, l2, distance)
        ctx.scale, ctx.distance = scale, distance
        ctx.save_for_backward(weight, penalized, positions_out, positions_in)
        return value

    @staticmethod
    def backward(ctx, grad_output):
        weight, penalized, positions_out, positions_in = ctx.saved_tensors
        need_weight, need_out, need_in = ctx.needs_input_grad[:3]
        grad_weight = grad_out = grad_in = None
        if penalized is None:
            return None, None, None, None, None
        if need_weight:
            grad_weight = penalized * (grad_output * (2.0 * ctx.scale))
        if (need_out or need_in) and ctx.distance:
            grad_out, grad_in = _position_gradients(
                weight * weight,
                positions_out,
                positions_in,
                need_out,
                need_in,
                grad_output * ctx.distance,
            )
        return grad_weight, grad_out, grad_in, None, None


def weight_penalty(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    l2: float = 0.0,
    distance: float = 0.0,
) -> torch.Tensor:
    """``sum(weight_ij**2 * (l2 + distance * |p_i - q_j|**2))`` with an analytic backward.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)
    l2, distance : float, default=0.0
        Coefficients of the plain and the distance-weighted squared weights.

    Returns
    -------
    Tensor
        A scalar.
    """
    return _WeightPenalty.apply(weight, positions_out, positions_in, float(l2), float(distance))


def distance_penalty(
    weight: torch.Tensor, positions_out: torch.Tensor, positions_in: torch.Tensor
) -> torch.Tensor:
    """``mean(|p_i - q_j|**2 * weight_ij**2)`` with an analytic backward.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)

    Returns
    -------
    Tensor
        A scalar.
    """
    return weight_penalty(weight, positions_out, positions_in, distance=1.0 / weight.numel())


def penalized_falloff_weight(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    falloff: Falloff,
    length_scale: float = 1.0,
    l2: float = 0.0,
    distance: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's effective weight and penalty, in one autograd node where the falloff allows.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)
    falloff : Falloff
    length_scale : float, default=1.0
    l2, distance : float, default=0.0
        Coefficients of the penalty, see :func:`weight_penalty`. The penalty's distances are the
        raw ones, not divided by ``length_scale``.

    Returns
    -------
    effective_weight : Tensor of shape (n_out, n_in)
        ``falloff(|p_i - q_j| / length_scale) * weight_ij``.
    penalty : Tensor
        ``sum(weight_ij**2 * (l2 + distance * |p_i - q_j|**2))``, a scalar.
    """
    l2, distance = float(l2), float(distance)
    penalized = bool(l2 or distance)
    if falloff.is_constant and not penalized:
        return weight, weight.new_zeros(())
    if falloff.is_constant or has_fused_falloff(falloff):
        name = "none" if falloff.is_constant else falloff.name
        inverse_scale2 = 1.0 / (length_scale * length_scale)
        return _FalloffWeight.apply(
            weight, positions_out, positions_in, name, inverse_scale2, l2, distance
        )
    distances = squared_distances(positions_out, positions_in)
    if length_scale != 1.0:
        distances = distances / (length_scale * length_scale)
    effective = falloff(distances) * weight
    if penalized:
        return effective, weight_penalty(weight, positions_out, positions_in, l2, distance)
    return effective, weight.new_zeros(())


def falloff_weight(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    falloff: Falloff,
    length_scale: float = 1.0,
) -> torch.Tensor:
    """``falloff(|p_i - q_j| / length_scale) * weight_ij``, with a fused backward where possible.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)
    falloff : Falloff
    length_scale : float, default=1.0

    Returns
    -------
    Tensor of shape (n_out, n_in)
        Equal to the autograd formula ``falloff(d2 / length_scale**2) * weight`` in value and
        gradient.
    """
    return penalized_falloff_weight(weight, positions_out, positions_in, falloff, length_scale)[0]
