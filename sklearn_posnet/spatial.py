"""Spatial summaries of a fitted network: numbers that say how its geometry and weights relate.

Every function takes a fitted estimator (:class:`~sklearn_posnet.PositionalMLPClassifier`,
:class:`~sklearn_posnet.ParticleNetworkClassifier`), a fitted
:class:`~sklearn_posnet.NeuronPruner` (its pruned network) or one of their torch modules
(:class:`~sklearn_posnet.nn.PositionalMLP`, :class:`~sklearn_posnet.nn.ParticleNetwork`) and
works on its effective weights (the weights of the equivalent plain MLP) and its positions.

The structure measures (:func:`wiring_cost`, :func:`modularity`, :func:`neuron_communities`,
:func:`structure_permutation_test`) also take a fitted
:class:`~sklearn.neural_network.MLPClassifier` together with ``positions`` (e.g. those of a
positional network of the same shape), so that a plain network can be measured on the same
geometry. :func:`modularity` and :func:`neuron_communities` need networkx
(``pip install sklearn_posnet[structure]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import numpy as np
import torch
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .falloff import squared_distances

__all__ = [
    "distance_to_most_influenced_output",
    "mean_connection_length",
    "modularity",
    "most_influenced_output",
    "neuron_communities",
    "output_influence",
    "structure_permutation_test",
    "wiring_cost",
]


def _module_of(network) -> torch.nn.Module:
    """The torch module of a fitted estimator or pruner, or ``network`` itself for a module."""
    if isinstance(network, torch.nn.Module):
        return network
    check_is_fitted(network)
    if hasattr(network, "estimator_"):  # a fitted meta-estimator: NeuronPruner
        return _module_of(network.estimator_)
    return network.module_


def _positions(module) -> list[np.ndarray]:
    """Positions of every neuron layer, as float64 arrays of shape (n_neurons, dim)."""
    return [p.double().numpy() for p in module.neuron_snapshot().positions]


def _effective_weights(module) -> list[np.ndarray]:
    """Effective weight matrices, shape (n_out, n_in) per layer, as float64 arrays (formed in
    the module's own dtype, as the module computes)."""
    return [weight.cpu().double().numpy() for weight, _ in module.plain_layers()]


def _distances(positions_out: np.ndarray, positions_in: np.ndarray) -> np.ndarray:
    """Euclidean distances, shape ``(n_out, n_in)``, from the package's squared distances."""
    squared = squared_distances(
        torch.from_numpy(np.ascontiguousarray(positions_out)),
        torch.from_numpy(np.ascontiguousarray(positions_in)),
    )
    return np.sqrt(squared.numpy())


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


# ------------------------------------------------------------------------- structure measures
def _as_array(positions) -> np.ndarray:
    if isinstance(positions, torch.Tensor):
        positions = positions.detach().cpu()
    return np.asarray(positions, dtype=np.float64)


def _checked_positions(positions, weights: list[np.ndarray]) -> list[np.ndarray]:
    """``positions`` as one float64 array per neuron layer, checked against the weights."""
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    positions = [_as_array(p) for p in positions]
    if len(positions) != len(sizes):
        raise ValueError(
            f"positions needs one array per neuron layer ({len(sizes)}), got {len(positions)}."
        )
    for layer, (array, size) in enumerate(zip(positions, sizes, strict=True)):
        if array.ndim != 2 or array.shape[0] != size or array.shape[1] != positions[0].shape[1]:
            raise ValueError(
                f"positions[{layer}] must have shape ({size}, {positions[0].shape[1:]}), "
                f"got {array.shape}."
            )
        if not np.isfinite(array).all():
            raise ValueError(f"positions[{layer}] contains NaN or infinity.")
    return positions


def _network_arrays(network, positions=None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Effective weights (shape ``(n_out, n_in)`` per layer) and positions, as float64 arrays.

    A fitted scikit-learn MLP (``coefs_`` of shape ``(n_in, n_out)``) has no positions of its
    own: they are None unless ``positions`` is given.
    """
    if isinstance(network, (MLPClassifier, MLPRegressor)):
        check_is_fitted(network)
        weights = [np.asarray(coef, dtype=np.float64).T for coef in network.coefs_]
        own_positions = None
    else:
        module = _module_of(network)
        weights = _effective_weights(module)
        own_positions = _positions(module)
    if not all(np.isfinite(w).all() for w in weights):
        raise ValueError("The network's effective weights contain NaN or infinity.")
    if positions is not None:
        return weights, _checked_positions(positions, weights)
    return weights, own_positions


def _wiring_cost(weights: list[np.ndarray], positions: list[np.ndarray]) -> np.ndarray:
    """Per layer: ``sum |W| d`` divided by the mean ``|W|`` over all connections of all layers."""
    magnitudes = [np.abs(w) for w in weights]
    mean_magnitude = sum(m.sum() for m in magnitudes) / sum(m.size for m in magnitudes)
    if mean_magnitude == 0:
        return np.full(len(weights), np.nan)
    return np.array(
        [
            float((m * _distances(positions[layer + 1], positions[layer])).sum()) / mean_magnitude
            for layer, m in enumerate(magnitudes)
        ]
    )


def wiring_cost(network, *, positions=None, per_layer: bool = False) -> float | np.ndarray:
    r"""Total length of the wiring, each connection weighted by its relative strength.

    .. math::

        C = \sum_{l,i,j} \frac{|W^{\mathrm{eff}}_{l,ij}|}{\overline{|W^{\mathrm{eff}}|}}\,
            \lVert p_{l+1,i} - p_{l,j} \rVert,

    where :math:`\overline{|W^{\mathrm{eff}}|}` is the mean magnitude over all connections of all
    layers. The sum of ``|weight| x distance`` is the wiring cost that spatially embedded networks
    minimize (e.g. brain-inspired modular training); dividing by the mean magnitude makes it
    invariant to scaling all weights, so that shrinking the weights does not lower it, and leaves
    a length: the total wire length of the network if every connection had the mean strength.
    It equals the number of connections times :func:`mean_connection_length`, grows with the
    size of the network and with the scale of the positions, and is zero when all neurons
    coincide. Compare it with the same weights on shuffled positions
    (:func:`structure_permutation_test`) to see whether the strong connections are the short ones.

    Parameters
    ----------
    network : fitted estimator, NeuronPruner, torch module or fitted MLPClassifier
        A fitted :class:`~sklearn_posnet.PositionalMLPClassifier`,
        :class:`~sklearn_posnet.ParticleNetworkClassifier` or
        :class:`~sklearn_posnet.NeuronPruner`, their module, or a fitted scikit-learn MLP
        (``coefs_``), which needs ``positions``.
    positions : sequence of array-like of shape (n_neurons_l, dim), default=None
        One array per neuron layer, inputs first, to measure the weights on instead of the
        network's own positions (e.g. ``clf.module_.positions`` of a positional network of the
        same shape, to measure a plain MLP on its geometry).
    per_layer : bool, default=False
        Return each weight layer's share of the total instead of the total.

    Returns
    -------
    cost : float or ndarray of shape (n_layers,)
        The wiring cost, in units of the positions (NaN when all weights are zero). The
        per-layer values sum to the total.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import wiring_cost
    >>> generator = torch.Generator().manual_seed(0)
    >>> module = PositionalMLP([64, 16, 10], generator=generator).double()
    >>> cost = wiring_cost(module)
    >>> with torch.no_grad():
    ...     _ = module.weights[0].mul_(10.0), module.weights[1].mul_(10.0)
    >>> bool(abs(wiring_cost(module) - cost) < 1e-9 * cost)
    True
    """
    weights, positions = _network_arrays(network, positions)
    if positions is None:
        raise ValueError(
            f"A {type(network).__name__} has no neuron positions: pass positions=, one array "
            "per neuron layer."
        )
    per_layer_cost = _wiring_cost(weights, positions)
    return per_layer_cost if per_layer else float(per_layer_cost.sum())


def _networkx():
    try:
        import networkx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Modularity needs networkx: pip install 'sklearn_posnet[structure]' "
            "(or pip install 'networkx>=3')."
        ) from exc
    return networkx


def _check_density(density) -> None:
    if density is not None and not (
        isinstance(density, Real) and not isinstance(density, bool) and 0 < density <= 1
    ):
        raise ValueError(f"density must be None or a float in (0, 1], got {density!r}.")


def _weight_graph(weights: list[np.ndarray], density: float | None):
    """The undirected graph of all neurons, edges weighted by ``|effective weight|``.

    Node ``offsets[l] + i`` is neuron ``i`` of neuron layer ``l``. With ``density``, only the
    strongest ``density`` fraction of the connections (ties at the threshold included) are edges.
    """
    networkx = _networkx()
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    magnitudes = [np.abs(w) for w in weights]
    threshold = 0.0
    if density is not None:
        everything = np.concatenate([m.ravel() for m in magnitudes])
        n_kept = max(1, math.ceil(density * everything.size))
        threshold = float(np.partition(everything, everything.size - n_kept)[-n_kept])
    graph = networkx.Graph()
    graph.add_nodes_from(range(int(offsets[-1])))
    for layer, magnitude in enumerate(magnitudes):
        rows, cols = np.nonzero((magnitude >= threshold) & (magnitude > 0))
        graph.add_weighted_edges_from(
            zip(
                (rows + offsets[layer + 1]).tolist(),
                (cols + offsets[layer]).tolist(),
                magnitude[rows, cols].tolist(),
                strict=True,
            )
        )
    return graph, offsets


def _labels_per_layer(communities, offsets: np.ndarray) -> list[np.ndarray]:
    """Community sets of node ids as one label array per layer, the largest community first."""
    labels = np.empty(int(offsets[-1]), dtype=np.int64)
    ordered = sorted(communities, key=lambda nodes: (-len(nodes), min(nodes)))
    for label, nodes in enumerate(ordered):
        labels[list(nodes)] = label
    return [labels[offsets[k] : offsets[k + 1]] for k in range(len(offsets) - 1)]


def _communities_and_modularity(
    weights: list[np.ndarray], density, resolution: float, seed: int, communities=None
) -> tuple[list[np.ndarray], float]:
    """Louvain communities (or the given labels) of the weight graph and their modularity."""
    networkx = _networkx()
    graph, offsets = _weight_graph(weights, density)
    if communities is None:
        if graph.number_of_edges() == 0:
            sets = [{node} for node in graph.nodes]
        else:
            sets = networkx.community.louvain_communities(
                graph, weight="weight", resolution=resolution, seed=seed
            )
    else:
        sizes = np.diff(offsets)
        if len(communities) != len(sizes) or any(
            np.shape(labels) != (size,) for labels, size in zip(communities, sizes, strict=False)
        ):
            raise ValueError(
                "communities needs one label array per neuron layer, of shapes "
                f"{[(int(s),) for s in sizes]}."
            )
        labels = np.concatenate([np.asarray(c).reshape(-1) for c in communities])
        sets = [set(np.flatnonzero(labels == value).tolist()) for value in np.unique(labels)]
    if graph.number_of_edges() == 0:
        return _labels_per_layer(sets, offsets), float("nan")
    quality = networkx.community.modularity(graph, sets, weight="weight", resolution=resolution)
    return _labels_per_layer(sets, offsets), float(quality)


def _random_state(random_state) -> np.random.RandomState:
    """``check_random_state``, except that None seeds a new generator from the operating system
    instead of drawing from (and advancing) NumPy's global one."""
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    return check_random_state(random_state)


def _seed(random_state) -> int:
    return int(_random_state(random_state).randint(np.iinfo(np.int32).max))


def neuron_communities(
    network, *, density: float | None = None, resolution: float = 1.0, random_state=None
) -> list[np.ndarray]:
    """Communities of neurons found by Louvain modularity maximization on the weight graph.

    The graph has one node per neuron (inputs, hidden and outputs) and one undirected edge per
    connection, weighted by ``|effective weight|``. Louvain (Blondel et al., 2008, as
    implemented by networkx) is the community detection that the Brain Connectivity Toolbox
    and studies of spatially embedded networks use; it is a heuristic, so ``random_state``
    fixes its node order.

    Parameters
    ----------
    network : fitted estimator, NeuronPruner, torch module or fitted MLPClassifier
        See :func:`wiring_cost`; positions are not used.
    density : float in (0, 1], default=None
        Keep only this fraction of the connections, the strongest (at least one; ties at the
        threshold are kept); None keeps every non-zero connection, weighted.
    resolution : float, default=1.0
        Louvain's resolution: above 1 favours smaller communities.
    random_state : int, RandomState instance or None, default=None
        Seeds Louvain's random node order.

    Returns
    -------
    labels : list of ndarray of shape (n_neurons_l,) of int
        One array per neuron layer, inputs first: the community of every neuron, numbered by
        decreasing size (0 is the largest).

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import neuron_communities
    >>> module = PositionalMLP([16, 8, 4], generator=torch.Generator().manual_seed(0))
    >>> [labels.shape for labels in neuron_communities(module, random_state=0)]
    [(16,), (8,), (4,)]
    """
    _check_density(density)
    weights, _ = _network_arrays(network)
    labels, _ = _communities_and_modularity(weights, density, resolution, _seed(random_state))
    return labels


def modularity(
    network,
    *,
    communities: Sequence | None = None,
    density: float | None = None,
    resolution: float = 1.0,
    random_state=None,
) -> float:
    r"""Newman's modularity Q of the network's weighted graph.

    .. math::

        Q = \frac{1}{2m} \sum_{a,b} \left(A_{ab} - \gamma \frac{k_a k_b}{2m}\right)
            \delta(c_a, c_b),

    with :math:`A_{ab} = |W^{\mathrm{eff}}|` between connected neurons :math:`a, b` (zero
    otherwise), :math:`k_a` the strength (summed weight) of neuron :math:`a`, :math:`2m` the
    total strength, :math:`\gamma` the resolution and :math:`c_a` the community of neuron
    :math:`a`, by default the one :func:`neuron_communities` finds. :math:`Q` is scale
    invariant; it is near 0 for a network without communities (the weights of a randomly
    initialized dense MLP) and reaches :math:`1 - 1/k` for :math:`k` equal disconnected blocks.
    Compare it with the same network's weights shuffled (:func:`structure_permutation_test`): a
    heuristic search finds some modularity even in random graphs.

    Parameters
    ----------
    network : fitted estimator, NeuronPruner, torch module or fitted MLPClassifier
        See :func:`wiring_cost`; positions are not used.
    communities : sequence of array-like of int, default=None
        One label array per neuron layer to score instead of the detected communities.
    density : float in (0, 1], default=None
        See :func:`neuron_communities`.
    resolution : float, default=1.0
        The resolution :math:`\gamma`, for the detection and for :math:`Q`.
    random_state : int, RandomState instance or None, default=None
        Seeds the community detection.

    Returns
    -------
    q : float
        The modularity, in [-1/2, 1); NaN when the graph has no edge (all weights zero).

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import modularity
    >>> generator = torch.Generator().manual_seed(0)
    >>> module = PositionalMLP([16, 8, 4], falloff="none", generator=generator)
    >>> with torch.no_grad():  # two independent halves
    ...     _ = module.weights[0][:4, 8:].zero_(), module.weights[0][4:, :8].zero_()
    ...     _ = module.weights[1][:2, 4:].zero_(), module.weights[1][2:, :4].zero_()
    >>> modularity(module, random_state=0) > 0.45
    True
    """
    _check_density(density)
    weights, _ = _network_arrays(network)
    _, quality = _communities_and_modularity(
        weights, density, resolution, _seed(random_state), communities
    )
    return quality


def structure_permutation_test(
    network,
    *,
    n_shuffles: int = 10,
    positions=None,
    density: float | None = None,
    resolution: float = 1.0,
    random_state=None,
) -> Bunch:
    """Wiring cost and modularity of a network against the same network with its structure shuffled.

    Two null models, each drawn ``n_shuffles`` times:

    - for the wiring cost, the same weights on shuffled positions: the neurons of every layer
      trade positions at random, so the lengths available stay the same but nothing ties the
      strong connections to the short ones;
    - for the modularity, the same positions with every layer's weights shuffled: the entries
      of each weight matrix are permuted, keeping the layers and their weight distributions
      but no pattern among the connections.

    A network whose spatial structure is real has a lower wiring cost and a higher modularity
    than nearly all of its shuffles; a plain MLP measured on the same positions (pass
    ``positions``) is the other baseline.

    Parameters
    ----------
    network : fitted estimator, NeuronPruner, torch module or fitted MLPClassifier
        See :func:`wiring_cost`.
    n_shuffles : int, default=10
        Shuffles per null model.
    positions : sequence of array-like, default=None
        See :func:`wiring_cost`.
    density : float in (0, 1], default=None
        See :func:`neuron_communities`.
    resolution : float, default=1.0
        See :func:`modularity`.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles and the community detection.

    Returns
    -------
    result : Bunch
        ``wiring_cost`` (float) and ``wiring_cost_shuffled`` (ndarray of shape
        (n_shuffles,)), ``wiring_cost_pvalue``: ``(1 + #shuffles at most as costly) /
        (1 + n_shuffles)``; ``modularity``, ``modularity_shuffled`` and ``modularity_pvalue``
        (shuffles at least as modular), as in
        :func:`~sklearn.model_selection.permutation_test_score`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> from sklearn_posnet.spatial import structure_permutation_test
    >>> module = PositionalMLP([16, 8, 4], generator=torch.Generator().manual_seed(0))
    >>> result = structure_permutation_test(module, n_shuffles=3, random_state=0)
    >>> result.wiring_cost_shuffled.shape, 0 < result.modularity_pvalue <= 1
    ((3,), True)
    """
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, (int, np.integer)):
        raise ValueError(f"n_shuffles must be an int >= 1, got {n_shuffles!r}.")
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be an int >= 1, got {n_shuffles!r}.")
    _check_density(density)
    weights, positions = _network_arrays(network, positions)
    if positions is None:
        raise ValueError(
            f"A {type(network).__name__} has no neuron positions: pass positions=, one array "
            "per neuron layer."
        )
    rng = _random_state(random_state)
    cost = float(_wiring_cost(weights, positions).sum())
    _, quality = _communities_and_modularity(weights, density, resolution, _seed(rng))
    shuffled_costs, shuffled_qualities = [], []
    for _ in range(int(n_shuffles)):
        moved = [p[rng.permutation(len(p))] for p in positions]
        shuffled_costs.append(float(_wiring_cost(weights, moved).sum()))
        scrambled = [rng.permutation(w.ravel()).reshape(w.shape) for w in weights]
        shuffled_qualities.append(
            _communities_and_modularity(scrambled, density, resolution, _seed(rng))[1]
        )
    shuffled_costs, shuffled_qualities = np.array(shuffled_costs), np.array(shuffled_qualities)
    return Bunch(
        wiring_cost=cost,
        wiring_cost_shuffled=shuffled_costs,
        wiring_cost_pvalue=float((1 + np.sum(shuffled_costs <= cost)) / (1 + n_shuffles)),
        modularity=quality,
        modularity_shuffled=shuffled_qualities,
        modularity_pvalue=float((1 + np.sum(shuffled_qualities >= quality)) / (1 + n_shuffles)),
    )
