"""A damaged or altered saved estimator is refused on loading, with a ValueError naming the
problem: non-finite parameters, shapes the saved configuration does not imply, missing entries,
values of the wrong type. Checked through real pickle and skops round trips."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier


def positional():
    return PositionalMLPClassifier(hidden_layer_sizes=(6, 4), max_iter=2, random_state=0)


def particle():
    return ParticleNetworkClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {factory: factory().fit(X, y) for factory in (positional, particle)}


def _pickle_round_trip(estimator, tmp_path):
    return pickle.loads(pickle.dumps(estimator))


def _skops_round_trip(estimator, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


ROUND_TRIPS = [
    pytest.param(_pickle_round_trip, id="pickle"),
    pytest.param(_skops_round_trip, id="skops"),
]


def _saved_with(estimator, tamper, monkeypatch):
    """``estimator`` whose saved state passes through ``tamper(torch_state)`` on saving."""
    cls = type(estimator)
    original = cls.__getstate__

    def tampered_getstate(self):
        state = original(self)
        tamper(state["_torch_state"])
        return state

    monkeypatch.setattr(cls, "__getstate__", tampered_getstate)
    return estimator


def _set(key_path, value):
    def tamper(torch_state):
        container = torch_state
        for key in key_path[:-1]:
            container = container[key]
        container[key_path[-1]] = value(container[key_path[-1]]) if callable(value) else value

    return tamper


def _delete(key_path):
    def tamper(torch_state):
        container = torch_state
        for key in key_path[:-1]:
            container = container[key]
        del container[key_path[-1]]

    return tamper


def _with_value(value):
    def change(array):
        array = array.copy()
        array.flat[1] = value
        return array

    return change


def _first_optimizer_moment(torch_state):
    """The key path to the first moment array in the optimizer's state."""
    for index, entries in torch_state["optimizer"]["state"].items():
        for name, value in entries.items():
            if isinstance(value, np.ndarray) and value.ndim > 0:
                return ["optimizer", "state", index, name]
    raise AssertionError("no moment array in the optimizer state")


TAMPERINGS = {
    "NaN weight": (
        _set(["module", "biases.0"], _with_value(np.nan)),
        r"'biases.0' .* NaN or infinit",
    ),
    "infinite position": (
        _set(["module", "positions.1"], _with_value(np.inf)),
        r"'positions.1' .* NaN or infinit",
    ),
    "wrong shape": (
        _set(["module", "positions.1"], lambda a: np.zeros((a.shape[0], a.shape[1] + 1), a.dtype)),
        r"'positions.1' has shape \(6, 3\); the saved configuration implies \(6, 2\)",
    ),
    "transposed": (
        _set(["module", "biases.0"], lambda a: a[None, :].copy()),
        r"'biases.0' has shape \(1, 6\); the saved configuration implies \(6,\)",
    ),
    "missing parameter": (_delete(["module", "biases.0"]), r"missing .*'biases.0'"),
    "unexpected parameter": (
        _set(["module", "extra"], np.zeros(3, np.float32)),
        r"unexpected .*'extra'",
    ),
    "parameter as a list": (
        _set(["module", "biases.0"], lambda a: a.tolist()),
        r"'biases.0' must be an array of floats, got list",
    ),
    "parameter of strings": (
        _set(["module", "biases.0"], lambda a: a.astype(str)),
        r"'biases.0' must be an array of floats, got an array of dtype <U",
    ),
    "missing module state": (_delete(["module"]), r"'module'"),
    "layer sizes of the wrong type": (_set(["layer_sizes"], "64-6-4-10"), r"'layer_sizes'"),
    "layer sizes that disagree with the data": (
        _set(["layer_sizes"], lambda sizes: [sizes[0] + 1, *sizes[1:]]),
        r"'layer_sizes' .* 65 inputs, but the estimator was fitted on 64 features",
    ),
    "missing layer sizes": (_delete(["layer_sizes"]), r"'layer_sizes'"),
    "negative batch size": (_set(["batch_size"], -1), r"'batch_size' .* got -1"),
    "batch size as a string": (_set(["batch_size"], "100"), r"'batch_size' .* got '100'"),
    "generator state cut short": (
        _set(["generator"], lambda a: a[:100].copy()),
        r"'generator' .* 5056 bytes",
    ),
    "NaN in an optimizer moment": (
        lambda state: _set(_first_optimizer_moment(state), _with_value(np.nan))(state),
        r"optimizer state .* NaN or infinit",
    ),
    "optimizer moment of the wrong shape": (
        lambda state: _set(_first_optimizer_moment(state), lambda a: a.ravel()[:1])(state),
        r"optimizer state .* shape \(1,\)",
    ),
    "optimizer state of the wrong type": (_set(["optimizer"], "adam"), r"'optimizer'"),
}


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("case", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_damaged_saved_state_is_refused_naming_the_problem(
    factory, round_trip, case, fitted, monkeypatch, tmp_path
):
    tamper, message = case
    estimator = _saved_with(fitted[factory], tamper, monkeypatch)
    with pytest.raises(ValueError, match=message) as error:
        round_trip(estimator, tmp_path)
    assert "saved state" in str(error.value)
    assert type(estimator).__name__ in str(error.value)


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_intact_saved_state_loads_and_predicts_the_same(
    factory, round_trip, fitted, tmp_path, digits
):
    estimator = fitted[factory]
    loaded = round_trip(estimator, tmp_path)
    np.testing.assert_array_equal(
        loaded.predict_proba(digits[0]), estimator.predict_proba(digits[0])
    )


def _state_with(estimator, change):
    """``estimator.__getstate__()`` after ``change(state)`` (the estimator's saved __dict__)."""
    state = estimator.__getstate__()
    state["_built_with"] = dict(state["_built_with"])
    change(state)
    return state


def _load(cls, state):
    loaded = cls.__new__(cls)
    loaded.__setstate__(state)
    return loaded


def _built_with(name, value):
    def change(state):
        state["_built_with"][name] = value

    return change


def _module_config(name, value):
    def change(state):
        state["_torch_state"]["module_config"][name] = value

    return change


CONFIGURATION_TAMPERINGS = {
    "activation": (_built_with("activation", "tanh"), r"on 'activation'"),
    "falloff": (_built_with("falloff", "exponential"), r"on 'falloff'"),
    "position or particle dim (module config)": (
        lambda state: _module_config(
            "position_dim" if "position_dim" in state["_built_with"] else "particle_dim", 3
        )(state),
        r"on '(position|particle)_dim'",
    ),
    "an invalid activation": (
        _built_with("activation", "bogus"),
        r"configuration is invalid: The 'activation' parameter",
    ),
    "a missing parameter": (
        lambda state: state["_built_with"].pop("activation"),
        r"lacks the parameters \['activation'\]",
    ),
    "hidden layers": (
        _built_with("hidden_layer_sizes", (7,)),
        r"'hidden_layer_sizes' \(7,\) disagrees with the saved network's hidden layers",
    ),
    "the output activation": (
        lambda state: state.update(out_activation_="identity"),
        r"out_activation_",
    ),
    "the activation in the module config": (
        _module_config("activation", "logistic"),
        r"on 'activation': the configuration builds activation='relu', the network was saved "
        r"with activation='logistic'",
    ),
}


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
@pytest.mark.parametrize(
    "case", CONFIGURATION_TAMPERINGS.values(), ids=CONFIGURATION_TAMPERINGS.keys()
)
def test_a_saved_configuration_that_disagrees_with_itself_is_refused_naming_the_field(
    factory, case, fitted
):
    change, message = case
    estimator = fitted[factory]
    with pytest.raises(ValueError, match=message) as error:
        _load(type(estimator), _state_with(estimator, change))
    assert "saved state" in str(error.value)


@pytest.mark.parametrize("cls", ["PositionalMLPRegressor", "ParticleNetworkRegressor"])
def test_a_regressor_whose_loss_disagrees_with_its_outputs_is_refused(cls, digits):
    import sklearn_posnet

    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = getattr(sklearn_posnet, cls)((4,), max_iter=1, random_state=0).fit(X, y)
    state = _state_with(estimator, _built_with("loss", "poisson"))
    with pytest.raises(ValueError, match=r"'loss' 'poisson' implies the output activation 'exp'"):
        _load(type(estimator), state)


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_a_parameter_changed_after_the_fit_loads_with_a_warning_and_the_network_as_built(
    factory, fitted, digits
):
    estimator = copy_of = pickle.loads(pickle.dumps(fitted[factory]))
    copy_of.set_params(activation="tanh")
    with pytest.warns(UserWarning, match=r"activation='tanh' \(built with 'relu'\)"):
        loaded = pickle.loads(pickle.dumps(estimator))
    assert loaded.get_params()["activation"] == "tanh"
    np.testing.assert_array_equal(
        loaded.predict_proba(digits[0]), fitted[factory].predict_proba(digits[0])
    )
