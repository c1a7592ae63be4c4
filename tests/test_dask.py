"""GridSearchCV over our estimators on a Dask distributed cluster, through joblib's dask backend.

Dask is an optional extra (``pip install "dask[distributed]"``): without it this file is
skipped. The cluster is local, with two worker processes, so that the estimators really travel
to other Python processes and back.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # distributed's own shutdown noise, not ours
    "ignore::ResourceWarning",
    "ignore:.*[Pp]ort.*:UserWarning",
)


@pytest.fixture(scope="module")
def client():
    # One thread per worker and OMP_NUM_THREADS=1 in the workers: the same arithmetic as the
    # local, single-threaded search, so that the scores are equal, not just close.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _search(estimator, grid):
    return GridSearchCV(estimator, grid, cv=2, n_jobs=-1, error_score="raise")


@pytest.mark.parametrize(
    "estimator, grid",
    [
        (
            PositionalMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
            {"falloff": ["inverse_square", "none"], "distance_alpha": [0.0, 0.1]},
        ),
        (
            ParticleNetworkClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
            {"particle_dim": [1, 2]},
        ),
    ],
    ids=["positional", "particle"],
)
def test_grid_search_on_a_dask_cluster_equals_the_local_one(estimator, grid, client):
    X, y = load_digits(return_X_y=True)
    X, y = X[:150] / 16, y[:150]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = _search(estimator, grid).fit(X, y)
    finally:
        torch.set_num_threads(threads)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = _search(estimator, grid).fit(X, y)

    # The cross-validation fits ran as tasks on the cluster's worker processes.
    n_fits = len(remote.cv_results_["params"]) * 2
    assert len(tasks.data) >= n_fits
    assert {task["worker"] for task in tasks.data} <= set(client.scheduler_info()["workers"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
