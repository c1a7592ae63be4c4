"""The first-order Taylor criterion: hidden_neuron_sensitivity and criterion="taylor"."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner, prune, pruning_curve

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN = (12, 8)


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return {
        "positional": PositionalMLPClassifier(HIDDEN, max_iter=15, random_state=0).fit(X, y),
        "particle": ParticleNetworkClassifier(HIDDEN, max_iter=15, random_state=0).fit(X, y),
    }


def finite_difference_sensitivity(estimator, X, y, layer, neuron, step=1e-4):
    """mean_n |a * dl_n/da| of one positional neuron, by scaling its outgoing weights: the
    output depends on the activation ``a`` only through them, so scaling them by ``1 + e`` is
    scaling ``a``, and ``dl_n/de`` at 0 is ``a * dl_n/da``. In float64 (a float32 weight
    scaled by ``1 + 1e-4`` would be rounded by more than the central difference's error)."""
    X = torch.as_tensor(X, dtype=torch.float64)
    target = torch.as_tensor(np.searchsorted(estimator.classes_, y))
    losses = []
    for sign in (1, -1):
        module = copy.deepcopy(estimator.module_).double()
        with torch.no_grad():
            module.weights[layer + 1][:, neuron] *= 1 + sign * step
            losses.append(F.cross_entropy(module(X), target, reduction="none").numpy())
    return np.mean(np.abs((losses[0] - losses[1]) / (2 * step)))


def test_sensitivity_is_the_mean_per_sample_loss_change_of_scaling_the_neuron(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    sensitivity = estimator.hidden_neuron_sensitivity(X, y)
    assert [s.shape for s in sensitivity] == [(12,), (8,)]
    assert all(s.dtype == np.float64 and (s >= 0).all() for s in sensitivity)
    for layer, neuron in [(0, 0), (0, 7), (1, 3), (1, 5)]:
        expected = finite_difference_sensitivity(estimator, X, y, layer, neuron)
        assert_allclose(sensitivity[layer][neuron], expected, rtol=1e-4, atol=1e-8)


def test_sample_weights_weigh_the_mean_like_repeated_rows(fitted, digits):
    X, y = digits
    estimator = fitted["particle"]
    counts = np.arange(len(y)) % 3  # 0, 1 or 2 copies of each row
    weighted = estimator.hidden_neuron_sensitivity(X, y, sample_weight=counts)
    repeated = estimator.hidden_neuron_sensitivity(np.repeat(X, counts, 0), np.repeat(y, counts))
    for a, b in zip(weighted, repeated, strict=True):
        assert_allclose(a, b, rtol=1e-4)
    with pytest.raises(ValueError, match="non-zero"):
        estimator.hidden_neuron_sensitivity(X, y, sample_weight=np.zeros(len(y)))


def test_sensitivity_leaves_the_estimator_unchanged(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    before = copy.deepcopy(estimator.module_.state_dict())
    gradients = [None if p.grad is None else p.grad.clone() for p in estimator.module_.parameters()]
    proba = estimator.predict_proba(X)
    estimator.hidden_neuron_sensitivity(X, y)
    for name, tensor in estimator.module_.state_dict().items():
        assert torch.equal(tensor, before[name])
    # The parameters' gradients (what the next optimizer step would use) are not touched.
    for parameter, gradient in zip(estimator.module_.parameters(), gradients, strict=True):
        assert (parameter.grad is None) == (gradient is None)
        assert gradient is None or torch.equal(parameter.grad, gradient)
    assert_array_equal(estimator.predict_proba(X), proba)


@pytest.mark.parametrize("name", ["positional", "particle"])
def test_a_neuron_the_output_does_not_depend_on_scores_zero(fitted, digits, name):
    X, y = digits
    estimator = copy.deepcopy(fitted[name])
    module = estimator.module_
    neuron = int(np.argmax(estimator.hidden_neuron_sensitivity(X, y)[0]))  # the most important
    with torch.no_grad():
        if name == "positional":
            module.weights[1][:, neuron] = 0  # no outgoing weights from it
        else:
            module.dipoles[1][neuron] = 0  # no implied weights to or from that particle
    sensitivity = estimator.hidden_neuron_sensitivity(X, y)
    assert sensitivity[0][neuron] == 0
    # The pruner removes it with the other neurons that score 0 (dead ReLUs), and no other.
    n_zero = sum(int((layer == 0).sum()) for layer in sensitivity)
    pruner = NeuronPruner(estimator, amount=n_zero, criterion="taylor", prefit=True).fit(X, y)
    assert neuron not in pruner.kept_neurons_[0]
    for layer, kept in zip(sensitivity, pruner.kept_neurons_, strict=True):
        assert_array_equal(kept, np.flatnonzero(layer > 0))
    assert_allclose(pruner.scores_[0], sensitivity[0])


def test_taylor_ranks_by_the_data_where_weight_magnitude_cannot(fitted, digits):
    # Neuron 2 of the first hidden layer gets by far the largest weights, but only from pixels
    # that are 0 in every image and with a zero bias: on this data its activation is
    # swish(0) = 0, so removing it changes nothing. Weight magnitude keeps it; Taylor removes it.
    X, y = digits
    dead_pixels = np.flatnonzero((X == 0).all(axis=0))
    assert len(dead_pixels) >= 2
    estimator = copy.deepcopy(fitted["positional"])
    module = estimator.module_
    with torch.no_grad():
        module.weights[0][2] = 0
        module.weights[0][2, torch.as_tensor(dead_pixels)] = 50.0
        module.biases[0][2] = 0
        module.weights[1][:, 2] = 50.0
    magnitude = NeuronPruner(estimator, amount=3, prefit=True).fit(None)
    taylor = NeuronPruner(estimator, amount=3, criterion="taylor", prefit=True).fit(X, y)
    assert 2 in magnitude.kept_neurons_[0]
    assert 2 not in taylor.kept_neurons_[0]
    assert taylor.scores_[0][2] == 0


def test_taylor_iterates_and_fine_tunes(fitted, digits):
    X, y = digits
    estimator = fitted["particle"]
    pruner = NeuronPruner(
        estimator, amount=0.5, criterion="taylor", prefit=True, n_steps=[0.25, 0.5],
        fine_tune_epochs=1,
    ).fit(X, y)  # fmt: skip
    assert sum(pruner.estimator_.hidden_layer_sizes) == 10
    assert len(pruner.estimator_.loss_curve_) == len(estimator.loss_curve_) + 2
    curve = pruning_curve(estimator, X, y, [0.25], criterion="taylor", fine_tune_data=(X, y))
    assert curve.n_neurons_removed.tolist() == [5]


def test_taylor_needs_data(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    with pytest.raises(ValueError, match="prune\\(\\) does not take"):
        prune(estimator, 0.3, criterion="taylor")
    with pytest.raises(ValueError, match="fit\\(X, y\\)"):
        NeuronPruner(estimator, criterion="taylor", prefit=True).fit(None)
    with pytest.raises(ValueError, match="fit\\(X, y\\)"):
        pruning_curve(estimator, X, y, [0.25], criterion="taylor")


def test_sensitivity_refuses_what_fit_refuses(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    with pytest.raises(NotFittedError):
        PositionalMLPClassifier().hidden_neuron_sensitivity(X, y)
    with pytest.raises(ValueError, match="features"):
        estimator.hidden_neuron_sensitivity(X[:, :10], y)
    with pytest.raises(ValueError, match="not seen"):
        estimator.hidden_neuron_sensitivity(X, y + 100)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimator.hidden_neuron_sensitivity(X_nan, y)
    with pytest.raises(ValueError, match="Negative values"):
        estimator.hidden_neuron_sensitivity(X, y, sample_weight=-np.ones(len(y)))


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_a_network_without_hidden_layers_has_no_sensitivities(digits, cls):
    X, y = digits
    estimator = cls(hidden_layer_sizes=(), max_iter=2, random_state=0).fit(X, y)
    assert estimator.hidden_neuron_sensitivity(X, y) == []


def test_rows_beyond_one_chunk_average_like_one(fitted, digits):
    # 5,000 rows are scored in two chunks of unequal size; each row 25 times is the same mean.
    X, y = digits
    estimator = fitted["positional"]
    once = estimator.hidden_neuron_sensitivity(X, y)
    repeated = estimator.hidden_neuron_sensitivity(np.tile(X, (25, 1)), np.tile(y, 25))
    weighted = estimator.hidden_neuron_sensitivity(
        np.tile(X, (25, 1)), np.tile(y, 25), sample_weight=np.repeat([1.0, 0.0], [2500, 2500])
    )
    first_half = estimator.hidden_neuron_sensitivity(
        np.tile(X, (25, 1))[:2500], np.tile(y, 25)[:2500]
    )
    for a, b, c, d in zip(once, repeated, weighted, first_half, strict=True):
        assert_allclose(b, a, rtol=1e-5)
        assert_allclose(c, d, rtol=1e-5)
