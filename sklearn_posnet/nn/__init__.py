"""Torch modules for networks whose neurons have positions; usable without scikit-learn."""

from .particle import ParticleNetwork
from .positional import PositionalMLP

__all__ = ["ParticleNetwork", "PositionalMLP"]
