"""The length scale that fits a falloff to a network's geometry (``length_scale="auto"``).

A falloff ``f`` is only meaningful against the distances it is applied to. The inverse square
``1 / (1 + d**2)`` keeps 4% of its strength at the distance of about 5 between the reference
layout's hidden neurons and its outputs; the gaussian ``exp(-d**2)`` keeps about ``1e-11``
there, so that effective weights and their gradients vanish. ``"auto"`` therefore puts the
falloff's *half-value distance* (where ``f`` falls to half of ``f(0)``) at the typical length
of the longest connections: the root-mean-square connection length, at initialization, of the
layer whose connections are longest. Every layer's typical connection then keeps at least half
of the falloff's strength, and sits where the falloff's slope, hence the gradient of the
positions, is large, whatever the falloff (a user's callable included), the dimension and the
layouts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

from ..falloff import Falloff

__all__ = ["auto_length_scale", "half_value_distance", "mean_squared_connection_lengths"]

#: Distances (in units of the length scale) scanned for the half-value distance.
_SCAN = torch.logspace(-3, 3, 241)


def half_value_distance(falloff: Falloff) -> float:
    """The distance ``u`` at which ``falloff`` first falls to half of its value at 0.

    ``1`` for the inverse square, ``sqrt(ln 2)`` for the gaussian and ``ln 2`` for the
    exponential falloff. For a falloff that is constant, that is not positive and finite at 0,
    or that never falls to half within distances of 1000, the result is 1 (the length scale
    then is the geometry's own).

    Parameters
    ----------
    falloff : Falloff

    Returns
    -------
    float
    """
    if falloff.is_constant:
        return 1.0
    with torch.no_grad():
        try:
            at_zero = float(falloff(torch.zeros(1))[0])
            values = falloff(_SCAN * _SCAN)
        except ValueError:  # a callable's values are not finite (falloff.check_falloff_output)
            return 1.0
        if not math.isfinite(at_zero) or at_zero <= 0.0:
            return 1.0
        below = torch.nonzero(values <= 0.5 * at_zero).flatten()
        if below.numel() == 0:
            return 1.0
        index = int(below[0])
        if index == 0:
            return float(_SCAN[0])
        low, high = float(_SCAN[index - 1]), float(_SCAN[index])
        for _ in range(40):  # bisection between the last scanned point above half and the first
            middle = 0.5 * (low + high)
            value = float(falloff(torch.tensor([middle * middle]))[0])
            if value <= 0.5 * at_zero:
                high = middle
            else:
                low = middle
        return 0.5 * (low + high)


def mean_squared_connection_lengths(
    layers: Sequence[tuple[torch.Tensor | None, float]], dim: int
) -> list[float]:
    """The expected mean squared length of the connections of every layer, at initialization.

    Parameters
    ----------
    layers : sequence of (Tensor of shape (n, dim) or None, float)
        One entry per neuron layer: the fixed positions of a layer laid out deterministically
        (with spread 0), or ``None`` and the standard deviation of a layer whose positions are
        drawn from a centered normal distribution.
    dim : int
        The dimension of the space.

    Returns
    -------
    list of float
        For every pair of adjacent neuron layers ``a`` and ``b``, the expectation over the
        random draws of the mean over all pairs of ``|p_a - p_b|**2``:
        ``mean|a|^2 + mean|b|^2 - 2 mean(a) . mean(b) + dim * (s_a^2 + s_b^2)``. It does not
        depend on the number of neurons of a drawn layer, nor on the random generator.
    """
    moments = []
    for positions, spread in layers:
        if positions is None:
            moments.append((torch.zeros(dim, dtype=torch.float64), 0.0, float(spread) ** 2))
        else:
            points = positions.detach().double().cpu()
            squared_norm = float(points.square().sum(dim=1).mean())
            moments.append((points.mean(dim=0), squared_norm, 0.0))
    lengths = []
    for (mean_a, norm_a, var_a), (mean_b, norm_b, var_b) in itertools.pairwise(moments):
        cross = float(mean_a @ mean_b)
        lengths.append(norm_a + norm_b - 2.0 * cross + dim * (var_a + var_b))
    return lengths


def auto_length_scale(
    falloff: Falloff, layers: Sequence[tuple[torch.Tensor | None, float]], dim: int
) -> float:
    """The length scale that puts ``falloff``'s half-value distance at the longest layer's
    root-mean-square connection length.

    Parameters
    ----------
    falloff : Falloff
    layers, dim
        As in :func:`mean_squared_connection_lengths`.

    Returns
    -------
    float
        1 for a constant falloff, or when every connection has length 0.

    Examples
    --------
    The reference geometry of an 8x8 image, 100 hidden neurons and 10 outputs in 2-D:

    >>> from sklearn_posnet.falloff import get_falloff
    >>> from sklearn_posnet.nn.layouts import circle, grid
    >>> layers = [(grid((8, 8), 2), 0.0), (None, 1.0), (circle(10, 2), 0.0)]
    >>> round(auto_length_scale(get_falloff("inverse_square"), layers, 2), 2)
    5.2
    >>> round(auto_length_scale(get_falloff("gaussian"), layers, 2), 2)
    6.24
    """
    if falloff.is_constant:
        return 1.0
    longest = math.sqrt(max(mean_squared_connection_lengths(layers, dim)))
    if not longest > 0.0:
        return 1.0
    return longest / half_value_distance(falloff)
