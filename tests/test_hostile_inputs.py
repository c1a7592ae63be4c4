"""Inputs a hostile user might pass: views with negative strides, finite values of any
magnitude, parameters of the wrong kind, labels of mixed types.

Each case runs for both classifiers, and for :class:`~sklearn_posnet.pruning.NeuronPruner`
where it accepts the same input.
"""

import copy
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.nn._extended_range import extended_range_forward
from sklearn_posnet.nn.activations import ACTIVATIONS
from sklearn_posnet.pruning import NeuronPruner

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # scikit-learn's finiteness check sums X first, which overflows for values near 1e308.
    pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning"),
]


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
    pytest.param(pruner, id="pruner"),
]


# ------------------------------------------------------------------- negative strides (views)
VIEWS = {  # (X, y) -> views of both, with the same rows
    "rows reversed": lambda X, y: (X[::-1], y[::-1]),
    "columns flipped": lambda X, y: (np.flip(X, 1), y),
    "both, every other row": lambda X, y: (X[::-2, ::-1], y[::-2]),
}


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_views_with_negative_strides_act_like_their_contiguous_copies(factory, view, digits):
    """As in MLPClassifier: a view is data like any other, in fit, predict and transform."""
    X, y = digits
    X_view, y_view = view(X, y)
    assert any(stride < 0 for stride in X_view.strides)
    from_view = factory().fit(X_view, y_view)
    from_copy = factory().fit(np.ascontiguousarray(X_view), np.ascontiguousarray(y_view))
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(from_copy, method):
            np.testing.assert_array_equal(
                getattr(from_view, method)(X_view),
                getattr(from_copy, method)(np.ascontiguousarray(X_view)),
            )
    if hasattr(from_view, "partial_fit"):
        from_view.partial_fit(X_view, y_view)
        from_copy.partial_fit(np.ascontiguousarray(X_view), np.ascontiguousarray(y_view))
        np.testing.assert_array_equal(from_view.predict_proba(X), from_copy.predict_proba(X))


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_select_hidden_neurons_takes_indices_with_negative_strides(factory, digits):
    X, y = digits
    module = factory(hidden_layer_sizes=(8, 6)).fit(X, y).module_
    copied = [np.array([5, 2, 0]), np.array([4, 1])]
    reversed_view = [np.array([0, 2, 5])[::-1], np.array([1, 4])[::-1]]
    expected = [w.detach().clone() for w in _pruned(module, copied).effective_weights()]
    got = _pruned(module, reversed_view).effective_weights()
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a.detach(), b, rtol=0, atol=0)


def _pruned(module, keep):
    module = copy.deepcopy(module)
    module.select_hidden_neurons(keep)
    return module


# ------------------------------------------------------------- finite inputs of any magnitude
ACTIVATION_NAMES = ["relu", "tanh", "logistic", "identity", "swish"]
MODELS = {"positional": positional, "particle": particle}
FLOAT64_MAX = np.finfo(np.float64).max
FLOAT32_MAX = np.finfo(np.float32).max


@pytest.fixture(scope="module")
def fitted_by_activation(digits):
    """Both models, each activation, with two hidden layers and with none, fitted once."""
    X, y = digits
    cache = {}

    def get(kind, activation, hidden=(8, 4)):
        key = (kind, activation, hidden)
        if key not in cache:
            cache[key] = MODELS[kind](activation=activation, hidden_layer_sizes=hidden).fit(X, y)
        return cache[key]

    return get


def _assert_probabilities(estimator, X):
    probabilities = estimator.predict_proba(X)
    assert np.isfinite(probabilities).all() and (probabilities >= 0).all()
    # float32 X gives float32 probabilities (as scikit-learn's), exact to their precision
    assert probabilities.dtype == np.asarray(X).dtype
    rtol = 1e-12 if probabilities.dtype == np.float64 else 4 * np.finfo(np.float32).eps
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=rtol)
    np.testing.assert_array_equal(
        estimator.predict(X), estimator.classes_[probabilities.argmax(axis=1)]
    )
    assert not np.isnan(estimator.predict_log_proba(X)).any()
    return probabilities


def _huge_rows(n_features, rng):
    """Rows at the top of the float64 range: one value, both signs, and random directions."""
    signs = rng.choice([-1.0, 1.0], size=(4, n_features))
    return np.vstack(
        [
            np.full((1, n_features), 1e308),
            np.full((1, n_features), -1e308),
            np.full((1, n_features), FLOAT64_MAX),
            signs * 1e308,
            signs * FLOAT64_MAX * rng.uniform(0.5, 1.0, size=(4, n_features)),
            rng.normal(size=(4, n_features)) * 1e300,
        ]
    )


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("hidden", [(8, 4), ()], ids=["two hidden layers", "no hidden layer"])
def test_huge_finite_inputs_give_finite_probabilities(
    kind, activation, hidden, fitted_by_activation
):
    estimator = fitted_by_activation(kind, activation, hidden)
    rng = np.random.default_rng(0)
    X = _huge_rows(estimator.n_features_in_, rng)
    _assert_probabilities(estimator, X)
    near_float32_max = np.sign(X) * FLOAT32_MAX * rng.uniform(0.9, 1.0, size=X.shape)
    _assert_probabilities(estimator, near_float32_max.astype(np.float32))


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_probabilities_far_out_continue_those_just_inside_the_float64_range(
    kind, activation, fitted_by_activation
):
    """Beyond the float64 range, the answer is the one the network's formula gives: there the
    biases no longer count and every activation is saturated or linear, so scaling a direction
    from 1e290 up to 1e308 changes nothing (1e290 computes without overflow)."""
    estimator = fitted_by_activation(kind, activation)
    directions = np.random.default_rng(1).normal(size=(20, estimator.n_features_in_))
    directions /= np.abs(directions).max(axis=1, keepdims=True)
    inside = _assert_probabilities(estimator, directions * 1e290)
    outside = _assert_probabilities(estimator, directions * 1e308)
    np.testing.assert_allclose(outside, inside, rtol=1e-9, atol=1e-12)


@st.composite
def finite_inputs(draw, n_features):
    """Rows of finite values over the whole float64 (or float32) range: arbitrary mixtures, or
    random directions scaled by a power of ten from 1e-300 to 1e308."""
    n_rows = draw(st.integers(1, 4))
    if draw(st.booleans()):
        dtype = draw(st.sampled_from([np.float64, np.float32]))
        elements = st.floats(width=np.finfo(dtype).bits, allow_nan=False, allow_infinity=False)
        return draw(arrays(dtype, (n_rows, n_features), elements=elements))
    directions = draw(arrays(np.float64, (n_rows, n_features), elements=st.floats(-1.0, 1.0)))
    # Half of the magnitudes near the top, where a plain float64 forward pass overflows.
    exponent = draw(st.one_of(st.integers(-300, 308), st.integers(295, 308)))
    return directions * 10.0**exponent


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    kind=st.sampled_from(sorted(MODELS)),
    activation=st.sampled_from(ACTIVATION_NAMES),
)
def test_probabilities_of_finite_inputs_are_finite_and_sum_to_one(
    data, kind, activation, fitted_by_activation
):
    estimator = fitted_by_activation(kind, activation)
    X = data.draw(finite_inputs(estimator.n_features_in_), label="X")
    probabilities = _assert_probabilities(estimator, X)
    assert probabilities.shape == (len(X), len(estimator.classes_))


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_extended_range_forward_equals_the_plain_one_where_nothing_overflows(
    kind, activation, fitted_by_activation, digits
):
    module = copy.deepcopy(fitted_by_activation(kind, activation).module_).double()
    X = np.vstack([digits[0][:50], digits[0][50:60] * 1e100, digits[0][60:70] * 1e-100])
    with torch.no_grad():
        logits = module(torch.from_numpy(X)).numpy()
        features = module.features(torch.from_numpy(X)).numpy()
    shifted = logits - logits.max(axis=1, keepdims=True)
    error = np.abs(extended_range_forward(module, X) - shifted)
    # Rows of 1e100 have logits of about 1e100: compare each row at its own scale.
    assert (error <= 1e-10 * np.abs(logits).max(axis=1, keepdims=True)).all()
    np.testing.assert_allclose(
        extended_range_forward(module, X, features=True), features, rtol=1e-10, atol=1e-300
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_is_bounded_or_grows_like_its_input_beyond_float64(name):
    """What the extended-range forward pass assumes of an activation at the largest float."""
    activation = ACTIVATIONS[name]
    for sign in (1.0, -1.0):
        at_largest = activation(torch.tensor(sign * FLOAT64_MAX, dtype=torch.float64)).item()
        far = torch.tensor(sign * 1e300, dtype=torch.float64)
        if abs(at_largest) == FLOAT64_MAX:
            assert at_largest == sign * FLOAT64_MAX
            assert activation(far).item() == far.item()
        else:
            assert abs(at_largest) <= 1.0
            assert activation(far).item() == at_largest


# ---------------------------------------------------------------- parameters of the wrong kind
@pytest.mark.parametrize(
    "input_shape",
    [(-2, -2), (-8, -8), (0, 64), (8.0, 8.0), ("a", "b"), (True, 64), (), (8, None)],
)
def test_input_shape_must_be_a_tuple_of_positive_ints(input_shape, digits):
    X, y = digits
    estimator = positional(input_shape=input_shape)
    with pytest.raises(
        InvalidParameterError,
        match=r"'input_shape' parameter of PositionalMLPClassifier must be a tuple of "
        r"positive ints .* or None\. Got",
    ):
        estimator.fit(X, y)
    assert not hasattr(estimator, "net_")


def test_input_shape_of_numpy_ints_is_accepted(digits):
    X, y = digits
    positional(input_shape=(np.int64(8), np.int64(8))).fit(X, y)


WRONG_FALLOFFS = {
    "a scalar tensor": (lambda d: torch.exp(-d).mean(), r"returned a tensor of shape \(\)"),
    "one row": (lambda d: torch.exp(-d)[:1], r"returned a tensor of shape \(1, 2\)"),
    "transposed": (lambda d: torch.exp(-d).T, r"returned a tensor of shape \(2, 3\)"),
    "a Python float": (lambda d: 0.5, r"returned a float"),
    "an ndarray": (lambda d: np.exp(-d.detach().numpy()), r"returned a ndarray"),
    "an integer tensor": (lambda d: (d > 1).long(), r"returned a tensor of dtype torch.int64"),
}


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("case", WRONG_FALLOFFS.values(), ids=WRONG_FALLOFFS.keys())
def test_callable_falloff_must_return_a_float_tensor_of_its_input_shape(kind, case, digits):
    falloff, returned = case
    X, y = digits
    estimator = MODELS[kind](falloff=falloff)
    with pytest.raises(InvalidParameterError, match=r"'falloff' parameter .* same shape") as error:
        estimator.fit(X, y)
    assert re.search(returned, str(error.value))
    assert not hasattr(estimator, "net_")


@pytest.mark.parametrize("module_class", [PositionalMLP, ParticleNetwork])
@pytest.mark.parametrize("case", WRONG_FALLOFFS.values(), ids=WRONG_FALLOFFS.keys())
def test_modules_refuse_a_falloff_that_does_not_return_a_float_tensor_of_its_input_shape(
    module_class, case
):
    falloff, _ = case
    message = r"falloff .* must return a floating-point tensor of the same shape as its input"
    with pytest.raises((TypeError, ValueError), match=message):
        module = module_class([4, 3, 2], falloff=falloff)  # positional: at initialization
        module(torch.zeros(5, 4))  # particle: at the first forward pass


def test_a_falloff_that_returns_a_float_tensor_of_its_input_shape_trains(digits):
    X, y = digits
    for kind in MODELS:
        estimator = MODELS[kind](falloff=lambda d: 1.0 / (1.0 + d**4)).fit(X, y)
        assert np.isfinite(estimator.predict_proba(X)).all()


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize(
    "device",
    ["mps", "nonsense", "meta", "cuda:x", "cuda:-1", "cuda:1000", "CPU", torch.device("meta"), 3],
)
def test_device_must_name_the_cpu_or_a_cuda_device(kind, device, digits):
    X, y = digits
    estimator = MODELS[kind](device=device)
    with pytest.raises(
        InvalidParameterError,
        match=rf"'device' parameter of {type(estimator).__name__} must be 'cpu', 'cuda', "
        r"'cuda:N' or a torch.device of those\. Got",
    ):
        estimator.fit(X, y)


@pytest.mark.parametrize("device", ["cpu", "cpu:0", torch.device("cpu")])
def test_cpu_devices_are_accepted(device, digits):
    X, y = digits
    positional(device=device).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_cuda_without_cuda_keeps_its_clear_error(device, digits):
    X, y = digits
    with pytest.raises(ValueError, match="CUDA is not available"):
        positional(device=device).fit(X, y)


MIXED_LABELS = {
    "str and None": ["a", None],
    "str and int": ["a", 1],
    "float and None": [1.0, None],
    "None only": [None, None],
    "tuples": [(1, 2), (3, 4)],
}


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("labels", MIXED_LABELS.values(), ids=MIXED_LABELS.keys())
def test_labels_that_cannot_be_ordered_are_refused_clearly(factory, labels, digits):
    X, _ = digits
    y = np.empty(len(X), dtype=object)
    for i in range(len(X)):
        y[i] = labels[i % 2]
    with pytest.raises(ValueError, match=r"labels of y must be all strings or all numbers"):
        factory().fit(X, y)


@pytest.mark.parametrize("factory", FACTORIES)
def test_a_list_of_strings_and_none_is_refused_clearly(factory, digits):
    X, _ = digits
    y = ["a" if i % 2 else None for i in range(len(X))]
    with pytest.raises(ValueError, match=r"got labels of types \['NoneType', 'str'\]"):
        factory().fit(X, y)


@pytest.mark.parametrize("kind", MODELS)
def test_partial_fit_refuses_classes_that_cannot_be_ordered(kind, digits):
    X, y = digits
    classes = np.array(["a", None], dtype=object)
    with pytest.raises(ValueError, match=r"labels of classes must be all strings or all numbers"):
        MODELS[kind]().partial_fit(X, np.where(y % 2, "a", None), classes=classes)
