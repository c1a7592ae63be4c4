"""Pictures of fitted networks: where the neurons are, how they connect, how they moved.

matplotlib is imported inside the functions, so the package imports without it. Every function
but :func:`plot_pruning_curve` takes a fitted :class:`~sklearn_posnet.PositionalMLPClassifier` or
:class:`~sklearn_posnet.ParticleNetworkClassifier`; :func:`plot_network` also takes their torch
modules. :func:`plot_pruning_curve` draws the scores :func:`~sklearn_posnet.pruning.pruning_curve`
returns (:mod:`sklearn_posnet.pruning` offers it too, beside the curve). The numbers behind the
pictures are in :mod:`sklearn_posnet.spatial`.

Colors: input neurons are gray and faint, each hidden layer has its own color
(:data:`HIDDEN_LAYER_COLORS`, cycled), outputs are black; connections are red for positive and
blue for negative effective weights, wider and more opaque the stronger they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "HIDDEN_LAYER_COLORS",
    "animate_training",
    "plot_loss_curve",
    "plot_network",
    "plot_pruning_curve",
]


#: Colors of the hidden layers, first hidden layer first, cycled for deeper networks.
HIDDEN_LAYER_COLORS = (
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
)
INPUT_COLOR = "0.5"
OUTPUT_COLOR = "black"
POSITIVE_COLOR = "tab:red"
NEGATIVE_COLOR = "tab:blue"
# Opacity of the input neurons, and of the weakest drawn connection (the strongest is opaque).
INPUT_ALPHA = 0.35
MIN_CONNECTION_ALPHA = 0.15


def _layer_color(layer: int, n_layers: int) -> str:
    if layer == 0:
        return INPUT_COLOR
    if layer == n_layers - 1:
        return OUTPUT_COLOR
    return HIDDEN_LAYER_COLORS[(layer - 1) % len(HIDDEN_LAYER_COLORS)]


def _layer_name(layer: int, n_layers: int) -> str:
    if layer == 0:
        return "input"
    if layer == n_layers - 1:
        return "output"
    return f"hidden {layer}"


def _resolve_view(dim: int, projection: str, dims) -> tuple[bool, tuple[int, ...]]:
    """Whether to draw in 3-D, and which coordinates to show."""
    if projection not in ("auto", "2d", "3d"):
        raise ValueError(f"projection must be 'auto', '2d' or '3d', got {projection!r}.")
    three_d = projection == "3d" or (projection == "auto" and dim == 3)
    if three_d and dim < 3:
        raise ValueError(f"projection='3d' needs positions of at least 3 dimensions, got {dim}.")
    if dims is None:
        dims = tuple(range(min(dim, 3 if three_d else 2)))
    dims = tuple(int(d) for d in dims)
    if any(d < 0 or d >= dim for d in dims):
        raise ValueError(f"dims must index the {dim} position coordinates, got {dims}.")
    expected = 3 if three_d else (1 if dim == 1 else 2)
    if len(dims) != expected:
        raise ValueError(f"dims needs {expected} coordinates for this view, got {dims}.")
    return three_d, dims


def _project(positions: list[np.ndarray], dims: tuple[int, ...]) -> list[np.ndarray]:
    """The shown coordinates of every layer; 1-D positions get the layer index as y."""
    if len(dims) == 1:
        return [
            np.column_stack([p[:, dims[0]], np.full(len(p), float(layer))])
            for layer, p in enumerate(positions)
        ]
    return [p[:, list(dims)] for p in positions]


def _strongest_connections(weight: np.ndarray, top_k: int | None, threshold: float | None):
    """Indices (rows, cols) of the drawn connections of one layer, strongest first."""
    magnitude = np.abs(weight).ravel()
    largest = magnitude.max(initial=0.0)
    if largest == 0:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    order = np.argsort(-magnitude, kind="stable")
    order = order[magnitude[order] > 0]
    if threshold is not None:
        order = order[magnitude[order] >= threshold * largest]
    if top_k is not None:
        order = order[:top_k]
    return np.unravel_index(order, weight.shape)


def _check_axes(ax, three_d: bool):
    import matplotlib.pyplot as plt

    if ax is None:
        fig = plt.figure()
        return fig.add_subplot(projection="3d" if three_d else None)
    if three_d and ax.name != "3d":
        raise ValueError("A 3-D view needs an Axes made with projection='3d'.")
    if not three_d and ax.name == "3d":
        raise ValueError("A 2-D view needs a 2-D Axes; pass projection='3d' for this one.")
    return ax


def _class_labels(network, class_labels, n_outputs: int):
    if class_labels is False or class_labels is None:
        return None
    if class_labels is True:
        classes = getattr(network, "classes_", None)
        return list(classes) if classes is not None else list(range(n_outputs))
    labels = list(class_labels)
    if len(labels) != n_outputs:
        raise ValueError(f"class_labels needs {n_outputs} labels, got {len(labels)}.")
    return labels


def plot_network(
    network,
    ax=None,
    *,
    top_k: int | None = 100,
    threshold: float | None = None,
    show_inputs: bool = True,
    show_dipoles: bool = True,
    projection: str = "auto",
    dims: Sequence[int] | None = None,
    class_labels: bool | Sequence = True,
    node_size: float = 20.0,
    max_linewidth: float = 2.0,
    dipole_length: float = 0.08,
    legend: bool = False,
):
    """Draw a network in space: every neuron at its position, connections by effective weight.

    Input neurons are faint gray, each hidden layer has its own color, outputs are black and
    labelled with their classes. A connection is a line from one neuron to the other; its color
    is its effective weight's sign (red positive, blue negative), its width and opacity its
    magnitude relative to the largest of its layer. Only the strongest connections of each
    layer are drawn (``top_k``, ``threshold``). Particles also show their dipoles as arrows.

    Parameters
    ----------
    network : fitted estimator or torch module
        A fitted :class:`~sklearn_posnet.PositionalMLPClassifier` or
        :class:`~sklearn_posnet.ParticleNetworkClassifier` (a pruned one too), a fitted
        :class:`~sklearn_posnet.pruning.NeuronPruner` (its pruned network), or a
        :class:`~sklearn_posnet.nn.PositionalMLP` or :class:`~sklearn_posnet.nn.ParticleNetwork`.
    ax : matplotlib Axes, default=None
        Where to draw: a 2-D Axes, or a 3-D one (``projection="3d"``) for a 3-D view. A new
        figure's Axes when None.
    top_k : int or None, default=100
        Draw at most this many connections per weight layer, the strongest ones; None for no
        limit.
    threshold : float or None, default=None
        Draw only the connections whose ``|effective weight|`` is at least this fraction of the
        largest of their layer (between 0 and 1). Combines with ``top_k``; set ``top_k=None`` to
        select by threshold alone.
    show_inputs : bool, default=True
        Whether to draw the input neurons and their connections.
    show_dipoles : bool, default=True
        Whether to draw the dipoles of a particle network as arrows.
    projection : {"auto", "2d", "3d"}, default="auto"
        "auto" is a 3-D view for 3-D positions and a 2-D one otherwise; "2d" projects positions
        of any dimension onto two of their coordinates (``dims``).
    dims : sequence of int, default=None
        The coordinates shown: the first two (three for a 3-D view) when None. One-dimensional
        positions are drawn against the layer index.
    class_labels : bool or sequence, default=True
        Labels written next to the output neurons: True uses the estimator's ``classes_`` (the
        output indices for a bare module), False writes none, a sequence gives them.
    node_size : float, default=20.0
        Marker area of the hidden and output neurons (inputs are drawn at half of it).
    max_linewidth : float, default=2.0
        Line width of the strongest connection of each layer.
    dipole_length : float, default=0.08
        Length of the longest dipole arrow, as a fraction of the largest extent of the
        positions; the others are proportional to their dipole's norm.
    legend : bool, default=False
        Whether to add a legend naming the layers.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on. Its collections carry ``gid`` values ``"neurons-<layer>"``,
        ``"connections-<layer>"`` and ``"dipoles-<layer>"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.plotting import plot_network
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier((16,), max_iter=10, random_state=0).fit(X / 16, y)
    >>> ax = plot_network(clf, top_k=50)
    >>> len(ax.collections)
    5
    """
    if top_k is not None and int(top_k) < 0:
        raise ValueError(f"top_k must be None or >= 0, got {top_k}.")
    if threshold is not None and not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be None or between 0 and 1, got {threshold}.")
    # A torch module, or a fitted estimator or pruner: their module_ (which checks the fit).
    module = network if isinstance(network, torch.nn.Module) else network.module_
    snapshot = module.neuron_snapshot()
    positions = [p.double().numpy() for p in snapshot.positions]
    weights = [weight.cpu().double().numpy() for weight, _ in module.plain_layers()]
    n_layers = len(positions)
    three_d, dims = _resolve_view(positions[0].shape[1], projection, dims)
    ax = _check_axes(ax, three_d)
    coordinates = _project(positions, dims)
    first_layer = 0 if show_inputs else 1

    _draw_connections(ax, coordinates, weights, first_layer, top_k, threshold, max_linewidth)
    for layer in range(first_layer, n_layers):
        is_input = layer == 0
        ax.scatter(
            *coordinates[layer].T,
            s=node_size / 2 if is_input else node_size,
            color=_layer_color(layer, n_layers),
            alpha=INPUT_ALPHA if is_input else 1.0,
            linewidths=0,
            zorder=3,
            label=_layer_name(layer, n_layers),
            gid=f"neurons-{layer}",
        )
    if show_dipoles and snapshot.dipoles is not None:
        dipoles = [d.double().numpy() for d in snapshot.dipoles]
        _draw_dipoles(ax, coordinates, dipoles, dims, first_layer, dipole_length, three_d)

    labels = _class_labels(network, class_labels, len(positions[-1]))
    if labels is not None:
        _label_outputs(ax, coordinates, labels)
    if three_d:
        ax.set_xlabel(f"x{dims[0]}")
        ax.set_ylabel(f"x{dims[1]}")
        ax.set_zlabel(f"x{dims[2]}")
    else:
        ax.margins(0.06)  # room for the output labels
        ax.autoscale_view()
        if len(dims) == 2:
            ax.set_aspect("equal", adjustable="datalim")
        else:
            ax.set_ylabel("layer")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def _draw_connections(ax, coordinates, weights, first_layer, top_k, threshold, max_linewidth):
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    positive, negative = np.array(to_rgba(POSITIVE_COLOR)), np.array(to_rgba(NEGATIVE_COLOR))
    for layer in range(first_layer, len(weights)):
        weight = weights[layer]
        rows, cols = _strongest_connections(weight, top_k, threshold)
        if len(rows) == 0:
            continue
        values = weight[rows, cols]
        strength = np.abs(values) / np.abs(weight).max()
        colors = np.where(values[:, None] > 0, positive, negative)
        colors[:, 3] = MIN_CONNECTION_ALPHA + (1 - MIN_CONNECTION_ALPHA) * strength
        # Weakest first, so that the strongest lines are drawn on top.
        order = np.argsort(strength, kind="stable")
        segments = np.stack(
            [coordinates[layer][cols[order]], coordinates[layer + 1][rows[order]]], axis=1
        )
        style = dict(
            colors=colors[order],
            linewidths=max_linewidth * strength[order],
            zorder=1,
            gid=f"connections-{layer}",
        )
        if segments.shape[-1] == 3:
            from mpl_toolkits.mplot3d.art3d import Line3DCollection

            ax.add_collection3d(Line3DCollection(segments, **style))
        else:
            ax.add_collection(LineCollection(segments, **style))


def _draw_dipoles(ax, coordinates, dipoles, dims, first_layer, dipole_length, three_d):
    n_layers = len(coordinates)
    shown = [d[:, list(dims)] if len(dims) > 1 else _dipole_1d(d, dims) for d in dipoles]
    everything = np.concatenate(coordinates[first_layer:])
    extent = float(np.ptp(everything, axis=0).max()) or 1.0
    longest = max(float(np.linalg.norm(d, axis=1).max(initial=0.0)) for d in shown) or 1.0
    scale = dipole_length * extent / longest
    for layer in range(first_layer, n_layers):
        arrows = shown[layer] * scale
        style = dict(
            color=_layer_color(layer, n_layers),
            alpha=INPUT_ALPHA if layer == 0 else 0.9,
            zorder=4,
            gid=f"dipoles-{layer}",
        )
        if three_d:
            ax.quiver(*coordinates[layer].T, *arrows.T, arrow_length_ratio=0.3, **style)
        else:
            ax.quiver(
                *coordinates[layer].T,
                *arrows.T,
                angles="xy",
                scale_units="xy",
                scale=1.0,
                width=0.004,
                **style,
            )


def _dipole_1d(dipole: np.ndarray, dims) -> np.ndarray:
    return np.column_stack([dipole[:, dims[0]], np.zeros(len(dipole))])


def _label_positions(coordinates) -> np.ndarray:
    """Where the output labels go: a little outward from each output, away from the center."""
    everything = np.concatenate(coordinates)
    center = everything.mean(axis=0)
    extent = float(np.ptp(everything, axis=0).max()) or 1.0
    direction = coordinates[-1] - center
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    unit = np.divide(direction, norm, out=np.zeros_like(direction), where=norm > 0)
    return coordinates[-1] + 0.04 * extent * unit


def _label_outputs(ax, coordinates, labels) -> list:
    return [
        ax.text(
            *point,
            str(label),
            ha="center",
            va="center",
            fontsize="small",
            color=OUTPUT_COLOR,
            zorder=5,
        )
        for point, label in zip(_label_positions(coordinates), labels, strict=True)
    ]


def plot_loss_curve(estimator, ax=None, *, label: str | None = None):
    """Plot the training loss per epoch and, with early stopping, the validation score
    (accuracy, or R^2 for a regressor).

    Works for every estimator with ``loss_curve_`` (and optionally ``validation_scores_``), so
    :class:`~sklearn.neural_network.MLPClassifier` can be drawn on the same Axes for comparison.

    Parameters
    ----------
    estimator : fitted estimator
        An estimator with a ``loss_curve_`` attribute.
    ax : matplotlib Axes, default=None
        Where to draw the loss; a new figure's Axes when None. The validation score, when
        there is some, goes on a twin Axes sharing its x axis, reachable as ``ax.right_ax``.
    label : str, default=None
        Legend label of the curves (the estimator's class name when None).

    Returns
    -------
    ax : matplotlib Axes
        The Axes of the loss curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import ParticleNetworkClassifier
    >>> from sklearn_posnet.plotting import plot_loss_curve
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ParticleNetworkClassifier((16,), max_iter=5, random_state=0).fit(X / 16, y)
    >>> len(plot_loss_curve(clf).lines[0].get_xdata())
    5
    """
    import matplotlib.pyplot as plt

    check_is_fitted(estimator, "loss_curve_")
    if ax is None:
        _, ax = plt.subplots()
    label = type(estimator).__name__ if label is None else label
    losses = np.asarray(estimator.loss_curve_, dtype=float)
    (line,) = ax.plot(np.arange(1, len(losses) + 1), losses, label=f"{label}: training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    scores = getattr(estimator, "validation_scores_", None)
    score = "accuracy" if is_classifier(estimator) else "R^2"
    if scores is not None and len(scores):
        right = getattr(ax, "right_ax", None)
        if right is None:
            right = ax.twinx()
            ax.right_ax = right
        right.plot(
            np.arange(1, len(scores) + 1),
            np.asarray(scores, dtype=float),
            linestyle="--",
            color=line.get_color(),
            label=f"{label}: validation {score}",
        )
        right.set_ylabel(f"validation {score} (dashed)")
    return ax


def _history(estimator):
    check_is_fitted(estimator)
    history = getattr(estimator, "positions_history_", None)
    if not history:
        raise ValueError(
            "The estimator recorded no positions: fit it with record_positions=True (or an int)."
        )
    epochs = estimator.positions_history_epochs_
    dipoles = getattr(estimator, "dipoles_history_", None)
    return history, dipoles, np.asarray(epochs, dtype=float)


def animate_training(
    estimator,
    path: str | Path | None = None,
    *,
    fps: int = 10,
    frame_step: int = 1,
    show_inputs: bool = True,
    show_dipoles: bool = True,
    trails: bool = True,
    dims: Sequence[int] | None = None,
    class_labels: bool | Sequence = True,
    node_size: float = 20.0,
    figsize: tuple[float, float] = (5.0, 5.0),
    dpi: int = 80,
):
    """Animate how the neurons moved during training, and write it to a GIF or MP4 file.

    Every frame shows the positions recorded by ``record_positions`` (colors as in
    :func:`plot_network`), with each neuron's path so far as a faint trail, and the epoch in
    the title. In a positional network trained with a distance penalty, the first hidden
    layer gathers over the informative pixels and the last hidden layer drifts toward the
    outputs.

    Parameters
    ----------
    estimator : fitted estimator
        A :class:`~sklearn_posnet.PositionalMLPClassifier` or
        :class:`~sklearn_posnet.ParticleNetworkClassifier` fitted with ``record_positions``.
    path : str or Path, default=None
        Where to write the animation: a ``.gif`` is written with Pillow, a ``.mp4`` with ffmpeg
        (an error when ffmpeg is not installed); None writes nothing.
    fps : int, default=10
        Frames per second of the written file.
    frame_step : int, default=1
        Show every ``frame_step``-th recorded frame (the last one is always shown).
    show_inputs : bool, default=True
        Whether to draw the input neurons.
    show_dipoles : bool, default=True
        Whether to draw the dipoles of a particle network as arrows.
    trails : bool, default=True
        Whether to draw every moving neuron's path up to the current frame.
    dims : sequence of two int, default=None
        The two coordinates shown (the first two when None): positions of more than two
        dimensions are projected. One-dimensional positions are drawn against the layer index.
    class_labels : bool or sequence, default=True
        Labels next to the output neurons, as in :func:`plot_network`.
    node_size : float, default=20.0
        Marker area of the hidden and output neurons.
    figsize : tuple of float, default=(5.0, 5.0)
        Size of the figure in inches.
    dpi : int, default=80
        Resolution of the written file.

    Returns
    -------
    animation : matplotlib.animation.FuncAnimation
        The animation; its figure is ``animation._fig``. Keep a reference to it while it is
        shown.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.plotting import animate_training
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier((16,), max_iter=5, record_positions=True, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "training.gif")
    >>> animation = animate_training(clf, path)
    >>> len(list(animation.new_frame_seq())), os.path.getsize(path) > 0
    (6, True)
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    history, dipole_history, epochs = _history(estimator)
    if int(frame_step) < 1:
        raise ValueError(f"frame_step must be >= 1, got {frame_step}.")
    frames = list(range(0, len(history), int(frame_step)))
    if frames[-1] != len(history) - 1:
        frames.append(len(history) - 1)
    dim = history[0][0].shape[1]
    _, dims = _resolve_view(dim, "2d", dims)
    coordinates = [_project(frame, dims) for frame in history]
    n_layers = len(coordinates[0])
    first_layer = 0 if show_inputs else 1
    shown_layers = range(first_layer, n_layers)

    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    everything = np.concatenate([c for frame in coordinates for c in frame[first_layer:]])
    low, high = everything.min(axis=0), everything.max(axis=0)
    margin = 0.08 * float((high - low).max() or 1.0)
    ax.set_xlim(low[0] - margin, high[0] + margin)
    ax.set_ylim(low[1] - margin, high[1] + margin)
    if len(dims) == 2:
        ax.set_aspect("equal", adjustable="box")
    else:
        ax.set_ylabel("layer")

    trail_collections = {}
    if trails:
        from matplotlib.collections import LineCollection

        for layer in shown_layers:
            trail_collections[layer] = ax.add_collection(
                LineCollection(
                    [],
                    colors=_layer_color(layer, n_layers),
                    linewidths=0.6,
                    alpha=0.35,
                    zorder=1,
                    gid=f"trails-{layer}",
                )
            )
    scatters = {
        layer: ax.scatter(
            *coordinates[0][layer].T,
            s=node_size / 2 if layer == 0 else node_size,
            color=_layer_color(layer, n_layers),
            alpha=INPUT_ALPHA if layer == 0 else 1.0,
            linewidths=0,
            zorder=3,
            label=_layer_name(layer, n_layers),
            gid=f"neurons-{layer}",
        )
        for layer in shown_layers
    }
    quivers = {}
    if show_dipoles and dipole_history is not None:
        shown = [
            [d[:, list(dims)] if len(dims) > 1 else _dipole_1d(d, dims) for d in frame]
            for frame in dipole_history
        ]
        longest = max(float(np.linalg.norm(d, axis=1).max()) for frame in shown for d in frame)
        scale = 0.08 * float((high - low).max() or 1.0) / (longest or 1.0)
        for layer in shown_layers:
            quivers[layer] = ax.quiver(
                *coordinates[0][layer].T,
                *(shown[0][layer] * scale).T,
                color=_layer_color(layer, n_layers),
                alpha=INPUT_ALPHA if layer == 0 else 0.9,
                angles="xy",
                scale_units="xy",
                scale=1.0,
                width=0.004,
                zorder=4,
                gid=f"dipoles-{layer}",
            )
    labels = _class_labels(estimator, class_labels, len(coordinates[0][-1]))
    texts = [] if labels is None else _label_outputs(ax, coordinates[0], labels)
    ax.legend(loc="upper right", fontsize="small")
    title = ax.set_title("")

    def draw(frame: int):
        for layer, scatter in scatters.items():
            scatter.set_offsets(coordinates[frame][layer])
        for layer, trail in trail_collections.items():
            paths = np.stack([coordinates[f][layer] for f in range(frame + 1)], axis=1)
            trail.set_segments(list(paths))
        for layer, quiver in quivers.items():
            quiver.set_offsets(coordinates[frame][layer])
            quiver.set_UVC(*(shown[frame][layer] * scale).T)
        for text, point in zip(texts, _label_positions(coordinates[frame]), strict=True):
            text.set_position(point)
        title.set_text(f"epoch {epochs[frame]:.4g}")
        return [*scatters.values(), *trail_collections.values(), *quivers.values(), *texts, title]

    draw(frames[0])
    animation = FuncAnimation(fig, draw, frames=frames, interval=1000 / fps, blit=False)
    if path is not None:
        _save_animation(animation, Path(path), fps, dpi)
    return animation


def _save_animation(animation, path: Path, fps: int, dpi: int) -> None:
    from matplotlib.animation import FFMpegWriter, PillowWriter

    suffix = path.suffix.lower()
    if suffix == ".gif":
        writer = PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not FFMpegWriter.isAvailable():
            raise RuntimeError(
                "Writing an MP4 needs ffmpeg, which was not found; write a .gif instead."
            )
        writer = FFMpegWriter(fps=fps)
    else:
        raise ValueError(f"path must end in .gif or .mp4, got {path.name!r}.")
    animation.save(path, writer=writer, dpi=dpi)


def plot_pruning_curve(amounts, scores, *, ax=None, label: str | None = None, **plot_kwargs):
    """Plot score against pruned amount; with several runs, their mean and a band of one std.

    Parameters
    ----------
    amounts : array-like of shape (n_amounts,)
        The pruned amounts (x axis).
    scores : array-like of shape (n_amounts,) or (n_amounts, n_runs)
        The scores, e.g. ``pruning_curve(...).scores`` or several of them stacked as columns.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.
    label : str, default=None
        The legend label of the curve.
    **plot_kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    amounts = np.asarray(amounts, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(amounts), -1)
    if ax is None:
        _, ax = plt.subplots()
    mean = scores.mean(axis=1)
    (line,) = ax.plot(amounts, mean, marker="o", label=label, **plot_kwargs)
    if scores.shape[1] > 1:
        spread = scores.std(axis=1)
        ax.fill_between(amounts, mean - spread, mean + spread, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("pruned amount")
    ax.set_ylabel("score")
    if label is not None:
        ax.legend()
    return ax
