"""Warnings name the user's line, through every decorator and helper of the package."""

import inspect
import pickle
import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import NeuronPruner, ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet._warnings import warn_caller


def _caught(call, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, category)]


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_fit_that_did_not_converge_warns_at_the_callers_line(digits, solver):
    X, y = digits
    estimator = PositionalMLPClassifier((8,), solver=solver, max_iter=1, random_state=0)
    line = inspect.currentframe().f_lineno + 1
    caught = _caught(lambda: estimator.fit(X, y), ConvergenceWarning)
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]
    # Through a meta-estimator of the package too: the line that called it.
    pruner = NeuronPruner(ParticleNetworkClassifier((8,), max_iter=1, random_state=0), amount=1)
    caught = _caught(lambda: pruner.fit(X, y), ConvergenceWarning)
    assert caught and {w.filename for w in caught} == {__file__}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_loading_a_model_without_its_gpu_warns_at_the_callers_line(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = PositionalMLPClassifier((8,), max_iter=1, random_state=0).fit(X, y)
    saved = pickle.dumps(estimator.set_params(device="cuda"))
    line = inspect.currentframe().f_lineno + 1
    caught = _caught(lambda: pickle.loads(saved), UserWarning)
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]
    assert "loaded on the CPU" in str(caught[0].message)


def test_warn_caller_skips_only_the_package():
    line = inspect.currentframe().f_lineno + 1
    caught = _caught(lambda: warn_caller("here", RuntimeWarning), RuntimeWarning)
    assert [(w.filename, w.lineno, str(w.message)) for w in caught] == [(__file__, line, "here")]
