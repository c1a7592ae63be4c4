"""Saving fitted estimators as numpy arrays and builtins, never as pickled torch objects.

A fitted estimator holds a skorch net (torch module, optimizer) and a torch random generator.
:meth:`~sklearn_posnet._base.BasePositionalClassifier.__getstate__` replaces them by one plain
dictionary of numpy arrays and builtins (:func:`plain_state`), and ``__setstate__`` rebuilds them
from it (:func:`restore_torch_state`). pickle, joblib and :mod:`skops.io` therefore all store the
same thing, and:

- a model fitted on a GPU loads on a machine without one: the arrays carry no device, and the
  module is rebuilt on the CPU (with a warning) when the saved ``device`` is not available;
- :mod:`skops.io` needs to trust nothing but our own estimator classes, because the state holds
  no torch or skorch object;
- nothing is lost for further training: the optimizer's state, the random generator's state and
  the batch size come back, so ``partial_fit`` after a round trip continues exactly as without one
  (the skorch ``history`` is not kept: ``loss_curve_`` and the other fitted attributes are).
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import clone

from ._recording import resume_recording

__all__ = [
    "FORMAT_VERSION",
    "check_net_state",
    "check_saved_state",
    "plain_state",
    "restore_torch_state",
    "split_state",
]

#: Version of the layout of the saved torch state, stored with it.
FORMAT_VERSION = 1
_KEY = "_torch_state"


def _to_numpy_tree(value):
    """``value`` with every tensor replaced by a numpy array (on the host), recursively."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {key: _to_numpy_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy_tree(item) for item in value)
    return value


def _to_torch_tree(value):
    """Inverse of :func:`_to_numpy_tree`: every numpy array becomes a tensor."""
    if isinstance(value, np.ndarray):
        # A copy in memory torch allocated, aligned as every tensor a fit creates: the fused
        # optimizer kernels' results must not depend on where an unpickled array happened to lie.
        return torch.from_numpy(value).clone()
    if isinstance(value, dict):
        return {key: _to_torch_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_torch_tree(item) for item in value)
    return value


def plain_state(state: dict) -> dict:
    """The estimator's ``__dict__`` copy ``state`` with its torch objects replaced by arrays.

    ``net_`` becomes the module's ``state_dict`` as numpy arrays, its neuron counts per layer
    (pruning may have changed them), the optimizer's ``state_dict`` as arrays and the batch size;
    ``_generator`` becomes its state as a uint8 array; a ``torch.device`` parameter becomes a
    string. All of it is stored under one key. ``state`` is modified and returned.
    """
    torch_state: dict = {"format": FORMAT_VERSION}
    net = state.pop("net_", None)
    if net is not None:
        module = net.module_
        torch_state["module"] = _to_numpy_tree(dict(module.state_dict()))
        torch_state["layer_sizes"] = [int(n) for n in module.layer_sizes]
        torch_state["optimizer"] = _to_numpy_tree(net.optimizer_.state_dict())
        torch_state["batch_size"] = int(net.batch_size)
    generator = state.pop("_generator", None)
    if generator is not None:
        torch_state["generator"] = generator.get_state().numpy().copy()
    if isinstance(state.get("device"), torch.device):
        state["device"] = str(state["device"])
        torch_state["device_is_torch_device"] = True
    state[_KEY] = torch_state
    return state


def split_state(state: dict) -> tuple[dict, dict | None]:
    """Separate the saved torch state (None for a state saved without it) from the rest."""
    state = dict(state)
    torch_state = state.pop(_KEY, None)
    if torch_state is not None and torch_state.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"This estimator was saved in format {torch_state.get('format')!r}; this version of "
            f"sklearn_posnet reads format {FORMAT_VERSION}."
        )
    return state, torch_state


def _loading_device(device) -> torch.device:
    """``device``, or the CPU (with a warning) when it is a CUDA device this machine lacks."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"This model was fitted with device={str(device)!r} but CUDA is not available: it "
            "was loaded on the CPU. Predictions work; set_params(device='cpu') to train further.",
            UserWarning,
            stacklevel=4,
        )
        return torch.device("cpu")
    return device


class _DamagedState(ValueError):
    """A saved state no fit could have made; :func:`_refuse` names the estimator."""


def _refuse(estimator, problem: str):
    return _DamagedState(
        f"Cannot load this {type(estimator).__name__}: its saved state is damaged or was "
        f"altered: {problem}."
    )


def _check_finite_floats(estimator, what: str, array) -> None:
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        got = type(array).__name__
        if isinstance(array, np.ndarray):
            got = f"an array of dtype {array.dtype.str}"
        raise _refuse(estimator, f"{what} must be an array of floats, got {got}")
    if not np.isfinite(array).all():
        raise _refuse(estimator, f"{what} contains NaN or infinity")


def _check_positive_int(estimator, name: str, value) -> None:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise _refuse(estimator, f"'{name}' must be a positive integer, got {value!r}")


def _check_optimizer_state(estimator, optimizer) -> None:
    if not (
        isinstance(optimizer, dict)
        and isinstance(optimizer.get("state"), dict)
        and isinstance(optimizer.get("param_groups"), list)
        and all(isinstance(group, dict) for group in optimizer["param_groups"])
    ):
        raise _refuse(estimator, "'optimizer' must be an optimizer's state_dict")
    for index, entries in optimizer["state"].items():
        if not isinstance(entries, dict):
            raise _refuse(estimator, f"the optimizer state of parameter {index!r} is not a dict")
        for name, value in entries.items():
            if isinstance(value, np.ndarray):
                _check_finite_floats(
                    estimator, f"the optimizer state {name!r} of parameter {index}", value
                )
    for group in optimizer["param_groups"]:
        for name, value in group.items():
            if isinstance(value, float) and not np.isfinite(value):
                raise _refuse(estimator, f"the optimizer setting {name!r} is {value}")


def check_saved_state(estimator, torch_state) -> None:
    """Raise a ValueError naming the problem when ``torch_state`` (of :func:`plain_state`) is not
    one that a fit could have made: entries missing or of the wrong type, parameters or optimizer
    moments that are not finite floats, layer sizes that disagree with the estimator's
    ``n_features_in_`` and ``classes_``, a generator state of the wrong size.

    The shapes of the parameters are checked against the rebuilt network by
    :func:`check_net_state`.
    """
    if not isinstance(torch_state, dict):
        raise _refuse(estimator, f"expected a dict, got {type(torch_state).__name__}")
    if "generator" in torch_state:
        generator = torch_state["generator"]
        size = torch.Generator().get_state().numel()
        if not (
            isinstance(generator, np.ndarray)
            and generator.dtype == np.uint8
            and generator.shape == (size,)
        ):
            raise _refuse(
                estimator, f"'generator' must be a random generator's state of {size} bytes"
            )
    net_keys = ("module", "layer_sizes", "optimizer", "batch_size")
    present = [key for key in net_keys if key in torch_state]
    if not present:
        return
    missing = [key for key in net_keys if key not in torch_state]
    if missing:
        raise _refuse(estimator, f"the network's {missing} are missing")

    sizes = torch_state["layer_sizes"]
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise _refuse(estimator, f"'layer_sizes' must be a list of neuron counts, got {sizes!r}")
    for size in sizes:
        _check_positive_int(estimator, "layer_sizes", size)
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is not None and sizes[0] != n_features:
        raise _refuse(
            estimator,
            f"'layer_sizes' give the network {sizes[0]} inputs, but the estimator was fitted on "
            f"{n_features} features",
        )
    classes = getattr(estimator, "classes_", None)
    if classes is not None and sizes[-1] != len(classes):
        raise _refuse(
            estimator,
            f"'layer_sizes' give the network {sizes[-1]} outputs, but the estimator has "
            f"{len(classes)} classes",
        )
    _check_positive_int(estimator, "batch_size", torch_state["batch_size"])
    module = torch_state["module"]
    if not isinstance(module, dict):
        raise _refuse(estimator, f"'module' must be a dict of arrays, got {type(module).__name__}")
    for name, array in module.items():
        _check_finite_floats(estimator, f"the parameter {name!r}", array)
    _check_optimizer_state(estimator, torch_state["optimizer"])


def check_net_state(estimator, torch_state: dict, net) -> None:
    """Raise a ValueError naming the problem when the saved parameters and optimizer moments of
    ``torch_state`` do not have the names and shapes of those of ``net``, the network rebuilt
    from the saved configuration (before they are loaded into it)."""
    expected = {name: tuple(value.shape) for name, value in net.module_.state_dict().items()}
    saved = torch_state["module"]
    missing = [name for name in expected if name not in saved]
    unexpected = [name for name in saved if name not in expected]
    if missing or unexpected:
        found = [
            f"{kind} {names}"
            for kind, names in (("missing", missing), ("unexpected", unexpected))
            if names
        ]
        raise _refuse(
            estimator,
            f"the parameters do not match the saved configuration: {', '.join(found)}",
        )
    for name, shape in expected.items():
        if saved[name].shape != shape:
            raise _refuse(
                estimator,
                f"the parameter {name!r} has shape {saved[name].shape}; the saved configuration "
                f"implies {shape}",
            )
    # An optimizer's state_dict numbers the parameters of its groups in order.
    parameters = [p for group in net.optimizer_.param_groups for p in group["params"]]
    for index, entries in torch_state["optimizer"]["state"].items():
        if not (isinstance(index, Integral) and 0 <= index < len(parameters)):
            raise _refuse(estimator, f"the optimizer state names an unknown parameter {index!r}")
        shape = tuple(parameters[index].shape)
        for name, value in entries.items():
            if isinstance(value, np.ndarray) and value.ndim > 0 and value.shape != shape:
                raise _refuse(
                    estimator,
                    f"the optimizer state {name!r} of parameter {index} has shape "
                    f"{value.shape}; its parameter has shape {shape}",
                )


def restore_torch_state(estimator, torch_state: dict | None) -> None:
    """Rebuild ``net_`` and ``_generator`` of ``estimator`` from :func:`plain_state`'s output.

    The module is built by the estimator's own code from its parameters, with the hidden layer
    sizes of the saved module, on the saved device or the CPU when that device is missing, and
    then receives the saved parameters and optimizer state.
    """
    if torch_state is None:
        return
    check_saved_state(estimator, torch_state)
    if torch_state.get("device_is_torch_device"):
        estimator.device = torch.device(estimator.device)
    generator = None
    if "generator" in torch_state:
        generator_state = torch.from_numpy(torch_state["generator"].copy())
        generator = torch.Generator()
        generator.set_state(generator_state)
        estimator._generator = generator
    if "module" not in torch_state:
        return

    layer_sizes = torch_state["layer_sizes"]
    device = _loading_device(estimator.device)
    builder = clone(estimator).set_params(
        hidden_layer_sizes=tuple(layer_sizes[1:-1]), device=str(device)
    )
    net = builder._build_net(
        layer_sizes[0],
        layer_sizes[-1],
        torch_state["batch_size"],
        generator if generator is not None else torch.Generator(),
    )
    if generator is not None:
        # Building drew random numbers for the initialization that is about to be overwritten.
        generator.set_state(generator_state)
    check_net_state(estimator, torch_state, net)
    net.module_.load_state_dict(_to_torch_tree(torch_state["module"]))
    net.optimizer_.load_state_dict(_to_torch_tree(torch_state["optimizer"]))
    net.set_params(batch_size=torch_state["batch_size"])
    resume_recording(estimator, net)
    estimator.net_ = net
