"""Torch modules for networks whose neurons have positions; usable without scikit-learn."""

from ._backend import ComputeBackend, compute_backend, use_kernels
from .base import PositionNetwork
from .particle import ParticleNetwork
from .positional import PositionalMLP

__all__ = [
    "ComputeBackend",
    "ParticleNetwork",
    "PositionNetwork",
    "PositionalMLP",
    "compute_backend",
    "use_kernels",
]
