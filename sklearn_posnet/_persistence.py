"""Saving fitted estimators as numpy arrays and builtins, never as pickled torch objects.

A fitted estimator holds a skorch net (torch module, optimizer, callbacks) and a torch random
generator. Its ``__getstate__`` describes them as one plain dictionary (module and optimizer
``state_dict``, the layer sizes, the batch size, the state of every callback that has one, the
generator's state), which :func:`to_numpy_tree` turns into numpy arrays and builtins, stored under
one key (:func:`pack`); its ``__setstate__`` takes that dictionary back (:func:`unpack`) and
rebuilds the net with the configuration the model was built with. pickle, joblib and
:mod:`skops.io` therefore all store the same thing, and:

- a model fitted on a GPU loads on a machine without one: the arrays carry no device, and the
  module is rebuilt on the CPU (with a warning) when the saved ``device`` is not available
  (:func:`loading_device`);
- :mod:`skops.io` needs to trust nothing but our own estimator classes, because the state holds
  no torch or skorch object;
- nothing is lost for further training: the optimizer's state, the random generator's state, the
  batch size and the callbacks' state (loss curve, stopping count, recorded positions) come
  back, so ``partial_fit`` after a round trip continues exactly as without one (the skorch
  ``history`` is not kept).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

__all__ = ["FORMAT_VERSION", "loading_device", "pack", "to_numpy_tree", "to_torch_tree", "unpack"]

#: Version of the layout of the saved torch state, stored with it. 2: the configuration the
#: network was built with and the callbacks' state are saved.
FORMAT_VERSION = 2
_KEY = "_torch_state"


def to_numpy_tree(value):
    """``value`` with every tensor replaced by a numpy array (on the host), recursively."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {key: to_numpy_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy_tree(item) for item in value)
    return value


def to_torch_tree(value):
    """Inverse of :func:`to_numpy_tree`: every numpy array becomes a tensor."""
    if isinstance(value, np.ndarray):
        # A copy in memory torch allocated, aligned as every tensor a fit creates: the fused
        # optimizer kernels' results must not depend on where an unpickled array happened to lie.
        return torch.from_numpy(value).clone()
    if isinstance(value, dict):
        return {key: to_torch_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch_tree(item) for item in value)
    return value


def pack(state: dict, torch_state: dict) -> dict:
    """Store ``torch_state`` (tensors allowed) in the estimator's ``__dict__`` copy ``state`` as
    numpy arrays and builtins, with the format version; ``state`` is modified and returned."""
    state[_KEY] = {"format": FORMAT_VERSION, **to_numpy_tree(torch_state)}
    return state


def unpack(state: dict) -> tuple[dict, dict | None]:
    """Separate the saved torch state (None for a state saved without it) from the rest."""
    state = dict(state)
    torch_state = state.pop(_KEY, None)
    if torch_state is not None and torch_state.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"This estimator was saved in format {torch_state.get('format')!r}; this version of "
            f"sklearn_posnet reads format {FORMAT_VERSION}. Refit it with this version."
        )
    return state, torch_state


def loading_device(device) -> torch.device:
    """``device``, or the CPU (with a warning) when it is a CUDA device this machine lacks."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"This model was fitted with device={str(device)!r} but CUDA is not available: it "
            "was loaded on the CPU. Predictions work; set_params(device='cpu') to train further.",
            UserWarning,
            stacklevel=5,
        )
        return torch.device("cpu")
    return device
