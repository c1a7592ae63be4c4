"""scikit-learn's estimator checks over every public estimator, with no expected failures."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_posnet import NeuronPruner, ParticleNetworkClassifier, PositionalMLPClassifier

# Small networks keep the ~50 checks fast; the defaults are exercised by the other test files.
ESTIMATORS = [
    PositionalMLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
    PositionalMLPClassifier(
        hidden_layer_sizes=(16,), falloff="none", distance_alpha=0.0, max_iter=100, random_state=0
    ),
    ParticleNetworkClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
    # The pruner removes 30% of the hidden neurons, then fine-tunes the smaller network.
    NeuronPruner(
        PositionalMLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
        fine_tune_epochs=20,
    ),
    NeuronPruner(
        ParticleNetworkClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
        fine_tune_epochs=20,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
