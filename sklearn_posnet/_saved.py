"""What a callback keeps in a saved model, declared once per callback.

A saved model keeps a callback's state as builtins and numpy arrays (so that loading it needs no
pickled class of ours, see :mod:`sklearn_posnet._persistence`). A callback that has such state
derives from :class:`SavedFields` and lists, in ``saved_fields``, each saved key with the
attribute it comes from and the conversion that makes it plain; ``state_dict`` and
``load_state_dict`` are the same two loops for every callback, and adding a saved field is one
line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, NamedTuple

__all__ = ["REQUIRED", "Field", "SavedFields", "floats", "frames", "optional"]


#: The ``absent_value`` of a key that every saved model has.
REQUIRED = object()


class Field(NamedTuple):
    """One saved key: the callback's ``attribute``, the ``convert`` function applied both when
    saving and when loading, and the value it takes where a model saved before the field
    existed lacks the key (:data:`REQUIRED`: every saved model has it)."""

    attribute: str
    convert: Callable
    absent_value: object = REQUIRED


def floats(values) -> list[float]:
    """A list of Python floats."""
    return [float(value) for value in values]


def frames(values) -> list[list]:
    """A list of frames, each a list (of a recording's per-layer numpy arrays)."""
    return [list(frame) for frame in values]


def optional(convert: Callable) -> Callable:
    """``convert``, except that None stays None."""

    def convert_or_none(value):
        return None if value is None else convert(value)

    return convert_or_none


class SavedFields:
    """Mixin giving a callback ``state_dict`` and ``load_state_dict`` from ``saved_fields``.

    Attributes
    ----------
    saved_fields : dict of str to Field
        The saved keys, in the order they are written.
    """

    saved_fields: ClassVar[dict[str, Field]] = {}

    def state_dict(self) -> dict:
        """The saved fields, as builtins and numpy arrays."""
        return {
            key: field.convert(getattr(self, field.attribute))
            for key, field in self.saved_fields.items()
        }

    def load_state_dict(self, state: dict) -> None:
        """Set the attributes from ``state``, as :meth:`state_dict` returned it."""
        for key, field in self.saved_fields.items():
            if key in state or field.absent_value is REQUIRED:
                value = state[key]
            else:
                value = field.absent_value
            setattr(self, field.attribute, field.convert(value))
