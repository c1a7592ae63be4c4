"""The output layers' losses are scikit-learn's, value for value, with and without weights."""

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax
from sklearn.neural_network._base import LOSS_FUNCTIONS

from sklearn_posnet._outputs import OUTPUTS, output_for

rng = np.random.default_rng(0)
RAW = rng.normal(size=(40, 3))
WEIGHTS = rng.uniform(0.1, 3.0, size=40)


def targets(name):
    if name == "softmax":
        return rng.integers(0, 3, size=40)
    if name == "logistic":
        return rng.integers(0, 2, size=(40, 3)).astype(float)
    if name == "exp":
        return rng.poisson(2.0, size=(40, 3)).astype(float)
    return rng.normal(size=(40, 3))


def sklearn_loss(name, y, raw, weights):
    """The loss MLPClassifier and MLPRegressor compute for the same raw outputs."""
    if name == "softmax":
        return LOSS_FUNCTIONS["log_loss"](np.eye(3)[y], softmax(raw, axis=1), weights)
    if name == "logistic":
        return LOSS_FUNCTIONS["binary_log_loss"](y, expit(raw), weights)
    if name == "exp":
        return LOSS_FUNCTIONS["poisson"](y, np.exp(raw), weights)
    return LOSS_FUNCTIONS["squared_error"](y, raw, weights)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_losses_are_scikit_learns(name, weighted):
    y = targets(name)
    output = output_for(name)()
    raw = torch.as_tensor(RAW)
    target = torch.as_tensor(y, dtype=torch.float64 if name != "softmax" else torch.int64)
    weights = WEIGHTS if weighted else None
    if weighted:
        target = (target, torch.as_tensor(WEIGHTS))
    ours = float(output(raw, target))
    assert ours == pytest.approx(sklearn_loss(name, y, RAW, weights), rel=1e-12)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_integer_weights_are_repeated_rows(name):
    y = targets(name)
    output = output_for(name)()
    counts = rng.integers(0, 4, size=40)
    counts[0] = 1
    dtype = torch.float64 if name != "softmax" else torch.int64
    weighted = output(
        torch.as_tensor(RAW),
        (torch.as_tensor(y, dtype=dtype), torch.as_tensor(counts, dtype=torch.float64)),
    )
    rows = np.repeat(np.arange(40), counts)
    repeated = output(torch.as_tensor(RAW[rows]), torch.as_tensor(y[rows], dtype=dtype))
    assert float(weighted) == pytest.approx(float(repeated), rel=1e-12)


def test_validation_scores_are_accuracy_and_r2():
    from sklearn.metrics import accuracy_score, r2_score

    y = targets("identity")
    assert output_for("identity")().score(torch.as_tensor(RAW), torch.as_tensor(y)) == (
        pytest.approx(r2_score(y, RAW))
    )
    labels = targets("softmax")
    assert output_for("softmax")().score(torch.as_tensor(RAW), torch.as_tensor(labels)) == (
        pytest.approx(accuracy_score(labels, RAW.argmax(axis=1)))
    )
    indicator = targets("logistic")
    assert output_for("logistic")().score(torch.as_tensor(RAW), torch.as_tensor(indicator)) == (
        pytest.approx(accuracy_score(indicator, (RAW > 0).astype(float)))
    )
