"""The one owner of the built configuration (BuiltNetwork), the one door that changes the
network's size, what get_params() and clone() give after pruning or growth, and loading models
saved in format 2 before the split of the base class; a refused call that changes nothing."""

import dataclasses
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import sklearn_posnet as posnet
from sklearn_posnet._network import BuiltNetwork

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SAVED = Path(__file__).parent / "data" / "saved_models_format2.pkl"
MAKERS = {
    "positional": posnet.PositionalMLPClassifier,
    "particle": posnet.ParticleNetworkClassifier,
}


def _fitted(kind, digits, **params):
    X, y = digits
    params = {"max_iter": 3, "random_state": 0, "batch_size": 64, **params}
    return MAKERS[kind]((10, 6), **params).fit(X, y)


# ----------------------------------------------------------------------------- BuiltNetwork
def test_built_network_is_frozen_and_holds_no_layer_sizes():
    built = BuiltNetwork.from_params({"hidden_layer_sizes": (5,), "activation": "relu"})
    assert built["activation"] == "relu"
    assert "hidden_layer_sizes" not in built.params
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.params = {}
    with pytest.raises(TypeError):
        built.params["activation"] = "tanh"
    assert built.module_params([4, 7, 3, 2]) == {"activation": "relu", "hidden_layer_sizes": (7, 3)}


@pytest.mark.parametrize("kind", MAKERS)
def test_changed_parameters_do_not_reach_a_fitted_network(kind, digits):
    estimator = _fitted(kind, digits)
    estimator.set_params(activation="tanh")
    restored = pickle.loads(pickle.dumps(estimator))
    assert restored.module_.activation == "relu"  # rebuilt as built, not as now set
    X, y = digits
    with pytest.raises(ValueError, match=r"built with other parameters.*activation"):
        restored.set_params(warm_start=True).fit(X, y)


# ----------------------------------------------------------------- the one door, and params
@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("change", ["prune", "grow", "guided_grow"])
def test_resizing_keeps_params_module_optimizer_and_recorder_in_step(kind, change, digits):
    X, y = digits
    estimator = _fitted(kind, digits, record_positions=True)
    if change == "prune":
        estimator = posnet.prune(estimator, 4)
    elif change == "grow":
        estimator.grow_hidden_neurons(1, 3, random_state=0)
    else:
        estimator.grow_hidden_neurons(0, 2, X=X[:200], y=y[:200], n_candidates=3)
    sizes = tuple(estimator.module_.layer_sizes[1:-1])
    assert sizes != (10, 6)
    # get_params() and clone() give the resized architecture.
    assert estimator.get_params()["hidden_layer_sizes"] == sizes
    copy = clone(estimator)
    assert copy.hidden_layer_sizes == sizes and not hasattr(copy, "net_")
    assert tuple(copy.fit(X, y).module_.layer_sizes[1:-1]) == sizes
    # The optimizer holds the module's current tensors, the fitted attributes their shapes.
    optimized = {id(p) for group in estimator.net_.optimizer_.param_groups for p in group["params"]}
    trained = {id(p) for p in estimator.module_.parameters() if p.requires_grad}
    assert optimized == trained
    assert [c.shape[1] for c in estimator.coefs_[:-1]] == list(sizes)
    for frame in estimator.positions_history_:
        assert [len(layer) for layer in frame] == list(estimator.module_.layer_sizes)
    # A warm start continues the resized network; asking for the old sizes is refused.
    estimator.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert tuple(estimator.module_.layer_sizes[1:-1]) == sizes
    with pytest.raises(ValueError, match=r"built with other parameters.*hidden_layer_sizes"):
        estimator.set_params(hidden_layer_sizes=(10, 6)).fit(X, y)


def test_the_recorder_follows_kept_and_new_neurons(digits):
    estimator = _fitted("particle", digits, record_positions=True)
    before = [[layer.copy() for layer in frame] for frame in estimator.positions_history_]
    estimator.select_hidden_neurons([[0, 2, 4, 6], np.arange(6)])
    estimator.grow_hidden_neurons(0, 2, random_state=0)
    born = estimator.module_.positions[1][-2:].detach().numpy()
    for old, new in zip(before, estimator.positions_history_, strict=True):
        assert_array_equal(new[1][:4], old[1][[0, 2, 4, 6]])
        assert_array_equal(new[1][4:], born)
        assert_array_equal(new[2], old[2])
        assert_array_equal(new[0], old[0])
    for frame in estimator.dipoles_history_:
        assert_array_equal(frame[1][4:], 0.0)


# ------------------------------------------------------------------------ saved in format 2
@pytest.fixture(scope="module")
def saved():
    with SAVED.open("rb") as file:
        return pickle.load(file)


def test_models_saved_before_the_split_load_and_predict_the_same(saved):
    assert set(saved) == {
        "positional_pruned",
        "particle_grown",
        "positional_regressor",
        "particle_regressor",
    }
    for name, entry in saved.items():
        model = entry["model"]
        if "predict_proba" in entry:  # class labels: exactly
            assert_array_equal(model.predict(entry["X"]), entry["predict"], err_msg=name)
        else:
            # The file was written on another CPU, and float64 products round differently from
            # one CPU's BLAS kernels to another's (1 ulp seen): as close as the probabilities.
            assert_allclose(model.predict(entry["X"]), entry["predict"], rtol=1e-12, err_msg=name)
        if "predict_proba" in entry:
            assert_allclose(model.predict_proba(entry["X"]), entry["predict_proba"], rtol=1e-12)
        assert isinstance(model._built, BuiltNetwork)
        asked = np.atleast_1d(model.get_params()["hidden_layer_sizes"]).tolist()
        assert asked == list(model.module_.layer_sizes[1:-1])


@pytest.mark.parametrize("name", ["positional_pruned", "particle_grown", "positional_regressor"])
def test_models_saved_before_the_split_continue_training_and_save_again(saved, name):
    entry = saved[name]
    model, X = entry["model"], entry["X"]
    y = model.predict(X)
    if hasattr(model, "classes_"):
        # Every class, as a warm start requires (MLPClassifier's rule): the predictions of 50
        # rows need not hold them all.
        y[: len(model.classes_)] = model.classes_
    n_epochs = len(model.loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(warm_start=True, max_iter=2).fit(X, y)
        model.partial_fit(X, y)
    assert len(model.loss_curve_) == n_epochs + 3
    again = pickle.loads(pickle.dumps(model))
    assert_array_equal(again.predict(X), model.predict(X))
    assert again.module_.layer_sizes == model.module_.layer_sizes


def test_the_saved_layout_is_unchanged(digits):
    """The built configuration is saved as the plain dict of format 2 (hidden sizes included),
    so that files written now read as those written before."""
    X, y = digits
    estimator = posnet.prune(_fitted("positional", digits), 3)
    state = estimator.__getstate__()
    assert "_built" not in state
    assert type(state["_built_with"]) is dict
    assert state["_built_with"]["hidden_layer_sizes"] == estimator.hidden_layer_sizes
    assert state["_torch_state"]["format"] == 2
    regressor = posnet.PositionalMLPRegressor(5, max_iter=2, random_state=0).fit(X, y.astype(float))
    assert regressor.__getstate__()["_built_with"]["loss"] == "squared_error"


# ------------------------------------------------------------- a failed call changes nothing
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_warm_start_refused_for_a_missing_device_leaves_net_and_generator_as_they_were(digits):
    """The device is checked before the call's configuration touches the net in place (the
    optimizer restart, the draw of the hold-out seed), which a shallow restore would not undo."""
    X, y = digits
    estimator = _fitted("positional", digits, early_stopping=True)
    optimizer_state = pickle.dumps(estimator.net_.optimizer_.state_dict())
    generator_state = estimator._generator.get_state().clone()
    optimizer = estimator.net_.optimizer_
    estimator.set_params(warm_start=True, device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        estimator.fit(X, y)
    assert estimator.net_.optimizer_ is optimizer
    assert pickle.dumps(estimator.net_.optimizer_.state_dict()) == optimizer_state
    assert torch.equal(estimator._generator.get_state(), generator_state)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_model_loaded_without_its_gpu_still_grows_by_the_gradient(digits):
    """Growth runs on the module where it is (the CPU), as prediction does; only training needs
    the requested device."""
    X, y = digits
    estimator = _fitted("particle", digits).set_params(device="cuda")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = pickle.loads(pickle.dumps(estimator))
    proba = loaded.predict_proba(X)
    loaded.grow_hidden_neurons(0, 2, X=X[:100], y=y[:100], n_candidates=2)
    assert tuple(loaded.module_.layer_sizes[1:-1]) == (12, 6)
    assert_allclose(loaded.predict_proba(X), proba, rtol=0, atol=1e-12)
