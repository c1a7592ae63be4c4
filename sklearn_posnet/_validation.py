"""Checks of parameters and labels that scikit-learn's built-in constraints do not express.

The parameter checks are constraint objects for ``_parameter_constraints``, so that a bad value
raises scikit-learn's :class:`~sklearn.utils._param_validation.InvalidParameterError` when
``fit`` starts, naming the parameter and what it accepts.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Callable, Sequence
from numbers import Integral, Real

import numpy as np
import torch
from sklearn import get_config
from sklearn.utils._param_validation import InvalidParameterError, Options
from sklearn.utils.validation import _check_sample_weight
from skorch.callbacks import Callback

from .falloff import FALLOFFS, Falloff

__all__ = [
    "CALLBACKS",
    "DEVICES",
    "HIDDEN_LAYER_SIZES",
    "HIDDEN_SPREADS",
    "IMAGE_SHAPES",
    "LAYOUT_ARRAYS",
    "CallableFalloff",
    "Satisfying",
    "SequenceOf",
    "check_callable_falloff",
    "check_float32_range",
    "check_label_types",
    "check_training_weights",
    "check_warm_start_classes",
    "validated_every_call",
]


class Satisfying(Options):
    """A parameter constraint given by a predicate, described by ``description``.

    scikit-learn accepts only instances of its own constraint classes in
    ``_parameter_constraints``; this is an :class:`Options` whose test is ``predicate``.
    ``examples`` are valid values (scikit-learn's estimator checks draw one from ``options``).
    """

    def __init__(self, predicate: Callable[[object], bool], description: str, examples: set):
        super().__init__(object, examples)
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, val) -> bool:
        return bool(self.predicate(val))

    def __str__(self) -> str:
        return self.description


def _is_supported_device(value) -> bool:
    if isinstance(value, torch.device):
        return value.type in ("cpu", "cuda") and (value.index is None or value.index >= 0)
    if not isinstance(value, str) or not re.fullmatch(r"cpu(:0)?|cuda(:[0-9]+)?", value):
        return False
    try:
        # torch stores the index in 8 bits: "cuda:1000" would become "cuda:-24".
        return str(torch.device(value)) == value
    except RuntimeError:
        return False


# What the last check of a constraint in this thread found wrong, by id of the constraint:
# scikit-learn composes the error message from str(constraint) after the checks.
_PROBLEMS = threading.local()


class _Explained(Satisfying):
    """A constraint that says, in scikit-learn's own message, what was wrong with the value it
    last refused (``"... must be a tuple of positive ints such as (28, 28) (its element 1 is
    'x' (str), not an int >= 1) or None. Got (8, 'x') instead."``)."""

    def _refuse(self, problem: str) -> bool:
        vars(_PROBLEMS).setdefault("by_id", {})[id(self)] = problem
        return False

    def _accept(self) -> bool:
        vars(_PROBLEMS).setdefault("by_id", {}).pop(id(self), None)
        return True

    def _check(self, val) -> bool:
        raise NotImplementedError

    def is_satisfied_by(self, val) -> bool:
        self._accept()  # forget the previous value's problem
        return self._check(val)

    #: What the constraint accepts, said where a value it refused has a problem to explain
    #: (None: ``description``).
    explained_description: str | None = None

    def __str__(self) -> str:
        problem = vars(_PROBLEMS).get("by_id", {}).get(id(self))
        if problem is None:
            return self.description
        return f"{self.explained_description or self.description} ({problem})"


class SequenceOf(_Explained):
    """A tuple (or, with ``kinds``, a list or 1-D array) whose every element satisfies
    ``element``; scikit-learn's InvalidParameterError for a value of such a kind with a bad
    element names the element's index and its value (it could only repeat the whole value).

    ``scalar`` also accepts a single element in place of the sequence; ``allow_empty`` an
    empty sequence.
    """

    def __init__(
        self,
        name: str,
        element: Callable[[object], bool],
        element_description: str,
        description: str,
        examples: set,
        *,
        kinds: tuple = (tuple,),
        scalar: bool = False,
        allow_empty: bool = False,
        explained_description: str | None = None,
    ):
        super().__init__(element, description, examples)
        self.explained_description = explained_description
        self.name = name
        self.element = element
        self.element_description = element_description
        self.kinds = kinds
        self.scalar = scalar
        self.allow_empty = allow_empty

    def _check(self, val) -> bool:
        if isinstance(val, (str, bytes)):
            return False
        if self.scalar and not isinstance(val, self.kinds) and self.element(val):
            return True
        if not isinstance(val, self.kinds):
            return False
        if isinstance(val, np.ndarray) and val.ndim != 1:
            return self._refuse(f"got an array of shape {val.shape}")
        if len(val) == 0:
            return True if self.allow_empty else self._refuse(f"got an empty {type(val).__name__}")
        for index, item in enumerate(val):
            if not self.element(item):
                return self._refuse(
                    f"its element {index} is {item!r} ({type(item).__name__}), not "
                    f"{self.element_description}"
                )
        return True


def _is_positive_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def _is_finite_non_negative(value) -> bool:
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


#: ``input_shape``: a tuple of positive ints, e.g. ``(28, 28)``.
IMAGE_SHAPES = SequenceOf(
    "input_shape",
    _is_positive_int,
    "an int >= 1",
    "a tuple of positive ints such as (28, 28)",
    {(8, 8)},
)
#: ``hidden_layer_sizes``: an int >= 1, or a sequence of them (one per hidden layer; empty for
#: none, as MLPClassifier allows).
HIDDEN_LAYER_SIZES = SequenceOf(
    "hidden_layer_sizes",
    _is_positive_int,
    "an int >= 1",
    "an array-like or an int in the range [1, inf)",  # scikit-learn's words, as before
    {(10,)},
    kinds=(Sequence, np.ndarray),
    scalar=True,
    allow_empty=True,
    explained_description="an int >= 1 or a sequence of ints >= 1 (one per hidden layer)",
)
#: ``hidden_spread``: a finite float >= 0, or a non-empty sequence of them (per hidden layer).
HIDDEN_SPREADS = SequenceOf(
    "hidden_spread",
    _is_finite_non_negative,
    "a finite number >= 0",
    "a finite number >= 0 or a non-empty tuple of them (one per hidden layer)",
    {1.0, (1.0, 1.5)},
    kinds=(Sequence, np.ndarray),
    scalar=True,
)
#: ``device``: the devices the estimators train on.
DEVICES = Satisfying(
    _is_supported_device, "'cpu', 'cuda', 'cuda:N' or a torch.device of those", {"cpu"}
)


def _is_callback(item) -> bool:
    if isinstance(item, tuple):
        return len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], Callback)
    return isinstance(item, Callback)


#: ``callbacks``: a list of skorch callbacks or (name, callback) pairs.
CALLBACKS = SequenceOf(
    "callbacks",
    _is_callback,
    "a skorch.callbacks.Callback instance or a (name, callback) pair",
    "a list of skorch callbacks (skorch.callbacks.Callback instances) or (name, callback) pairs",
    {None},
    kinds=(list,),
    allow_empty=True,
)


class _LayoutArray(_Explained):
    """A layout given as an array: anything numpy reads as a 2-D array of finite numbers (its
    shape is checked when the network is built, against the neuron count); the message for
    another array-like says what is wrong with it."""

    def __init__(self, name: str):
        super().__init__(object, "an array of positions of shape (n_neurons, position_dim)", set())
        self.name = name

    def _check(self, val) -> bool:
        if isinstance(val, (str, bytes)) or not (
            isinstance(val, (Sequence, np.ndarray)) or hasattr(val, "__array__")
        ):
            return False
        try:
            positions = np.asarray(val, dtype=np.float64)
        except (TypeError, ValueError) as error:
            return self._refuse(f"converting it to numbers failed: {error}")
        if positions.ndim != 2:
            return self._refuse(f"got an array of shape {positions.shape}")
        if not np.isfinite(positions).all():
            row = int(np.argwhere(~np.isfinite(positions))[0][0])
            values = positions[row].tolist()
            return self._refuse(f"it holds NaN or infinity, in row {row}: {values}")
        return True


#: ``input_layout`` and ``output_layout`` given as arrays, by parameter name.
LAYOUT_ARRAYS = {name: _LayoutArray(name) for name in ("input_layout", "output_layout")}


# Distances a callable falloff is tried on (not square, so a transpose shows; 0 included, where
# 1/d-like falloffs are infinite).
_PROBE = [[0.0, 0.5], [1.0, 2.0], [3.0, 10.0]]


_FALLOFF_CONTRACT = (
    "a callable that maps a tensor of distances d >= 0 to a finite tensor of the same shape and "
    "dtype, with torch operations (e.g. lambda d: 1 / (1 + d**2))"
)


def _falloff_problem(falloff) -> str | None:
    """What is wrong with what the callable ``falloff`` returns (None for nothing): it is tried
    on float32 and float64 distances that require a gradient, as training and prediction call
    it. An exception it raises propagates, with a note naming the parameter."""
    for dtype in (torch.float32, torch.float64):
        distances = torch.tensor(_PROBE, dtype=dtype, requires_grad=True)
        try:
            output = falloff(distances)
        except Exception as error:  # the user's own error, told where it came from
            error.add_note(
                f"(raised by the 'falloff' parameter, tried on {dtype} distances {_PROBE}: it "
                f"must be {_FALLOFF_CONTRACT})"
            )
            raise
        if not isinstance(output, torch.Tensor):
            return (
                f"it returned a {type(output).__name__}; return a torch tensor computed from "
                "the distances with torch operations"
            )
        if output.dtype != dtype:
            return (
                f"for {dtype} distances it returned a tensor of dtype {output.dtype}; return "
                "the distances' dtype (compute from d with torch operations, or end with "
                ".to(d.dtype))"
            )
        if output.shape != distances.shape:
            return (
                f"for distances of shape {tuple(distances.shape)} it returned a tensor of shape "
                f"{tuple(output.shape)}; return one value per distance (nothing is broadcast)"
            )
        if not torch.isfinite(output).all():
            return (
                f"it returned NaN or infinity for distances in {_PROBE} (0 included); return "
                "finite values for every distance >= 0, e.g. 1 / (1 + d**2) rather than 1 / d"
            )
    return None


#: ``falloff`` given as a callable. Validation only checks that it is one; what it returns is
#: checked by :func:`check_callable_falloff` when the network is built, under the thread policy
#: of the fit (validation runs before the policy, which needs validated parameters).
CallableFalloff = Satisfying(callable, "a callable", {FALLOFFS["gaussian"]})


def check_callable_falloff(falloff) -> None:
    """Raise an InvalidParameterError saying what the callable ``falloff`` returned and what to
    return, if it does not map float32 and float64 distances to finite tensors of their shape
    and dtype (scikit-learn's message could only say "a callable"); an exception the callable
    raises propagates with a note naming the parameter. Names and :class:`Falloff` objects
    pass."""
    if isinstance(falloff, (str, Falloff)) or not callable(falloff):
        return
    problem = _falloff_problem(falloff)
    if problem is not None:
        raise InvalidParameterError(
            f"The 'falloff' parameter must be one of {sorted(FALLOFFS)} or {_FALLOFF_CONTRACT}; "
            f"the callable {getattr(falloff, '__name__', type(falloff).__name__)!r} does not: "
            f"{problem}."
        )


def check_float32_range(array: np.ndarray, name: str, advice: str) -> None:
    """Raise a ValueError when finite values of ``array`` lie beyond float32's range, in which the
    network trains (they would become infinite there, and training diverge for no visible
    reason); ``advice`` says what to scale and how."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= 4:
        return
    largest = float(np.abs(array).max(initial=0.0))
    if largest > float(np.finfo(np.float32).max):
        raise ValueError(
            f"{name} holds values up to {largest:.3g}, beyond float32's range, in which the "
            f"network trains. {advice}"
        )


def check_training_weights(sample_weight, X) -> np.ndarray:
    """``sample_weight`` for ``X`` as float32 training weights (scikit-learn's checks: one
    finite non-negative weight per row, a scalar for all), refusing weights beyond float32's
    range, which would become infinite there."""
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    check_float32_range(weights, "sample_weight", "Scale the weights (divide them by their mean).")
    return weights.astype(np.float32)


def validated_every_call(method):
    """Validate the parameters on every call of ``method`` (a ``partial_fit``; outside
    ``_fit_context``, which turns validation off for what it wraps).

    scikit-learn's ``_fit_context`` skips validating them when ``partial_fit`` continues a
    fitted estimator (to save the time), and only then does this: this package reads them on
    every call (the thread policy's work estimate, the batch size, the penalty), so a value
    changed by ``set_params`` since is validated before anything reads it. Nothing is done
    under scikit-learn's ``skip_parameter_validation``.
    """

    @functools.wraps(method)
    def validated(self, *args, **kwargs):
        if self.__sklearn_is_fitted__() and not get_config()["skip_parameter_validation"]:
            self._validate_params()
        return method(self, *args, **kwargs)

    return validated


def _label_kind(label) -> str:
    if isinstance(label, str):
        return "str"
    if isinstance(label, (Real, np.number, np.bool_)):
        return "number"
    return type(label).__name__


def check_label_types(labels, name: str = "y") -> None:
    """Raise a ValueError when the labels (an array of objects) cannot be sorted together: all
    must be strings or all numbers (``None`` or a mix of strings and numbers cannot be)."""
    labels = np.asarray(labels)
    if labels.dtype != object:
        return
    kinds = {_label_kind(label) for label in labels.ravel()}
    if len(kinds) > 1 or not kinds <= {"str", "number"}:
        raise ValueError(
            f"The labels of {name} must be all strings or all numbers; got labels of types "
            f"{sorted(kinds)}."
        )


def check_warm_start_classes(classes: np.ndarray, y: np.ndarray) -> None:
    """Raise MLPClassifier's ValueError when a ``warm_start=True`` call (``fit``, or
    ``partial_fit``, as there) gets labels ``y`` whose classes are not exactly ``classes``, the
    fitted ones: a strict subset too, which would train the missing classes' outputs away."""
    found = np.unique(y)
    if set(found.tolist()) != set(np.asarray(classes).tolist()):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in the previous "
            f"call to fit. Previously got {classes}, `y` has {found}"
        )
