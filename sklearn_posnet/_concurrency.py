"""One call at a time changes an estimator: a second thread is refused, not half-served.

A fit builds and trains the estimator's one skorch net, its callbacks and its history; two
threads fitting the same estimator at once would train one network on two data sets and read
each other's half-written history (the symptom was ``KeyError: 'train_loss'``). The methods
that change the fitted network (``fit``, ``partial_fit``, pruning and growing it, and the
sensitivity, which runs a backward pass through it) are therefore :func:`exclusive`: while one
runs, the same estimator called from another thread raises a RuntimeError that says so and
suggests :func:`sklearn.base.clone` (one estimator per thread), as scikit-learn's own
estimators expect.

The record of which estimators are busy lives here, keyed by ``id``, not on the estimator, so
that pickling, :func:`~sklearn.base.clone` and :func:`copy.deepcopy` see nothing of it. A call
made again by the thread that holds the estimator (a callback that calls ``partial_fit``)
goes through, as before.
"""

from __future__ import annotations

import functools
import os
import threading

__all__ = ["exclusive"]

_guard = threading.Lock()
#: ``id(estimator)`` -> (the thread running a call on it, how deep its calls are nested).
_busy: dict[int, tuple[int, int]] = {}


def _forget_in_child() -> None:
    # A forked process has only the thread that forked: no call of another thread runs there,
    # and the lock may have been held by one at the fork.
    global _guard
    _guard = threading.Lock()
    _busy.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _enter(estimator, method_name: str) -> None:
    key, me = id(estimator), threading.get_ident()
    with _guard:
        owner, depth = _busy.get(key, (me, 0))
        if owner != me:
            raise RuntimeError(
                f"This {type(estimator).__name__} is already being fitted or changed in another "
                f"thread; {method_name} cannot run on it at the same time. Give each thread its "
                "own estimator, e.g. sklearn.base.clone(estimator)."
            )
        _busy[key] = (me, depth + 1)


def _leave(estimator) -> None:
    key = id(estimator)
    with _guard:
        owner, depth = _busy[key]
        if depth == 1:
            del _busy[key]
        else:
            _busy[key] = (owner, depth - 1)


def exclusive(method):
    """Decorate an estimator method that changes the estimator: it refuses to run while another
    thread runs an exclusive method on the same estimator (a RuntimeError naming the problem)."""

    @functools.wraps(method)
    def one_at_a_time(self, *args, **kwargs):
        _enter(self, method.__name__)
        try:
            return method(self, *args, **kwargs)
        finally:
            _leave(self)

    return one_at_a_time
