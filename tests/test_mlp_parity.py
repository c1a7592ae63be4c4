"""Where the estimators match MLPClassifier and MLPRegressor by design: warm starts on other
classes, float32 outputs for float32 input, and the positional arguments of the constructor,
fit, partial_fit and score, in all four estimators."""

import inspect
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)

CLASSIFIERS = [PositionalMLPClassifier, ParticleNetworkClassifier]
REGRESSORS = [PositionalMLPRegressor, ParticleNetworkRegressor]


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call(*args, **kwargs)


@pytest.fixture(scope="module")
def three_classes(digits):
    X, y = digits
    keep = y < 3
    return X[keep], y[keep]


def _warm_start_message(previous, found):
    return re.escape(
        "warm_start can only be used where `y` has the same classes as in the previous call to "
        f"fit. Previously got {np.asarray(previous)}, `y` has {np.asarray(found)}"
    )


@pytest.mark.parametrize("cls", [*CLASSIFIERS, MLPClassifier])
@pytest.mark.parametrize(
    "labels", [[0, 1], [0, 1, 2, 3], [0, 1, 3]], ids=["subset", "superset", "other"]
)
def test_a_warm_start_on_other_classes_is_refused_as_by_mlpclassifier(cls, labels, three_classes):
    X, y = three_classes
    estimator = _quiet(cls(hidden_layer_sizes=(4,), max_iter=2, warm_start=True).fit, X, y)
    # labels cycled over the samples: the classes of the new y are exactly ``labels``
    y_other = np.asarray(labels)[np.arange(len(y)) % len(labels)]
    with pytest.raises(ValueError, match=_warm_start_message([0, 1, 2], labels)):
        estimator.fit(X, y_other)
    with pytest.raises(ValueError, match=_warm_start_message([0, 1, 2], labels)):
        estimator.partial_fit(X, y_other)


@pytest.mark.parametrize("cls", [*CLASSIFIERS, MLPClassifier])
def test_string_labels_in_the_warm_start_message(cls, three_classes):
    X, y = three_classes
    names = np.array(["a", "b", "c"])
    estimator = _quiet(cls(hidden_layer_sizes=(4,), max_iter=2, warm_start=True).fit, X, names[y])
    subset = names[np.arange(len(y)) % 2]
    with pytest.raises(ValueError, match=_warm_start_message(names, names[:2])):
        estimator.fit(X, subset)


@pytest.mark.parametrize("cls", [*CLASSIFIERS, MLPClassifier])
def test_a_first_partial_fit_with_warm_start_needs_every_class_as_in_mlpclassifier(
    cls, three_classes
):
    X, y = three_classes
    subset = y < 2
    with pytest.raises(ValueError, match=_warm_start_message([0, 1, 2], [0, 1])):
        cls(hidden_layer_sizes=(4,), warm_start=True).partial_fit(
            X[subset], y[subset], classes=[0, 1, 2]
        )


@pytest.mark.parametrize("cls", [*CLASSIFIERS, MLPClassifier])
def test_without_warm_start_partial_fit_takes_a_subset_and_refit_takes_new_classes(
    cls, three_classes
):
    X, y = three_classes
    subset = y < 2
    estimator = cls(hidden_layer_sizes=(4,), random_state=0)
    estimator.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X[subset], y[subset])
    assert list(estimator.classes_) == [0, 1, 2]
    _quiet(estimator.set_params(max_iter=2).fit, X[subset], y[subset])  # a new network
    assert list(estimator.classes_) == [0, 1]
    warm = _quiet(cls(hidden_layer_sizes=(4,), max_iter=2, warm_start=True).fit, X, y)
    _quiet(warm.fit, X, y)  # the same classes: continues


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_float32_input_gives_float32_probabilities(cls, three_classes):
    X, y = three_classes
    estimator = _quiet(cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit, X, y)
    X32 = X.astype(np.float32)
    proba32, proba64 = estimator.predict_proba(X32), estimator.predict_proba(X)
    log32, log64 = estimator.predict_log_proba(X32), estimator.predict_log_proba(X)
    assert proba32.dtype == np.float32 and log32.dtype == np.float32
    assert proba64.dtype == np.float64 and log64.dtype == np.float64
    np.testing.assert_allclose(proba32, proba64, rtol=1e-5, atol=1e-7)
    # as scikit-learn checks (check_classifiers_train): log_proba agrees with log(proba)
    np.testing.assert_allclose(log32, np.log(proba32), rtol=1e-5, atol=1e-9)
    np.testing.assert_array_equal(estimator.predict(X32), estimator.predict(X))


def test_float32_multilabel_probabilities(digits):
    X, y = digits
    Y = np.stack([y % 2, y > 4], axis=1).astype(int)
    for cls in CLASSIFIERS:
        estimator = _quiet(cls(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit, X, Y)
        assert estimator.predict_proba(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_float32_input_gives_float32_regression_predictions(cls, loss, digits):
    X, y = digits
    estimator = _quiet(
        cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0, loss=loss).fit, X, y / 9
    )
    pred32 = estimator.predict(X.astype(np.float32))
    assert pred32.dtype == np.float32
    assert estimator.predict(X).dtype == np.float64
    np.testing.assert_allclose(pred32, estimator.predict(X), rtol=1e-5, atol=1e-6)


def _positional(signature):
    return [
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind == parameter.POSITIONAL_OR_KEYWORD and name != "self"
    ]


@pytest.mark.parametrize("cls", CLASSIFIERS)
@pytest.mark.parametrize("method", ["__init__", "fit", "partial_fit", "score", "predict"])
def test_classifier_methods_take_mlpclassifiers_positional_arguments(cls, method):
    ours = _positional(inspect.signature(getattr(cls, method)))
    theirs = _positional(inspect.signature(getattr(MLPClassifier, method)))
    assert ours == theirs


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit", "score", "predict"])
def test_regressor_methods_take_mlpregressors_positional_arguments(cls, method):
    ours = _positional(inspect.signature(getattr(cls, method)))
    theirs = _positional(inspect.signature(getattr(MLPRegressor, method)))
    assert ours == theirs


@pytest.mark.parametrize("cls", [*CLASSIFIERS, *REGRESSORS])
def test_activation_is_the_second_positional_argument(cls, digits):
    X, y = digits
    estimator = cls((4,), "tanh", max_iter=1, random_state=0)
    assert estimator.get_params()["activation"] == "tanh"
    assert estimator.get_params()["hidden_layer_sizes"] == (4,)
    _quiet(estimator.fit, X, y)
    with pytest.raises(TypeError):
        cls((4,), "tanh", "adam")  # the rest are keyword-only, as in MLPClassifier


def test_the_regressors_keep_hidden_layer_sizes_first():
    # MLPRegressor's first positional argument is loss; ours is hidden_layer_sizes, as in the
    # classifiers (the parity table in the user guide says so).
    assert _positional(inspect.signature(PositionalMLPRegressor.__init__)) == [
        "hidden_layer_sizes",
        "activation",
    ]
    assert _positional(inspect.signature(MLPRegressor.__init__))[0] == "loss"
