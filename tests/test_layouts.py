import numpy as np
import pytest
import torch

from sklearn_posnet.nn.layouts import circle, grid, resolve_layout


def test_grid_spans_the_reference_square_row_major_top_row_high():
    points = grid((28, 28), dim=2).numpy()
    assert points.shape == (784, 2)
    np.testing.assert_allclose(points.min(0), [-2, -2])
    np.testing.assert_allclose(points.max(0), [2, 2])
    # pixel 0 is the top-left corner, pixel 27 the top-right, pixel 783 the bottom-right
    np.testing.assert_allclose(points[0], [-2, 2])
    np.testing.assert_allclose(points[27], [2, 2])
    np.testing.assert_allclose(points[783], [2, -2])


def test_grid_pads_extra_dimensions_with_zeros():
    points = grid((4, 4), dim=3).numpy()
    assert np.all(points[:, 2] == 0)


def test_circle_has_radius_five_and_even_spacing():
    points = circle(10, dim=2).numpy().astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 5.0, rtol=1e-6)
    angles = np.sort(np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 10, rtol=1e-5)


def test_auto_layout_is_a_grid_for_square_inputs_and_a_line_otherwise():
    g = torch.Generator().manual_seed(0)
    square = resolve_layout("auto", 64, 2, generator=g, role="input").numpy()
    np.testing.assert_allclose(square, grid((8, 8), 2).numpy())
    line = resolve_layout("auto", 10, 2, generator=g, role="input").numpy()
    assert np.all(line[:, 1] == 0) and np.all(np.diff(line[:, 0]) > 0)


def test_grid_shape_must_match_the_feature_count():
    g = torch.Generator()
    with pytest.raises(ValueError, match=r"input_shape=\(5, 5\) has 25 pixels, but X has 64"):
        resolve_layout("grid", 64, 2, generator=g, role="input", shape=(5, 5))


def test_array_layout_is_checked():
    g = torch.Generator()
    with pytest.raises(ValueError, match=r"expected \(3, 2\)"):
        resolve_layout(np.zeros((3, 3)), 3, 2, generator=g, role="output")
    with pytest.raises(ValueError, match="NaN"):
        resolve_layout(np.full((3, 2), np.nan), 3, 2, generator=g, role="output")
    given = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(
        resolve_layout(given, 3, 2, generator=g, role="output").numpy(), given
    )


def test_auto_layout_is_a_line_when_the_space_has_fewer_axes_than_the_image():
    g = torch.Generator()
    points = resolve_layout("auto", 64, 1, generator=g, role="input").numpy()
    np.testing.assert_allclose(points[:, 0], np.linspace(-2, 2, 64), atol=1e-6)  # float32
    with pytest.raises(ValueError, match="needs position_dim >= 2"):
        resolve_layout("grid", 64, 1, generator=g, role="input")


def test_input_shape_is_checked_whatever_the_layout():
    g = torch.Generator()
    with pytest.raises(ValueError, match="expected a shape whose product is 64"):
        resolve_layout("line", 64, 2, generator=g, role="input", shape=(5, 5))
