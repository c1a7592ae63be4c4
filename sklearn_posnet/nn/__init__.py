"""Torch modules for networks whose neurons have positions; usable without scikit-learn."""

from ._backend import ComputeBackend, compute_backend
from .particle import ParticleNetwork
from .positional import PositionalMLP

__all__ = ["ComputeBackend", "ParticleNetwork", "PositionalMLP", "compute_backend"]
