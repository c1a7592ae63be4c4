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


def _reference_per_sample_loss(name, raw, target):
    """Each output's per-sample loss written out with plain torch operations (autograd
    differentiates these), independent of the package's closed forms."""
    if name == "softmax":
        return -(torch.nn.functional.one_hot(target, raw.shape[1]) * raw.log_softmax(1)).sum(1)
    if name == "logistic":
        return (torch.nn.functional.softplus(raw) - target * raw).sum(1)
    if name == "exp":
        return (torch.exp(raw) - target * raw + torch.xlogy(target, target) - target).sum(1)
    return 0.5 * ((raw - target) ** 2).mean(1)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_the_closed_form_gradient_is_the_losss_derivative(name, weighted):
    y = targets(name)
    raw = torch.as_tensor(RAW).requires_grad_()
    target = torch.as_tensor(y, dtype=torch.float64 if name != "softmax" else torch.int64)
    per_sample = _reference_per_sample_loss(name, raw, target)
    weights = torch.as_tensor(WEIGHTS)
    reference = (per_sample * weights).sum() / weights.sum() if weighted else per_sample.mean()
    (expected,) = torch.autograd.grad(reference, raw)
    loss, gradient = output_for(name)().loss_and_gradient(
        raw, (target, weights) if weighted else target
    )
    assert float(loss) == pytest.approx(float(reference.detach()), rel=1e-12)
    np.testing.assert_allclose(gradient.numpy(), expected.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_autograd_through_the_loss_gives_the_closed_form_bit_for_bit(name, weighted):
    """A step differentiated by autograd (``forward``) and one by hand (``loss_and_gradient``)
    see the same gradient over the logits, in float32 as training computes it."""
    y = targets(name)
    raw = torch.as_tensor(RAW, dtype=torch.float32).requires_grad_()
    target = torch.as_tensor(y, dtype=torch.float32 if name != "softmax" else torch.int64)
    if weighted:
        target = (target, torch.as_tensor(WEIGHTS, dtype=torch.float32))
    output = output_for(name)()
    (by_autograd,) = torch.autograd.grad(output(raw, target), raw)
    loss, by_hand = output.loss_and_gradient(raw, target)
    assert by_autograd.dtype == by_hand.dtype == torch.float32
    assert torch.equal(by_autograd, by_hand)
    # The losses are summed in float64: the loss of float32 outputs resolves below float32's ulp.
    assert loss.dtype == torch.float64
    per_sample = output.per_sample_loss(raw.detach(), target[0] if weighted else target)
    assert per_sample.dtype == torch.float32
    assert float(output(raw.detach(), target)) == float(loss)


def test_the_loss_is_not_differentiated_where_no_gradient_is_wanted():
    output = output_for("softmax")()
    raw = torch.as_tensor(RAW).requires_grad_()
    target = torch.as_tensor(targets("softmax"))
    assert output(raw, target).grad_fn is not None
    with torch.no_grad():
        assert output(raw, target).grad_fn is None
    assert output.loss_and_gradient(raw, target, gradient=False)[1] is None


@pytest.mark.parametrize("n_classes", [2, 3, 10, 15, 16, 17, 40])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_log_softmax_of_few_classes_is_torchs(n_classes, dtype):
    from sklearn_posnet._outputs import _log_softmax

    raw = torch.as_tensor(rng.normal(scale=30.0, size=(257, n_classes)), dtype=dtype)
    exact = torch.log_softmax(raw.double(), dim=1)
    ours = _log_softmax(raw)
    assert ours.dtype == dtype and ours.shape == raw.shape
    tolerance = 4 * torch.finfo(dtype).eps
    np.testing.assert_allclose(ours.double().numpy(), exact.numpy(), rtol=tolerance, atol=tolerance)
