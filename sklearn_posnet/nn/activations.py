"""Hidden-layer activations by name: those of :class:`~sklearn.neural_network.MLPClassifier`,
plus swish, with their derivatives for the hand-derived backward pass (as scikit-learn keeps
``ACTIVATIONS`` and ``DERIVATIVES``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATIONS", "ACTIVATION_LAYERS", "DERIVATIVES", "get_activation"]


def identity(x: torch.Tensor) -> torch.Tensor:
    return x


# The derivatives, as ``derivative(grad, pre, post)``: ``grad`` (dL/d post) times the
# activation's derivative at the pre-activation ``pre``, whose value is ``post``. Each is the
# backward operator autograd itself calls for the function (torch.ops.aten's ``*_backward``):
# the same gradients bit for bit, and faster than composing them (a boolean mask of ReLU's
# costs ten times its threshold_backward).
def _identity_derivative(grad, pre, post):
    return grad


def _logistic_derivative(grad, pre, post):
    return torch.ops.aten.sigmoid_backward(grad, post)


def _tanh_derivative(grad, pre, post):
    return torch.ops.aten.tanh_backward(grad, post)


def _relu_derivative(grad, pre, post):
    return torch.ops.aten.threshold_backward(grad, post, 0)


def _swish_derivative(grad, pre, post):
    return torch.ops.aten.silu_backward(grad, pre)


# One row per activation: the function the networks call, and the torch layer that computes the
# same (what a plain torch copy of a network is built from).
_TABLE = {
    "identity": (identity, nn.Identity, _identity_derivative),
    "logistic": (torch.sigmoid, nn.Sigmoid, _logistic_derivative),
    "tanh": (torch.tanh, nn.Tanh, _tanh_derivative),
    "relu": (F.relu, nn.ReLU, _relu_derivative),
    "swish": (F.silu, nn.SiLU, _swish_derivative),
}

#: The activation functions by name.
ACTIVATIONS = {name: row[0] for name, row in _TABLE.items()}
#: The :class:`torch.nn.Module` class of each activation, computing what its function computes.
ACTIVATION_LAYERS = {name: row[1] for name, row in _TABLE.items()}
#: ``DERIVATIVES[name](grad, pre, post)``: ``grad`` times the derivative of the activation at
#: ``pre`` (whose value is ``post``).
DERIVATIVES = {name: row[2] for name, row in _TABLE.items()}


def get_activation(name: str):
    """Return the activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None
