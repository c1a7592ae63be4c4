import pickle

import numpy as np
import pytest
import torch

from sklearn_posnet.falloff import FALLOFFS, get_falloff, squared_distances

DISTANCES = np.array([0.0, 0.5, 1.0, 2.0, 7.5])
EXPECTED = {
    "inverse_square": 1.0 / (1.0 + DISTANCES**2),
    "gaussian": np.exp(-(DISTANCES**2)),
    "exponential": np.exp(-DISTANCES),
    "none": np.ones_like(DISTANCES),
}


@pytest.mark.parametrize("name", sorted(FALLOFFS))
def test_named_falloff_matches_its_formula(name):
    d2 = torch.tensor(DISTANCES**2, dtype=torch.float64)
    np.testing.assert_allclose(get_falloff(name)(d2).numpy(), EXPECTED[name], rtol=1e-12)


def test_callable_falloff_receives_distances():
    falloff = get_falloff(lambda d: 1.0 / (1.0 + d))
    d2 = torch.tensor(DISTANCES**2, dtype=torch.float64)
    np.testing.assert_allclose(falloff(d2).numpy(), 1.0 / (1.0 + DISTANCES), rtol=1e-6)


@pytest.mark.parametrize("falloff", ["exponential", lambda d: torch.exp(-d)])
def test_gradient_is_finite_when_neurons_coincide(falloff):
    a = torch.zeros(1, 2, requires_grad=True)
    b = torch.zeros(1, 2)
    get_falloff(falloff)(squared_distances(a, b)).sum().backward()
    assert torch.isfinite(a.grad).all()


def test_unknown_falloff_names_the_choices():
    with pytest.raises(ValueError, match="inverse_square"):
        get_falloff("cubic")
    with pytest.raises(TypeError, match="callable"):
        get_falloff(3)


def test_named_falloff_pickles_to_the_same_object():
    assert pickle.loads(pickle.dumps(get_falloff("gaussian"))) is FALLOFFS["gaussian"]


def test_squared_distances_match_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(7, 3))
    expected = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    got = squared_distances(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
