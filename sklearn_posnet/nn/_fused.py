"""Fused effective weights and penalties with analytic backward passes.

A positional layer's training step needs its effective weight ``f(d2 / s**2) * W`` and its
penalty ``sum(W**2 * (l2 + distance * d2))``. Built from autograd's elementwise operations these
cost some forty operations over the ``(n_out, n_in)`` matrix per step (squared distances
coordinate by coordinate, the falloff, the products, the penalty, and each of their backward
operations): at MNIST sizes, more than the batch's matrix products. :class:`_FalloffWeight`
computes both in one autograd node with a handful of operations:

- the squared distances are formed once and serve the falloff and the penalty;
- the backward pass reuses the forward's falloff values: each named falloff of
  :data:`~sklearn_posnet.falloff.FALLOFFS` gives its derivative as ``decay(u, f(u))``
  (``f`` for the Gaussian, ``f**2`` for the inverse square), and the penalty's share
  ``distance * W**2`` is added to the same matrix, so both reach the positions through one
  gradient matrix;
- the position gradients ``sum_j h_ij * 2 (p_i - q_j)`` are a row or column sum and one thin
  matrix product, laid out as ``(n, n_in) @ (n_in, d)`` with the thin operand transposed, the
  layout BLAS is fast at.

Falloffs other than the named ones (user callables) keep the plain autograd formula for the
weight, and :func:`weight_penalty` for the penalty.

On the CPU in float32, the same two autograd nodes (and :func:`particle_weight`) call the fused
C kernels of ``_kernels.c`` when they were built at install: one pass over the matrix forward
and one backward, a row of neurons at a time, instead of a pass per operation. The kernels are
optional; without them (no C compiler, another device, float64) the PyTorch operations above
compute the same values. Both paths read the falloffs from one table, ``FALLOFFS``: its formulas
for the PyTorch operations, its ``kernel_code`` for the kernels (which implement the same
formulas in C). ``_kernel_calls`` checks every tensor before the kernels see it.

While a tracer or compiler records the module (:func:`steps_aside`), every function here takes
the plain differentiable formula instead, so that what it records is the real computation.

The training step goes one step further where the kernels serve: :class:`LayerWeight` forms a
layer's effective weight and penalty outside autograd and gives their gradients from the same
kernels, for :meth:`~sklearn_posnet.nn.PositionNetwork.backprop`, which differentiates the
whole network by hand, as MLPClassifier does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar

import torch

from ..falloff import FALLOFFS, Falloff, squared_distances
from . import _kernel_calls

__all__ = [
    "LayerWeight",
    "distance_penalty",
    "falloff_weight",
    "has_fused_falloff",
    "kernel_refusal",
    "kernel_switch",
    "kernels_available",
    "particle_layer_weight",
    "particle_weight",
    "penalized_falloff_weight",
    "positional_layer_weight",
    "steps_aside",
    "weight_penalty",
]

#: Whether the kernels may serve the calling thread: :func:`sklearn_posnet.nn.use_kernels` sets
#: it for the duration of a ``with`` block (a context variable, so other threads keep theirs).
kernel_switch: ContextVar[bool] = ContextVar("sklearn_posnet_use_kernels", default=True)
# What the kernels may be handed: real tensors, not the fake or functional tensors of tracing.
_PLAIN_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)


def has_fused_falloff(falloff: Falloff) -> bool:
    """Whether ``falloff`` gives its derivative (``decay``) for the fused autograd node: the
    named falloffs of :data:`~sklearn_posnet.falloff.FALLOFFS` but the constant one, or a
    :class:`~sklearn_posnet.falloff.Falloff` built with a ``decay``."""
    return falloff.decay is not None and not falloff.is_constant


def kernels_available() -> bool:
    """Whether the fused C kernels were built (they serve float32 tensors on the CPU)."""
    return _kernel_calls.kernels_built()


def steps_aside() -> bool:
    """Whether a tracer or compiler is recording the computation.

    ``torch.jit.trace``, ``torch.onnx.export`` (either exporter), ``torch.export`` and
    ``torch.compile`` record the torch operations a module runs. The fused autograd nodes and
    the C kernels would hide the computation from them (the kernels write their output through
    memory the tracer does not see): while they record, every function here computes with the
    plain differentiable formula instead, which they record faithfully.
    """
    # torch.onnx.export traces with torch.jit.trace (TorchScript exporter) or torch.export
    # (dynamo exporter): these two checks cover it, without is_in_onnx_export's cost.
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def kernel_refusal(falloff: Falloff | None, *tensors: torch.Tensor) -> str | None:
    """Why the fused kernels do not compute with ``falloff`` over ``tensors``, or None when they
    do: the one statement of the kernels' conditions, which the autograd nodes here follow and
    :func:`~sklearn_posnet.nn.compute_backend` reports.

    Parameters
    ----------
    falloff : Falloff or None
        None leaves the falloff out (whether the kernels are built and switched on, whether
        they take these tensors).
    *tensors : Tensor
        The layer's tensors, positions (or dipoles) last: the kernels take plain float32 CPU
        tensors, positions in 1 to 3 dimensions.
    """
    if not kernels_available():
        return "the C kernels were not built at install (no C compiler was found then)"
    if not kernel_switch.get():
        return "the C kernels are switched off (sklearn_posnet.nn.use_kernels(False))"
    if falloff is not None and not _named(falloff):
        return f"the falloff {falloff.name!r} is not one of the named falloffs the kernels have"
    for tensor in tensors:
        if type(tensor) not in _PLAIN_TENSOR_TYPES:
            return f"the tensors are {type(tensor).__name__}, not plain tensors"
        if not tensor.is_cpu:  # not tensor.device.type: building a device object costs more
            return f"the parameters are on {tensor.device}; the kernels run on the CPU"
        if tensor.dtype is not torch.float32:
            return f"the parameters are {tensor.dtype}; the kernels compute in torch.float32"
    if tensors and not 1 <= tensors[-1].shape[-1] <= 3:
        return f"the positions have {tensors[-1].shape[-1]} dimensions; the kernels take 1 to 3"
    return None


def _named(falloff: Falloff) -> bool:
    """Whether ``falloff`` is the table's own entry, whose formula the kernels implement."""
    return falloff.kernel_code is not None and FALLOFFS.get(falloff.name) is falloff


def _squared_distances(positions_out: torch.Tensor, positions_in: torch.Tensor) -> torch.Tensor:
    """The exact squared distances of :func:`~sklearn_posnet.falloff.squared_distances`.

    Same arithmetic, coordinate by coordinate, on contiguous coordinate rows (three times faster
    than broadcasting a strided column) with the accumulation done in place, so only where grad
    mode is off, as in an autograd Function's forward.
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


def entry_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``sum(a * b)`` over all entries of two matrices, row by row and then over the rows.

    Each row's sum is taken by one thread, so the total does not depend on the number of
    threads; a BLAS dot product splits its sum by thread.
    """
    return (a * b).sum(dim=1).sum()


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
    return entry_dot(weight, penalized) * scale, penalized, scale


def _positional_kernel_layer(
    weight, positions_out, positions_in, falloff, inverse_scale2, l2, distance
) -> _kernel_calls.KernelLayer:
    """A positional layer's tensors as the kernels take them (the output side contiguous)."""
    return _kernel_calls.KernelLayer(
        falloff,
        inverse_scale2,
        l2,
        distance,
        positions_out.contiguous(),
        positions_in,
        weight.contiguous(),
    )


def _particle_kernel_layer(
    positions_out, dipoles_out, positions_in, dipoles_in, falloff
) -> _kernel_calls.KernelLayer:
    """A particle layer's tensors as the kernels take them (no weight, no penalty)."""
    return _kernel_calls.KernelLayer(
        falloff,
        1.0,
        0.0,
        0.0,
        positions_out.contiguous(),
        positions_in,
        None,
        dipoles_out.contiguous(),
        dipoles_in,
    )


class _FalloffWeight(torch.autograd.Function):
    """``(f(c * d2) * W, sum(W**2 * (l2 + distance * d2)))`` and their gradients.

    Inputs: the raw weight, both position sets, the falloff (one with a ``decay``, or the
    constant falloff, whose output is ``W`` itself), ``c = 1 / length_scale**2``, and the
    penalty's coefficients ``l2`` and ``distance``.
    """

    @staticmethod
    def forward(ctx, weight, positions_out, positions_in, falloff, inverse_scale2, l2, distance):
        ctx.set_materialize_grads(False)
        ctx.falloff, ctx.inverse_scale2 = falloff, inverse_scale2
        ctx.l2, ctx.distance = l2, distance
        ctx.use_kernels = kernel_refusal(falloff, weight, positions_out, positions_in) is None
        if ctx.use_kernels:
            ctx.layer = _positional_kernel_layer(
                weight, positions_out, positions_in, falloff, inverse_scale2, l2, distance
            )
            output, penalty = ctx.layer.forward()
            # The tensors go through save_for_backward, whose version check backward runs before
            # it reuses the checked views of ctx.layer (which read the same memory).
            ctx.save_for_backward(weight, positions_out, positions_in)
            return output, weight.new_tensor(penalty)
        constant = falloff.is_constant
        d2 = None if constant and not distance else _squared_distances(positions_out, positions_in)
        if constant:
            value = scaled = None
            output = weight.view_as(weight)
        else:
            scaled = d2 if inverse_scale2 == 1.0 else d2 * inverse_scale2
            value = falloff.of_squared_distance(scaled)
            output = value * weight
        penalty, penalized, scale = _penalty_forward(weight, d2, l2, distance)
        ctx.scale = scale
        ctx.save_for_backward(weight, value, scaled, penalized, positions_out, positions_in)
        return output, penalty

    @staticmethod
    def backward(ctx, grad_output, grad_penalty):
        if ctx.use_kernels:
            ctx.saved_tensors  # noqa: B018 - raises if an input was modified in place since
            grad_weight, grad_out, grad_in, _, _ = ctx.layer.backward(
                grad_output, grad_penalty, (*ctx.needs_input_grad[:3], False, False)
            )
            return grad_weight, grad_out, grad_in, None, None, None, None
        weight, value, scaled, penalized, positions_out, positions_in = ctx.saved_tensors
        need_weight, need_out, need_in = ctx.needs_input_grad[:3]
        need_positions = need_out or need_in
        constant, c = ctx.falloff.is_constant, ctx.inverse_scale2
        grad_weight = h = None
        if grad_output is not None:
            if constant:
                grad_weight = grad_output  # never modified in place below
            elif need_weight:
                grad_weight = grad_output * value
            if need_positions and not constant:
                # dL/d(d2) = -c * h with h = g * W * decay, decay = -f'(u)
                h = (grad_output * weight).mul_(ctx.falloff.decay(scaled, value))
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


class _ParticleWeight(torch.autograd.Function):
    """``(v_i . u_j) * f(|p_i - q_j|**2)`` by the fused kernels; see :func:`particle_weight`."""

    @staticmethod
    def forward(ctx, positions_out, dipoles_out, positions_in, dipoles_in, falloff):
        ctx.layer = _particle_kernel_layer(
            positions_out, dipoles_out, positions_in, dipoles_in, falloff
        )
        # As in _FalloffWeight: saved for the version check that backward runs.
        ctx.save_for_backward(positions_out, dipoles_out, positions_in, dipoles_in)
        return ctx.layer.forward()[0]

    @staticmethod
    def backward(ctx, grad_output):
        ctx.saved_tensors  # noqa: B018 - raises if an input was modified in place since
        need_p_out, need_v_out, need_p_in, need_v_in = ctx.needs_input_grad[:4]
        _, grad_p_out, grad_p_in, grad_v_out, grad_v_in = ctx.layer.backward(
            grad_output, None, (False, need_p_out, need_p_in, need_v_out, need_v_in)
        )
        return grad_p_out, grad_v_out, grad_p_in, grad_v_in, None


def particle_weight(
    positions_out: torch.Tensor,
    dipoles_out: torch.Tensor,
    positions_in: torch.Tensor,
    dipoles_in: torch.Tensor,
    falloff: Falloff,
) -> torch.Tensor:
    """The implied weights ``(v_i . u_j) * falloff(|p_i - q_j|)`` of a particle layer.

    Parameters
    ----------
    positions_out, dipoles_out : Tensor of shape (n_out, dim)
    positions_in, dipoles_in : Tensor of shape (n_in, dim)
    falloff : Falloff

    Returns
    -------
    Tensor of shape (n_out, n_in)
        On the CPU in float32 with a named falloff, from the fused kernels (which never form
        the alignment matrix); elsewhere from :func:`falloff_weight`.
    """
    if (
        not falloff.is_constant
        and not steps_aside()
        and kernel_refusal(falloff, positions_out, dipoles_out, positions_in, dipoles_in) is None
    ):
        return _ParticleWeight.apply(positions_out, dipoles_out, positions_in, dipoles_in, falloff)
    # The alignment with the input dipoles transposed and made contiguous: its backward
    # products then have their thin operand transposed, which BLAS is three times faster at.
    alignment = dipoles_out @ dipoles_in.T.contiguous()
    return falloff_weight(alignment, positions_out, positions_in, falloff)


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
    if steps_aside():
        d2 = squared_distances(positions_out, positions_in)
        return (weight.square() * (float(l2) + float(distance) * d2)).sum()
    # The constant falloff's node: its output is the weight itself, its penalty this one.
    return _FalloffWeight.apply(
        weight, positions_out, positions_in, FALLOFFS["none"], 1.0, float(l2), float(distance)
    )[1]


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
    if (falloff.is_constant or has_fused_falloff(falloff)) and not steps_aside():
        inverse_scale2 = 1.0 / (length_scale * length_scale)
        return _FalloffWeight.apply(
            weight, positions_out, positions_in, falloff, inverse_scale2, l2, distance
        )
    if falloff.is_constant:
        return weight, weight_penalty(weight, positions_out, positions_in, l2, distance)
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


class LayerWeight:
    """A layer's effective weight and penalty, formed outside autograd, with their gradients.

    The training step's door to the kernels without an autograd node per layer (see
    :meth:`~sklearn_posnet.nn.PositionNetwork.backprop`): the values and gradients are those of
    :func:`penalized_falloff_weight` and :func:`particle_weight`, from the same kernels.

    Attributes
    ----------
    effective : Tensor of shape (n_out, n_in)
        The effective weight, detached.
    penalty : float or Tensor
        The layer's penalty (a scalar).
    """

    def __init__(
        self,
        effective: torch.Tensor,
        penalty: float | torch.Tensor,
        parameters: tuple[torch.Tensor, ...],
        backward: Callable[[torch.Tensor], list[torch.Tensor | None]],
    ):
        self.effective = effective
        self.penalty = penalty
        self._parameters = parameters
        self._backward = backward

    def gradients(
        self, grad_effective: torch.Tensor
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(parameter, gradient)`` of ``<grad_effective, effective> + penalty`` for each of the
        layer's parameters that requires one. ``grad_effective`` may be overwritten."""
        grads = self._backward(grad_effective)
        for parameter, grad in zip(self._parameters, grads, strict=True):
            if grad is not None:
                yield parameter, grad


def _needs(*tensors: torch.Tensor) -> tuple[bool, ...]:
    return tuple(tensor.requires_grad for tensor in tensors)


def positional_layer_weight(
    weight: torch.Tensor,
    positions_out: torch.Tensor,
    positions_in: torch.Tensor,
    falloff: Falloff,
    length_scale: float = 1.0,
    l2: float = 0.0,
    distance: float = 0.0,
) -> LayerWeight | None:
    """:func:`penalized_falloff_weight` as a :class:`LayerWeight`, or None where the kernels do
    not serve it (see :func:`kernel_refusal`)."""
    l2, distance = float(l2), float(distance)
    parameters = (weight, positions_out, positions_in)
    if steps_aside() or kernel_refusal(falloff, *parameters) is not None:
        return None
    layer = _positional_kernel_layer(
        weight,
        positions_out,
        positions_in,
        falloff,
        1.0 / (length_scale * length_scale),
        l2,
        distance,
    )
    effective, penalty = layer.forward()
    needs = (*_needs(*parameters), False, False)

    def backward(grad_effective):
        return layer.backward(grad_effective, 1.0 if l2 or distance else None, needs)[:3]

    return LayerWeight(effective, penalty, parameters, backward)


def particle_layer_weight(
    positions_out: torch.Tensor,
    dipoles_out: torch.Tensor,
    positions_in: torch.Tensor,
    dipoles_in: torch.Tensor,
    falloff: Falloff,
    l2: float = 0.0,
) -> LayerWeight | None:
    """:func:`particle_weight` as a :class:`LayerWeight` with the penalty ``l2 * sum(W**2)``,
    or None where the kernels do not serve it."""
    parameters = (positions_out, dipoles_out, positions_in, dipoles_in)
    if falloff.is_constant or steps_aside() or kernel_refusal(falloff, *parameters) is not None:
        return None
    layer = _particle_kernel_layer(positions_out, dipoles_out, positions_in, dipoles_in, falloff)
    effective = layer.forward()[0]
    # In the weights' dtype, as forward_with_penalty forms it.
    penalty = float(l2) * entry_dot(effective, effective) if l2 else 0.0
    needs = (False, *_needs(positions_out, positions_in, dipoles_out, dipoles_in))

    def backward(grad_effective):
        if l2:
            grad_effective.add_(effective, alpha=2.0 * float(l2))
        _, grad_p_out, grad_p_in, grad_v_out, grad_v_in = layer.backward(
            grad_effective, None, needs
        )
        return [grad_p_out, grad_v_out, grad_p_in, grad_v_in]

    return LayerWeight(effective, penalty, parameters, backward)
