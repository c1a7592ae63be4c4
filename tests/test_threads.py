"""The thread policy (sklearn_posnet._threads) and the estimators' n_threads."""

import threading

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sklearn_posnet import NeuronPruner, ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet._threads import (
    WORK_PER_THREAD,
    choose_n_threads,
    forward_work,
    intra_op_threads,
)
from sklearn_posnet.nn import _fused, _kernel_calls

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [PositionalMLPClassifier, ParticleNetworkClassifier]


@pytest.fixture
def two_threads():
    """torch on 2 threads during the test (also on a 1-core machine), as found afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(previous)


class ThreadsSeen:
    """A falloff that records torch's thread count each time the network computes with it."""

    def __init__(self, fail=False):
        self.counts = []
        self.fail = fail

    def __call__(self, distance):
        self.counts.append(torch.get_num_threads())
        if self.fail:
            raise RuntimeError("falloff failed")
        return 1.0 / (1.0 + distance**2)

    def __deepcopy__(self, memo):  # copies of the module (prediction makes one) record here too
        return self


def _touch(estimator):
    """Change a bias, so that the next prediction forms the effective weights (and so calls the
    falloff) again instead of reusing those of the last one."""
    with torch.no_grad():
        estimator.module_.biases[-1].add_(1e-3)


def _estimator(cls, falloff, **params):
    return cls((8,), falloff=falloff, max_iter=2, random_state=0, **params)


def test_forward_work_counts_multiply_adds():
    assert forward_work([64, 100, 10], 200) == 200 * (64 * 100 + 100 * 10)
    assert forward_work((784, 128, 10), 0) == 0


@pytest.mark.parametrize(
    "n_threads, work, allowed, expected",
    [
        (None, 0, 8, 1),
        (None, WORK_PER_THREAD - 1, 8, 1),
        (None, 3 * WORK_PER_THREAD, 8, 3),
        (None, 3 * WORK_PER_THREAD, 2, 2),  # never more than allowed
        (-1, 0, 8, 8),
        (-1, 0, 1, 1),
        (4, 0, 8, 4),
        (4, 0, 2, 2),
        (1, 10 * WORK_PER_THREAD, 8, 1),
    ],
)
def test_choose_n_threads(n_threads, work, allowed, expected):
    assert choose_n_threads(n_threads, work, allowed) == expected


def test_the_issues_problems_get_one_thread_and_wide_networks_more():
    # The defaults on the digits (64-100-10, batches of 200), the issue's 784-128-10 with
    # batches of 200, and its prediction in chunks of 8192 rows on two cores.
    assert choose_n_threads(None, forward_work([64, 100, 10], 200), allowed=2) == 1
    assert choose_n_threads(None, forward_work([784, 128, 10], 200), allowed=2) == 1
    assert choose_n_threads(None, forward_work([784, 4096, 4096, 10], 256), allowed=2) == 2
    assert choose_n_threads(None, forward_work([784, 4096, 4096, 10], 256), allowed=16) > 2


def test_allowed_threads_follow_threadpool_limits(two_threads):
    assert choose_n_threads(-1, 0) == 2
    with threadpool_limits(1):
        assert choose_n_threads(-1, 0) == 1
    assert choose_n_threads(-1, 0) == 2


def test_intra_op_threads_restores_the_count_also_after_an_exception(two_threads):
    with intra_op_threads(1) as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == 2
    with pytest.raises(KeyError), intra_op_threads(1):
        raise KeyError
    assert torch.get_num_threads() == 2


def test_torch_threads_are_per_calling_thread(two_threads):
    """What intra_op_threads relies on: setting the count in one thread leaves another's alone,
    so concurrent fits in threads (joblib's threading backend) do not undo each other."""
    inside, entered, release = [], threading.Event(), threading.Event()

    def hold_one_thread():
        with intra_op_threads(1):
            inside.append(torch.get_num_threads())
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=hold_one_thread)
    worker.start()
    entered.wait(10)
    try:
        assert inside == [1]
        assert torch.get_num_threads() == 2
    finally:
        release.set()
        worker.join()
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("n_threads, expected", [(None, 1), (-1, 2), (5, 2)])
def test_fit_and_predict_run_on_the_policys_threads_and_restore_torch(
    cls, n_threads, expected, two_threads, digits
):
    X, y = digits
    falloff = ThreadsSeen()
    clf = _estimator(cls, falloff, n_threads=n_threads).fit(X, y)
    assert falloff.counts and set(falloff.counts) == {expected}
    assert torch.get_num_threads() == 2
    clf.partial_fit(X, y)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        _touch(clf)
        falloff.counts.clear()
        method(X)
        assert falloff.counts and set(falloff.counts) == {expected}
        assert torch.get_num_threads() == 2


def test_threadpool_limits_cap_every_choice(two_threads, digits):
    X, y = digits
    falloff = ThreadsSeen()
    clf = _estimator(PositionalMLPClassifier, falloff, n_threads=-1)
    with threadpool_limits(1):
        clf.fit(X, y).predict(X)
        assert torch.get_num_threads() == 1
    assert set(falloff.counts) == {1}
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_torch_threads_are_restored_after_an_exception(cls, two_threads, digits):
    X, y = digits
    failing = ThreadsSeen(fail=True)
    with pytest.raises(RuntimeError, match="falloff failed"):
        _estimator(cls, failing).fit(X, y)
    assert failing.counts == [1]  # the policy's count was in force when it raised
    assert torch.get_num_threads() == 2

    with pytest.raises(ValueError):
        _estimator(cls, "gaussian").fit(np.full_like(X, np.nan), y)
    assert torch.get_num_threads() == 2
    with pytest.raises(NotFittedError):
        _estimator(cls, "gaussian").predict(X)
    assert torch.get_num_threads() == 2

    clf = _estimator(cls, ThreadsSeen()).fit(X, y)
    with pytest.raises(ValueError):
        clf.predict(X[:, :5])  # wrong number of features
    assert torch.get_num_threads() == 2


def test_the_pruners_paths_run_under_the_policy(two_threads, digits):
    X, y = digits
    falloff = ThreadsSeen()
    pruner = NeuronPruner(
        _estimator(PositionalMLPClassifier, falloff, n_threads=-1), amount=2, fine_tune_epochs=1
    ).fit(X, y)
    for method in (pruner.predict, pruner.predict_proba, pruner.transform):
        method(X)
    assert set(falloff.counts) == {2}
    assert torch.get_num_threads() == 2
    pruner.estimator_.set_params(n_threads=None)
    _touch(pruner.estimator_)
    falloff.counts.clear()
    pruner.transform(X)
    assert set(falloff.counts) == {1}


@pytest.mark.skipif(not _fused.kernels_available(), reason="fused kernels not built")
@pytest.mark.parametrize("n_threads, expected", [(None, 1), (-1, 2)])
def test_the_fused_kernels_get_the_same_thread_count(monkeypatch, two_threads, n_threads, expected):
    kernels, counts = _kernel_calls._kernels, []
    n_head = 4 + 5  # falloff code, scale, l2, distance, then the layer's five arrays

    class Spy:
        def forward(self, *arguments):
            counts.append(arguments[-1])  # the threads argument comes last (see _kernels.c)
            return kernels.forward(*arguments)

        def backward(self, *arguments):
            counts.append(arguments[n_head])  # the threads argument follows the arrays
            return kernels.backward(*arguments)

    monkeypatch.setattr(_kernel_calls, "_kernels", Spy())
    X, y = np.random.default_rng(0).random((60, 30)), np.arange(60) % 3
    clf = PositionalMLPClassifier((16,), max_iter=2, n_threads=n_threads, random_state=0)
    clf.fit(X.astype(np.float32), y)
    assert counts and set(counts) == {expected}


@pytest.mark.parametrize("n_threads", [0, -2, 1.5, "2"])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_n_threads_is_validated(cls, n_threads, digits):
    X, y = digits
    with pytest.raises(InvalidParameterError, match="n_threads"):
        cls(n_threads=n_threads, max_iter=1).fit(X, y)


@pytest.mark.parametrize(
    "cls, params",
    [
        (PositionalMLPClassifier, {}),
        (ParticleNetworkClassifier, {}),
        # The closed-form L2 of plain layers and a particle network's L2 over its implied
        # weights: their values are summed row by row, not by a dot product that splits the sum
        # by thread.
        (PositionalMLPClassifier, {"falloff": "none", "distance_alpha": 0.0}),
        (PositionalMLPClassifier, {"falloff": "none", "distance_alpha": 0.01}),
        (ParticleNetworkClassifier, {"alpha": 1e-3}),
    ],
    ids=["positional", "particle", "plain", "plain-distance", "particle-l2"],
)
def test_results_do_not_depend_on_the_thread_count(cls, params, two_threads):
    # Large enough that the fused kernels (64k connections) and torch split their work.
    rng = np.random.default_rng(0)
    X, y = rng.random((400, 300)), rng.integers(0, 3, 400)
    fits = [
        cls((256,), max_iter=2, random_state=0, n_threads=n, **params).fit(X, y) for n in (1, 2)
    ]
    np.testing.assert_array_equal(fits[0].loss_curve_, fits[1].loss_curve_)
    for n in (1, 2):
        fits[0].set_params(n_threads=n)
        np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
