"""Hidden-layer activations by name: those of :class:`~sklearn.neural_network.MLPClassifier`,
plus swish."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["ACTIVATIONS", "get_activation"]


def identity(x: torch.Tensor) -> torch.Tensor:
    return x


ACTIVATIONS = {
    "identity": identity,
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "swish": F.silu,
}


def get_activation(name: str):
    """Return the activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None
