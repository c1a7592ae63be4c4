"""The float64 copy of a fitted module that predictions run on, rebuilt only when needed.

Inference runs in float64 so that a row's prediction does not depend on which other rows are
predicted with it (float32 matrix products round differently for different batch sizes). Copying
and converting the module on every call costs far more than predicting one row, so the copy is
kept, with the float32 state it was made from, and made again only when that state changed:
after ``fit``, ``partial_fit``, pruning, loading, or a user's own edit of the parameters.

Forming the effective weights from the positions costs more than the matrix products of a few
rows, so the copy also keeps them: a prediction is then the plain MLP the network is
(``activation(x @ W.T + b)`` per layer).
"""

from __future__ import annotations

import copy
import itertools

import torch
import torch.nn.functional as F

from .nn.base import propagate

__all__ = ["InferenceCopy"]

#: Networks with more connections than this (8 MiB of float32 weights as float64: 128 MiB) are
#: not held as weight matrices for prediction.
_MAX_CACHED_CONNECTIONS = 2**24


class InferenceCopy:
    """A float64, eval-mode copy of ``module``'s current state, refreshed on demand.

    :meth:`get` compares the module's state with the one the copy was made from (a pass over
    the parameters, much cheaper than copying them) and makes a new copy when the module object,
    a shape or a value changed.
    """

    def __init__(self):
        self._source = None
        self._state = None
        self._copy = None
        self._layers = None

    def _matches(self, module: torch.nn.Module) -> bool:
        if self._source is not module or self._state is None:
            return False
        state = module.state_dict()
        if state.keys() != self._state.keys():
            return False
        return all(torch.equal(state[name], saved) for name, saved in self._state.items())

    def get(self, module: torch.nn.Module) -> torch.nn.Module:
        """The float64 eval-mode copy of ``module`` as it is now."""
        if not self._matches(module):
            with torch.no_grad():
                self._state = {
                    name: tensor.detach().clone() for name, tensor in module.state_dict().items()
                }
                self._copy = copy.deepcopy(module).double().eval()
                sizes = self._copy.layer_sizes
                connections = sum(a * b for a, b in itertools.pairwise(sizes))
                # Layers too wide to hold as matrices (the particle network's tiled mode) keep
                # being formed a tile at a time by the module itself.
                self._layers = (
                    None
                    if connections > _MAX_CACHED_CONNECTIONS
                    else self._copy.plain_layers(torch.float64)
                )
            self._source = module
        return self._copy

    def forward(self, x: torch.Tensor, *, features: bool = False) -> torch.Tensor:
        """The float64 logits for ``x`` of the module :meth:`get` last copied (call it first:
        it checks the module once per prediction, not once per chunk), or with ``features`` the
        activations of its last hidden layer, from the cached effective weights."""
        copied = self._copy
        with torch.no_grad():
            if self._layers is None:
                return copied.features(x) if features else copied(x)
            n_layers = len(self._layers)
            return propagate(
                x,
                lambda x, layer: F.linear(x, *self._layers[layer]),
                n_layers,
                copied.hidden_activation,
                depth=n_layers - 1 if features else None,
            )
