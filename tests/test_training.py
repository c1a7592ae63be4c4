"""The training loop: results unchanged by its restructuring, user callbacks, Ctrl-C, verbose
output, failed fits, the pruner's doors and the fitted configuration."""

import copy
import itertools
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback, EarlyStopping, LRScheduler

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.plotting import animate_training
from sklearn_posnet.pruning import NeuronPruner, prune

sys.path.insert(0, str(Path(__file__).parent / "data"))
import make_training_expectations as expectations

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("name", list(expectations.CASES))
def test_predictions_and_loss_curves_are_those_of_the_code_before_the_restructuring(name):
    path = expectations.expectations_path()
    if not path.exists():
        pytest.skip(f"no stored expectations for this kind of CPU ({path.name}): see its script")
    stored = np.load(path)
    estimator, proba = expectations.fit_case(name)
    # Training is bitwise the same. Prediction runs in float64 through the module's torch path,
    # whose order of operations the export work (one falloff table) changed for particles: the
    # probabilities agree to a few float64 ulps (4e-15 relative).
    np.testing.assert_array_equal(estimator.loss_curve_, stored[f"{name}_loss_curve"])
    np.testing.assert_allclose(proba, stored[f"{name}_proba"], rtol=1e-13, atol=0)


class CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def _small(cls=PositionalMLPClassifier, **params):
    return cls(**{"hidden_layer_sizes": (8,), "random_state": 0, **params})


def test_user_callbacks_take_effect_and_survive_clone_and_pickle(digits):
    X, y = digits
    halve_every_epoch = LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    counter = CountEpochs()
    estimator = _small(max_iter=4, callbacks=[halve_every_epoch, ("counter", counter)])
    estimator.fit(X, y)
    net = estimator.net_
    assert net.callback("counter").epochs_ == 4
    assert [group["lr"] for group in net.optimizer_.param_groups] == [0.003 * 0.5**4]
    # the parameter itself is not the fitted copy
    assert not hasattr(counter, "epochs_")
    cloned = clone(estimator)
    assert isinstance(cloned.callbacks[1][1], CountEpochs) and cloned.callbacks[1][1] is not counter
    cloned.fit(X, y)
    assert cloned.net_.callback("counter").epochs_ == 4
    loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    loaded.set_params(warm_start=True).fit(X, y)
    assert loaded.net_.callback("counter").epochs_ == 4


def test_a_callback_with_an_own_name_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="'plateau' is taken"):
        _small(max_iter=1, callbacks=[("plateau", CountEpochs())]).fit(X, y)
    with pytest.raises(TypeError, match="skorch callbacks"):
        _small(max_iter=1, callbacks=[object()]).fit(X, y)


def test_skorch_early_stopping_ends_training_quietly(digits):
    X, y = digits
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0, sink=lambda *a: None)
    estimator = _small(max_iter=50, callbacks=[stop]).fit(X, y)
    assert estimator.n_iter_ == 2  # the first epoch sets the best, the second misses it


def test_verbose_output_has_no_escape_codes_when_captured(digits, capsys):
    X, y = digits
    _small(max_iter=3, verbose=True, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert "valid_acc" in out and "train_loss" in out
    assert len([line for line in out.splitlines() if re.match(r"\s*\d+\s", line)]) == 3


def test_failed_fit_leaves_no_half_fitted_estimator(digits):
    X, y = digits
    for bad in (
        _small(hidden_layer_sizes=(0,)),
        PositionalMLPClassifier(input_shape=(5, 5), random_state=0),
    ):
        with pytest.raises(ValueError):
            bad.fit(X, y)
        assert not hasattr(bad, "classes_") and not hasattr(bad, "n_features_in_")
        with pytest.raises(NotFittedError):
            bad.predict(X)


def test_a_failed_refit_leaves_the_previous_model(digits):
    X, y = digits
    estimator = _small(max_iter=2).fit(X, y)
    before = estimator.predict_proba(X)
    with pytest.raises(ValueError):
        estimator.set_params(hidden_layer_sizes=(0,)).fit(X, y)
    np.testing.assert_array_equal(estimator.predict_proba(X), before)


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_prune_then_partial_fit_then_animate(digits, cls):
    X, y = digits
    estimator = _small(cls, hidden_layer_sizes=(12, 6), max_iter=2, record_positions=True)
    estimator.fit(X, y)
    pruned = prune(estimator, 4)
    pruned.partial_fit(X, y)
    history = pruned.positions_history_
    assert len(history) == 4 and pruned.positions_history_epochs_.tolist() == [0, 1, 2, 3]
    for frame in history:
        assert [len(layer) for layer in frame] == list(pruned.module_.layer_sizes)
    for layer, current in zip(history[-1], pruned.module_.positions, strict=True):
        np.testing.assert_array_equal(layer, current.detach().numpy())
    animation = animate_training(pruned)
    assert animation is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [({"activation": "tanh"}, None), ({"position_dim": 3}, None), ({"falloff": "none"}, None)],
)
def test_a_saved_model_is_the_model_that_was_trained(digits, change, expected):
    X, y = digits
    estimator = _small(max_iter=3).fit(X, y)
    before = estimator.predict_proba(X)
    estimator.set_params(**change)  # no refit
    for round_trip in (
        lambda e: pickle.loads(pickle.dumps(e)),
        copy.deepcopy,
        lambda e: prune(e, 0),
        lambda e: NeuronPruner(e, amount=0, prefit=True).fit(X, y),
    ):
        np.testing.assert_array_equal(round_trip(estimator).predict_proba(X), before)


@pytest.mark.parametrize(
    ("cls", "change"),
    [
        (PositionalMLPClassifier, {"hidden_layer_sizes": (16, 4)}),
        (PositionalMLPClassifier, {"activation": "tanh"}),
        (ParticleNetworkClassifier, {"falloff": "none"}),
        (ParticleNetworkClassifier, {"particle_dim": 3}),
    ],
)
def test_a_warm_start_refuses_a_changed_network(digits, cls, change):
    X, y = digits
    estimator = _small(cls, max_iter=2).fit(X, y)
    estimator.set_params(warm_start=True, **change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"built with other parameters.*{name}"):
        estimator.fit(X, y)
    with pytest.raises(ValueError, match=f"built with other parameters.*{name}"):
        estimator.partial_fit(X, y)
    estimator.set_params(warm_start=False).fit(X, y)  # a new network is fine
    assert estimator.n_iter_ == 2


def test_a_warm_start_with_the_same_network_in_another_spelling_continues(digits):
    X, y = digits
    estimator = _small(max_iter=2, warm_start=True).fit(X, y)
    estimator.set_params(hidden_layer_sizes=[8], learning_rate_init=0.01).fit(X, y)
    assert len(estimator.loss_curve_) == 4


def test_predict_reuses_the_inference_copy_until_the_parameters_change(digits):
    X, y = digits
    estimator = _small(max_iter=2).fit(X, y)
    first = estimator.predict_proba(X[:1])
    copy_before = estimator._inference.get(estimator.module_)
    estimator.predict_proba(X[:1])
    assert estimator._inference.get(estimator.module_) is copy_before
    with torch.no_grad():
        estimator.module_.biases[-1].add_(1.0)  # a user's own edit is seen
    changed = estimator.predict_proba(X[:1])
    assert not np.array_equal(first, changed)
    estimator.partial_fit(X, y)
    assert estimator._inference.get(estimator.module_) is not copy_before


_INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from skorch.callbacks import Callback
    from sklearn_posnet import PositionalMLPClassifier

    class InterruptSoon(Callback):
        # A real SIGINT, sent from another thread a moment after the first epoch.
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 1:
                kill = lambda: os.kill(os.getpid(), signal.SIGINT)
                threading.Timer(0.2, kill).start()

    rng = np.random.default_rng(0)
    X, y = rng.random((3000, 64)), rng.integers(0, 3, 3000)
    estimator = PositionalMLPClassifier(
        (64,), max_iter=100000, tol=0, random_state=0, callbacks=[InterruptSoon()]
    )
    if sys.argv[1] == "search":
        estimator = GridSearchCV(estimator, {"alpha": [1e-4, 1e-3]}, cv=2, n_jobs=1)
    start = time.perf_counter()
    try:
        estimator.fit(X, y)
    except KeyboardInterrupt:
        if sys.argv[1] == "fit":
            assert estimator.n_iter_ == len(estimator.loss_curve_) > 0
            assert np.isfinite(estimator.predict_proba(X[:5])).all()
        print(f"interrupted after {time.perf_counter() - start:.1f} s")
        sys.exit(0)
    print("fit returned normally")
    sys.exit(1)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
@pytest.mark.parametrize("what", ["fit", "search"])
def test_ctrl_c_stops_a_fit_and_a_grid_search(what):
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_SCRIPT, what],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "interrupted after" in result.stdout


# ------------------------------------------------------------- round trips after any history
_STEPS = {
    "fit": lambda e, X, y: e.fit(X, y),
    "partial_fit": lambda e, X, y: e.partial_fit(X, y),
    "warm_fit": lambda e, X, y: e.set_params(warm_start=True).fit(X, y),
    "set_activation": lambda e, X, y: e.set_params(activation="tanh"),
    "set_alpha": lambda e, X, y: e.set_params(alpha=0.01),
    "set_hidden": lambda e, X, y: e.set_params(hidden_layer_sizes=(5, 3), warm_start=False),
    "prune": lambda e, X, y: prune(e, 1),
}


def _skops_round_trip(estimator, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_round_trips_are_exact_after_any_sequence_of_calls(cls, digits, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    X, y = digits[0][:80], digits[1][:80]

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        derandomize=True,
    )
    @given(st.lists(st.sampled_from(sorted(_STEPS)), min_size=1, max_size=4))
    def check(steps):
        estimator = cls(hidden_layer_sizes=(6, 4), max_iter=2, random_state=0).fit(X, y)
        for step in steps:
            try:
                result = _STEPS[step](estimator, X, y)
            except ValueError as error:  # a warm start refusing a changed network
                assert "built with other parameters" in str(error)
                continue
            if step == "prune":
                estimator = result
        expected = estimator.predict_proba(X)
        for loaded in (
            pickle.loads(pickle.dumps(estimator)),
            copy.deepcopy(estimator),
            _skops_round_trip(estimator, tmp_path),
        ):
            np.testing.assert_array_equal(loaded.predict_proba(X), expected)
            assert loaded.loss_curve_ == estimator.loss_curve_
            assert loaded.n_iter_ == estimator.n_iter_

    check()


# --------------------------------------------------------------------- coefs_ and intercepts_
_NUMPY_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "identity": lambda z: z,
    "swish": lambda z: z / (1 + np.exp(-z)),
}


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
@pytest.mark.parametrize("activation", sorted(_NUMPY_ACTIVATIONS))
def test_coefs_and_intercepts_are_the_plain_mlp_the_network_is(digits, cls, activation):
    X, y = digits
    estimator = _small(cls, hidden_layer_sizes=(7, 5), activation=activation, max_iter=2)
    estimator.fit(X, y)
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    sizes = estimator.module_.layer_sizes
    assert [c.shape for c in coefs] == list(itertools.pairwise(sizes))
    assert [b.shape for b in intercepts] == [(n,) for n in sizes[1:]]
    activations = X
    for layer, (coef, intercept) in enumerate(zip(coefs, intercepts, strict=True)):
        activations = activations @ coef + intercept
        if layer < len(coefs) - 1:
            activations = _NUMPY_ACTIVATIONS[activation](activations)
    logits = activations - activations.max(axis=1, keepdims=True)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, estimator.predict_proba(X), rtol=1e-10, atol=1e-12)
    assert not hasattr(clone(estimator), "coefs_")


# ---------------------------------------------------------------------------- sample weights
def _loss_of_batch(estimator, X, y, weights=None):
    target = torch.as_tensor(np.searchsorted(estimator.classes_, y))
    if weights is not None:
        target = (target, torch.as_tensor(weights, dtype=torch.float32))
    batch = (torch.as_tensor(X, dtype=torch.float32), target)
    return estimator.net_.train_step_single(batch)["loss"].item()


@pytest.mark.parametrize("cls", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_integer_weights_are_repeated_rows_and_zero_weights_leave_a_row_out(digits, cls):
    X, y = digits
    estimator = _small(cls, max_iter=1, alpha=0.1).fit(X, y)
    X, y = X[:12], y[:12]
    weights = np.array([2, 1, 3, 1, 1, 0, 1, 2, 1, 1, 0, 1], dtype=float)
    repeated = np.repeat(np.arange(12), weights.astype(int))
    weighted = _loss_of_batch(estimator, X, y, weights)
    assert weighted == pytest.approx(_loss_of_batch(estimator, X[repeated], y[repeated]), rel=1e-6)
    kept = weights > 0
    assert _loss_of_batch(estimator, X[kept], y[kept], weights[kept]) == pytest.approx(
        weighted, rel=1e-6
    )


def test_unit_weights_train_as_no_weights(digits):
    X, y = digits
    plain = _small(max_iter=3).fit(X, y)
    weighted = _small(max_iter=3).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(weighted.predict_proba(X), plain.predict_proba(X), atol=1e-4)


def test_a_heavily_weighted_class_gains_recall():
    from sklearn.datasets import make_classification
    from sklearn.metrics import recall_score

    X, y = make_classification(
        600, n_features=6, n_informative=3, n_classes=3, class_sep=0.4, random_state=0
    )
    weights = np.where(y == 2, 10.0, 1.0)
    for cls in (PositionalMLPClassifier, ParticleNetworkClassifier):
        plain = cls(hidden_layer_sizes=(16,), max_iter=40, random_state=0).fit(X, y)
        heavy = cls(hidden_layer_sizes=(16,), max_iter=40, random_state=0)
        heavy.fit(X, y, sample_weight=weights)
        gained = recall_score(y, heavy.predict(X), average=None)[2]
        assert gained > recall_score(y, plain.predict(X), average=None)[2] + 0.1, cls


def test_sample_weight_is_validated_and_routed_through_a_grid_search(digits):
    import sklearn
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    with pytest.raises(ValueError, match="Negative values"):
        _small(max_iter=1).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        _small(max_iter=1).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"inconsistent|shape"):
        _small(max_iter=1).fit(X, y, sample_weight=np.ones(3))

    seen = []

    class RecordWeights(Callback):
        def on_train_begin(self, net, X=None, y=None, **kwargs):
            seen.append(isinstance(y, tuple))

    with sklearn.config_context(enable_metadata_routing=True):
        estimator = _small(max_iter=1, callbacks=[RecordWeights()])
        estimator.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        search = GridSearchCV(estimator, {"alpha": [1e-4, 1e-2]}, cv=2)
        search.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert seen and all(seen)


def test_early_stopping_with_weights_scores_the_held_out_data_weighted(digits):
    X, y = digits
    estimator = _small(max_iter=4, early_stopping=True)
    estimator.fit(X, y, sample_weight=np.linspace(0.1, 3, len(y)))
    assert len(estimator.validation_scores_) == 4
    assert all(0 <= score <= 1 for score in estimator.validation_scores_)


def test_the_pruner_passes_weights_to_fitting_and_fine_tuning(digits):
    X, y = digits
    seen = []

    class RecordWeights(Callback):
        def on_train_begin(self, net, X=None, y=None, **kwargs):
            seen.append(isinstance(y, tuple))

    estimator = _small(hidden_layer_sizes=(10,), max_iter=2, callbacks=[RecordWeights()])
    NeuronPruner(estimator, amount=2, fine_tune_epochs=2).fit(X, y, sample_weight=np.ones(len(y)))
    assert seen == [True, True, True]


@pytest.mark.parametrize(
    ("cls", "solver"), [(PositionalMLPClassifier, "adam"), (ParticleNetworkClassifier, "sgd")]
)
def test_weighted_fit_equals_fit_on_repeated_rows_to_float32_precision(cls, solver):
    """scikit-learn's check_sample_weight_equivalence_on_dense_data at float32's tolerance.

    The particle network uses SGD here: its gradients have components that are zero in exact
    arithmetic, and the first steps of RMSProp and Adam move those by +-lr whatever the sign of
    their float32 rounding noise, so two equivalent fits part ways (by 3e-3 after one epoch).
    """
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, size=15)
    weights = rng.randint(0, 5, size=15)
    params = {"hidden_layer_sizes": (16,), "max_iter": 100, "random_state": 0, "solver": solver}
    repeated = cls(**params).fit(X.repeat(weights, axis=0), y.repeat(weights))
    weighted = cls(**params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5)


def test_prediction_uses_the_module_itself_for_networks_too_wide_to_cache(digits, monkeypatch):
    from sklearn_posnet import _inference

    X, y = digits
    estimator = _small(ParticleNetworkClassifier, max_iter=2).fit(X, y)
    cached = estimator.predict_proba(X)
    monkeypatch.setattr(_inference, "_MAX_CACHED_CONNECTIONS", 10)
    estimator._inference = _inference.InferenceCopy()
    np.testing.assert_allclose(estimator.predict_proba(X), cached, rtol=1e-12, atol=1e-15)
    assert estimator._inference._layers is None
