"""scikit-learn estimators for neural networks whose neurons have positions in space."""

from .particle import ParticleNetworkClassifier
from .positional import PositionalMLPClassifier
from .pruning import NeuronPruner, prune, pruning_curve

__all__ = [
    "NeuronPruner",
    "ParticleNetworkClassifier",
    "PositionalMLPClassifier",
    "prune",
    "pruning_curve",
]
__version__ = "0.1.0"
