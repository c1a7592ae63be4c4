"""One estimator changed from two threads at once: the second call is refused with a clear
RuntimeError (not a KeyError from a half-written history), the first completes, and the guard
leaves pickling, clone and deepcopy alone."""

import copy
import multiprocessing
import os
import pickle
import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)
from sklearn_posnet._concurrency import exclusive

ESTIMATORS = [
    PositionalMLPClassifier,
    PositionalMLPRegressor,
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
]


def _run_together(first, second):
    """Start ``first`` in a thread, run ``second`` in another while ``first`` is inside the
    estimator, and return what each raised (None for nothing)."""
    started, results = threading.Event(), {}

    def run(name, call):
        try:
            call(started)
            results[name] = None
        except Exception as error:  # reported to the test
            results[name] = error

    one = threading.Thread(target=run, args=("first", first))
    one.start()
    assert started.wait(20), "the first call never started"
    two = threading.Thread(target=run, args=("second", second))
    two.start()
    two.join(60)
    one.join(60)
    return results["first"], results["second"]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("second_call", ["fit", "partial_fit"])
def test_a_second_thread_is_refused_while_one_fits(cls, second_call, digits):
    X, y = digits
    y = y.astype(float) if "Regressor" in cls.__name__ else y

    release, events = threading.Event(), {}

    class Hold(Callback):
        # Holds the events in the closure: the estimator deep-copies its callbacks.
        def on_epoch_begin(self, net, **kwargs):
            events["started"].set()
            assert release.wait(10)

    estimator = cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0)

    def first(started):
        events["started"] = started
        estimator.set_params(callbacks=[("hold", Hold())])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)

    def second(started):
        try:
            classifier = "Classifier" in cls.__name__
            kwargs = (
                {"classes": np.unique(y)} if second_call == "partial_fit" and classifier else {}
            )
            getattr(estimator, second_call)(X, y, **kwargs)
        finally:
            release.set()

    first_error, second_error = _run_together(first, second)
    assert first_error is None
    assert isinstance(second_error, RuntimeError)
    message = str(second_error)
    assert f"This {cls.__name__} is already being fitted or changed in another thread" in message
    assert f"{second_call} cannot run" in message
    assert "clone" in message
    assert estimator.n_iter_ == 2  # the first fit ran to its end, undisturbed
    # and the estimator is free again
    estimator.set_params(callbacks=None, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)


def test_two_threads_fitting_clones_both_succeed(digits):
    X, y = digits
    estimators = [PositionalMLPClassifier((8,), max_iter=3, random_state=0) for _ in range(2)]
    errors = []

    def fit(estimator):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X, y)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=fit, args=(e,)) for e in estimators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    np.testing.assert_array_equal(estimators[0].predict_proba(X), estimators[1].predict_proba(X))


def test_the_guard_allows_a_call_again_from_the_same_thread():
    class Thing:
        @exclusive
        def outer(self):
            return self.inner()

        @exclusive
        def inner(self):
            return 42

    assert Thing().outer() == 42


def test_the_guard_is_released_when_the_call_raises(digits):
    X, y = digits
    estimator = PositionalMLPClassifier((8,), max_iter=1, random_state=0)
    with pytest.raises(ValueError):
        estimator.fit(X, y[:10])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)  # not "already being fitted"


def test_pickle_clone_and_deepcopy_are_unaffected(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = PositionalMLPClassifier((8,), max_iter=1, random_state=0).fit(X, y)
    for copied in (pickle.loads(pickle.dumps(estimator)), copy.deepcopy(estimator)):
        np.testing.assert_array_equal(copied.predict_proba(X), estimator.predict_proba(X))
    assert clone(estimator).get_params() == estimator.get_params()
    assert not any("lock" in name.lower() or "busy" in name.lower() for name in vars(estimator))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_may_fit_an_estimator_its_parent_was_fitting(digits):
    # The child has no other thread: the parent's running fit must not lock it out.
    X, y = digits
    release, started = threading.Event(), threading.Event()

    class Hold(Callback):
        def on_epoch_begin(self, net, **kwargs):
            started.set()
            assert release.wait(30)

    estimator = PositionalMLPClassifier((8,), max_iter=1, random_state=0, callbacks=[Hold()])

    def fit_in_child(queue):
        try:
            _quiet_fit(estimator.set_params(callbacks=None), X, y)
            queue.put("fitted")
        except Exception as error:  # reported to the parent
            queue.put(repr(error))

    thread = threading.Thread(target=_quiet_fit, args=(estimator, X, y))
    thread.start()
    try:
        assert started.wait(30)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=fit_in_child, args=(queue,))
        child.start()
        result = queue.get(timeout=60)
        child.join(60)
    finally:
        release.set()
        thread.join(60)
    assert result == "fitted"


def _quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
