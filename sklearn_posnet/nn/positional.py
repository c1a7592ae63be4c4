"""Positional neuron networks (J. Shader): dense layers whose neurons have positions in space."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..falloff import get_falloff, squared_distances
from ._fused import distance_penalty as fused_distance_penalty
from ._fused import falloff_weight, penalized_falloff_weight, positional_layer_weight
from ._neurons import glorot_limit, grown_positions
from .base import PositionNetwork, parameter_entries
from .layouts import resolve_layout
from .length_scale import auto_length_scale

__all__ = ["PositionalMLP"]

#: Standard deviations of the hidden positions at initialization, per hidden layer, as in the
#: reference implementation; deeper layers repeat the last value.
REFERENCE_HIDDEN_SPREAD = (1.0, 1.5, 2.0)
#: Raw weights start as Glorot-uniform divided by the layer's mean falloff, but by no less than
#: this: when neurons start far apart relative to the falloff (a gaussian falloff over the
#: reference's radius-5 outputs gives about 1e-11), dividing by the mean would overflow.
MIN_MEAN_FALLOFF = 1e-6
#: How the distance penalty adds up over connections: see ``PositionalMLP(distance_reduction=)``.
DISTANCE_REDUCTIONS = ("layer_mean", "sum")


class PositionalMLP(PositionNetwork):
    r"""A multilayer perceptron whose neurons have positions in :math:`\mathbb{R}^d`.

    Layer :math:`l` maps the activations of the neurons at positions :math:`P_l` to the
    neurons at :math:`P_{l+1}` with the effective weight

    .. math::

        W^{\mathrm{eff}}_{l,ij}
          = f\!\left(\frac{\lVert p_{l+1,i} - p_{l,j} \rVert}{s}\right) W_{l,ij},
        \qquad y = x \, (W^{\mathrm{eff}}_l)^\top + b_l,

    where :math:`f` is the falloff (``1 / (1 + d^2)`` in the paper), :math:`s` the length scale,
    :math:`W_l` the raw weights and :math:`b_l` the (unscaled) biases. A layer's output neurons
    *are* the next layer's input neurons: there is one position tensor per neuron layer, shared by
    the two weight layers it touches.

    Parameters
    ----------
    layer_sizes : sequence of int
        Neurons per layer, inputs first and outputs last, e.g. ``(784, 128, 10)``.
    position_dim : int, default=2
        Dimension ``d`` of the space the neurons live in.
    falloff : str or callable, default="inverse_square"
        See :mod:`sklearn_posnet.falloff`.
    length_scale : float or "auto", default="auto"
        Distances are divided by this before the falloff is applied. "auto" (see
        :func:`~sklearn_posnet.nn.length_scale.auto_length_scale`) puts the falloff's
        half-value distance at the root-mean-square length, at initialization, of the
        connections of the layer whose connections are longest; it is resolved by
        :meth:`reset_parameters` and the attribute then holds the number. The reference
        geometry is ``length_scale=1.0`` with ``input_layout="auto"`` and
        ``output_layout="circle"``.
    activation : str, default="relu"
        Hidden activation: "identity", "logistic", "tanh", "relu" or "swish".
    input_layout : str or array-like, default="even"
        "grid" (pixels of ``input_shape`` spanning [-2, 2]), "line", "sphere" (radius 2),
        "random", "auto" (a grid when ``input_shape`` is given or the input count is a perfect
        square, else a line), "even" (the same grid, else a sphere), or an array of shape
        ``(layer_sizes[0], position_dim)``.
    input_shape : tuple of int, optional
        Image shape for the grid layout, e.g. ``(28, 28)``.
    output_layout : str or array-like, default="sphere"
        "circle" (radius 5 in the first two axes), "sphere" (radius 5: the circle in 2-D, a
        Fibonacci sphere in 3-D and more, a line in 1-D), "line", "random" or an array of
        shape ``(layer_sizes[-1], d)``.
    hidden_spread : float or sequence of float, default=(1.0, 1.5, 2.0)
        Standard deviation of the normal distribution the hidden positions are drawn from, per
        hidden layer (the last value repeats for deeper layers).
    trainable_positions : {"hidden", "all", "none"}, default="hidden"
        Which positions are learned. Input and output positions stay where the layout put them
        with "hidden", the paper's setting.
    distance_reduction : {"layer_mean", "sum"}, default="layer_mean"
        How :meth:`distance_penalty` adds up ``d**2 * w**2`` over the connections: "layer_mean"
        (the reference's) takes each layer's mean, then the mean over layers, so that a
        connection of a small layer weighs as much as ``n_l / n_k`` connections of a large one;
        "sum" adds every connection once, whatever its layer.
    generator : torch.Generator, optional
        Source of randomness for :meth:`reset_parameters`; the global generator is never used.

    Attributes
    ----------
    positions : nn.ParameterList of Tensor (n_l, d)
        One position tensor per neuron layer.
    weights : nn.ParameterList of Tensor (n_{l+1}, n_l)
        The raw weights.
    biases : nn.ParameterList of Tensor (n_{l+1},)

    Shape:
        - Input: :math:`(N, n_0)`
        - Output: :math:`(N, n_L)`, logits.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import PositionalMLP
    >>> net = PositionalMLP([64, 32, 10], generator=torch.Generator().manual_seed(0))
    >>> net(torch.zeros(5, 64)).shape
    torch.Size([5, 10])
    >>> net.n_parameters
    2474
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        position_dim: int = 2,
        falloff="inverse_square",
        length_scale: float | str = "auto",
        activation: str = "relu",
        input_layout="even",
        input_shape: tuple[int, ...] | None = None,
        output_layout="sphere",
        hidden_spread: float | Sequence[float] = REFERENCE_HIDDEN_SPREAD,
        trainable_positions: str = "hidden",
        distance_reduction: str = "layer_mean",
        generator: torch.Generator | None = None,
    ):
        super().__init__(layer_sizes, activation)
        if trainable_positions not in ("hidden", "all", "none"):
            raise ValueError(
                "trainable_positions must be 'hidden', 'all' or 'none', "
                f"got {trainable_positions!r}."
            )
        if distance_reduction not in DISTANCE_REDUCTIONS:
            raise ValueError(
                f"distance_reduction must be one of {DISTANCE_REDUCTIONS}, "
                f"got {distance_reduction!r}."
            )
        self.distance_reduction = distance_reduction
        self.position_dim = int(position_dim)
        self.falloff = get_falloff(falloff)
        if not (length_scale == "auto" or float(length_scale) > 0):
            raise ValueError(f"length_scale must be 'auto' or positive, got {length_scale!r}.")
        self.length_scale_setting = length_scale
        self.length_scale = 1.0 if length_scale == "auto" else float(length_scale)
        self.input_layout = input_layout
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.output_layout = output_layout
        self.hidden_spread = hidden_spread
        self.trainable_positions = trainable_positions

        n_layers = len(self.layer_sizes)
        self.positions = nn.ParameterList(
            nn.Parameter(
                torch.empty(n, self.position_dim),
                requires_grad=self._is_trainable_position_layer(index, n_layers),
            )
            for index, n in enumerate(self.layer_sizes)
        )
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n_out, n_in))
            for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(n_out)) for n_out in self.layer_sizes[1:]
        )
        self.reset_parameters(generator)

    def _is_trainable_position_layer(self, index: int, n_layers: int) -> bool:
        if self.trainable_positions == "all":
            return True
        if self.trainable_positions == "none":
            return False
        return 0 < index < n_layers - 1

    def _hidden_spreads(self) -> list[float]:
        n_hidden = len(self.layer_sizes) - 2
        spreads = self.hidden_spread
        if isinstance(spreads, (int, float)):
            return [float(spreads)] * n_hidden
        spreads = [float(s) for s in spreads]
        if not spreads:
            raise ValueError("hidden_spread must not be empty.")
        return [spreads[min(i, len(spreads) - 1)] for i in range(n_hidden)]

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Lay out the neurons and draw the weights.

        Inputs and outputs follow their layouts, hidden positions are drawn from a normal
        distribution, ``length_scale="auto"`` is resolved (from the layouts and spreads only, so
        that it does not depend on the random draws), raw weights are Glorot-uniform divided by
        the mean falloff of their layer (so the effective weights start at Glorot scale, as in
        the reference; the divisor is at least ``MIN_MEAN_FALLOFF``), biases are zero.
        """
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        sizes, dim = self.layer_sizes, self.position_dim
        self.positions[0].copy_(
            resolve_layout(
                self.input_layout,
                sizes[0],
                dim,
                generator=generator,
                role="input",
                shape=self.input_shape,
            )
        )
        for index, spread in enumerate(self._hidden_spreads(), start=1):
            self.positions[index].normal_(0.0, spread, generator=generator)
        self.positions[-1].copy_(
            resolve_layout(self.output_layout, sizes[-1], dim, generator=generator, role="output")
        )
        if self.length_scale_setting == "auto":
            self.length_scale = auto_length_scale(self.falloff, self._layout_moments(), dim)
        for layer, weight in enumerate(self.weights):
            n_out, n_in = weight.shape
            limit = glorot_limit(n_in, n_out)
            weight.uniform_(-limit, limit, generator=generator)
            if not self.falloff.is_constant:
                mean_falloff = self.falloff_matrix(layer).double().mean().item()
                weight.div_(max(mean_falloff, MIN_MEAN_FALLOFF))
        for bias in self.biases:
            bias.zero_()

    def _layout_moments(self) -> list[tuple[torch.Tensor | None, float]]:
        """Per neuron layer, its laid-out positions, or None and the spread of a drawn layer."""

        def laid_out(layout, positions):
            # resolve_layout draws "random" layouts with a spread of 1.
            return (
                (None, 1.0) if isinstance(layout, str) and layout == "random" else (positions, 0.0)
            )

        hidden = [(None, spread) for spread in self._hidden_spreads()]
        return [
            laid_out(self.input_layout, self.positions[0]),
            *hidden,
            laid_out(self.output_layout, self.positions[-1]),
        ]

    def falloff_matrix(self, layer: int) -> torch.Tensor:
        """The falloff factor of every connection of ``layer``, shape ``(n_out, n_in)``."""
        d2 = self.squared_distances(layer)
        return self.falloff(d2 / (self.length_scale * self.length_scale))

    def effective_weight(self, layer: int) -> torch.Tensor:
        """``falloff(distance / length_scale) * weight`` for ``layer``, shape ``(n_out, n_in)``.

        Named falloffs go through one fused autograd function (same values and gradients as
        ``falloff_matrix(layer) * weights[layer]``, in a few passes over the matrix).
        """
        return falloff_weight(
            self.weights[layer],
            self.positions[layer + 1],
            self.positions[layer],
            self.falloff,
            self.length_scale,
        )

    def forward_with_penalty(
        self, x: torch.Tensor, *, l2: float = 0.0, distance: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits and the training penalty, computed together.

        Each layer's effective weight and penalty come from one fused autograd node that forms
        the squared distances once: the training step's fast path. Equal in value and gradient
        to ``(self(x), l2 * self.weight_l2() + distance * self.distance_penalty())``.

        Parameters
        ----------
        x : Tensor of shape (N, n_0)
        l2 : float, default=0.0
            Weight of :meth:`weight_l2`.
        distance : float, default=0.0
            Weight of :meth:`distance_penalty`.

        Returns
        -------
        logits : Tensor of shape (N, n_L)
        penalty : Tensor
            A scalar.
        """

        def penalized_layer_output(x, layer):
            weight = self.weights[layer]
            effective, layer_penalty = penalized_falloff_weight(
                weight,
                self.positions[layer + 1],
                self.positions[layer],
                self.falloff,
                self.length_scale,
                l2=l2,
                distance=distance * self._distance_share(layer),
            )
            return F.linear(x, effective, self.biases[layer]), layer_penalty

        return self.penalized_forward(x, penalized_layer_output)

    def hand_derived_layers(self, *, l2: float = 0.0, distance: float = 0.0) -> list | None:
        """Each layer's weight and penalty of :meth:`forward_with_penalty`, with their
        gradients, where the kernels serve them; None for plain layers (the constant falloff
        without a penalty), which autograd differentiates faster, with no Python node."""
        if self.falloff.is_constant and not (l2 or distance):
            return None
        weights, positions = parameter_entries(self.weights), parameter_entries(self.positions)
        layers = []
        for layer in range(self.n_layers):
            layer_weight = positional_layer_weight(
                weights[layer],
                positions[layer + 1],
                positions[layer],
                self.falloff,
                self.length_scale,
                l2=l2,
                distance=distance * self._distance_share(layer),
            )
            if layer_weight is None:
                return None
            layers.append(layer_weight)
        return layers

    def weight_l2(self) -> torch.Tensor:
        """Sum of the squared raw weights of all layers (biases excluded, as in MLPClassifier)."""
        return sum(weight.square().sum() for weight in self.weights)

    def _distance_share(self, layer: int) -> float:
        """What one connection of ``layer`` contributes to :meth:`distance_penalty`, per unit of
        ``d**2 * w**2``: the one place where ``distance_reduction`` is applied."""
        if self.distance_reduction == "sum":
            return 1.0
        return 1.0 / (self.n_layers * self.weights[layer].numel())

    def distance_penalty(self) -> torch.Tensor:
        r"""Distance-weighted penalty on the raw weights, reduced by ``distance_reduction``.

        With "layer_mean", the mean over layers of :math:`\operatorname{mean}(d^2 w^2)`; with
        "sum", :math:`\sum_{l,i,j} d_{l,ij}^2 W_{l,ij}^2`. Distances are the raw ones (not
        divided by the length scale), as in the reference, whose loss adds ``(1/24) * sum over
        its 6 layers`` of the layer mean: ``distance_alpha=0.25`` with "layer_mean".
        """
        per_layer = [
            fused_distance_penalty(
                self.weights[layer], self.positions[layer + 1], self.positions[layer]
            )
            for layer in range(self.n_layers)
        ]
        if self.distance_reduction == "sum":
            sizes = [weight.numel() for weight in self.weights]
            return sum(penalty * size for penalty, size in zip(per_layer, sizes, strict=True))
        return sum(per_layer) / len(per_layer)

    def extra_repr(self) -> str:
        sizes = "-".join(str(n) for n in self.layer_sizes)
        return (
            f"layer_sizes={sizes}, position_dim={self.position_dim}, "
            f"falloff={self.falloff.name!r}, length_scale={self.length_scale:g}, "
            f"activation={self.activation!r}, trainable_positions={self.trainable_positions!r}, "
            f"distance_reduction={self.distance_reduction!r}"
        )

    # ------------------------------------------------------------ hidden-neuron layout
    def _raw_weights(self) -> list[torch.Tensor]:
        return list(self.weights)

    def _neuron_slots(self, layer: int) -> list[tuple[nn.ParameterList, int, int]]:
        """A hidden neuron's position, incoming weight row, bias and outgoing weight column."""
        return [
            (self.positions, layer, 0),
            (self.weights, layer - 1, 0),
            (self.biases, layer - 1, 0),
            (self.weights, layer, 1),
        ]

    def _new_neurons(self, layer, n_new, positions, generator) -> list[torch.Tensor]:
        """New neurons' positions, incoming rows drawn as at initialization, zero biases and
        zero outgoing columns (see :meth:`grow_hidden`)."""
        spread = self._hidden_spreads()[layer - 1]
        new_positions = grown_positions(self.positions[layer], n_new, positions, spread, generator)
        incoming = self.weights[layer - 1]
        n_in, n_out = incoming.shape[1], incoming.shape[0] + n_new
        limit = glorot_limit(n_in, n_out)
        new_rows = torch.empty(n_new, n_in, dtype=torch.float64).uniform_(
            -limit, limit, generator=generator
        )
        if not self.falloff.is_constant:
            distances = squared_distances(
                new_positions.double(), self.positions[layer - 1].double()
            )
            mean_falloff = self.falloff(distances / self.length_scale**2).mean().item()
            new_rows.div_(max(mean_falloff, MIN_MEAN_FALLOFF))
        n_next = self.weights[layer].shape[0]
        return [new_positions, new_rows, torch.zeros(n_new), torch.zeros(n_next, n_new)]
