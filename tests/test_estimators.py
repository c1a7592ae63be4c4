"""The estimators' scikit-learn contract beyond the common checks: searches, persistence,
reproducibility, MLPClassifier's training semantics, and accuracy of the defaults."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.spatial import wiring_cost


@pytest.fixture(scope="module")
def all_digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def small_digits(all_digits):
    X, y = all_digits
    return X[:300], y[:300]


def _small(cls, **params):
    """A small, fast configuration of ``cls``; ``params`` override it."""
    return cls(
        **{
            "hidden_layer_sizes": (16,),
            "max_iter": 15,
            "batch_size": 32,
            "random_state": 0,
            **params,
        }
    )


ESTIMATORS = [PositionalMLPClassifier, ParticleNetworkClassifier]


@pytest.mark.parametrize(
    ("estimator", "grid"),
    [
        (
            PositionalMLPClassifier(
                hidden_layer_sizes=(16,), max_iter=10, batch_size=32, random_state=0
            ),
            {
                "clf__falloff": ["inverse_square", "none"],
                "clf__alpha": [1e-4, 1e-2],
                "clf__distance_alpha": [0.0, 0.01],
            },
        ),
        (
            ParticleNetworkClassifier(
                hidden_layer_sizes=(16,), max_iter=10, batch_size=32, random_state=0
            ),
            {"clf__falloff": ["gaussian", "inverse_square"], "clf__alpha": [0.0, 1e-3]},
        ),
    ],
    ids=["positional", "particle"],
)
def test_grid_search_over_a_pipeline_in_parallel(small_digits, estimator, grid):
    X, y = small_digits
    pipe = Pipeline([("scale", StandardScaler()), ("clf", estimator)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    n_candidates = np.prod([len(v) for v in grid.values()])
    assert len(search.cv_results_["params"]) == n_candidates
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ > 0.5
    assert search.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_clone_pickle_and_cross_val_score(small_digits, cls):
    X, y = small_digits
    estimator = _small(cls, max_iter=60)
    assert clone(estimator).get_params() == estimator.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(estimator, X, y, cv=3)
        fitted = clone(estimator).fit(X, y)
    assert scores.shape == (3,) and (scores > 0.5).all()
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_random_state_makes_a_fit_bitwise_reproducible_without_global_rng(small_digits, cls):
    X, y = small_digits
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = _small(cls, random_state=3).fit(X, y)
        second = _small(cls, random_state=3).fit(X, y)
        other = _small(cls, random_state=4).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(a == b for a, b in zip(np.random.get_state(), numpy_state) if np.isscalar(a))
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state[1])
    for a, b in zip(first.module_.state_dict().values(), second.module_.state_dict().values()):
        assert torch.equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    assert first.loss_curve_ != other.loss_curve_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_max_iter_ends_training_with_a_convergence_warning(small_digits, cls):
    X, y = small_digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        estimator = _small(cls, max_iter=3).fit(X, y)
    assert estimator.n_iter_ == 3 and len(estimator.loss_curve_) == 3


def test_training_stops_when_the_loss_stops_improving(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, max_iter=500, tol=1.0, n_iter_no_change=2)
        estimator.fit(X, y)
    # with tol=1 no epoch after the first improves enough: 1 + (n_iter_no_change + 1) epochs
    assert estimator.n_iter_ == 4
    assert estimator.best_loss_ == min(estimator.loss_curve_)


def test_early_stopping_scores_held_out_data_and_keeps_the_best_epoch(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, early_stopping=True, max_iter=30).fit(X, y)
    scores = estimator.validation_scores_
    assert len(scores) == estimator.n_iter_
    assert estimator.best_validation_score_ == max(scores)
    assert estimator.best_loss_ is None
    assert estimator.net_.history[:, "valid_acc"] == scores


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_trains_one_epoch_and_needs_the_classes_first(small_digits, cls):
    X, y = small_digits
    estimator = _small(cls)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        estimator.partial_fit(X, y)
    estimator.partial_fit(X[:100], y[:100], classes=np.arange(10))
    estimator.partial_fit(X[100:], y[100:])
    assert estimator.n_iter_ == 1 and len(estimator.loss_curve_) == 2
    assert estimator.predict(X).shape == (300,)


def test_warm_start_continues_from_the_previous_solution(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, max_iter=5, warm_start=True).fit(X, y)
        before = {k: v.clone() for k, v in estimator.module_.state_dict().items()}
        module = estimator.module_
        estimator.fit(X, y)
    assert estimator.module_ is module and len(estimator.loss_curve_) == 10
    assert estimator.loss_curve_[-1] < estimator.loss_curve_[4]
    assert not torch.equal(before["weights.0"], estimator.module_.state_dict()["weights.0"])


def test_string_labels_come_back_as_labels(small_digits):
    X, y = small_digits
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(ParticleNetworkClassifier).fit(X, names[y])
    assert set(estimator.predict(X)) <= set(names)
    assert list(estimator.classes_) == sorted(names)


def _training_batch(estimator, X, y):
    return (
        torch.as_tensor(X, dtype=torch.float32),
        torch.as_tensor(np.searchsorted(estimator.classes_, y)),
    )


def test_alpha_is_mlpclassifiers_l2_penalty(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, alpha=0.5, distance_alpha=0.0, max_iter=1)
        estimator.fit(X, y)
    net, module = estimator.net_, estimator.module_
    batch = _training_batch(estimator, X[:10], y[:10])
    data_loss = torch.nn.functional.cross_entropy(module(batch[0]), batch[1])
    squared = sum(float((w.detach().double() ** 2).sum()) for w in module.weights)
    expected = float(data_loss) + 0.5 * 0.5 * squared / 10
    got = net.train_step_single(batch)["loss"].item()  # the loss a training step minimizes
    assert got == pytest.approx(expected, rel=1e-5)


def test_distance_alpha_adds_the_modules_distance_penalty(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, alpha=0.0, distance_alpha=0.3, max_iter=1)
        estimator.fit(X, y)
    module = estimator.module_
    batch = _training_batch(estimator, X[:10], y[:10])
    expected = float(torch.nn.functional.cross_entropy(module(batch[0]), batch[1]))
    expected += 0.3 * float(module.distance_penalty())
    got = estimator.net_.train_step_single(batch)["loss"].item()
    assert got == pytest.approx(expected, rel=1e-6)


def _numpy_distance_terms(module):
    """Per layer, ``sum(d**2 * w**2)`` and its number of connections, in float64."""
    terms = []
    for layer, weight in enumerate(module.weights):
        p_out = module.positions[layer + 1].detach().double().numpy()
        p_in = module.positions[layer].detach().double().numpy()
        d2 = ((p_out[:, None, :] - p_in[None, :, :]) ** 2).sum(-1)
        terms.append(((d2 * weight.detach().double().numpy() ** 2).sum(), weight.numel()))
    return terms


@pytest.mark.parametrize("reduction", ["sum", "layer_mean"])
def test_distance_reduction_sets_how_the_penalty_adds_up(small_digits, reduction):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(
            PositionalMLPClassifier,
            hidden_layer_sizes=(16, 8),
            alpha=0.0,
            distance_alpha=0.3,
            distance_reduction=reduction,
            max_iter=1,
        ).fit(X, y)
    module = estimator.module_
    assert module.distance_reduction == reduction
    terms = _numpy_distance_terms(module)
    if reduction == "sum":
        penalty = sum(total for total, _ in terms)
    else:  # the reference's: the mean over layers of each layer's mean
        penalty = np.mean([total / count for total, count in terms])
    batch = _training_batch(estimator, X[:10], y[:10])
    expected = float(torch.nn.functional.cross_entropy(module(batch[0]), batch[1]))
    expected += 0.3 * penalty
    got = estimator.net_.train_step_single(batch)["loss"].item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_the_default_penalty_is_the_per_connection_sum():
    estimator = PositionalMLPClassifier()
    assert estimator.distance_reduction == "sum"
    assert estimator.distance_alpha == 1e-4


def test_wiring_shortens_as_the_default_penalty_grows(all_digits):
    X, y = all_digits
    costs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for distance_alpha in (0.0, 1e-5, 1e-4, 1e-3):
            estimator = PositionalMLPClassifier(
                (16,), distance_alpha=distance_alpha, max_iter=60, random_state=0
            ).fit(X[:600], y[:600])
            costs.append(wiring_cost(estimator))
    assert np.all(np.diff(costs) < 0), costs


def test_distance_reduction_is_validated_and_defines_the_network(small_digits):
    X, y = small_digits
    with pytest.raises(ValueError, match="distance_reduction"):
        _small(PositionalMLPClassifier, distance_reduction="mean").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, max_iter=1, warm_start=True).fit(X, y)
        estimator.set_params(distance_reduction="layer_mean")
        with pytest.raises(ValueError, match="distance_reduction"):
            estimator.fit(X, y)
        restored = pickle.loads(pickle.dumps(estimator.set_params(distance_reduction="sum")))
    assert restored.module_.distance_reduction == "sum"


def test_a_network_saved_before_distance_reduction_loads_as_the_layer_mean(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = _small(
            PositionalMLPClassifier, distance_reduction="layer_mean", distance_alpha=0.3
        ).fit(X, y)
        state = fitted.__getstate__()
        # What an estimator saved before the parameter existed holds: neither the parameter
        # nor its entry in the record of how the network was built.
        del state["distance_reduction"]
        del state["_built_with"]["distance_reduction"]
        old = PositionalMLPClassifier.__new__(PositionalMLPClassifier)
        old.__setstate__(state)
        assert old.distance_reduction == "layer_mean"
        assert old.module_.distance_reduction == "layer_mean"
        np.testing.assert_array_equal(old.predict_proba(X), fitted.predict_proba(X))
        for estimator in (old, fitted):  # both continue the same network the same way
            estimator.set_params(warm_start=True, max_iter=2).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), fitted.predict_proba(X))
    again = pickle.loads(pickle.dumps(old))
    assert again.get_params()["distance_reduction"] == "layer_mean"


def test_training_moves_hidden_positions_only(small_digits):
    X, y = small_digits
    estimator = _small(PositionalMLPClassifier, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    reference = estimator._build_module(64, 10, torch.Generator().manual_seed(0))
    fitted = estimator.module_
    assert torch.equal(fitted.positions[0], reference.positions[0])
    assert torch.equal(fitted.positions[2], reference.positions[2])
    initial = _small(PositionalMLPClassifier, max_iter=1)
    assert fitted.positions[1].requires_grad and not fitted.positions[0].requires_grad
    assert initial.get_params()["trainable_positions"] == "hidden"


def test_verbose_prints_a_progress_line_per_epoch(small_digits, capsys):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _small(PositionalMLPClassifier, max_iter=3, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "dur" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 3


def test_unavailable_cuda_is_a_clear_error(small_digits):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, y = small_digits
    with pytest.raises(ValueError, match="CUDA is not available"):
        _small(PositionalMLPClassifier, device="cuda").fit(X, y)


def test_parameter_counts():
    X = np.random.default_rng(0).random((40, 784))
    y = np.arange(40) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        particle = ParticleNetworkClassifier(hidden_layer_sizes=(128,), max_iter=1).fit(X, y)
        positional = PositionalMLPClassifier(hidden_layer_sizes=(128,), max_iter=1).fit(X, y)
    assert particle.n_parameters_ == 3826
    assert positional.n_parameters_ == 784 * 128 + 128 * 10 + 128 + 10 + 128 * 2


@pytest.mark.parametrize(
    ("estimator", "minimum", "seeds"),
    [
        (PositionalMLPClassifier(), 0.95, [0]),
        (PositionalMLPClassifier(falloff="none", distance_alpha=0.0), 0.95, [0]),
        # One seed's accuracy is not the default's: over 16 seeds it spans 0.878 to 0.947
        # (benchmarks/results/particle_digits_seeds.md), and float32 products that round
        # differently on another CPU move a seed within that spread (seed 0: 0.896 on the
        # machine of that table, 0.884 on an AVX-512 one). The mean of five seeds is what the
        # threshold holds.
        (ParticleNetworkClassifier(), 0.9, [0, 1, 2, 3, 4]),
    ],
    ids=["positional", "vanilla", "particle"],
)
def test_defaults_reach_good_accuracy_on_digits(all_digits, estimator, minimum, seeds):
    X, y = all_digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in seeds:
            fitted = clone(estimator).set_params(random_state=seed).fit(X_train, y_train)
            scores.append(fitted.score(X_test, y_test))
    assert np.mean(scores) >= minimum, scores


def test_warm_start_fit_uses_a_fresh_optimizer_with_the_new_learning_rate(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, max_iter=2, warm_start=True).fit(X, y)
        old_optimizer = estimator.net_.optimizer_
        estimator.set_params(learning_rate_init=0.05).fit(X, y)
    optimizer = estimator.net_.optimizer_
    assert optimizer is not old_optimizer
    assert [group["lr"] for group in optimizer.param_groups] == [0.05]
    # the fresh optimizer trained the current parameters: its state belongs to them
    trained = [p for p in estimator.module_.parameters() if p.requires_grad]
    assert all(p in optimizer.state for p in trained)


def test_partial_fit_after_a_fit_with_early_stopping(small_digits):
    X, y = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = _small(PositionalMLPClassifier, early_stopping=True, max_iter=3).fit(X, y)
    assert estimator.best_loss_ is None
    estimator.partial_fit(X, y)  # tracks the training loss again from here
    assert estimator.best_loss_ == estimator.loss_curve_[-1]
    assert estimator.validation_scores_ is None
