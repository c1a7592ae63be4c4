"""Tests of sklearn_posnet.plotting: what each plot draws, checked artist by artist, and a baseline.

The baseline image ``tests/baseline_images/network_small.png`` is made by running this file:
``python tests/test_plotting.py`` (the figure has no text and no random numbers).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.testing.compare import compare_images
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_posnet import (
    ParticleNetworkClassifier,
    PositionalMLPClassifier,
    plotting,
)
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP
from sklearn_posnet.plotting import (
    animate_training,
    plot_loss_curve,
    plot_network,
)

# Animations built only to inspect their frames are never rendered; matplotlib warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")

BASELINE = Path(__file__).parent / "baseline_images" / "network_small.png"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def positional(digits):
    X, y = digits
    return _fit(
        PositionalMLPClassifier((12, 6), max_iter=5, random_state=0, record_positions=True), X, y
    )


@pytest.fixture(scope="module")
def particle(digits):
    X, y = digits
    return _fit(
        ParticleNetworkClassifier((10,), max_iter=4, random_state=0, record_positions=True), X, y
    )


def _by_gid(ax, prefix):
    return {
        int(artist.get_gid().rsplit("-", 1)[1]): artist
        for artist in ax.get_children()
        if isinstance(artist.get_gid(), str) and artist.get_gid().startswith(prefix)
    }


def _numpy_positions(module):
    return [p.detach().double().numpy() for p in module.positions]


def _numpy_weights(module):
    with torch.no_grad():
        return [w.double().numpy() for w in module.effective_weights()]


# ------------------------------------------------------------------------------ plot_network
def test_every_neuron_is_drawn_at_its_position_in_its_layer_color(positional):
    ax = plot_network(positional)
    neurons = _by_gid(ax, "neurons-")
    positions = _numpy_positions(positional.module_)
    assert sorted(neurons) == [0, 1, 2, 3]
    for layer, scatter in neurons.items():
        np.testing.assert_allclose(scatter.get_offsets(), positions[layer], rtol=1e-6)
    colors = {layer: tuple(scatter.get_facecolor()[0]) for layer, scatter in neurons.items()}
    assert colors[0] == to_rgba("0.5", plotting.INPUT_ALPHA)
    assert colors[1] == to_rgba(plotting.HIDDEN_LAYER_COLORS[0])
    assert colors[2] == to_rgba(plotting.HIDDEN_LAYER_COLORS[1])
    assert colors[3] == to_rgba("black")
    assert len(set(colors.values())) == 4


def test_outputs_are_labelled_with_the_classes(positional):
    ax = plot_network(positional)
    texts = [text.get_text() for text in ax.texts]
    assert texts == [str(c) for c in positional.classes_]
    outputs = _numpy_positions(positional.module_)[-1]
    for text, output in zip(ax.texts, outputs, strict=True):
        assert np.linalg.norm(np.asarray(text.get_position()) - output) < 1.0
    assert len(plot_network(positional, class_labels=False).texts) == 0


def test_connections_are_the_strongest_with_sign_colors_and_widths(positional):
    top_k = 7
    ax = plot_network(positional, top_k=top_k, max_linewidth=3.0)
    connections = _by_gid(ax, "connections-")
    positions = _numpy_positions(positional.module_)
    weights = _numpy_weights(positional.module_)
    assert sorted(connections) == [0, 1, 2]
    red, blue = np.array(to_rgba("tab:red")), np.array(to_rgba("tab:blue"))
    for layer, collection in connections.items():
        weight = weights[layer]
        segments = collection.get_segments()
        assert len(segments) == top_k
        kth_largest = np.sort(np.abs(weight).ravel())[-top_k]
        for segment, color, width in zip(
            segments, collection.get_colors(), collection.get_linewidths(), strict=True
        ):
            start, end = np.asarray(segment)
            j = np.argmin(np.linalg.norm(positions[layer] - start, axis=1))
            i = np.argmin(np.linalg.norm(positions[layer + 1] - end, axis=1))
            value = weight[i, j]
            assert abs(value) >= kth_largest * (1 - 1e-9)
            np.testing.assert_allclose(color[:3], (red if value > 0 else blue)[:3])
            np.testing.assert_allclose(width, 3.0 * abs(value) / np.abs(weight).max(), rtol=1e-6)
        assert math.isclose(max(collection.get_linewidths()), 3.0, rel_tol=1e-9)


def test_threshold_keeps_connections_relative_to_the_largest(positional):
    ax = plot_network(positional, top_k=None, threshold=0.5)
    weights = _numpy_weights(positional.module_)
    for layer, collection in _by_gid(ax, "connections-").items():
        magnitude = np.abs(weights[layer])
        assert len(collection.get_segments()) == np.count_nonzero(
            magnitude >= 0.5 * magnitude.max()
        )
    everything = plot_network(positional, top_k=None)
    assert [len(c.get_segments()) for c in _by_gid(everything, "connections-").values()] == [
        w.size for w in weights
    ]


def test_hiding_inputs_removes_them_and_their_connections(positional):
    ax = plot_network(positional, show_inputs=False)
    assert 0 not in _by_gid(ax, "neurons-")
    assert 0 not in _by_gid(ax, "connections-")
    hidden = _numpy_positions(positional.module_)[1:]
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    for points in hidden:
        assert np.all((points[:, 0] >= x_low) & (points[:, 0] <= x_high))
        assert np.all((points[:, 1] >= y_low) & (points[:, 1] <= y_high))


def test_limits_contain_every_neuron(positional):
    ax = plot_network(positional)
    everything = np.concatenate(_numpy_positions(positional.module_))
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    assert x_low <= everything[:, 0].min() and everything[:, 0].max() <= x_high
    assert y_low <= everything[:, 1].min() and everything[:, 1].max() <= y_high


def test_particles_show_their_dipoles_as_arrows(particle):
    ax = plot_network(particle, dipole_length=0.1)
    quivers = _by_gid(ax, "dipoles-")
    module = particle.module_
    dipoles = [d.detach().double().numpy() for d in module.dipoles]
    positions = _numpy_positions(module)
    assert sorted(quivers) == [0, 1, 2]
    everything = np.concatenate(positions)
    longest = max(np.linalg.norm(d, axis=1).max() for d in dipoles)
    scale = 0.1 * np.ptp(everything, axis=0).max() / longest
    for layer, quiver in quivers.items():
        np.testing.assert_allclose(quiver.get_offsets(), positions[layer], rtol=1e-6)
        np.testing.assert_allclose(quiver.U, dipoles[layer][:, 0] * scale, rtol=1e-6)
        np.testing.assert_allclose(quiver.V, dipoles[layer][:, 1] * scale, rtol=1e-6)
    assert _by_gid(plot_network(particle, show_dipoles=False), "dipoles-") == {}


def test_three_dimensional_positions_get_a_3d_axes_or_a_projection(digits):
    X, y = digits
    clf = _fit(ParticleNetworkClassifier((6,), particle_dim=3, max_iter=2, random_state=0), X, y)
    positions = _numpy_positions(clf.module_)
    ax = plot_network(clf, top_k=5)
    assert ax.name == "3d"
    for layer, scatter in _by_gid(ax, "neurons-").items():
        xs, ys, zs = scatter._offsets3d
        np.testing.assert_allclose(np.column_stack([xs, ys, zs]), positions[layer], rtol=1e-6)
    connections = _by_gid(ax, "connections-")
    assert sorted(connections) == [0, 1]
    for layer, collection in connections.items():
        segments = np.asarray(collection._segments3d)
        assert segments.shape == (5, 2, 3)
        assert np.isin(segments[:, 0], positions[layer]).all()
        assert np.isin(segments[:, 1], positions[layer + 1]).all()
    flat = plot_network(clf, projection="2d", dims=(0, 2))
    assert flat.name != "3d"
    for layer, scatter in _by_gid(flat, "neurons-").items():
        np.testing.assert_allclose(scatter.get_offsets(), positions[layer][:, [0, 2]], rtol=1e-6)


def test_one_dimensional_positions_are_drawn_against_the_layer(digits):
    X, y = digits
    clf = _fit(
        PositionalMLPClassifier(
            (5,), position_dim=1, input_layout="line", max_iter=2, random_state=0
        ),
        X,
        y,
    )
    ax = plot_network(clf)
    positions = _numpy_positions(clf.module_)
    for layer, scatter in _by_gid(ax, "neurons-").items():
        np.testing.assert_allclose(scatter.get_offsets()[:, 0], positions[layer][:, 0], rtol=1e-6)
        np.testing.assert_array_equal(scatter.get_offsets()[:, 1], layer)


def test_draws_into_a_given_axes_and_accepts_a_module(positional):
    _, (left, right) = plt.subplots(1, 2)
    assert plot_network(positional, ax=right) is right
    assert len(left.collections) == 0
    ax = plot_network(positional.module_, top_k=3)
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(10)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"projection": "3d"}, "at least 3 dimensions"),
        ({"projection": "sideways"}, "projection must be"),
        ({"threshold": 1.5}, "threshold"),
        ({"top_k": -1}, "top_k"),
        ({"dims": (0, 5)}, "dims"),
        ({"class_labels": ["a", "b"]}, "10 labels"),
    ],
)
def test_plot_network_rejects_bad_arguments(positional, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_network(positional, **kwargs)


def test_unfitted_estimators_are_refused():
    with pytest.raises(NotFittedError):
        plot_network(PositionalMLPClassifier())
    with pytest.raises(NotFittedError):
        plot_loss_curve(ParticleNetworkClassifier())


# --------------------------------------------------------------------------- plot_loss_curve
def test_loss_curve_plots_the_losses_per_epoch(positional):
    ax = plot_loss_curve(positional, label="net")
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, positional.n_iter_ + 1))
    np.testing.assert_allclose(line.get_ydata(), positional.loss_curve_)
    assert line.get_label() == "net: training loss"
    assert not hasattr(ax, "right_ax")


def test_loss_curve_adds_validation_scores_on_a_twin_axes(digits):
    X, y = digits
    clf = _fit(PositionalMLPClassifier((8,), early_stopping=True, max_iter=4, random_state=0), X, y)
    ax = plot_loss_curve(clf)
    (validation,) = ax.right_ax.lines
    np.testing.assert_allclose(validation.get_ydata(), clf.validation_scores_)
    assert validation.get_linestyle() == "--"
    assert validation.get_color() == ax.lines[0].get_color()
    plot_loss_curve(clf, ax=ax, label="again")
    assert len(ax.lines) == 2 and len(ax.right_ax.lines) == 2


def test_plot_pruning_curve_is_the_pruning_modules():
    from sklearn_posnet import pruning

    assert plotting.plot_pruning_curve is pruning.plot_pruning_curve


# -------------------------------------------------------------------------- animate_training
def test_animation_frames_show_the_recorded_positions(positional):
    animation = animate_training(positional, trails=True)
    history = positional.positions_history_
    frames = list(animation.new_frame_seq())
    assert frames == list(range(len(history)))
    for frame in (0, len(history) - 1):
        animation._func(frame)
        neurons = _by_gid(animation._fig.axes[0], "neurons-")
        for layer, scatter in neurons.items():
            np.testing.assert_allclose(scatter.get_offsets(), history[frame][layer])
        trail = _by_gid(animation._fig.axes[0], "trails-")[1]
        assert len(trail.get_segments()) == len(history[0][1])
        assert all(len(path) == frame + 1 for path in trail.get_segments())
    title = animation._fig.axes[0].get_title()
    assert title == f"epoch {positional.positions_history_epochs_[-1]:.4g}"


def test_animation_limits_hold_every_frame(positional):
    animation = animate_training(positional)
    ax = animation._fig.axes[0]
    everything = np.concatenate(
        [layer for frame in positional.positions_history_ for layer in frame]
    )
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    assert x_low < everything[:, 0].min() and everything[:, 0].max() < x_high
    assert y_low < everything[:, 1].min() and everything[:, 1].max() < y_high


def test_animation_of_particles_moves_the_dipoles(particle):
    animation = animate_training(particle, frame_step=2)
    assert list(animation.new_frame_seq()) == [0, 2, 4]
    last = len(particle.positions_history_) - 1
    animation._func(last)
    quivers = _by_gid(animation._fig.axes[0], "dipoles-")
    assert sorted(quivers) == [0, 1, 2]
    for layer, quiver in quivers.items():
        np.testing.assert_allclose(quiver.get_offsets(), particle.positions_history_[last][layer])
        direction = particle.dipoles_history_[last][layer][:, :2]
        arrows = np.column_stack([quiver.U, quiver.V])
        ratio = arrows / direction
        np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-5)


def test_animation_writes_a_gif_with_every_frame(positional, tmp_path):
    from PIL import Image

    path = tmp_path / "training.gif"
    animate_training(positional, path, frame_step=2, dpi=30, trails=False)
    with Image.open(path) as image:
        assert image.format == "GIF"
        # Every second frame, and the last one always.
        n_recorded = len(positional.positions_history_)
        assert image.n_frames == len({*range(0, n_recorded, 2), n_recorded - 1})


def test_animation_refuses_unknown_formats_and_missing_ffmpeg(positional, tmp_path):
    from matplotlib.animation import FFMpegWriter

    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        animate_training(positional, tmp_path / "training.avi")
    if not FFMpegWriter.isAvailable():
        with pytest.raises(RuntimeError, match="ffmpeg"):
            animate_training(positional, tmp_path / "training.mp4")


def test_animation_needs_recorded_positions(digits):
    X, y = digits
    clf = _fit(PositionalMLPClassifier((4,), max_iter=2, random_state=0), X, y)
    with pytest.raises(ValueError, match="record_positions"):
        animate_training(clf)


# ---------------------------------------------------------------------------------- baseline
def _baseline_modules():
    """A positional and a particle network whose parameters are set by formulas, not drawn."""
    positional = PositionalMLP(
        [9, 4, 3], input_layout="grid", output_layout="circle", length_scale=1.0
    )  # the geometry the baseline image was drawn with (before length_scale="auto")
    particle = ParticleNetwork([4, 3, 2], particle_dim=2)
    with torch.no_grad():
        angles = torch.arange(4, dtype=torch.float32) * (2 * math.pi / 4)
        positional.positions[1].copy_(torch.stack([torch.cos(angles), torch.sin(angles)], 1))
        for layer, weight in enumerate(positional.weights):
            rows, cols = torch.meshgrid(
                torch.arange(weight.shape[0]), torch.arange(weight.shape[1]), indexing="ij"
            )
            weight.copy_(torch.sin(1.7 * rows + 0.9 * cols + layer))
        for layer, (position, dipole) in enumerate(
            zip(particle.positions, particle.dipoles, strict=True)
        ):
            index = torch.arange(len(position), dtype=torch.float32)
            position.copy_(torch.stack([index - index.mean(), torch.full_like(index, layer)], 1))
            dipole.copy_(torch.stack([torch.cos(index + layer), torch.sin(index + layer)], 1))
    return positional, particle


def _save_baseline_figure(path):
    positional, particle = _baseline_modules()
    with plt.style.context("default"):
        fig, (left, right) = plt.subplots(1, 2, figsize=(4, 2), dpi=50)
        plot_network(
            positional, ax=left, top_k=6, class_labels=False, node_size=30, max_linewidth=4
        )
        plot_network(particle, ax=right, top_k=None, class_labels=False, node_size=30)
        for ax in (left, right):
            ax.set_axis_off()
        fig.savefig(path)


def test_small_network_matches_the_baseline_image(tmp_path):
    actual = tmp_path / "network_small.png"
    _save_baseline_figure(actual)
    assert compare_images(str(BASELINE), str(actual), tol=1) is None


if __name__ == "__main__":
    BASELINE.parent.mkdir(exist_ok=True)
    _save_baseline_figure(BASELINE)
    print(f"wrote {BASELINE}")


def test_matplotlib_is_imported_only_inside_functions():
    import ast

    import sklearn_posnet.spatial

    for module in (plotting, sklearn_posnet.spatial):
        tree = ast.parse(Path(module.__file__).read_text())
        top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        names = [alias.name for node in top_level for alias in node.names]
        names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
        assert names and not any(name.startswith(("matplotlib", "mpl_toolkits")) for name in names)
