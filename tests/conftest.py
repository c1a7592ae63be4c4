"""Fixtures shared by the test files."""

import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    """The first 200 of scikit-learn's digits, scaled to [0, 1]: small and fast to fit."""
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16, y[:200]
