"""Tests of record_positions: the frames are the positions the network had at those moments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _positions(estimator):
    return [p.detach().numpy() for p in estimator.module_.positions]


@pytest.mark.parametrize("Estimator", [PositionalMLPClassifier, ParticleNetworkClassifier])
def test_frame_k_is_the_network_after_k_epochs(digits, Estimator):
    X, y = digits
    recorded = _fit(Estimator((6,), max_iter=3, random_state=0, record_positions=True), X, y)
    history = recorded.positions_history_
    assert len(history) == recorded.n_iter_ + 1 == 4
    np.testing.assert_array_equal(recorded.positions_history_epochs_, [0, 1, 2, 3])
    for epochs in (1, 2, 3):
        shorter = _fit(Estimator((6,), max_iter=epochs, random_state=0), X, y)
        for frame_layer, layer in zip(history[epochs], _positions(shorter), strict=True):
            np.testing.assert_array_equal(frame_layer, layer)
    hidden_moved = np.abs(history[1][1] - history[0][1]).max()
    assert hidden_moved > 0


def test_first_frame_is_before_training(digits):
    X, y = digits
    clf = _fit(
        PositionalMLPClassifier((6,), max_iter=2, random_state=0, record_positions=True), X, y
    )
    first = clf.positions_history_[0]
    # Input and output neurons do not move; hidden ones start near the origin.
    np.testing.assert_array_equal(first[0], _positions(clf)[0])
    np.testing.assert_array_equal(first[-1], _positions(clf)[-1])
    assert not np.array_equal(first[1], _positions(clf)[1])
    assert [layer.shape for layer in first] == [(64, 2), (6, 2), (10, 2)]
    assert clf.dipoles_history_ is None


def test_recording_every_k_batches(digits):
    X, y = digits
    clf = _fit(
        ParticleNetworkClassifier(
            (5,), max_iter=3, batch_size=50, random_state=0, record_positions=2
        ),
        X,
        y,
    )
    # 200 rows in batches of 50: 4 steps per epoch, 12 steps, a frame every 2 steps.
    np.testing.assert_allclose(clf.positions_history_epochs_, np.arange(7) / 2)
    assert len(clf.positions_history_) == len(clf.dipoles_history_) == 7
    for frame in clf.dipoles_history_:
        assert [d.shape for d in frame] == [(64, 2), (5, 2), (10, 2)]
    np.testing.assert_array_equal(
        clf.dipoles_history_[-1][1], clf.module_.dipoles[1].detach().numpy()
    )


def test_partial_fit_appends_frames(digits):
    X, y = digits
    clf = ParticleNetworkClassifier((5,), random_state=0, record_positions=True)
    clf.partial_fit(X, y, classes=np.arange(10))
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.positions_history_epochs_, [0, 1, 2])
    for frame_layer, layer in zip(clf.positions_history_[-1], _positions(clf), strict=True):
        np.testing.assert_array_equal(frame_layer, layer)
    # A fresh fit starts a fresh recording.
    _fit(clf.set_params(max_iter=1), X, y)
    np.testing.assert_array_equal(clf.positions_history_epochs_, [0, 1])


def test_no_recording_by_default(digits):
    X, y = digits
    clf = _fit(PositionalMLPClassifier((4,), max_iter=1, random_state=0), X, y)
    assert clf.positions_history_ is None
    assert clf.dipoles_history_ is None
    assert clf.positions_history_epochs_ is None


@pytest.mark.parametrize("value", [0, -3, 1.5, "epoch"])
def test_invalid_record_positions_is_refused(digits, value):
    X, y = digits
    with pytest.raises(InvalidParameterError, match="record_positions"):
        PositionalMLPClassifier((4,), max_iter=1, record_positions=value).fit(X, y)


def test_recording_continues_across_a_pickle_round_trip():
    import pickle

    X, y = load_digits(return_X_y=True)
    X, y = X[:120] / 16.0, y[:120]
    kwargs = {"hidden_layer_sizes": (6,), "record_positions": True, "random_state": 0}
    direct = PositionalMLPClassifier(**kwargs)
    direct.partial_fit(X, y, classes=np.arange(10))
    restored = pickle.loads(pickle.dumps(direct))
    direct.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert len(restored.positions_history_) == len(direct.positions_history_) == 3
    np.testing.assert_array_equal(restored.positions_history_epochs_, [0.0, 1.0, 2.0])
    for frame_a, frame_b in zip(restored.positions_history_, direct.positions_history_):
        for a, b in zip(frame_a, frame_b):
            np.testing.assert_array_equal(a, b)
