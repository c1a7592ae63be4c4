"""scikit-learn estimators for neural networks whose neurons have positions in space."""

from .particle import ParticleNetworkClassifier, ParticleNetworkRegressor
from .positional import PositionalMLPClassifier, PositionalMLPRegressor
from .pruning import NeuronPruner, prune, pruning_curve

__all__ = [
    "NeuronPruner",
    "ParticleNetworkClassifier",
    "ParticleNetworkRegressor",
    "PositionalMLPClassifier",
    "PositionalMLPRegressor",
    "prune",
    "pruning_curve",
]
__version__ = "0.1.0"
