"""Tests of sklearn_posnet.model_selection: the wiring-cost scorer and the refit rule."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.model_selection import neg_wiring_cost, shortest_wiring_within
from sklearn_posnet.spatial import wiring_cost


def _results(scores, costs):
    return {
        "mean_test_score": np.array(scores, dtype=float),
        "mean_test_wiring_cost": -np.array(costs, dtype=float),
    }


def test_picks_the_shortest_wiring_within_the_tolerance():
    results = _results([0.97, 0.99, 0.985, 0.95], [50.0, 200.0, 120.0, 10.0])
    assert shortest_wiring_within(0.005)(results) == 2  # 0.985 >= 0.985, cost 120 < 200
    assert shortest_wiring_within(0.02)(results) == 0  # 0.97 is in, cost 50
    assert shortest_wiring_within(0.05)(results) == 3  # everything is in
    assert shortest_wiring_within(0.0)(results) == 1  # only the best


def test_ties_go_to_the_higher_score_then_the_earlier_candidate():
    assert shortest_wiring_within(0.1)(_results([0.90, 0.95, 0.95], [10.0, 10.0, 10.0])) == 1
    assert shortest_wiring_within(0.1)(_results([0.95, 0.95], [10.0, 10.0])) == 0


def test_failed_candidates_are_never_chosen():
    results = _results([0.9, math.nan, 0.89], [100.0, 1.0, math.nan])
    assert shortest_wiring_within(0.5)(results) == 0
    with pytest.raises(ValueError, match="NaN"):
        shortest_wiring_within()(_results([math.nan], [1.0]))


def test_refit_names_the_missing_scoring_keys():
    with pytest.raises(KeyError, match="neg_wiring_cost"):
        shortest_wiring_within()({"mean_test_score": np.array([1.0])})
    custom = shortest_wiring_within(0.1, score="accuracy", wiring="wires")
    results = {"mean_test_accuracy": np.array([0.9, 0.85]), "mean_test_wires": np.array([-5, -1])}
    assert custom(results) == 1


@pytest.mark.parametrize("tolerance", [-0.1, math.nan, "0.1", True, None])
def test_tolerance_is_validated(tolerance):
    with pytest.raises(ValueError, match="tolerance"):
        shortest_wiring_within(tolerance)


def test_neg_wiring_cost_is_minus_the_wiring_cost_through_a_pipeline(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(
            StandardScaler(), PositionalMLPClassifier((8,), max_iter=3, random_state=0)
        ).fit(X, y)
    expected = -wiring_cost(pipeline[-1])
    assert expected < 0
    assert neg_wiring_cost(pipeline[-1], X, y) == expected
    assert neg_wiring_cost(pipeline, X, y) == expected
    assert neg_wiring_cost(pipeline) == expected


def test_grid_search_refits_the_shortest_wired_network_within_the_tolerance(digits):
    X, y = digits
    grid = {"distance_alpha": [0.0, 1e-4, 1e-2]}
    estimator = PositionalMLPClassifier((16,), max_iter=40, random_state=0)
    scoring = {"score": "accuracy", "wiring_cost": neg_wiring_cost}
    searches = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for tolerance in (0.0, 1.0):
            searches[tolerance] = GridSearchCV(
                estimator, grid, scoring=scoring, refit=shortest_wiring_within(tolerance), cv=2
            ).fit(X, y)
    for search in searches.values():  # the same candidates, fitted alike
        np.testing.assert_array_equal(
            search.cv_results_["mean_test_wiring_cost"],
            searches[0.0].cv_results_["mean_test_wiring_cost"],
        )
    results = searches[0.0].cv_results_
    costs = -results["mean_test_wiring_cost"]
    assert np.all(costs > 0) and len(set(costs)) == 3
    assert searches[0.0].best_index_ == int(np.argmax(results["mean_test_score"]))
    # With every candidate within the tolerance, the shortest wiring wins.
    shortest = int(np.argmin(costs))
    assert searches[1.0].best_index_ == shortest
    assert searches[1.0].best_params_ == results["params"][shortest]
    refitted = searches[1.0].best_estimator_
    assert refitted.distance_alpha == grid["distance_alpha"][shortest]
    assert refitted.n_features_in_ == X.shape[1] and wiring_cost(refitted) > 0
