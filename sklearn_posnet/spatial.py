"""Spatial summaries of a fitted network: numbers that say how its geometry and weights relate.

Every function takes a fitted estimator (:class:`~sklearn_posnet.PositionalMLPClassifier`,
:class:`~sklearn_posnet.ParticleNetworkClassifier`) or one of their torch modules
(:class:`~sklearn_posnet.nn.PositionalMLP`, :class:`~sklearn_posnet.nn.ParticleNetwork`) and
works on its effective weights (the weights of the equivalent plain MLP) and its positions.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "distance_to_most_influenced_output",
    "mean_connection_length",
    "most_influenced_output",
    "output_influence",
]


def _module_of(network) -> torch.nn.Module:
    """The torch module of a fitted estimator, or ``network`` itself when it is a module."""
    if isinstance(network, torch.nn.Module):
        return network
    check_is_fitted(network)
    return network.module_


def _positions(module) -> list[np.ndarray]:
    """Positions of every neuron layer, as float64 arrays of shape (n_neurons, dim)."""
    return [p.detach().cpu().double().numpy() for p in module.positions]


def _effective_weights(module) -> list[np.ndarray]:
    """Effective weight matrices, shape (n_out, n_in) per layer, as float64 arrays."""
    with torch.no_grad():
        return [w.detach().cpu().double().numpy() for w in module.effective_weights()]


def _distances(positions_out: np.ndarray, positions_in: np.ndarray) -> np.ndarray:
    return np.sqrt(((positions_out[:, None, :] - positions_in[None, :, :]) ** 2).sum(axis=-1))


def mean_connection_length(network, *, per_layer: bool = False) -> float | np.ndarray:
    r"""Mean length of the connections, weighted by the magnitude of their effective weight.

    .. math::

        \bar d = \frac{\sum_{l,i,j} |W^{\mathrm{eff}}_{l,ij}|\, \lVert p_{l+1,i} - p_{l,j}\rVert}
                      {\sum_{l,i,j} |W^{\mathrm{eff}}_{l,ij}|}

    A network whose strong connections join nearby neurons has a short mean length; a
    distance penalty or a falloff shortens it during training.

    Parameters
    ----------
    network : fitted estimator or torch module
        A fitted :class:`~sklearn_posnet.PositionalMLPClassifier` or
        :class:`~sklearn_posnet.ParticleNetworkClassifier`, or their module.
    per_layer : bool, default=False
        Return one mean per weight layer instead of the mean over all connections.

    Returns
    -------
    length : float or ndarray of shape (n_layers,)
        The weighted mean distance between connected neurons (NaN for a layer whose effective
        weights are all zero).

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import mean_connection_length
    >>> module = PositionalMLP([64, 16, 10], generator=torch.Generator().manual_seed(0))
    >>> lengths = mean_connection_length(module, per_layer=True)
    >>> lengths.shape
    (2,)
    """
    module = _module_of(network)
    positions = _positions(module)
    weighted_sums, weight_sums = [], []
    for layer, weight in enumerate(_effective_weights(module)):
        magnitude = np.abs(weight)
        distance = _distances(positions[layer + 1], positions[layer])
        weighted_sums.append(float((magnitude * distance).sum()))
        weight_sums.append(float(magnitude.sum()))
    weighted_sums, weight_sums = np.array(weighted_sums), np.array(weight_sums)
    if per_layer:
        with np.errstate(invalid="ignore", divide="ignore"):
            return weighted_sums / weight_sums
    total = weight_sums.sum()
    return float(weighted_sums.sum() / total) if total > 0 else float("nan")


def output_influence(network) -> list[np.ndarray]:
    r"""How strongly every hidden neuron can move every output: sums of path weight magnitudes.

    For hidden layer :math:`h` (neuron layer :math:`h = 1, \dots, L-1`), with
    :math:`A_l = |W^{\mathrm{eff}}_l|` the element-wise magnitude of weight layer :math:`l`,

    .. math::

        I_h = \left(A_{L-1} A_{L-2} \cdots A_h\right)^\top,
        \qquad I_{h,jk} = \sum_{\text{paths } j \to k} \prod_{\text{edges}} |w^{\mathrm{eff}}|,

    the sum over every path from hidden neuron :math:`j` to output :math:`k` of the product of
    the magnitudes of the effective weights along it. For the last hidden layer it is simply
    :math:`|W^{\mathrm{eff}}_{L-1}|^\top`. With activations whose slope is at most 1 (ReLU,
    tanh, logistic), :math:`I_{h,jk}` bounds :math:`|\partial z_k / \partial a_{h,j}|`, the
    change of output logit :math:`k` per unit change of the neuron's activation.

    Parameters
    ----------
    network : fitted estimator or torch module
        A fitted :class:`~sklearn_posnet.PositionalMLPClassifier` or
        :class:`~sklearn_posnet.ParticleNetworkClassifier`, or their module.

    Returns
    -------
    influence : list of ndarray of shape (n_hidden_h, n_outputs)
        One matrix per hidden layer, first hidden layer first.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import output_influence
    >>> module = PositionalMLP([64, 16, 8, 10], generator=torch.Generator().manual_seed(0))
    >>> [matrix.shape for matrix in output_influence(module)]
    [(16, 10), (8, 10)]
    """
    weights = [np.abs(w) for w in _effective_weights(_module_of(network))]
    influences = []
    to_outputs = weights[-1]  # (n_outputs, n_last_hidden)
    for layer in range(len(weights) - 1, 0, -1):
        influences.append(to_outputs.T)
        to_outputs = to_outputs @ weights[layer - 1]
    return influences[::-1]


def most_influenced_output(network) -> list[np.ndarray]:
    """For every hidden neuron, the index of the output it influences most.

    "Influences most" is the largest entry of the neuron's row of :func:`output_influence`:
    for the last hidden layer, the output joined by the largest ``|effective weight|``; for
    earlier layers, the output with the largest sum over paths of products of ``|effective
    weight|``. Ties go to the lowest index.

    Parameters
    ----------
    network : fitted estimator or torch module
        A fitted estimator of this package, or its module.

    Returns
    -------
    outputs : list of ndarray of shape (n_hidden_h,) of int
        Output indices (positions in ``classes_``), one array per hidden layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import most_influenced_output
    >>> module = PositionalMLP([64, 16, 10], generator=torch.Generator().manual_seed(0))
    >>> int(most_influenced_output(module)[0].max()) < 10
    True
    """
    return [influence.argmax(axis=1) for influence in output_influence(network)]


def distance_to_most_influenced_output(network) -> list[np.ndarray]:
    """For every hidden neuron, its distance to the output neuron it influences most.

    The output is the one :func:`most_influenced_output` picks. In a trained positional
    network with a distance penalty, the last hidden layer moves toward the outputs it drives,
    so these distances shrink during training.

    Parameters
    ----------
    network : fitted estimator or torch module
        A fitted estimator of this package, or its module.

    Returns
    -------
    distances : list of ndarray of shape (n_hidden_h,)
        Euclidean distances, one array per hidden layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import distance_to_most_influenced_output
    >>> module = PositionalMLP([64, 16, 10], generator=torch.Generator().manual_seed(0))
    >>> distances = distance_to_most_influenced_output(module)
    >>> distances[0].shape
    (16,)
    """
    module = _module_of(network)
    positions = _positions(module)
    outputs = positions[-1]
    return [
        np.linalg.norm(positions[h + 1] - outputs[targets], axis=1)
        for h, targets in enumerate(most_influenced_output(module))
    ]
