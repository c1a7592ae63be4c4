"""What both modules share to change their hidden layers: scoring hidden neurons, cutting tensors
(structured pruning) and appending new neurons (growth)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import torch
from torch import nn

CRITERIA = ("mean_squared_weight", "effective")


def glorot_limit(n_in: int, n_out: int) -> float:
    """The bound of Glorot's uniform initialization, ``sqrt(6 / (n_in + n_out))``: the range
    both modules draw their initial parameters (and grown neurons') from."""
    return math.sqrt(6.0 / (n_in + n_out))


def check_criterion(criterion: str) -> None:
    if criterion not in CRITERIA:
        raise ValueError(
            f"criterion must be 'mean_squared_weight' or 'effective', got {criterion!r}."
        )


def mean_squared_connection(weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Per hidden layer, each neuron's mean squared weight over its incoming and outgoing
    connections: ``(sum_j W_{k-1,ij}**2 + sum_m W_{k,mi}**2) / (n_{k-1} + n_{k+1})``.

    ``weights[l]`` has shape ``(n_{l+1}, n_l)``; the result has one tensor per hidden layer.
    """
    scores = []
    for incoming, outgoing in itertools.pairwise(weights):
        incoming, outgoing = incoming.square(), outgoing.square()
        n_connections = incoming.shape[1] + outgoing.shape[0]
        scores.append((incoming.sum(dim=1) + outgoing.sum(dim=0)) / n_connections)
    return scores


def validated_keep(
    keep: Sequence, layer_sizes: Sequence[int], device: torch.device
) -> list[torch.Tensor]:
    """``keep`` as one index tensor per hidden layer, each unique, non-empty and in range."""
    n_hidden = len(layer_sizes) - 2
    if len(keep) != n_hidden:
        raise ValueError(
            f"keep needs one index array per hidden layer ({n_hidden}), got {len(keep)}."
        )
    indices = []
    for hidden, kept in enumerate(keep, start=1):
        if not isinstance(kept, torch.Tensor):
            kept = np.ascontiguousarray(kept)  # torch refuses negative strides (a[::-1])
        kept = torch.as_tensor(kept, dtype=torch.int64, device=device).reshape(-1)
        size = layer_sizes[hidden]
        if kept.numel() == 0 or kept.unique().numel() != kept.numel():
            raise ValueError(f"Hidden layer {hidden} must keep at least one neuron, each once.")
        if kept.min() < 0 or kept.max() >= size:
            raise ValueError(f"Hidden layer {hidden} has {size} neurons; got index out of range.")
        indices.append(kept)
    return indices


def sliced(param: nn.Parameter, index: torch.Tensor, dim: int = 0) -> nn.Parameter:
    """A new parameter holding the ``index`` entries of ``param`` along ``dim``."""
    return nn.Parameter(param.index_select(dim, index), requires_grad=param.requires_grad)


def kept_layer_sizes(layer_sizes: Sequence[int], indices: Sequence[torch.Tensor]) -> tuple:
    return (layer_sizes[0], *(len(kept) for kept in indices), layer_sizes[-1])


# ------------------------------------------------------------------------------- growth
def growth_layer(hidden_layer, n_new, layer_sizes: Sequence[int]) -> int:
    """The neuron layer index of ``hidden_layer`` (0 is the first hidden layer), checked."""
    n_hidden = len(layer_sizes) - 2
    if isinstance(hidden_layer, bool) or not isinstance(hidden_layer, Integral):
        raise TypeError(f"hidden_layer must be an int, got {hidden_layer!r}.")
    if not 0 <= hidden_layer < n_hidden:
        raise ValueError(
            f"hidden_layer must be in [0, {n_hidden}) for a network with {n_hidden} hidden "
            f"layers, got {hidden_layer}."
        )
    if isinstance(n_new, bool) or not isinstance(n_new, Integral) or n_new < 1:
        raise ValueError(f"n_new must be an int >= 1, got {n_new!r}.")
    return int(hidden_layer) + 1


def growth_generator(generator: torch.Generator | None) -> torch.Generator:
    """``generator``, or a new one seeded from the operating system's entropy (never the global
    generator, and never a fixed seed: neurons grown by two calls must not coincide)."""
    if generator is not None:
        return generator
    fresh = torch.Generator()
    fresh.seed()
    return fresh


def grown_positions(
    existing: torch.Tensor,
    n_new: int,
    positions,
    fallback_scale: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Positions of ``n_new`` new neurons of a layer whose neurons are at ``existing``.

    Given ``positions`` (shape ``(n_new, dim)``) are checked and used. Otherwise each new neuron
    is placed near an existing one chosen at random: at a normal offset whose standard deviation
    is the median distance between the layer's neurons and their nearest neighbours
    (``fallback_scale`` for a layer of one neuron, or of coincident ones).
    """
    n_existing, dim = existing.shape
    if positions is not None:
        positions = torch.as_tensor(positions, dtype=existing.dtype, device=existing.device)
        if positions.shape != (n_new, dim):
            raise ValueError(
                f"positions must have shape ({n_new}, {dim}), got {tuple(positions.shape)}."
            )
        if not torch.isfinite(positions).all():
            raise ValueError("positions contains NaN or infinity.")
        return positions.clone()
    reference = existing.detach().cpu().double()
    scale = 0.0
    if n_existing > 1:
        distances = torch.cdist(reference, reference)
        distances.fill_diagonal_(float("inf"))
        scale = float(distances.min(dim=1).values.median())
    if not scale > 0:
        scale = float(fallback_scale)
    parents = torch.randint(n_existing, (n_new,), generator=generator)
    offsets = torch.randn(n_new, dim, generator=generator, dtype=torch.float64) * scale
    return (reference[parents] + offsets).to(dtype=existing.dtype, device=existing.device)


def appended(param: nn.Parameter, rows: torch.Tensor, dim: int = 0) -> nn.Parameter:
    """A new parameter holding ``param`` followed by ``rows`` along ``dim``."""
    rows = rows.to(dtype=param.dtype, device=param.device)
    return nn.Parameter(
        torch.cat([param.detach(), rows], dim=dim), requires_grad=param.requires_grad
    )


def squared_gradient_rows(gradients, like: torch.Tensor) -> torch.Tensor:
    """Per neuron, the sum of the squared entries of its rows of the given gradients.

    Row ``i`` of every gradient (a matrix, its transpose, or a vector) belongs to neuron ``i``
    of a layer of ``len(like)`` neurons; None (no gradient) adds nothing.
    """
    total = torch.zeros(len(like), dtype=like.dtype, device=like.device)
    for gradient in gradients:
        if gradient is not None:
            total += gradient.square().reshape(len(like), -1).sum(dim=1)
    return total
