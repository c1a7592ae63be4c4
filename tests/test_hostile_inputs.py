"""Inputs a hostile user might pass: views with negative strides, finite values of any
magnitude, parameters of the wrong kind, labels of mixed types.

Each case runs for both classifiers, and for :class:`~sklearn_posnet.pruning.NeuronPruner`
where it accepts the same input.
"""

import copy

import numpy as np
import pytest
import torch

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def positional(**params):
    return PositionalMLPClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **params}
    )


def particle(**params):
    return ParticleNetworkClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, **params}
    )


def pruner(**params):
    return NeuronPruner(positional(hidden_layer_sizes=(8, 4)), amount=0.25, **params)


FACTORIES = [
    pytest.param(positional, id="positional"),
    pytest.param(particle, id="particle"),
    pytest.param(pruner, id="pruner"),
]


# ------------------------------------------------------------------- negative strides (views)
VIEWS = {  # (X, y) -> views of both, with the same rows
    "rows reversed": lambda X, y: (X[::-1], y[::-1]),
    "columns flipped": lambda X, y: (np.flip(X, 1), y),
    "both, every other row": lambda X, y: (X[::-2, ::-1], y[::-2]),
}


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_views_with_negative_strides_act_like_their_contiguous_copies(factory, view, digits):
    """As in MLPClassifier: a view is data like any other, in fit, predict and transform."""
    X, y = digits
    X_view, y_view = view(X, y)
    assert any(stride < 0 for stride in X_view.strides)
    from_view = factory().fit(X_view, y_view)
    from_copy = factory().fit(np.ascontiguousarray(X_view), np.ascontiguousarray(y_view))
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(from_copy, method):
            np.testing.assert_array_equal(
                getattr(from_view, method)(X_view),
                getattr(from_copy, method)(np.ascontiguousarray(X_view)),
            )
    if hasattr(from_view, "partial_fit"):
        from_view.partial_fit(X_view, y_view)
        from_copy.partial_fit(np.ascontiguousarray(X_view), np.ascontiguousarray(y_view))
        np.testing.assert_array_equal(from_view.predict_proba(X), from_copy.predict_proba(X))


@pytest.mark.parametrize("factory", [positional, particle], ids=["positional", "particle"])
def test_select_hidden_neurons_takes_indices_with_negative_strides(factory, digits):
    X, y = digits
    module = factory(hidden_layer_sizes=(8, 6)).fit(X, y).module_
    copied = [np.array([5, 2, 0]), np.array([4, 1])]
    reversed_view = [np.array([0, 2, 5])[::-1], np.array([1, 4])[::-1]]
    expected = [w.detach().clone() for w in _pruned(module, copied).effective_weights()]
    got = _pruned(module, reversed_view).effective_weights()
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a.detach(), b, rtol=0, atol=0)


def _pruned(module, keep):
    module = copy.deepcopy(module)
    module.select_hidden_neurons(keep)
    return module
