"""Particle layers that never hold their implied weight matrix.

A particle layer's weights ``W_ij = (v_i . v_j) f(|r_i - r_j|)`` are a function of ``O(N)``
parameters, so they need not be stored: :func:`tiled_particle_linear` forms them a block of output
neurons at a time, multiplies, and drops the block; the backward pass forms each block again.
Peak memory is the layer's input and output activations plus one block, instead of
``n_out * n_in`` weights (and the several matrices of the same size autograd would keep).
Values and gradients are those of the materialized layer, up to the order of floating-point sums.
"""

from __future__ import annotations

import torch

from ..falloff import Falloff
from ._fused import entry_dot, particle_weight, steps_aside

__all__ = ["default_tile_rows", "tiled_particle_linear", "tiled_weight_square_sum"]

#: Weight entries formed at once by default: 4 Mi entries, 16 MiB in float32.
TILE_ENTRIES = 1 << 22


def default_tile_rows(n_in: int) -> int:
    """Output neurons per block so that a block holds about :data:`TILE_ENTRIES` weights."""
    return max(1, TILE_ENTRIES // max(1, n_in))


def _block_weight(positions_out, dipoles_out, positions_in, dipoles_in, falloff):
    return particle_weight(positions_out, dipoles_out, positions_in, dipoles_in, falloff)


def _blocks(n_out: int, tile_rows: int):
    for start in range(0, n_out, tile_rows):
        yield slice(start, min(start + tile_rows, n_out))


def _particle_gradients(ctx, block_grad):
    """Accumulate the gradients of ``sum over blocks <block_grad(rows, W_block), W_block>``.

    ``block_grad(rows, weight_block)`` returns the upstream gradient of one block. Every block is
    recomputed under autograd from detached copies of the particles, so that only one block's
    graph exists at a time.
    """
    saved = ctx.saved_tensors[:4]
    needs = ctx.needs_input_grad[:4]
    particles = [t.detach().requires_grad_(need) for t, need in zip(saved, needs, strict=True)]
    grads = [torch.zeros_like(t) if t.requires_grad else None for t in particles]
    p_out, v_out, p_in, v_in = particles
    for rows in _blocks(saved[0].shape[0], ctx.tile_rows):
        with torch.enable_grad():
            block = _block_weight(p_out[rows], v_out[rows], p_in, v_in, ctx.falloff)
        upstream = block_grad(rows, block.detach())
        if not any(needs):
            continue
        wanted = [t for t, need in zip(particles, needs, strict=True) if need]
        # Unused with falloff="none": the positions then get a zero gradient.
        block_grads = iter(torch.autograd.grad(block, wanted, upstream, allow_unused=True))
        for index, need in enumerate(needs):
            grad = next(block_grads) if need else None
            if grad is not None:
                grads[index] += grad
    return grads


class _TiledParticleLinear(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx, x, positions_out, dipoles_out, positions_in, dipoles_in, bias, falloff, tile_rows
    ):
        output = torch.empty(x.shape[0], positions_out.shape[0], dtype=x.dtype, device=x.device)
        for rows in _blocks(positions_out.shape[0], tile_rows):
            block = _block_weight(
                positions_out[rows], dipoles_out[rows], positions_in, dipoles_in, falloff
            )
            output[:, rows] = torch.addmm(bias[rows], x, block.T)
        ctx.falloff, ctx.tile_rows = falloff, tile_rows
        ctx.save_for_backward(positions_out, dipoles_out, positions_in, dipoles_in, x)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[4]
        need_x, need_bias = ctx.needs_input_grad[0], ctx.needs_input_grad[5]
        grad_x = torch.zeros_like(x) if need_x else None

        def block_grad(rows, block):
            grad_rows = grad_output[:, rows]
            if need_x:
                grad_x.addmm_(grad_rows, block)
            return grad_rows.T @ x

        # Shift the needs so that _particle_gradients sees the particles first.
        grads = _particle_gradients(_Shifted(ctx, 1), block_grad)
        grad_bias = grad_output.sum(dim=0) if need_bias else None
        return (grad_x, *grads, grad_bias, None, None)


class _Shifted:
    """A view of ``ctx`` whose saved tensors and needs start at ``offset`` (x comes first)."""

    def __init__(self, ctx, offset):
        self.saved_tensors = ctx.saved_tensors[:4]
        self.needs_input_grad = ctx.needs_input_grad[offset : offset + 4]
        self.falloff, self.tile_rows = ctx.falloff, ctx.tile_rows


def tiled_particle_linear(
    x: torch.Tensor,
    positions_out: torch.Tensor,
    dipoles_out: torch.Tensor,
    positions_in: torch.Tensor,
    dipoles_in: torch.Tensor,
    bias: torch.Tensor,
    falloff: Falloff,
    tile_rows: int | None = None,
) -> torch.Tensor:
    """``x @ W.T + bias`` for implied weights ``W``, formed ``tile_rows`` output rows at a time.

    Parameters
    ----------
    x : Tensor of shape (batch, n_in)
    positions_out, dipoles_out : Tensor of shape (n_out, dim)
    positions_in, dipoles_in : Tensor of shape (n_in, dim)
    bias : Tensor of shape (n_out,)
    falloff : Falloff
    tile_rows : int, optional
        Output neurons per block; by default about 4 Mi weights per block.

    Returns
    -------
    Tensor of shape (batch, n_out)

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.falloff import get_falloff
    >>> from sklearn_posnet.nn._tiled import tiled_particle_linear
    >>> r_out, v_out, r_in, v_in = (torch.randn(n, 2) for n in (3, 3, 5, 5))
    >>> tiled_particle_linear(torch.ones(4, 5), r_out, v_out, r_in, v_in, torch.zeros(3),
    ...                       get_falloff("gaussian"), tile_rows=2).shape
    torch.Size([4, 3])
    """
    if steps_aside():  # a tracer records the materialized layer, which it can follow
        weight = particle_weight(positions_out, dipoles_out, positions_in, dipoles_in, falloff)
        return torch.nn.functional.linear(x, weight, bias)
    if tile_rows is None:
        tile_rows = default_tile_rows(positions_in.shape[0])
    return _TiledParticleLinear.apply(
        x, positions_out, dipoles_out, positions_in, dipoles_in, bias, falloff, int(tile_rows)
    )


class _TiledWeightSquareSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, positions_out, dipoles_out, positions_in, dipoles_in, falloff, tile_rows):
        total = positions_out.new_zeros(())
        for rows in _blocks(positions_out.shape[0], tile_rows):
            block = _block_weight(
                positions_out[rows], dipoles_out[rows], positions_in, dipoles_in, falloff
            )
            total += entry_dot(block, block)
        ctx.falloff, ctx.tile_rows = falloff, tile_rows
        ctx.save_for_backward(positions_out, dipoles_out, positions_in, dipoles_in)
        return total

    @staticmethod
    def backward(ctx, grad_output):
        grads = _particle_gradients(ctx, lambda rows, block: block * (2.0 * grad_output))
        return (*grads, None, None)


def tiled_weight_square_sum(
    positions_out: torch.Tensor,
    dipoles_out: torch.Tensor,
    positions_in: torch.Tensor,
    dipoles_in: torch.Tensor,
    falloff: Falloff,
    tile_rows: int | None = None,
) -> torch.Tensor:
    """``sum(W**2)`` of implied weights, formed and differentiated block by block.

    Parameters
    ----------
    positions_out, dipoles_out : Tensor of shape (n_out, dim)
    positions_in, dipoles_in : Tensor of shape (n_in, dim)
    falloff : Falloff
    tile_rows : int, optional
        Output neurons per block; by default about 4 Mi weights per block.

    Returns
    -------
    Tensor
        A scalar.
    """
    if steps_aside():
        weight = particle_weight(positions_out, dipoles_out, positions_in, dipoles_in, falloff)
        return entry_dot(weight, weight)
    if tile_rows is None:
        tile_rows = default_tile_rows(positions_in.shape[0])
    return _TiledWeightSquareSum.apply(
        positions_out, dipoles_out, positions_in, dipoles_in, falloff, int(tile_rows)
    )
