"""The solvers: torch's optimizers, run eagerly.

Every ``torch.optim`` optimizer guards ``add_param_group``, ``zero_grad``, ``step``,
``state_dict`` and ``load_state_dict`` against ``torch.compile`` with decorators that import
``torch._dynamo`` (and sympy) the first time one of them runs: about a second and a half in
every fresh process (each joblib worker of a grid search, each notebook), for a guard that does
nothing outside compilation. The classes here are torch's own, with those methods calling the
undecorated functions that the decorators wrap (``functools.wraps`` keeps them as
``__wrapped__``); where a future torch keeps no ``__wrapped__``, the decorated method runs,
which is slower to start and otherwise the same. The estimators never compile their networks.

They are subclasses of torch's classes: skorch, torch's learning-rate schedulers and anything
that checks ``isinstance(optimizer, torch.optim.Adam)`` see torch's optimizers, and their
``state_dict`` is torch's.
"""

from __future__ import annotations

import torch

__all__ = ["LBFGS", "SGD", "SOLVERS", "Adam", "RMSprop"]


def _undecorated(method):
    """The function a torch guard decorator wraps, or ``method`` itself."""
    return getattr(method, "__wrapped__", method)


_add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
_zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
_state_dict = _undecorated(torch.optim.Optimizer.state_dict)
_load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)


class _Eager:
    """The optimizer methods without the compile guards (see the module's docstring)."""

    def add_param_group(self, param_group: dict) -> None:
        _add_param_group(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not set_to_none:
            _zero_grad(self, set_to_none)
            return
        # torch's, without its profiler record (a tenth of a small network's step).
        for group in self.param_groups:
            for param in group["params"]:
                param.grad = None

    def state_dict(self) -> dict:
        return _state_dict(self)

    def load_state_dict(self, state_dict: dict) -> None:
        _load_state_dict(self, state_dict)


def _eager_step(torch_class):
    """``torch_class.step`` without its guard, under ``no_grad`` as the guard would run it."""
    step = _undecorated(torch_class.step)

    def eager_step(self, closure=None):
        with torch.no_grad():
            return step(self, closure)

    eager_step.__doc__ = torch_class.step.__doc__
    return eager_step


class Adam(_Eager, torch.optim.Adam):
    """:class:`torch.optim.Adam`, run eagerly."""

    step = _eager_step(torch.optim.Adam)


class SGD(_Eager, torch.optim.SGD):
    """:class:`torch.optim.SGD`, run eagerly."""

    step = _eager_step(torch.optim.SGD)


class RMSprop(_Eager, torch.optim.RMSprop):
    """:class:`torch.optim.RMSprop`, run eagerly."""

    step = _eager_step(torch.optim.RMSprop)


class LBFGS(_Eager, torch.optim.LBFGS):
    """:class:`torch.optim.LBFGS`, run eagerly (its ``step`` has no compile guard: it is
    torch's own)."""


#: The optimizer class of each ``solver``.
SOLVERS = {"adam": Adam, "rmsprop": RMSprop, "sgd": SGD, "lbfgs": LBFGS}
