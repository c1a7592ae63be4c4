"""Bad input gets a clear error, and a diverging fit never leaves a model that predicts garbage.

Every case runs for both classifiers and for :class:`~sklearn_posnet.pruning.NeuronPruner`
(skipped, with a reason, where the pruning module is absent).
"""

import re
import traceback
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_posnet._training as training
from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet._base import _torch_generator

try:
    from sklearn_posnet.pruning import NeuronPruner
except ImportError:  # the pruning module is written separately
    NeuronPruner = None

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

needs_pruner = pytest.mark.skipif(
    NeuronPruner is None, reason="sklearn_posnet.pruning.NeuronPruner is not available"
)


def positional(**params):
    return PositionalMLPClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **params}
    )


def particle(**params):
    return ParticleNetworkClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **params}
    )


def pruner(**params):
    return NeuronPruner(positional(hidden_layer_sizes=(8, 4)), amount=0.25, **params)


FACTORIES = [
    pytest.param(positional, id="positional"),
    pytest.param(particle, id="particle"),
    pytest.param(pruner, id="pruner", marks=needs_pruner),
]


@pytest.fixture(scope="module")
def fitted(digits):
    """One fitted instance per factory, shared by the tests that only predict."""
    X, y = digits
    cache = {}

    def get(factory):
        if factory not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cache[factory] = factory().fit(X, y)
        return cache[factory]

    return get


# --------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize(
    "value, message", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")]
)
def test_nan_or_inf_in_X_is_refused_at_fit_and_predict(factory, value, message, digits, fitted):
    X, y = digits
    X_bad = X.copy()
    X_bad[3, 10] = value
    with pytest.raises(ValueError, match=message):
        factory().fit(X_bad, y)
    with pytest.raises(ValueError, match=message):
        fitted(factory).predict(X_bad)
    with pytest.raises(ValueError, match=message):
        fitted(factory).predict_proba(X_bad)


@pytest.mark.parametrize("factory", FACTORIES)
def test_other_feature_count_at_predict_is_refused(factory, digits, fitted):
    X, _ = digits
    with pytest.raises(ValueError, match=r"X has 10 features, but .* is expecting 64 features"):
        fitted(factory).predict(X[:, :10])


@pytest.mark.parametrize("factory", FACTORIES)
def test_empty_X_is_refused(factory, digits, fitted):
    X, y = digits
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        factory().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        fitted(factory).predict(X[:0])


@pytest.mark.parametrize("factory", FACTORIES)
def test_single_class_is_refused(factory, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="needs samples of at least 2 classes; got 1 class: 'a'"):
        factory().fit(X, np.full(len(X), "a"))


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("dtype", [str, object])
def test_string_and_object_labels_come_back_as_given(factory, dtype, digits, fitted):
    """Labels are only encoded: the same seed on renamed labels makes the same predictions."""
    X, y = digits
    names = np.array([f"digit {d}" for d in range(10)], dtype=dtype)  # sorts like 0..9
    estimator = factory().fit(X, names[y])
    assert estimator.classes_.dtype == names.dtype
    np.testing.assert_array_equal(estimator.classes_, names)
    predicted = estimator.predict(X)
    assert predicted.dtype == names.dtype
    np.testing.assert_array_equal(predicted, names[fitted(factory).predict(X)])
    np.testing.assert_array_equal(estimator.predict_proba(X), fitted(factory).predict_proba(X))


@pytest.mark.parametrize("factory", FACTORIES)
def test_dataframe_feature_names_are_kept_and_checked(factory, digits, fitted):
    pd = pytest.importorskip("pandas")
    X, y = digits
    columns = [f"pixel_{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    estimator = factory().fit(frame, y)
    np.testing.assert_array_equal(estimator.feature_names_in_, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matching names: no warning
        from_frame = estimator.predict_proba(frame)
    np.testing.assert_array_equal(from_frame, fitted(factory).predict_proba(X))

    renamed = frame.rename(columns={"pixel_0": "intensity_0"})
    with pytest.raises(ValueError, match="feature names should match those that were passed"):
        estimator.predict(renamed)
    reordered = frame[columns[::-1]]
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        estimator.predict(reordered)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        estimator.predict(X)


def _frames_from(error: BaseException) -> list[str]:
    return [frame.filename for frame in traceback.extract_tb(error.__traceback__)]


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("format", ["csr", "csc", "coo"])
def test_sparse_X_is_refused_with_a_hint_to_densify(factory, format, digits, fitted):
    X, y = digits
    X_sparse = sp.csr_matrix(X).asformat(format)
    message = "Sparse data was passed .* dense data is required. Use '.toarray\\(\\)'"
    with pytest.raises(TypeError, match=message) as fit_error:
        factory().fit(X_sparse, y)
    with pytest.raises(TypeError, match=message) as predict_error:
        fitted(factory).predict(X_sparse)
    # Refused during validation, before any tensor is made.
    torch_dir = torch.__path__[0]
    for error in (fit_error, predict_error):
        assert not any(name.startswith(torch_dir) for name in _frames_from(error.value))


@pytest.mark.parametrize("factory", FACTORIES)
def test_integer_X_trains_like_its_float_values(factory, digits):
    X, y = digits
    X_int = np.rint(X * 16).astype(np.int64)
    from_int = factory().fit(X_int, y)
    from_float = factory().fit(X_int.astype(np.float64), y)
    np.testing.assert_array_equal(from_int.predict_proba(X_int), from_float.predict_proba(X_int))


@pytest.mark.parametrize("factory", FACTORIES)
def test_float16_X_trains_like_its_float32_values(factory, digits):
    X, y = digits
    X_half = X.astype(np.float16)
    from_half = factory().fit(X_half, y)
    from_single = factory().fit(X_half.astype(np.float32), y)
    probabilities = from_half.predict_proba(X_half)
    assert probabilities.dtype == np.float64
    np.testing.assert_array_equal(probabilities, from_single.predict_proba(X_half))


BAD_PARAMETERS = [
    (
        positional,
        {"alpha": -1.0},
        r"'alpha' parameter of PositionalMLPClassifier must be a float "
        r"in the range \[0.0, inf\)",
    ),
    (
        particle,
        {"alpha": -1.0},
        r"'alpha' parameter of ParticleNetworkClassifier must be a float "
        r"in the range \[0.0, inf\)",
    ),
    (
        positional,
        {"falloff": "cubic"},
        r"'falloff' parameter of PositionalMLPClassifier must be a "
        r"str among \{.*'inverse_square'.*\} or a callable. Got 'cubic'",
    ),
    (
        particle,
        {"falloff": "cubic"},
        r"'falloff' parameter of ParticleNetworkClassifier must be a "
        r"str among \{.*'gaussian'.*\} or a callable. Got 'cubic'",
    ),
    (
        positional,
        {"hidden_layer_sizes": (8, 0)},
        r"'hidden_layer_sizes' parameter of "
        r"PositionalMLPClassifier must be an int >= 1 or a sequence of ints >= 1 .* Got \(8, 0\)",
    ),
    (
        particle,
        {"hidden_layer_sizes": [0]},
        r"'hidden_layer_sizes' parameter of "
        r"ParticleNetworkClassifier must be an int >= 1 or a sequence of ints >= 1 .* Got \[0\]",
    ),
    (positional, {"hidden_layer_sizes": (8.5,)}, r"'hidden_layer_sizes' parameter .* ints >= 1"),
    (
        positional,
        {"hidden_layer_sizes": 0},
        r"'hidden_layer_sizes' parameter of "
        r"PositionalMLPClassifier must be an array-like or an int in the range \[1, inf\)",
    ),
    (
        positional,
        {"position_dim": 0},
        r"'position_dim' parameter of PositionalMLPClassifier must "
        r"be an int in the range \[1, inf\). Got 0",
    ),
    (
        particle,
        {"particle_dim": 0},
        r"'particle_dim' parameter of ParticleNetworkClassifier must "
        r"be an int in the range \[1, inf\). Got 0",
    ),
    (
        positional,
        {"activation": "gelu"},
        r"'activation' parameter of PositionalMLPClassifier must "
        r"be a str among \{.*'relu'.*\}. Got 'gelu'",
    ),
]


@pytest.mark.parametrize(
    "factory, params, message",
    BAD_PARAMETERS,
    ids=[f"{f.__name__}-{next(iter(p))}={next(iter(p.values()))!r}" for f, p, _ in BAD_PARAMETERS],
)
def test_bad_hyperparameters_are_refused_at_fit_naming_the_allowed_values(
    factory, params, message, digits
):
    X, y = digits
    estimator = factory(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=message):
        estimator.fit(X, y)
    assert not hasattr(estimator, "net_")


def test_input_shape_that_does_not_match_the_features_is_refused_at_fit(digits):
    """Checked by the layout code when the network is built: it needs the feature count."""
    X, y = digits
    with pytest.raises(
        ValueError, match=re.escape("input_shape=(7, 7) has 49 pixels, but X has 64")
    ):
        positional(input_shape=(7, 7)).fit(X, y)
    positional(input_shape=(4, 16)).fit(X, y)  # any shape with 64 pixels is fine


@needs_pruner
@pytest.mark.parametrize(
    "params, message",
    [
        ({"amount": -0.1}, r"'amount' parameter of NeuronPruner must be"),
        ({"scope": "network"}, r"'scope' parameter of NeuronPruner must be a str among"),
        ({"estimator__alpha": -1.0}, r"'alpha' parameter of PositionalMLPClassifier must be"),
        ({"estimator__hidden_layer_sizes": (8, 0)}, r"'hidden_layer_sizes' parameter of"),
    ],
)
def test_pruner_refuses_bad_hyperparameters(params, message, digits):
    X, y = digits
    estimator = pruner().set_params(**params)
    with pytest.raises(InvalidParameterError, match=message):
        estimator.fit(X, y)


# --------------------------------------------------------------------------------- divergence
def _assert_finite_model(estimator, X):
    probabilities = estimator.predict_proba(X)
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert all(torch.isfinite(p).all() for p in estimator.module_.parameters())
    assert np.isfinite(estimator.loss_curve_).all()


@pytest.mark.parametrize(
    "factory, params",
    [
        (positional, {"activation": "identity"}),
        (particle, {"activation": "identity", "falloff": "none"}),
    ],
    ids=["positional", "particle"],
)
def test_huge_learning_rate_raises_and_leaves_the_last_finite_model(factory, params, digits):
    X, y = digits
    estimator = factory(solver="sgd", learning_rate_init=1e6, max_iter=20, **params)
    with pytest.raises(ValueError, match=r"Training diverged: the loss became (nan|inf) in epoch"):
        estimator.fit(X, y)
    _assert_finite_model(estimator, X)
    assert len(estimator.loss_curve_) == estimator.n_iter_ > 0


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_huge_learning_rate_never_leaves_garbage(factory, solver, digits):
    """Whether or not the loss overflows (a particle network's weights vanish instead when its
    particles fly apart), the model left behind predicts finite probabilities."""
    X, y = digits
    estimator = factory(solver=solver, learning_rate_init=1e6, max_iter=10)
    try:
        estimator.fit(X, y)
    except ValueError as error:
        assert "Training diverged" in str(error)
    _assert_finite_model(estimator, X)


def _poison_loss_in_epoch(monkeypatch, epoch: int):
    """Make the training loss NaN from the first batch of ``epoch`` (1-based) on."""
    original = training.PosNet.get_loss

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = original(self, y_pred, y_true, X=X, training=training)
        if training and len(self.history) >= epoch:
            loss = loss * float("nan")
        return loss

    monkeypatch.setattr(training.PosNet, "get_loss", get_loss)


@pytest.mark.parametrize("factory", FACTORIES[:2])
def test_divergence_restores_the_end_of_the_last_finite_epoch(factory, digits, monkeypatch):
    """The NaN poisons the weights in the optimizer step; the model is put back to exactly the
    state a fit stopped after epoch 2 has, and can train on (with a fresh optimizer)."""
    X, y = digits
    reference = factory(max_iter=2, batch_size=50).fit(X, y)
    _poison_loss_in_epoch(monkeypatch, epoch=3)
    estimator = factory(max_iter=10, batch_size=50)
    message = (
        "Training diverged: the loss became nan in epoch 3. The parameters from the end "
        "of the last epoch with a finite loss (epoch 2 of this call) were restored"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        estimator.fit(X, y)
    for name, value in reference.module_.state_dict().items():
        torch.testing.assert_close(estimator.module_.state_dict()[name], value, rtol=0, atol=0)
    np.testing.assert_array_equal(estimator.predict_proba(X), reference.predict_proba(X))
    assert estimator.n_iter_ == 2
    assert estimator.loss_curve_ == reference.loss_curve_

    monkeypatch.undo()
    estimator.partial_fit(X, y)
    _assert_finite_model(estimator, X)
    assert estimator.n_iter_ == 1 and len(estimator.loss_curve_) == 3


@pytest.mark.parametrize("factory", FACTORIES[:2])
def test_divergence_in_the_first_epoch_leaves_the_initialization(factory, digits, monkeypatch):
    X, y = digits
    initial = clone(factory(max_iter=1))
    _poison_loss_in_epoch(monkeypatch, epoch=1)
    with pytest.raises(ValueError, match=re.escape("(the start of this call) were restored")):
        initial.fit(X, y)
    assert initial.n_iter_ == 0 and initial.loss_curve_ == [] and initial.loss_ is None
    # The same seed draws the same initialization: rebuild it to compare.
    rebuilt = factory()._build_module(64, 10, _torch_generator(0))
    for name, value in rebuilt.state_dict().items():
        torch.testing.assert_close(initial.module_.state_dict()[name], value, rtol=0, atol=0)
    assert np.isfinite(initial.predict_proba(X)).all()
