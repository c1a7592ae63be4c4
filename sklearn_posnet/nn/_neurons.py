"""What both modules share for structured pruning: scoring hidden neurons and cutting tensors."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

CRITERIA = ("mean_squared_weight", "effective")


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
