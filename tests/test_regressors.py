"""PositionalMLPRegressor and ParticleNetworkRegressor: MLPRegressor's contract and accuracy."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_posnet import (
    NeuronPruner,
    ParticleNetworkRegressor,
    PositionalMLPRegressor,
    pruning_curve,
    spatial,
)
from sklearn_posnet.export import to_sklearn
from sklearn_posnet.plotting import animate_training, plot_loss_curve, plot_network

REGRESSORS = [PositionalMLPRegressor, ParticleNetworkRegressor]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=400, n_features=8, n_informative=5, noise=5, random_state=0)
    return train_test_split(StandardScaler().fit_transform(X), y / y.std(), random_state=0)


def _scaled(estimator):
    return TransformedTargetRegressor(
        make_pipeline(StandardScaler(), estimator), transformer=StandardScaler()
    )


@pytest.mark.parametrize("cls", REGRESSORS)
def test_a_regressor_fits_shapes_and_scores_r2(cls, regression):
    X_train, X_test, y_train, y_test = regression
    reg = cls(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X_train, y_train)
    assert is_regressor(reg)
    assert reg.predict(X_test).shape == (len(X_test),)
    assert reg.n_outputs_ == 1 and reg.out_activation_ == "identity"
    assert reg.score(X_test, y_test) > 0.9
    assert not hasattr(reg, "classes_") and not hasattr(reg, "predict_proba")
    # A column vector is a 1-D y, with MLPRegressor's warning.
    with pytest.warns(UserWarning, match="column-vector y"):
        column = cls(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        column.fit(X_train, y_train[:, None])
    assert column.predict(X_test).shape == (len(X_test),)


@pytest.mark.parametrize("cls", REGRESSORS)
def test_multi_output_regression(cls, regression):
    X_train, X_test, y_train, y_test = regression
    Y_train = np.column_stack([y_train, -2 * y_train, y_train**2])
    Y_test = np.column_stack([y_test, -2 * y_test, y_test**2])
    reg = cls(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X_train, Y_train)
    assert reg.predict(X_test).shape == (len(X_test), 3)
    assert reg.n_outputs_ == 3 and reg.module_.layer_sizes[-1] == 3
    assert reg.score(X_test, Y_test) > 0.8
    with pytest.raises(ValueError, match="3"):
        reg.partial_fit(X_train, y_train)  # 1 target where the network has 3


@pytest.mark.parametrize("cls", REGRESSORS)
def test_r2_close_to_mlp_regressor_on_diabetes_and_synthetic_data(cls, regression):
    """Equal topology and epochs; the figures over more seeds and data sets are in
    benchmarks/results/regression.md."""
    X, y = load_diabetes(return_X_y=True)
    splits = {
        "diabetes": train_test_split(X, y, random_state=0),
        "make_regression": regression,
    }
    for name, (X_train, X_test, y_train, y_test) in splits.items():
        params = {"hidden_layer_sizes": (32,), "max_iter": 300, "random_state": 0}
        ours = _scaled(cls(**params)).fit(X_train, y_train).score(X_test, y_test)
        mlp = _scaled(MLPRegressor(**params)).fit(X_train, y_train).score(X_test, y_test)
        assert ours > mlp - 0.05, (name, ours, mlp)


def test_poisson_loss_fits_counts_and_refuses_negative_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    rate = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])
    y = rng.poisson(rate)
    reg = PositionalMLPRegressor(hidden_layer_sizes=(16,), loss="poisson", random_state=0)
    reg.fit(X[:400], y[:400])
    assert reg.out_activation_ == "exp"
    predicted = reg.predict(X[400:])
    assert (predicted > 0).all()
    # Closer to the true mean than the constant mean is.
    assert np.mean((predicted - rate[400:]) ** 2) < 0.5 * np.var(rate[400:])
    with pytest.raises(ValueError, match="non-negative"):
        clone(reg).fit(X, y - 1.0)
    with pytest.raises(ValueError, match="loss"):
        PositionalMLPRegressor(loss="absolute_error").fit(X, y)


def test_the_loss_defines_the_network():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = PositionalMLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    reg.set_params(loss="poisson", warm_start=True)
    with pytest.raises(ValueError, match="loss"):
        reg.fit(X, np.abs(y))


@pytest.mark.parametrize("cls", REGRESSORS)
def test_integer_weights_are_repeated_rows_in_the_loss(cls, regression):
    X_train, _, y_train, _ = regression
    X, y = X_train[:50], y_train[:50]
    counts = np.random.default_rng(0).integers(0, 3, size=50)
    counts[0] = 1
    params = {"hidden_layer_sizes": (8,), "max_iter": 1, "random_state": 0, "shuffle": False}
    weighted = cls(batch_size=200, **params).fit(X, y, sample_weight=counts)
    rows = np.repeat(np.arange(50), counts)
    repeated = cls(batch_size=200, **params).fit(X[rows], y[rows])
    # One full batch each from the same start: the same first loss.
    assert weighted.loss_curve_[0] == pytest.approx(repeated.loss_curve_[0], rel=1e-5)


def test_grid_search_over_a_regressor_in_a_pipeline(regression):
    X_train, X_test, y_train, y_test = regression
    pipeline = make_pipeline(
        StandardScaler(), PositionalMLPRegressor(hidden_layer_sizes=(8,), max_iter=30)
    )
    search = GridSearchCV(
        pipeline,
        {
            "positionalmlpregressor__falloff": ["inverse_square", "gaussian"],
            "positionalmlpregressor__alpha": [1e-4, 1e-1],
        },
        cv=2,
    ).fit(X_train, y_train)
    assert search.scoring is None and len(search.cv_results_["params"]) == 4
    assert search.score(X_test, y_test) == pytest.approx(
        search.best_estimator_.score(X_test, y_test)
    )


def test_early_stopping_scores_r2_on_held_out_data(regression):
    X_train, _, y_train, _ = regression
    reg = PositionalMLPRegressor(
        hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=3, random_state=0
    ).fit(X_train, y_train)
    assert reg.net_.history[:, "valid_r2"] == reg.validation_scores_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert reg.best_loss_ is None and -1 < reg.best_validation_score_ <= 1


@pytest.mark.parametrize("cls", REGRESSORS)
def test_pruner_plots_export_and_persistence_take_regressors(cls, regression):
    X_train, X_test, y_train, y_test = regression
    reg = cls(hidden_layer_sizes=(16,), max_iter=50, record_positions=True, random_state=0)
    reg.fit(X_train, y_train)
    pruner = NeuronPruner(reg, prefit=True, amount=0.25, fine_tune_epochs=2)
    pruner.fit(X_train, y_train)
    assert is_regressor(pruner) and not hasattr(pruner, "predict_proba")
    assert pruner.estimator_.hidden_layer_sizes == (12,)
    assert pruner.score(X_test, y_test) == pytest.approx(pruner.estimator_.score(X_test, y_test))
    curve = pruning_curve(reg, X_test, y_test, amounts=[0.0, 0.5])
    assert curve["scores"][0] == pytest.approx(reg.score(X_test, y_test))
    mlp = to_sklearn(reg)
    assert isinstance(mlp, MLPRegressor)
    np.testing.assert_allclose(mlp.predict(X_test), reg.predict(X_test), rtol=1e-10, atol=1e-12)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X_test), reg.predict(X_test))
    plot_network(reg)
    plot_loss_curve(reg)
    assert animate_training(reg, frame_step=10) is not None
    assert spatial.wiring_cost(reg) > 0 and np.isfinite(spatial.modularity(reg))
    assert [len(i) for i in spatial.output_influence(reg)] == [16]
    # Growth by the gradient of the regression loss, the prediction unchanged at insertion.
    before = reg.predict(X_test)
    reg.grow_hidden_neurons(0, 4, X=X_train, y=y_train, random_state=0)
    assert reg.hidden_layer_sizes == (20,)
    np.testing.assert_allclose(reg.predict(X_test), before, rtol=1e-12, atol=1e-12)
    reg.partial_fit(X_train, y_train)


def test_targets_beyond_float32_are_refused_and_divergence_says_to_scale_y():
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match="beyond float32's range"):
        PositionalMLPRegressor(max_iter=2).fit(X, X[:, 0] * 1e300)
    with pytest.raises(ValueError, match="TransformedTargetRegressor"):
        PositionalMLPRegressor(max_iter=2).fit(X, X[:, 0] * 1e30)  # squares overflow float32
