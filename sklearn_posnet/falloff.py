"""Falloff functions: how a connection's strength decays with the distance between two neurons.

A falloff ``f`` maps a distance ``d >= 0`` to a factor, and the effective weight of a connection
is ``f(d / length_scale) * w``. Every named falloff is written as a function of the *squared*
distance, so that its gradient stays finite when two neurons coincide.

=====================  ===================  =============================================
name                   ``f(d)``             note
=====================  ===================  =============================================
``"inverse_square"``   ``1 / (1 + d**2)``   positional neurons (Shader)
``"gaussian"``         ``exp(-d**2)``       particle networks (Lange)
``"exponential"``      ``exp(-d)``
``"none"``             ``1``                a plain MLP through the same code path
=====================  ===================  =============================================
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["FALLOFFS", "Falloff", "check_falloff_output", "get_falloff", "squared_distances"]


def squared_distances(positions_out: torch.Tensor, positions_in: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between two sets of positions.

    Computed coordinate by coordinate (no ``a**2 + b**2 - 2ab`` cancellation), so the result is
    exact, never negative, and its gradient is well defined.

    Parameters
    ----------
    positions_out : Tensor of shape (n_out, dim)
    positions_in : Tensor of shape (n_in, dim)

    Returns
    -------
    Tensor of shape (n_out, n_in)
    """
    diff = positions_out[:, None, 0] - positions_in[None, :, 0]
    total = diff * diff
    for k in range(1, positions_out.shape[1]):
        diff = positions_out[:, None, k] - positions_in[None, :, k]
        total = total + diff * diff
    return total


class Falloff:
    """A named falloff ``f(d)``, evaluated from squared distances.

    Parameters
    ----------
    name : str
        The name shown in ``repr`` and in error messages.
    of_squared_distance : callable
        ``g(u)`` with ``g(d**2) == f(d)``.
    is_constant : bool, default=False
        True for the falloff that ignores distance, so that callers can skip computing it.
    decay : callable, optional
        ``decay(u, g(u)) == -g'(u)``, the derivative written with the value the forward pass
        already holds. Where given, the fused autograd node differentiates ``g`` analytically;
        otherwise autograd differentiates ``of_squared_distance``.
    kernel_code : int, optional
        The falloff's number in the fused C kernels (``_kernels.c``), for the named falloffs
        whose formula the kernels implement.
    """

    def __init__(
        self,
        name: str,
        of_squared_distance: Callable[[torch.Tensor], torch.Tensor],
        is_constant: bool = False,
        decay: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        kernel_code: int | None = None,
    ):
        self.name = name
        self.of_squared_distance = of_squared_distance
        self.is_constant = is_constant
        self.decay = decay
        self.kernel_code = kernel_code

    def __call__(self, squared_distance: torch.Tensor) -> torch.Tensor:
        return self.of_squared_distance(squared_distance)

    def __repr__(self) -> str:
        return f"Falloff({self.name!r})"

    def __reduce__(self):
        # Named falloffs pickle by name; a wrapped user callable pickles as the callable.
        if self.name in FALLOFFS and FALLOFFS[self.name] is self:
            return (get_falloff, (self.name,))
        return (
            Falloff,
            (self.name, self.of_squared_distance, self.is_constant, self.decay, self.kernel_code),
        )


def _distance(d2: torch.Tensor) -> torch.Tensor:
    """``sqrt(d2)``, exact, with a zero (not infinite) gradient where ``d2 == 0``."""
    positive = d2 > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, d2, torch.ones_like(d2))), 0.0)


# The named falloffs: g(u) and -g'(u) = decay(u, g(u)). _kernels.c implements the same
# formulas in float32 under the kernel codes of FALLOFFS (tests/test_kernels.py compares them).
def _inverse_square(u: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + u)


def _inverse_square_decay(u: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    return value * value


def _gaussian(u: torch.Tensor) -> torch.Tensor:
    return torch.exp(-u)


def _gaussian_decay(u: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    return value


def _exponential(u: torch.Tensor) -> torch.Tensor:
    return torch.exp(-_distance(u))


def _exponential_decay(u: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    # value / (2 sqrt(u)); zero where u == 0, as the gradient of _distance there
    root = _distance(u)
    return torch.where(root > 0, value / (2.0 * torch.where(root > 0, root, 1.0)), 0.0)


def _constant(u: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(u)


FALLOFFS: dict[str, Falloff] = {
    "inverse_square": Falloff(
        "inverse_square", _inverse_square, decay=_inverse_square_decay, kernel_code=1
    ),
    "gaussian": Falloff("gaussian", _gaussian, decay=_gaussian_decay, kernel_code=2),
    "exponential": Falloff("exponential", _exponential, decay=_exponential_decay, kernel_code=3),
    "none": Falloff("none", _constant, is_constant=True, kernel_code=0),
}


class _OfDistance:
    """Adapts a user's ``f(d)`` to the squared-distance convention (picklable if ``f`` is)."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]):
        self.function = function

    def __call__(self, d2: torch.Tensor) -> torch.Tensor:
        return check_falloff_output(self.function(_distance(d2)), d2, self.function)


def check_falloff_output(output, distances: torch.Tensor, falloff) -> torch.Tensor:
    """``output``, the result of ``falloff`` on ``distances``, if it is a finite floating-point
    tensor of the distances' shape and dtype (nothing is broadcast or converted); else a
    TypeError or ValueError that names the falloff and says what to return."""
    problem = None
    if not isinstance(output, torch.Tensor):
        problem, error = f"a {type(output).__name__}", TypeError
    elif not output.is_floating_point() or output.dtype != distances.dtype:
        problem, error = f"a tensor of dtype {output.dtype}", TypeError
    elif output.shape != distances.shape:
        problem, error = f"a tensor of shape {tuple(output.shape)}", ValueError
    elif not torch.isfinite(output).all():
        problem, error = "NaN or infinity", ValueError
    if problem is None:
        return output
    name = getattr(falloff, "__name__", type(falloff).__name__)
    raise error(
        f"The falloff {name!r} (the falloff parameter) must return a floating-point tensor of the "
        f"same shape as its input, in its dtype, with finite values; for distances of shape "
        f"{tuple(distances.shape)} and dtype {distances.dtype} it returned {problem}. "
        "Compute it from the distances with torch operations, e.g. lambda d: 1 / (1 + d**2)."
    )


def get_falloff(falloff: str | Callable[[torch.Tensor], torch.Tensor] | Falloff) -> Falloff:
    """Return the :class:`Falloff` for a name, a callable ``f(d)``, or a Falloff.

    Parameters
    ----------
    falloff : {"inverse_square", "gaussian", "exponential", "none"}, callable or Falloff
        A callable receives a tensor of distances ``d >= 0`` and must return a tensor of the same
        shape, differentiable with torch operations.

    Returns
    -------
    Falloff

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.falloff import get_falloff
    >>> get_falloff("inverse_square")(torch.tensor([0.0, 1.0, 4.0]))
    tensor([1.0000, 0.5000, 0.2000])
    """
    if isinstance(falloff, Falloff):
        return falloff
    if isinstance(falloff, str):
        try:
            return FALLOFFS[falloff]
        except KeyError:
            raise ValueError(
                f"Unknown falloff {falloff!r}; expected one of {sorted(FALLOFFS)} or a callable."
            ) from None
    if callable(falloff):
        name = getattr(falloff, "__name__", type(falloff).__name__)
        return Falloff(name, _OfDistance(falloff))
    raise TypeError(
        f"falloff must be a name from {sorted(FALLOFFS)} or a callable, "
        f"got {type(falloff).__name__}."
    )
