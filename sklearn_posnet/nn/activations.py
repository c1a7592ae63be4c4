"""Hidden-layer activations by name: those of :class:`~sklearn.neural_network.MLPClassifier`,
plus swish."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATIONS", "ACTIVATION_LAYERS", "get_activation"]


def identity(x: torch.Tensor) -> torch.Tensor:
    return x


# One row per activation: the function the networks call, and the torch layer that computes the
# same (what a plain torch copy of a network is built from).
_TABLE = {
    "identity": (identity, nn.Identity),
    "logistic": (torch.sigmoid, nn.Sigmoid),
    "tanh": (torch.tanh, nn.Tanh),
    "relu": (F.relu, nn.ReLU),
    "swish": (F.silu, nn.SiLU),
}

#: The activation functions by name.
ACTIVATIONS = {name: function for name, (function, _) in _TABLE.items()}
#: The :class:`torch.nn.Module` class of each activation, computing what its function computes.
ACTIVATION_LAYERS = {name: layer for name, (_, layer) in _TABLE.items()}


def get_activation(name: str):
    """Return the activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None
