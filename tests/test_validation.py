"""Validation first: a wrong parameter is refused by scikit-learn's InvalidParameterError before
anything reads it, in all four estimators and in every entry point that trains; elements of
tuples and the results of user callables are checked one by one, naming the parameter; X and y
beyond float32's range are refused with a range error."""

import functools
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)
from sklearn_posnet.pruning import NeuronPruner

ESTIMATORS = [
    PositionalMLPClassifier,
    PositionalMLPRegressor,
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
]


def _small(cls, **params):
    return cls(hidden_layer_sizes=(4,), max_iter=1, random_state=0, **params)


def _every_parameter():
    for cls in ESTIMATORS:
        for name in sorted(cls().get_params()):
            yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


#: Values of the wrong type for every parameter: no parameter takes an arbitrary object, a
#: complex number or a list holding an arbitrary object.
WRONG_TYPES = {"object": object(), "complex": 1j, "list of an object": [object()]}


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:60], y[:60]


def _fit_quietly(estimator, X, y, method="fit"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method == "partial_fit" and hasattr(estimator, "classes_") is False:
            kwargs = {"classes": np.unique(y)} if "Classifier" in type(estimator).__name__ else {}
            return estimator.partial_fit(X, y, **kwargs)
        return getattr(estimator, method)(X, y)


@pytest.mark.parametrize("wrong", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
@pytest.mark.parametrize(("cls", "name"), _every_parameter())
def test_a_parameter_of_the_wrong_type_raises_invalid_parameter_error_on_fit(
    cls, name, wrong, data
):
    X, y = data
    estimator = _small(cls).set_params(**{name: wrong})
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter"):
        _fit_quietly(estimator, X, y)
    assert not hasattr(estimator, "net_")


@pytest.mark.parametrize(("cls", "name"), _every_parameter())
def test_a_parameter_changed_to_the_wrong_type_after_a_fit_is_refused_by_partial_fit(
    cls, name, data
):
    # scikit-learn's _fit_context does not validate a fitted estimator's partial_fit; here the
    # thread policy's work estimate and the training read the parameters on every call.
    X, y = data
    estimator = _fit_quietly(_small(cls, solver="adam"), X, y)
    before = estimator.predict(X)
    estimator.set_params(**{name: object()})
    if name == "solver":  # partial_fit's availability reads the solver: it must not crash
        assert hasattr(estimator, "partial_fit")
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter"):
        estimator.partial_fit(X, y)
    np.testing.assert_array_equal(estimator.predict(X), before)


@pytest.mark.parametrize(
    ("name", "value", "element"),
    [
        ("hidden_layer_sizes", (4, "a"), r"element 1 is 'a'"),
        ("hidden_layer_sizes", [4, 0], r"element 1 is 0"),
        ("hidden_layer_sizes", (4, 2.5), r"element 1 is 2.5"),
        ("hidden_layer_sizes", np.array([3.0]), r"element 0 is .*3\.0"),
        ("hidden_layer_sizes", (True,), r"element 0 is True"),
        ("hidden_spread", (1.0, "wide"), r"element 1 is 'wide'"),
        ("hidden_spread", (1.0, np.inf), r"element 1 is inf"),
        ("hidden_spread", [np.nan], r"element 0 is nan"),
        ("hidden_spread", (1.0, -2.0), r"element 1 is -2.0"),
        ("hidden_spread", (), r"empty tuple"),
        ("input_shape", (8, "8"), r"element 1 is '8'"),
        ("input_shape", (8, 0), r"element 1 is 0"),
        ("callbacks", [object()], r"element 0 is <object"),
        ("callbacks", [("name", object())], r"element 0 is \('name'"),
        ("input_layout", [[0.0, "x"]] * 64, r"converting it to numbers failed"),
        ("output_layout", np.full((10, 2), np.nan), r"NaN or infinity, in row 0"),
        ("output_layout", np.zeros(10), r"shape \(10,\)"),
    ],
)
def test_a_bad_element_of_a_sequence_parameter_is_named(name, value, element, data):
    X, y = data
    estimators = [PositionalMLPClassifier, PositionalMLPRegressor]
    if name in ("hidden_layer_sizes", "callbacks"):
        estimators += [ParticleNetworkClassifier, ParticleNetworkRegressor]
    for cls in estimators:
        estimator = _small(cls).set_params(**{name: value})
        with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter") as error:
            _fit_quietly(estimator, X, y)
        assert re.search(element, str(error.value)), str(error.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("hidden_layer_sizes", ()),
        ("hidden_layer_sizes", np.array([3, 2])),
        ("hidden_layer_sizes", [3]),
        ("hidden_spread", 0.0),
        ("hidden_spread", [1.0, 2.0]),
        ("hidden_spread", np.array([0.5])),
        ("input_shape", (8, 8)),
        ("output_layout", np.zeros((10, 2)).tolist()),
    ],
)
def test_good_sequences_are_accepted(name, value, data):
    X, y = data
    _fit_quietly(_small(PositionalMLPClassifier).set_params(**{name: value}), X, y)


WRONG_FALLOFFS = {
    "float64 for float32": (
        lambda d: (1.0 / (1.0 + d**2)).double(),
        r"for torch.float32 distances it returned a tensor of dtype torch.float64; .*to\(d.dtype\)",
    ),
    "float32 for float64": (
        lambda d: (1.0 / (1.0 + d**2)).float(),
        r"for torch.float64 distances it returned a tensor of dtype torch.float32",
    ),
    "infinite at 0": (
        lambda d: 1.0 / d,
        r"NaN or infinity .* 1 / \(1 \+ d\*\*2\) rather than 1 / d",
    ),
    "NaN": (lambda d: d * np.nan, r"NaN or infinity"),
    "one row": (
        lambda d: torch.exp(-d)[0],
        r"of shape \(3, 2\) it returned a tensor of shape \(2,\)",
    ),
    "a scalar tensor": (lambda d: torch.exp(-d).sum(), r"returned a tensor of shape \(\)"),
}


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", WRONG_FALLOFFS.values(), ids=WRONG_FALLOFFS.keys())
def test_a_wrong_callable_falloff_is_refused_naming_the_parameter_and_the_fix(cls, case, data):
    falloff, problem = case
    X, y = data
    estimator = _small(cls, falloff=falloff)
    with pytest.raises(InvalidParameterError, match=r"The 'falloff' parameter") as error:
        _fit_quietly(estimator, X, y)
    assert re.search(problem, str(error.value)), str(error.value)
    assert not hasattr(estimator, "net_")


RAISING_FALLOFFS = {
    "numpy inside": (lambda d: torch.from_numpy(np.exp(-d.numpy())), RuntimeError),
    "raises": (lambda d: 1 / 0, ZeroDivisionError),
}


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", RAISING_FALLOFFS.values(), ids=RAISING_FALLOFFS.keys())
def test_a_falloff_that_raises_propagates_its_error_with_a_note_naming_the_parameter(
    cls, case, data
):
    falloff, error = case
    X, y = data
    estimator = _small(cls, falloff=falloff)
    with pytest.raises(error) as raised:
        _fit_quietly(estimator, X, y)
    notes = " ".join(getattr(raised.value, "__notes__", []))
    assert "raised by the 'falloff' parameter" in notes
    assert "with torch operations (e.g. lambda d: 1 / (1 + d**2))" in notes
    assert not hasattr(estimator, "net_")


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_a_falloff_right_on_the_probe_but_infinite_in_training_is_named_at_run_time(cls, data):
    # Finite on the validation probe (no distance in (0.6, 0.9) there), infinite where two
    # neurons of consecutive layers are between 0.6 and 0.9 apart (some of 64 x 32 are).
    def falloff(d):
        return torch.where((d > 0.6) & (d < 0.9), torch.full_like(d, np.inf), 1.0 / (1.0 + d**2))

    X, y = data
    with pytest.raises(ValueError, match=r"\(the falloff parameter\) .* NaN or infinity"):
        _fit_quietly(cls((32,), max_iter=1, random_state=0, falloff=falloff), X, y)


def test_the_falloff_run_time_check_refuses_another_dtype_and_non_finite_values():
    from sklearn_posnet.falloff import get_falloff

    wrong_dtype = get_falloff(lambda d: (1.0 / (1.0 + d**2)).double())
    with pytest.raises(TypeError, match=r"dtype torch.float32 it returned a tensor of dtype"):
        wrong_dtype(torch.zeros(2, 2))
    infinite = get_falloff(lambda d: 1.0 / d)
    with pytest.raises(ValueError, match=r"it returned NaN or infinity"):
        infinite(torch.zeros(2, 2))
    finite = get_falloff(lambda d: 1.0 / (1.0 + d))
    assert torch.isfinite(finite(torch.zeros(2, 2))).all()


WRONG_CRITERIA = {
    "a scalar": (lambda e: 1.0, TypeError, r"it returned a float: 1.0"),
    "None": (lambda e: None, TypeError, r"it returned a NoneType"),
    "one bare array": (
        lambda e: np.ones(6),
        TypeError,
        r"one array of shape \(6,\); return a list",
    ),
    "too few layers": (lambda e: [np.ones(6)], ValueError, r"it returned 1 entries"),
    "wrong length": (
        lambda e: [np.ones(6), np.ones(3)],
        ValueError,
        r"entry 1 has shape \(3,\), not \(4,\)",
    ),
    "a matrix": (
        lambda e: [np.ones((6, 2)), np.ones(4)],
        ValueError,
        r"entry 0 has shape \(6, 2\)",
    ),
    "strings": (lambda e: [["a"] * 6, np.ones(4)], TypeError, r"entry 0 is not numbers"),
    "NaN": (lambda e: [np.full(6, np.nan), np.ones(4)], ValueError, r"entry 0 contains NaN"),
}


@pytest.mark.parametrize("case", WRONG_CRITERIA.values(), ids=WRONG_CRITERIA.keys())
def test_a_wrong_pruning_criterion_is_refused_naming_it_and_what_to_return(case, data):
    criterion, error, problem = case
    X, y = data
    estimator = _fit_quietly(PositionalMLPClassifier((6, 4), max_iter=1, random_state=0), X, y)
    with pytest.raises(
        error, match=r"The criterion callable '<lambda>' must return a list of 2"
    ) as raised:
        NeuronPruner(estimator, criterion=criterion, prefit=True).fit(None)
    assert re.search(problem, str(raised.value)), str(raised.value)
    assert "[6, 4]" in str(raised.value)


def test_a_pruning_criterion_of_column_vectors_is_accepted(data):
    X, y = data
    estimator = _fit_quietly(PositionalMLPClassifier((6, 4), max_iter=1, random_state=0), X, y)
    pruner = NeuronPruner(
        estimator,
        amount=2,
        criterion=lambda e: [np.arange(6.0)[:, None], np.arange(4.0)],
        prefit=True,
    ).fit(None)
    assert [len(k) for k in pruner.kept_neurons_] == [5, 3]  # each layer's 0 goes


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_x_beyond_float32_range_is_refused_with_a_range_error(cls, method, data):
    X, y = data
    X = X.copy()
    X[3, 5] = 1e39  # finite in float64, infinite in float32
    estimator = _small(cls)
    with pytest.raises(ValueError, match=r"X holds values up to 1e\+39, beyond float32's range"):
        _fit_quietly(estimator, X, y, method=method)
    assert not hasattr(estimator, "net_")


def test_x_at_the_edge_of_float32_is_not_a_range_error(data):
    X, y = data
    X = X.astype(np.float32)
    X[0, 0] = np.finfo(np.float32).max
    estimator = _small(PositionalMLPClassifier)
    try:
        _fit_quietly(estimator, X, y)
    except ValueError as error:  # it may diverge, but not as out of range
        assert "beyond float32's range" not in str(error)


@pytest.mark.parametrize(
    ("amount", "n_steps", "element"),
    [
        (0.5, [0.2, "x", 0.5], r"its element 1 is 'x'"),
        (0.5, [0.2, [0.3, 0.4]], r"its element 1 is \[0.3, 0.4\]"),
        (4, [1, 2.5, 4], r"its element 1 is 2.5"),
        (0.5, [0.2, np.nan, 0.5], r"its element 1 is nan"),
    ],
)
def test_a_bad_element_of_a_pruning_schedule_is_named(amount, n_steps, element, data):
    X, y = data
    estimator = _fit_quietly(PositionalMLPClassifier((6, 4), max_iter=1, random_state=0), X, y)
    with pytest.raises(ValueError, match=rf"n_steps=.*: a schedule .*{element}"):
        NeuronPruner(estimator, amount=amount, n_steps=n_steps, prefit=True).fit(None)


def _inverse_power(d, power=2.0):
    return 1.0 / (1.0 + d**power)


class _InversePower:
    def __init__(self, power):
        self.power = power

    def __call__(self, d):
        return 1.0 / (1.0 + d**self.power)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "falloff",
    [functools.partial(_inverse_power, power=3.0), _InversePower(3.0)],
    ids=["partial", "callable object"],
)
def test_a_callable_object_falloff_continues_with_warm_start_and_partial_fit(cls, falloff, data):
    # The network's record of its parameters keeps the callable itself: a copy of it would be
    # another object, taken for a changed parameter.
    X, y = data
    estimator = _fit_quietly(_small(cls, falloff=falloff, warm_start=True), X, y)
    _fit_quietly(estimator, X, y)
    estimator.partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "parameters changed since" warning on loading
        loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    loaded.partial_fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_sample_weights_beyond_float32_range_are_refused_with_a_range_error(cls, data):
    X, y = data
    weights = np.ones(len(y))
    weights[7] = 1e39
    estimator = _small(cls)
    with pytest.raises(ValueError, match=r"sample_weight holds values up to 1e\+39, beyond"):
        estimator.fit(X, y, sample_weight=weights)
    assert not hasattr(estimator, "net_")
    fitted = _fit_quietly(estimator, X, y)
    with pytest.raises(ValueError, match=r"sample_weight holds values up to 1e\+39, beyond"):
        fitted.hidden_neuron_sensitivity(X, y, sample_weight=weights)
