"""Choosing a spatial network in a grid search: the shortest wiring within a given accuracy.

A grid over ``distance_alpha`` (or ``falloff``, ``length_scale``) trades accuracy for short
wiring. :class:`~sklearn.model_selection.GridSearchCV` ranks candidates by one score; these two
pieces let it record the wiring cost beside the score and refit the candidate with the
shortest wiring among those whose score is within ``tolerance`` of the best::

    search = GridSearchCV(
        PositionalMLPClassifier(),
        {"distance_alpha": [0.0, 1e-5, 1e-4, 1e-3]},
        scoring={"score": "accuracy", "wiring_cost": neg_wiring_cost},
        refit=shortest_wiring_within(0.005),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Real

import numpy as np
from sklearn.pipeline import Pipeline

from .spatial import wiring_cost

__all__ = ["neg_wiring_cost", "shortest_wiring_within"]


def neg_wiring_cost(estimator, X=None, y=None) -> float:
    """Scorer: minus the :func:`~sklearn_posnet.spatial.wiring_cost` of a fitted network.

    A scorer in scikit-learn's sense (``scorer(estimator, X, y)``, greater is better, as
    ``"neg_mean_squared_error"``), for the ``scoring`` dictionary of a search. The wiring cost
    does not depend on the data: ``X`` and ``y`` are accepted and ignored.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        A fitted positional or particle network, a fitted
        :class:`~sklearn_posnet.NeuronPruner`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one of them.
    X, y : ignored

    Returns
    -------
    score : float
        ``-wiring_cost(estimator)``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.model_selection import neg_wiring_cost
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier((16,), max_iter=5, random_state=0).fit(X / 16, y)
    >>> neg_wiring_cost(clf) < 0
    True
    """
    while isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    return -float(wiring_cost(estimator))


def _check_tolerance(tolerance) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not tolerance >= 0:
        raise ValueError(f"tolerance must be a real number >= 0, got {tolerance!r}.")
    return float(tolerance)


def shortest_wiring_within(
    tolerance: float = 0.005, *, score: str = "score", wiring: str = "wiring_cost"
) -> Callable[[Mapping], int]:
    """A ``refit`` callable: the shortest-wired candidate within ``tolerance`` of the best score.

    Among the candidates whose mean test ``score`` is at least the best mean test score minus
    ``tolerance``, the one with the lowest mean wiring cost (the highest mean ``wiring``, which
    holds :func:`neg_wiring_cost`); ties go to the higher score, then to the earlier candidate.
    Candidates whose score or wiring cost is NaN (a failed fit) are never chosen.

    Parameters
    ----------
    tolerance : float, default=0.005
        How far below the best score a candidate may be, in the units of the score: 0.005 is
        half a percentage point of accuracy.
    score : str, default="score"
        The key of the score in the search's ``scoring`` dictionary.
    wiring : str, default="wiring_cost"
        The key of :func:`neg_wiring_cost` in the ``scoring`` dictionary.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate, for the ``refit``
        parameter of :class:`~sklearn.model_selection.GridSearchCV` (whose ``best_index_``,
        ``best_params_`` and ``best_estimator_`` then follow it; as for every callable
        ``refit``, the search sets no ``best_score_`` and its ``score`` is not available:
        score ``best_estimator_``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_posnet.model_selection import shortest_wiring_within
    >>> cv_results = {
    ...     "mean_test_score": np.array([0.980, 0.978, 0.960]),
    ...     "mean_test_wiring_cost": np.array([-200.0, -120.0, -80.0]),
    ... }
    >>> shortest_wiring_within(0.005)(cv_results)
    1
    """
    tolerance = _check_tolerance(tolerance)
    score_key, wiring_key = f"mean_test_{score}", f"mean_test_{wiring}"

    def refit(cv_results: Mapping) -> int:
        for key in (score_key, wiring_key):
            if key not in cv_results:
                raise KeyError(
                    f"cv_results has no {key!r}: the search's scoring must be a dict with the "
                    f"keys {score!r} and {wiring!r} (the latter neg_wiring_cost)."
                )
        scores = np.asarray(cv_results[score_key], dtype=np.float64)
        negative_costs = np.asarray(cv_results[wiring_key], dtype=np.float64)
        valid = np.isfinite(scores) & np.isfinite(negative_costs)
        if not valid.any():
            raise ValueError("Every candidate's score or wiring cost is NaN: none to refit.")
        eligible = valid & (scores >= scores[valid].max() - tolerance)
        candidates = np.flatnonzero(eligible)
        # lexsort sorts by the last key first: lowest cost, then highest score, then index.
        order = np.lexsort((candidates, -scores[candidates], -negative_costs[candidates]))
        return int(candidates[order[0]])

    refit.tolerance = tolerance
    return refit
