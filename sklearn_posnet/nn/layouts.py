"""Where neurons sit: the layouts of input, hidden and output positions.

Every function returns a float32 tensor of shape ``(n_neurons, dim)``. Layouts drawn at random
take a :class:`torch.Generator`, so that they never touch the global random state.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["circle", "grid", "line", "normal", "resolve_layout", "sphere"]

#: The reference implementation's input grid spans [-GRID_EXTENT, GRID_EXTENT] on each axis.
GRID_EXTENT = 2.0
#: The reference implementation puts the output neurons on a circle of this radius.
CIRCLE_RADIUS = 5.0


def _pad(coordinates: torch.Tensor, dim: int) -> torch.Tensor:
    """Embed points given in the first ``k`` axes into ``dim`` axes (zeros for the others)."""
    n, k = coordinates.shape
    out = torch.zeros(n, dim, dtype=torch.float32)
    out[:, :k] = coordinates
    return out


def grid(shape: tuple[int, ...], dim: int, extent: float = GRID_EXTENT) -> torch.Tensor:
    """Positions on a regular grid, one per pixel of an image of ``shape``, row-major.

    Each axis spans ``[-extent, extent]``. For 2-D images the first coordinate is the column
    (left to right) and the second the row (top to bottom reads high to low), so that plots of
    the positions look like the image. Axes beyond ``len(shape)`` are zero.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) > dim:
        raise ValueError(
            f"A grid for input_shape={shape} needs position_dim >= {len(shape)}, got {dim}."
        )
    axes = [torch.linspace(-extent, extent, s) if s > 1 else torch.zeros(1) for s in shape]
    mesh = torch.meshgrid(*axes, indexing="ij")  # mesh[0] varies along rows
    if len(shape) >= 2:
        # x = column, y = row with the top row highest.
        columns, rows = mesh[1], -mesh[0]
        coordinates = [columns, rows, *mesh[2:]]
    else:
        coordinates = list(mesh)
    points = torch.stack([c.reshape(-1) for c in coordinates], dim=1)
    return _pad(points, dim)


def line(n: int, dim: int, extent: float = GRID_EXTENT) -> torch.Tensor:
    """``n`` positions evenly spread along the first axis over ``[-extent, extent]``."""
    points = torch.linspace(-extent, extent, n)[:, None] if n > 1 else torch.zeros(1, 1)
    return _pad(points, dim)


def circle(n: int, dim: int, radius: float = CIRCLE_RADIUS) -> torch.Tensor:
    """``n`` positions evenly spread on a circle of ``radius`` in the first two axes.

    With ``dim == 1`` there is no circle: the points are spread over ``[-radius, radius]``.
    """
    if dim == 1:
        return line(n, 1, extent=radius)
    angles = 2.0 * math.pi * torch.arange(n, dtype=torch.float64) / n
    points = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * radius
    return _pad(points.float(), dim)


def sphere(n: int, dim: int, radius: float) -> torch.Tensor:
    """``n`` positions spread evenly over a sphere of ``radius`` centered at the origin.

    Every position is equally far from the origin, so that no neuron starts closer to the
    hidden neurons (drawn around the origin) than another. In 1-D the points are spread over
    ``[-radius, radius]``; in 2-D they are :func:`circle`'s; in 3-D they follow a Fibonacci
    spiral (nearly uniform spacing for any ``n``); beyond, the sphere lies in the first three
    axes.
    """
    if dim <= 2:
        return circle(n, dim, radius=radius)
    index = torch.arange(n, dtype=torch.float64) + 0.5
    height = 1.0 - 2.0 * index / n
    ring = torch.sqrt(1.0 - height * height)
    angles = math.pi * (3.0 - math.sqrt(5.0)) * index  # the golden angle
    points = torch.stack([ring * torch.cos(angles), ring * torch.sin(angles), height], dim=1)
    return _pad((points * radius).float(), dim)


def normal(n: int, dim: int, spread: float, generator: torch.Generator) -> torch.Tensor:
    """``n`` positions drawn from a centered normal distribution of std. deviation ``spread``."""
    return torch.randn(n, dim, generator=generator, dtype=torch.float32) * spread


def resolve_layout(
    layout,
    n: int,
    dim: int,
    *,
    generator: torch.Generator,
    role: str,
    shape: tuple[int, ...] | None = None,
    spread: float = 1.0,
) -> torch.Tensor:
    """Turn a layout given by name or array into positions of shape ``(n, dim)``.

    Parameters
    ----------
    layout : {"even", "auto", "grid", "line", "circle", "sphere", "random"} or array-like of \
            shape (n, dim)
        ``"auto"`` is a grid when ``shape`` is given or ``n`` is a perfect square, else a line;
        ``"even"`` is the same grid, else a ``"sphere"`` (so that data without an image
        structure puts every input equally far from the hidden neurons). ``"sphere"`` has the
        radius ``GRID_EXTENT`` for the inputs (the grid's scale) and ``CIRCLE_RADIUS`` for
        the outputs (the circle's).
    n, dim : int
        How many positions, in how many dimensions.
    generator : torch.Generator
        Source of randomness for ``"random"``.
    role : str
        ``"input"`` or ``"output"``: the radius of ``"sphere"``, and error messages.
    shape : tuple of int, optional
        The image shape for ``"grid"``; its product must equal ``n``.
    spread : float
        Standard deviation of ``"random"``.
    """
    if shape is not None and math.prod(shape) != n:
        raise ValueError(
            f"input_shape={tuple(shape)} has {math.prod(shape)} pixels, but X has {n} features; "
            f"expected a shape whose product is {n}."
        )
    if isinstance(layout, str):
        if layout in ("auto", "even"):
            side = math.isqrt(n)
            if shape is None and side * side == n and n > 1:
                shape = (side, side)
            # A grid needs an axis per image axis; in fewer dimensions the inputs form a line.
            fits = shape is not None and len(shape) <= dim
            layout = "grid" if fits else ("line" if layout == "auto" else "sphere")
        if layout == "grid":
            if shape is None:
                side = math.isqrt(n)
                if side * side != n:
                    raise ValueError(
                        f"The {role} layout 'grid' needs input_shape when the number of "
                        f"{role} neurons ({n}) is not a perfect square."
                    )
                shape = (side, side)
            return grid(shape, dim)
        if layout == "line":
            return line(n, dim)
        if layout == "circle":
            return circle(n, dim)
        if layout == "sphere":
            radius = GRID_EXTENT if role == "input" else CIRCLE_RADIUS
            return sphere(n, dim, radius)
        if layout == "random":
            return normal(n, dim, spread, generator)
        raise ValueError(
            f"Unknown {role} layout {layout!r}; expected 'even', 'auto', 'grid', 'line', "
            f"'circle', 'sphere', 'random' or an array of shape ({n}, {dim})."
        )
    try:
        positions = np.asarray(layout, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"The {role} layout ({role}_layout) must be a name or an array of numbers of shape "
            f"({n}, {dim}); converting it to numbers failed: {error}."
        ) from None
    if positions.shape != (n, dim):
        raise ValueError(
            f"The {role} layout array has shape {positions.shape}; expected ({n}, {dim}) "
            f"({n} {role} neurons in position_dim={dim})."
        )
    if not np.isfinite(positions).all():
        row = int(np.argwhere(~np.isfinite(positions))[0][0])
        raise ValueError(
            f"The {role} layout array ({role}_layout) contains NaN or infinity (row {row}: "
            f"{positions[row].tolist()})."
        )
    return torch.from_numpy(positions.copy())
