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

from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from ._inference import InferenceCopy
from ._network import BuiltNetwork
from ._warnings import warn_caller

__all__ = [
    "FORMAT_VERSION",
    "Persistence",
    "check_net_state",
    "check_saved_state",
    "loading_device",
    "module_config",
    "pack",
    "to_numpy_tree",
    "to_torch_tree",
    "unpack",
]

#: Version of the layout of the saved torch state, stored with it. 2: the configuration the
#: network was built with and the callbacks' state are saved (and, since issue 25, the
#: module's own configuration, ``module_config``: files saved without it load unchecked).
FORMAT_VERSION = 2
_KEY = "_torch_state"
#: Where the saved state keeps the configuration the network was built with: a plain dict (a
#: ``get_params()`` dictionary, the module's hidden sizes included), the estimator's
#: :class:`~sklearn_posnet._network.BuiltNetwork` when loaded.
_BUILT_KEY = "_built_with"


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
        warn_caller(
            f"This model was fitted with device={str(device)!r} but CUDA is not available: it "
            "was loaded on the CPU. Predictions work; set_params(device='cpu') to train further.",
            UserWarning,
        )
        return torch.device("cpu")
    return device


#: The attributes of a torch module that hold its configuration (those it has), in the order
#: of the parameters they come from; see :func:`module_config`.
_MODULE_ATTRIBUTES = (
    "layer_sizes",
    "activation",
    "position_dim",
    "particle_dim",
    "length_scale_setting",
    "length_scale",
    "input_layout",
    "input_shape",
    "output_layout",
    "hidden_spread",
    "trainable_positions",
    "weight_mode",
    "tile_size",
)
#: The estimator parameter each module attribute comes from, where the names differ.
_PARAMETER_OF = {"layer_sizes": "hidden_layer_sizes", "length_scale_setting": "length_scale"}


def _plain(value):
    """``value`` as builtins and numpy arrays (tuples as lists), comparable with ``==``."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def module_config(module) -> dict:
    """The configuration the torch ``module`` holds outside its ``state_dict`` (activation,
    falloff, dimension, resolved length scale, layouts...), as builtins and arrays: saved with
    the module, and compared on loading with the module rebuilt from the estimator's saved
    configuration (:func:`check_net_state`)."""
    config = {
        name: _plain(getattr(module, name)) for name in _MODULE_ATTRIBUTES if hasattr(module, name)
    }
    falloff = getattr(module, "falloff", None)
    if falloff is not None:
        config["falloff"] = getattr(falloff, "name", type(falloff).__name__)
    return config


def _same(a, b) -> bool:
    if a is b:
        return True
    if callable(a) and callable(b):  # a deep copy of a callable object is another object
        return type(a) is type(b) and getattr(a, "__name__", None) == getattr(b, "__name__", None)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b))
    return type(a) is type(b) and a == b


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


def _state_arrays(entries: dict):
    """The (name, array) pairs of one parameter's optimizer state, arrays in lists included
    (L-BFGS keeps its history as lists of vectors)."""
    for name, value in entries.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, np.ndarray):
                yield name, item


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
        for name, value in _state_arrays(entries):
            _check_finite_floats(
                estimator, f"the optimizer state {name!r} of parameter {index}", value
            )
    for group in optimizer["param_groups"]:
        for name, value in group.items():
            if isinstance(value, float) and not np.isfinite(value):
                raise _refuse(estimator, f"the optimizer setting {name!r} is {value}")


def _check_built_with(estimator, built_with, layer_sizes) -> None:
    """The configuration the network was built with (``_built_with``, saved with the
    estimator): every parameter, each a value the parameter accepts, agreeing with the saved
    layer sizes and output activation. A module-defining parameter changed by ``set_params``
    since the fit (legitimate: the network stays as built, and a warm start refuses it) is
    named in a warning."""
    if not isinstance(built_with, dict):
        raise _refuse(estimator, "the configuration the network was built with is missing")
    missing = sorted(set(estimator.get_params(deep=False)) - set(built_with))
    if missing:
        raise _refuse(estimator, f"the saved configuration lacks the parameters {missing}")
    try:
        validate_parameter_constraints(
            estimator._parameter_constraints, built_with, caller_name=type(estimator).__name__
        )
    except InvalidParameterError as error:
        raise _refuse(estimator, f"the saved configuration is invalid: {error}") from None
    hidden = built_with["hidden_layer_sizes"]
    hidden = [hidden] if isinstance(hidden, Integral) else list(hidden)
    if [int(n) for n in hidden] != list(layer_sizes[1:-1]):
        raise _refuse(
            estimator,
            f"the saved configuration's 'hidden_layer_sizes' {built_with['hidden_layer_sizes']!r}"
            f" disagrees with the saved network's hidden layers {list(layer_sizes[1:-1])}",
        )
    out_activation = vars(estimator).get("out_activation_")
    if "loss" in built_with:
        expected = "exp" if built_with["loss"] == "poisson" else "identity"
        if out_activation != expected:
            raise _refuse(
                estimator,
                f"the saved configuration's 'loss' {built_with['loss']!r} implies the output "
                f"activation {expected!r}; out_activation_ is {out_activation!r}",
            )
    elif out_activation not in ("softmax", "logistic"):
        raise _refuse(
            estimator,
            f"out_activation_ must be 'softmax' or 'logistic', got {out_activation!r}",
        )


def check_saved_state(estimator, torch_state, built_with=None) -> None:
    """Raise a ValueError naming the problem when ``torch_state`` (as :func:`unpack` returns
    it) is not one that a fit could have made: entries missing or of the wrong type, parameters
    or optimizer moments that are not finite floats, layer sizes that disagree with the
    estimator's ``n_features_in_`` and ``classes_``, a generator state of the wrong size, or a
    saved configuration ``built_with`` (the ``get_params()`` dictionary the network was built
    with) that is missing, invalid or disagrees with the saved network.

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
    _check_built_with(estimator, built_with, sizes)
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
    saved_config = torch_state.get("module_config")
    if saved_config is not None:
        if not isinstance(saved_config, dict):
            raise _refuse(estimator, "'module_config' must be a dict")
        rebuilt = module_config(net.module_)
        for name in sorted(set(saved_config) | set(rebuilt)):
            if not _same(saved_config.get(name), rebuilt.get(name)):
                parameter = _PARAMETER_OF.get(name, name)
                raise _refuse(
                    estimator,
                    f"the saved configuration disagrees with the saved network on {parameter!r}:"
                    f" the configuration builds {name}={rebuilt.get(name)!r}, the network was "
                    f"saved with {name}={saved_config.get(name)!r}",
                )
    # An optimizer's state_dict numbers the parameters of its groups in order.
    parameters = [p for group in net.optimizer_.param_groups for p in group["params"]]
    # L-BFGS keeps its vectors flat, over all the parameters at once, under the first one.
    flat = (sum(p.numel() for p in parameters),)
    lbfgs = isinstance(net.optimizer_, torch.optim.LBFGS)
    for index, entries in torch_state["optimizer"]["state"].items():
        if not (isinstance(index, Integral) and 0 <= index < len(parameters)):
            raise _refuse(estimator, f"the optimizer state names an unknown parameter {index!r}")
        shape = flat if lbfgs else tuple(parameters[index].shape)
        for name, value in _state_arrays(entries):
            if value.ndim > 0 and value.shape != shape:
                raise _refuse(
                    estimator,
                    f"the optimizer state {name!r} of parameter {index} has shape "
                    f"{value.shape}; its parameter has shape {shape}",
                )
    _warn_of_changed_parameters(estimator)


def _warn_of_changed_parameters(estimator) -> None:
    """Name in a warning the module-defining parameters changed by ``set_params`` since the
    fit: legitimate (the network stays as built, and a warm start refuses the change), but
    ``get_params`` then reports what the network does not do."""
    built_with = estimator._built.params
    changed = [
        name
        for name in getattr(estimator, "_module_params", ())
        if name != "hidden_layer_sizes"
        and not _same(_plain(built_with[name]), _plain(getattr(estimator, name)))
    ]
    if changed:
        details = ", ".join(
            f"{name}={getattr(estimator, name)!r} (built with {built_with[name]!r})"
            for name in changed
        )
        warn_caller(
            f"This {type(estimator).__name__} was saved with parameters changed since its "
            f"network was built: {details}. It predicts with the network as built; fit with "
            "warm_start=False to apply them.",
            UserWarning,
        )


class Persistence:
    """``__getstate__`` and ``__setstate__`` of the estimators: the saved layout is written here
    and checked by :func:`check_saved_state` and :func:`check_net_state` above.

    A mixin of :class:`~sklearn_posnet._base.BasePositionalNetwork`, before ``BaseEstimator``
    (whose ``__getstate__`` and ``__setstate__`` it extends).
    """

    def __getstate__(self):
        # The net and generator are saved as numpy arrays and builtins: see the checks above.
        # (object.__getstate__ returns the instance's own __dict__: copy it before changing it.)
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        generator = state.pop("_generator", None)
        state.pop("_inference", None)
        built = state.pop("_built", None)
        if built is not None:
            state[_BUILT_KEY] = (
                built.module_params(net.module_.layer_sizes)
                if net is not None
                else dict(built.params)
            )
        torch_state = {}
        if net is not None:
            torch_state.update(
                module=dict(net.module_.state_dict()),
                layer_sizes=[int(n) for n in net.module_.layer_sizes],
                module_config=module_config(net.module_),
                optimizer=net.optimizer_.state_dict(),
                batch_size=int(net.batch_size),
                callbacks={
                    name: callback.state_dict()
                    for name, callback in net.callbacks_
                    if callable(getattr(callback, "state_dict", None))
                },
            )
        if generator is not None:
            torch_state["generator"] = generator.get_state()
        if isinstance(state.get("device"), torch.device):
            state["device"] = str(state["device"])
            torch_state["device_is_torch_device"] = True
        return pack(state, torch_state)

    def __setstate__(self, state):
        state, torch_state = unpack(state)
        built_with = state.pop(_BUILT_KEY, None)
        self._upgrade_saved_state(state, built_with)
        super().__setstate__(state)
        if built_with is not None:
            if not isinstance(built_with, dict):
                raise _refuse(self, f"{_BUILT_KEY!r} must be a dict of parameters")
            self._built = BuiltNetwork.from_params(built_with)
        if torch_state is None:
            return
        check_saved_state(self, torch_state, built_with)
        if torch_state.get("device_is_torch_device"):
            self.device = torch.device(self.device)
        generator = None
        if "generator" in torch_state:
            generator = torch.Generator()
            generator.set_state(torch.from_numpy(torch_state["generator"].copy()))
            self._generator = generator
        if "module" in torch_state:
            self._restore_net(torch_state, generator)

    def _upgrade_saved_state(self, state: dict, built_with: dict | None) -> None:
        """Fill in, in place, what a model saved by an older version lacks (a parameter added
        since, with the value that gives the behaviour it was trained with), before the saved
        state is checked; the estimators that gained a parameter override this."""

    def _restore_net(self, torch_state: dict, generator) -> None:
        """Rebuild ``net_`` from a saved state, with the configuration it was built with (its
        saved layer sizes, after pruning) on the current ``device`` or the CPU if it is absent."""
        layer_sizes = torch_state["layer_sizes"]
        params = self._built.module_params(layer_sizes)
        net = self._build_net(
            params,
            layer_sizes[0],
            layer_sizes[-1],
            torch_state["batch_size"],
            generator if generator is not None else torch.Generator(),
            loading_device(self.device),
        )
        if generator is not None:
            # Building drew random numbers for an initialization that is about to be overwritten.
            generator.set_state(torch.from_numpy(torch_state["generator"].copy()))
        check_net_state(self, torch_state, net)
        net.module_.load_state_dict(to_torch_tree(torch_state["module"]))
        net.optimizer_.load_state_dict(to_torch_tree(torch_state["optimizer"]))
        for name, callback_state in torch_state.get("callbacks", {}).items():
            callback = net.callback(name)
            if callback is not None:
                callback.load_state_dict(callback_state)
        self.net_ = net
        self._inference = InferenceCopy()
