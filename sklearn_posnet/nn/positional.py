"""Positional neuron networks (J. Shader): dense layers whose neurons have positions in space."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..falloff import get_falloff, squared_distances
from ._fused import distance_penalty as fused_distance_penalty
from ._fused import falloff_weight, penalized_falloff_weight
from ._neurons import (
    appended,
    check_criterion,
    grown_positions,
    growth_generator,
    growth_layer,
    kept_layer_sizes,
    mean_squared_connection,
    sliced,
    squared_gradient_rows,
    validated_keep,
)
from .activations import get_activation
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


class PositionalMLP(nn.Module):
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
        super().__init__()
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        if len(self.layer_sizes) < 2 or min(self.layer_sizes) < 1:
            raise ValueError(
                f"layer_sizes needs at least two layers of at least one neuron, got {layer_sizes}."
            )
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
        self.activation = activation
        self._activation = get_activation(activation)
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
            limit = math.sqrt(6.0 / (n_in + n_out))
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

    @property
    def n_layers(self) -> int:
        """Number of weight layers."""
        return len(self.weights)

    @property
    def n_parameters(self) -> int:
        """Number of trainable scalars (frozen positions do not count)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def squared_distances(self, layer: int) -> torch.Tensor:
        """Squared distances, shape ``(n_out, n_in)``, between the neurons joined by ``layer``."""
        return squared_distances(self.positions[layer + 1], self.positions[layer])

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

    def effective_weights(self) -> list[torch.Tensor]:
        """The effective weight matrix of every layer: the equivalent plain MLP's weights."""
        return [self.effective_weight(layer) for layer in range(self.n_layers)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the last hidden layer (``x`` itself when there is none)."""
        for layer in range(self.n_layers - 1):
            x = self._activation(F.linear(x, self.effective_weight(layer), self.biases[layer]))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_penalty(x)[0]

    def forward_with_hidden(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The logits and the activations of every hidden layer, which stay in the autograd
        graph (for gradients of the loss with respect to the activations).

        Parameters
        ----------
        x : Tensor of shape (N, n_0)

        Returns
        -------
        logits : Tensor of shape (N, n_L)
        hidden : list of Tensor of shape (N, n_k)
            One tensor per hidden layer, in layer order.
        """
        hidden = []
        for layer in range(self.n_layers - 1):
            x = self._activation(F.linear(x, self.effective_weight(layer), self.biases[layer]))
            hidden.append(x)
        last = self.n_layers - 1
        return F.linear(x, self.effective_weight(last), self.biases[last]), hidden

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
        penalty = 0.0
        last = self.n_layers - 1
        for layer, weight in enumerate(self.weights):
            effective, layer_penalty = penalized_falloff_weight(
                weight,
                self.positions[layer + 1],
                self.positions[layer],
                self.falloff,
                self.length_scale,
                l2=l2,
                distance=distance * self._distance_share(layer),
            )
            x = F.linear(x, effective, self.biases[layer])
            if layer < last:
                x = self._activation(x)
            penalty = penalty + layer_penalty
        return x, penalty

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

    # ------------------------------------------------------------------ structured pruning
    @torch.no_grad()
    def neuron_scores(self, criterion: str = "mean_squared_weight") -> list[torch.Tensor]:
        """Importance of every hidden neuron: the mean of its squared incoming and outgoing weights.

        For hidden neuron ``i`` of neuron layer ``k`` the score is the mean over the
        concatenation of its ``n_{k-1}`` incoming and ``n_{k+1}`` outgoing weights squared,
        ``(sum_j W_{k-1,ij}**2 + sum_m W_{k,mi}**2) / (n_{k-1} + n_{k+1})``: the criterion of the
        positional-neurons paper, which ranks the hidden neurons of all layers together.

        Parameters
        ----------
        criterion : {"mean_squared_weight", "effective"}, default="mean_squared_weight"
            "mean_squared_weight" scores the raw weights (the paper's), "effective" the
            effective weights, falloff applied. They coincide with ``falloff="none"``.

        Returns
        -------
        scores : list of Tensor of shape (n_k,)
            One tensor per hidden layer, in layer order.
        """
        check_criterion(criterion)
        if criterion == "mean_squared_weight":
            return mean_squared_connection(list(self.weights))
        return mean_squared_connection(self.effective_weights())

    @torch.no_grad()
    def select_hidden_neurons(self, keep: Sequence[torch.Tensor]) -> None:
        """Keep only the given hidden neurons, removing the others from every tensor, in place.

        A hidden neuron's weight row (incoming), weight column (outgoing), bias and position go
        together; input and output neurons are never touched. The parameters are replaced by new
        ``nn.Parameter`` objects, so an optimizer built before the call no longer sees them:
        build a new one.

        Parameters
        ----------
        keep : sequence of LongTensor or array-like of int
            One entry per hidden layer: the indices of the neurons to keep, unique, at least one,
            in the order they will have.
        """
        indices = validated_keep(keep, self.layer_sizes, self.weights[0].device)
        for hidden, kept in enumerate(indices, start=1):
            self.positions[hidden] = sliced(self.positions[hidden], kept)
            self.weights[hidden - 1] = sliced(self.weights[hidden - 1], kept)
            self.biases[hidden - 1] = sliced(self.biases[hidden - 1], kept)
            self.weights[hidden] = sliced(self.weights[hidden], kept, 1)
        self.layer_sizes = kept_layer_sizes(self.layer_sizes, indices)

    # ------------------------------------------------------------------------- neuron growth
    @torch.no_grad()
    def grow_hidden(
        self,
        hidden_layer: int,
        n_new: int,
        positions=None,
        generator: torch.Generator | None = None,
    ) -> None:
        """Append new neurons to a hidden layer without changing the network's function, in place.

        Each new neuron gets a position (given, or near a random neuron of its layer), incoming
        raw weights drawn as at initialization (Glorot-uniform over the layer's new fan-in and
        fan-out, divided by the mean falloff of the new rows), a zero bias and zero outgoing raw
        weights. Its output is multiplied by zero, so the logits are unchanged; the gradient of its
        outgoing weights is not zero (it is the correlation of its activation with the next
        layer's error), so training makes it contribute. Like :meth:`select_hidden_neurons`,
        the touched parameters are replaced by new ``nn.Parameter`` objects: build a new optimizer.

        Parameters
        ----------
        hidden_layer : int
            Which hidden layer grows: 0 for the first (neuron layer ``hidden_layer + 1``).
        n_new : int
            How many neurons to add; they become the last ``n_new`` neurons of the layer.
        positions : array-like of shape (n_new, position_dim), optional
            Where to put them. By default each goes near a randomly chosen neuron of its layer,
            at a normal offset of the median nearest-neighbour distance in that layer.
        generator : torch.Generator, optional
            Source of randomness; by default a generator seeded from the operating system.
        """
        layer = growth_layer(hidden_layer, n_new, self.layer_sizes)
        generator = growth_generator(generator)
        spread = self._hidden_spreads()[layer - 1]
        new_positions = grown_positions(self.positions[layer], n_new, positions, spread, generator)
        incoming = self.weights[layer - 1]
        n_in, n_out = incoming.shape[1], incoming.shape[0] + n_new
        limit = math.sqrt(6.0 / (n_in + n_out))
        new_rows = torch.empty(n_new, n_in, dtype=torch.float64).uniform_(
            -limit, limit, generator=generator
        )
        if not self.falloff.is_constant:
            distances = squared_distances(
                new_positions.double(), self.positions[layer - 1].double()
            )
            mean_falloff = self.falloff(distances / self.length_scale**2).mean().item()
            new_rows.div_(max(mean_falloff, MIN_MEAN_FALLOFF))
        outgoing = self.weights[layer]
        self.positions[layer] = appended(self.positions[layer], new_positions)
        self.weights[layer - 1] = appended(incoming, new_rows)
        self.biases[layer - 1] = appended(self.biases[layer - 1], torch.zeros(n_new))
        self.weights[layer] = appended(outgoing, torch.zeros(outgoing.shape[0], n_new), dim=1)
        sizes = list(self.layer_sizes)
        sizes[layer] += n_new
        self.layer_sizes = tuple(sizes)

    @torch.no_grad()
    def neuron_gradient_norms(self) -> list[torch.Tensor]:
        """Norm of the gradient of every hidden neuron's parameters, after a backward pass.

        A hidden neuron's parameters are those :meth:`select_hidden_neurons` moves together:
        its position, incoming weight row, bias and outgoing weight column. Missing gradients
        (frozen positions, or no backward pass yet) count as zero. For a neuron added by
        :meth:`grow_hidden`, only the outgoing weights have a gradient at insertion: the norm
        is how fast training it would first lower the loss.

        Returns
        -------
        norms : list of Tensor of shape (n_k,)
            One tensor per hidden layer, in layer order.
        """
        norms = []
        for hidden in range(1, len(self.layer_sizes) - 1):
            outgoing = self.weights[hidden].grad
            gradients = [
                self.positions[hidden].grad,
                self.weights[hidden - 1].grad,
                self.biases[hidden - 1].grad,
                None if outgoing is None else outgoing.T,
            ]
            norms.append(squared_gradient_rows(gradients, self.biases[hidden - 1]).sqrt())
        return norms
