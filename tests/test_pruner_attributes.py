"""NeuronPruner's fitted attributes describe its last fit, and it draws as the pruned network."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.plotting import plot_network
from sklearn_posnet.pruning import NeuronPruner
from sklearn_posnet.spatial import mean_connection_length

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = {
    "positional": lambda: PositionalMLPClassifier((8, 6), max_iter=3, random_state=0),
    "particle": lambda: ParticleNetworkClassifier((8,), max_iter=3, random_state=0),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("prefit", [False, True])
def test_refit_on_an_array_forgets_the_feature_names_of_a_dataframe(prefit, digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])

    def pruner(data):
        estimator = ESTIMATORS["positional"]()
        if prefit:
            estimator.fit(data, y)
        return NeuronPruner(estimator, amount=0.25, prefit=prefit)

    from_frame = pruner(frame).fit(frame, y)
    np.testing.assert_array_equal(from_frame.feature_names_in_, frame.columns)
    refit = from_frame.set_params(estimator=pruner(X).estimator).fit(X, y)
    assert not hasattr(refit, "feature_names_in_")
    assert not hasattr(refit.estimator_, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" warning: names are forgotten
        refit.predict(X)


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_plot_network_draws_the_pruned_network(kind, digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pruner = NeuronPruner(ESTIMATORS[kind](), amount=0.5).fit(X, y)
    ax = plot_network(pruner, top_k=None)
    drawn = {
        artist.get_gid(): len(artist.get_offsets())
        for artist in ax.collections
        if str(artist.get_gid()).startswith("neurons-")
    }
    sizes = pruner.estimator_.module_.layer_sizes
    assert drawn == {f"neurons-{layer}": n for layer, n in enumerate(sizes)}
    assert sizes[1] == len(pruner.kept_neurons_[0]) < ESTIMATORS[kind]().hidden_layer_sizes[0]
    labels = [text.get_text() for text in ax.texts]
    assert labels == [str(c) for c in pruner.classes_]
    assert mean_connection_length(pruner) == mean_connection_length(pruner.estimator_)


def test_unfitted_pruner_is_refused_by_plot_network():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plot_network(NeuronPruner(ESTIMATORS["positional"]()))
