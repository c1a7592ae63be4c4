"""pickle, joblib and skops round trips, and a GPU-fitted model loading on a machine without one.

The estimators save their torch module, optimizer and random generator as numpy arrays and
builtins (``sklearn_posnet._persistence``), so all three formats store the same plain state.
"""

import io
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

try:
    from sklearn_posnet.pruning import NeuronPruner
except ImportError:  # the pruning module is written separately
    NeuronPruner = None

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

needs_pruner = pytest.mark.skipif(
    NeuronPruner is None, reason="sklearn_posnet.pruning.NeuronPruner is not available"
)


def positional():
    return PositionalMLPClassifier(hidden_layer_sizes=(8, 6), max_iter=3, random_state=0)


def vanilla():
    return PositionalMLPClassifier(
        hidden_layer_sizes=(8,), falloff="none", distance_alpha=0.0, max_iter=3, random_state=0
    )


def particle():
    return ParticleNetworkClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def pruner():
    return NeuronPruner(positional(), amount=0.25)


def particle_pruner():
    return NeuronPruner(particle(), amount=2, fine_tune_epochs=1)


FACTORIES = [
    pytest.param(positional, id="positional"),
    pytest.param(vanilla, id="vanilla"),
    pytest.param(particle, id="particle"),
    pytest.param(pruner, id="pruner", marks=needs_pruner),
    pytest.param(particle_pruner, id="particle_pruner", marks=needs_pruner),
]


def _fit(factory, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return factory().fit(X, y)


def _pickle_round_trip(estimator):
    return pickle.loads(pickle.dumps(estimator))


def _joblib_round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _assert_same_predictions(loaded, original, X):
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    np.testing.assert_array_equal(loaded.classes_, original.classes_)


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("round_trip", [_pickle_round_trip, _joblib_round_trip])
def test_pickle_and_joblib_round_trips_predict_the_same(factory, round_trip, digits):
    X, y = digits
    estimator = _fit(factory, X, y)
    loaded = round_trip(estimator)
    _assert_same_predictions(loaded, estimator, X)
    assert loaded.get_params().keys() == estimator.get_params().keys()
    _assert_same_predictions(estimator, _fit(factory, X, y), X)  # saving changed nothing


def _walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_saved_state_holds_numpy_arrays_and_builtins_only(factory, digits):
    X, y = digits
    state = _fit(factory, X, y).__getstate__()
    for value in _walk(state):
        assert not isinstance(value, (torch.Tensor, torch.nn.Module, torch.Generator)), value
        assert type(value).__module__ in {"builtins", "numpy"}, type(value)


@pytest.mark.parametrize(
    "factory",
    [positional, particle, lambda: positional().set_params(solver="sgd")],
    ids=["positional-adam", "particle-rmsprop", "positional-sgd"],
)
@pytest.mark.parametrize("round_trip", [_pickle_round_trip, _joblib_round_trip])
def test_training_continues_after_a_round_trip_exactly_as_without(factory, round_trip, digits):
    """Optimizer moments, the shuffling generator and the batch size are saved too, and the
    (fused) optimizer updates do not depend on where the loaded arrays lie in memory."""
    X, y = digits
    estimator = _fit(factory, X, y)
    loaded = round_trip(estimator)
    estimator.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for name, value in estimator.module_.state_dict().items():
        torch.testing.assert_close(loaded.module_.state_dict()[name], value, rtol=0, atol=0)
    assert loaded.loss_curve_ == estimator.loss_curve_


def _pretend_fitted_on_cuda(estimator):
    # The state records the device only through the `device` parameter: tensors are saved as
    # host numpy arrays whatever device they were on. Setting it after a CPU fit therefore
    # gives the state a model fitted with device="cuda" produces (set directly: set_params
    # would validate nothing more, and the fit itself needs a GPU).
    estimator.device = "cuda"
    return estimator


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
@pytest.mark.parametrize("round_trip", [_pickle_round_trip, _joblib_round_trip])
def test_model_fitted_on_cuda_loads_and_predicts_without_a_gpu(
    factory, round_trip, digits, monkeypatch
):
    """Simulated: this machine has no GPU, so the model is fitted on the CPU and its `device`
    parameter set to "cuda" before saving, which yields the state a CUDA fit saves (see
    `_pretend_fitted_on_cuda`); `torch.cuda.is_available` is patched to return False so that
    the test means the same on a machine with a GPU. The real thing, a fit on a GPU loaded in a
    process that sees none, is `test_real_cuda_model_loads_in_a_process_without_cuda`."""
    X, y = digits
    estimator = _fit(factory, X, y)
    expected = estimator.predict_proba(X)
    _pretend_fitted_on_cuda(estimator)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted with device='cuda' but CUDA is not available"):
        loaded = round_trip(estimator)
    assert loaded.device == "cuda"  # the hyperparameter is kept ...
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())  # ... not obeyed
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)

    with pytest.raises(ValueError, match="CUDA is not available"):
        loaded.partial_fit(X, y)
    loaded.set_params(device="cpu").partial_fit(X, y)
    assert np.isfinite(loaded.predict_proba(X)).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_real_cuda_model_loads_in_a_process_without_cuda(digits, tmp_path):
    X, y = digits
    estimator = PositionalMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=3, random_state=0, device="cuda"
    ).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(estimator, path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", estimator.predict_proba(X))
    script = textwrap.dedent(
        f"""
        import warnings, joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = joblib.load({str(path)!r})
        assert any("CUDA is not available" in str(w.message) for w in caught)
        X = np.load({str(tmp_path / "X.npy")!r})
        np.testing.assert_allclose(
            model.predict_proba(X), np.load({str(tmp_path / "expected.npy")!r}), rtol=1e-9
        )
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


# ------------------------------------------------------------------------------------- skops
EXPECTED_UNTRUSTED = {
    "positional": ["sklearn_posnet.positional.PositionalMLPClassifier"],
    "vanilla": ["sklearn_posnet.positional.PositionalMLPClassifier"],
    "particle": ["sklearn_posnet.particle.ParticleNetworkClassifier"],
    "pruner": [
        "sklearn_posnet.positional.PositionalMLPClassifier",
        "sklearn_posnet.pruning.NeuronPruner",
    ],
    "particle_pruner": [
        "sklearn_posnet.particle.ParticleNetworkClassifier",
        "sklearn_posnet.pruning.NeuronPruner",
    ],
}


@pytest.mark.parametrize("factory", FACTORIES)
def test_skops_round_trip_trusting_only_our_estimators(factory, digits, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = digits
    estimator = _fit(factory, X, y)
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert sorted(untrusted) == EXPECTED_UNTRUSTED[factory.__name__]
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_predictions(loaded, estimator, X)


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_skops_refuses_to_load_untrusted_types(factory, digits, tmp_path, monkeypatch):
    """Loading without trusting fails before any of the file's classes is instantiated: our
    ``__setstate__``, the only code a saved estimator runs on loading, is never called."""
    sio = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    X, y = digits
    path = tmp_path / "model.skops"
    sio.dump(_fit(factory, X, y), path)
    calls = []
    estimator_class = type(factory())
    monkeypatch.setattr(estimator_class, "__setstate__", lambda self, state: calls.append(state))
    with pytest.raises(UntrustedTypesFoundException, match=estimator_class.__name__):
        sio.load(path)
    assert calls == []


def test_skops_refuses_a_file_that_would_run_a_command(tmp_path):
    """A file made to call os.system on load is refused unless that function is trusted."""
    sio = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    path = tmp_path / "evil.skops"
    sio.dump({"payload": os.system}, path)
    assert sio.get_untrusted_types(file=path) == [f"{os.system.__module__}.system"]
    with pytest.raises(UntrustedTypesFoundException, match="system"):
        sio.load(path)


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_every_saved_callback_state_round_trips_through_its_saved_fields(factory, digits):
    # Each callback that a saved model keeps declares its fields once (``saved_fields``); a
    # fresh callback loaded from the saved state holds the same values, field by field.
    X, y = digits
    clf = factory().set_params(record_positions=True).fit(X, y)
    saved = [(name, cb) for name, cb in clf.net_.callbacks_ if hasattr(cb, "saved_fields")]
    assert {"curves", "plateau", "position_recorder"} <= {name for name, _ in saved}
    for name, callback in saved:
        state = callback.state_dict()
        assert list(state) == list(callback.saved_fields), name
        fresh = type(callback)().initialize()
        fresh.load_state_dict(pickle.loads(pickle.dumps(state)))
        for field in callback.saved_fields.values():
            before, after = getattr(callback, field.attribute), getattr(fresh, field.attribute)
            if field.attribute in ("positions", "dipoles") and before is not None:
                assert len(after) == len(before)
                for frame_before, frame_after in zip(before, after, strict=True):
                    for a, b in zip(frame_before, frame_after, strict=True):
                        np.testing.assert_array_equal(a, b)
            else:
                assert after == before, (name, field.attribute)
                assert type(after) is type(before), (name, field.attribute)


def test_a_saved_field_added_later_takes_its_absent_value_and_others_are_required(digits):
    X, y = digits
    curves = positional().fit(X, y).net_.callback("curves")
    state = curves.state_dict()
    del state["samples_seen"]  # as saved before the field existed
    fresh = type(curves)().initialize()
    fresh.load_state_dict(state)
    assert fresh.samples_seen_ == 0
    assert fresh.loss_curve_ == curves.loss_curve_
    del state["n_epochs"]
    with pytest.raises(KeyError, match="n_epochs"):
        fresh.load_state_dict(state)
