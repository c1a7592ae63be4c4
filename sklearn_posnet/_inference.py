"""The float64 copy of a fitted module that predictions run on, rebuilt only when needed.

Inference runs in float64 so that a row's prediction does not depend on which other rows are
predicted with it (float32 matrix products round differently for different batch sizes). Copying
and converting the module on every call costs far more than predicting one row, so the copy is
kept, with the float32 state it was made from, and made again only when that state changed:
after ``fit``, ``partial_fit``, pruning, loading, or a user's own edit of the parameters.
"""

from __future__ import annotations

import copy

import torch

__all__ = ["InferenceCopy"]


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
            self._source = module
        return self._copy
