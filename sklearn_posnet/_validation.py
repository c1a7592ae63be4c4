"""Checks of parameters and labels that scikit-learn's built-in constraints do not express.

The parameter checks are constraint objects for ``_parameter_constraints``, so that a bad value
raises scikit-learn's :class:`~sklearn.utils._param_validation.InvalidParameterError` when
``fit`` starts, naming the parameter and what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import InvalidParameterError, Options

from .falloff import FALLOFFS, get_falloff

__all__ = ["DEVICES", "IMAGE_SHAPES", "CallableFalloff", "Satisfying", "check_label_types"]


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


def _is_image_shape(value) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) >= 1
        and all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in value)
    )


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


#: ``input_shape``: a tuple of positive ints, e.g. ``(28, 28)``.
IMAGE_SHAPES = Satisfying(_is_image_shape, "a tuple of positive ints such as (28, 28)", {(8, 8)})
#: ``device``: the devices the estimators train on.
DEVICES = Satisfying(
    _is_supported_device, "'cpu', 'cuda', 'cuda:N' or a torch.device of those", {"cpu"}
)

# Squared distances a callable falloff is tried on (not square, so a transpose shows).
_PROBE = torch.tensor([[0.0, 0.25], [1.0, 4.0], [9.0, 100.0]])


class CallableFalloff(Satisfying):
    """A callable falloff: one that maps a tensor of distances to a floating-point tensor of the
    same shape. A callable that does not raises an InvalidParameterError saying what it
    returned (scikit-learn's message could only repeat "a callable")."""

    def __init__(self):
        super().__init__(callable, "a callable", {FALLOFFS["gaussian"]})

    def is_satisfied_by(self, val) -> bool:
        if not callable(val):
            return False
        try:
            get_falloff(val)(_PROBE)
        except (TypeError, ValueError) as error:
            raise InvalidParameterError(
                f"The 'falloff' parameter must be one of {sorted(FALLOFFS)} or a callable that "
                f"maps a tensor of distances to a tensor of the same shape: {error}"
            ) from None
        return True


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
