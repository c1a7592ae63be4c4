"""scikit-learn estimators for neural networks whose neurons have positions in space."""

from .particle import ParticleNetworkClassifier
from .positional import PositionalMLPClassifier

__all__ = ["ParticleNetworkClassifier", "PositionalMLPClassifier"]
__version__ = "0.1.0"
