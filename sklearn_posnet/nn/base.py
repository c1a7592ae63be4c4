"""What every network of this package is: a plain MLP whose weights are formed from its neurons.

:class:`PositionNetwork` owns the layer sizes, the hidden activation and the one forward pass;
its subclasses (:class:`~sklearn_posnet.nn.PositionalMLP`,
:class:`~sklearn_posnet.nn.ParticleNetwork`) say only how a layer forms its weights
(:meth:`PositionNetwork.effective_weight`, :meth:`PositionNetwork.layer_output`) and its penalty.
The rest of the package reads a network through two doors: :meth:`PositionNetwork.plain_layers`
(the equivalent plain layers, for inference and export) and
:meth:`PositionNetwork.neuron_snapshot` (where the neurons are, for recording, measuring and
drawing).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..falloff import Falloff, squared_distances
from ._neurons import (
    appended,
    check_criterion,
    growth_generator,
    growth_layer,
    kept_layer_sizes,
    mean_squared_connection,
    sliced,
    squared_gradient_rows,
    validated_keep,
)
from .activations import DERIVATIVES, get_activation

__all__ = ["NeuronSnapshot", "PositionNetwork", "parameter_entries", "propagate"]


def propagate(
    x: torch.Tensor,
    layer_output: Callable[[torch.Tensor, int], torch.Tensor],
    n_layers: int,
    activation: Callable[[torch.Tensor], torch.Tensor],
    *,
    depth: int | None = None,
    hidden: list | None = None,
) -> torch.Tensor:
    """The forward pass: ``layer_output(x, layer)`` layer after layer, ``activation`` between.

    The one loop over layers of the package: the modules' ``forward``, ``features``,
    ``forward_with_hidden`` and ``forward_with_penalty`` and the inference copy's plain layers
    all run through it.

    Parameters
    ----------
    x : Tensor of shape (N, n_0)
    layer_output : callable
        ``layer_output(x, layer)``: the pre-activations of weight layer ``layer`` for ``x``.
    n_layers : int
        Number of weight layers of the network.
    activation : callable
        The hidden activation, applied after every layer but the last.
    depth : int, optional
        Stop after this many layers (by default all of them): ``n_layers - 1`` gives the
        activations of the last hidden layer.
    hidden : list, optional
        Where to append the activations of every hidden layer reached.

    Returns
    -------
    Tensor
        The output of the last layer run (activated when it is a hidden layer).
    """
    last = n_layers - 1
    for layer in range(n_layers if depth is None else depth):
        x = layer_output(x, layer)
        if layer < last:
            x = activation(x)
            if hidden is not None:
                hidden.append(x)
    return x


@dataclass(frozen=True)
class NeuronSnapshot:
    """Where a network's neurons are: detached CPU copies, one tensor per neuron layer.

    Attributes
    ----------
    positions : list of Tensor of shape (n_l, dim)
        Inputs first, outputs last.
    dipoles : list of Tensor of shape (n_l, dim) or None
        The dipoles of a particle network; None for a network without dipoles.
    """

    positions: list[torch.Tensor]
    dipoles: list[torch.Tensor] | None = None


def parameter_entries(parameters: nn.ParameterList) -> list[nn.Parameter]:
    """The entries of ``parameters`` in index order, as ``list(parameters)`` gives them.

    ``list(parameters)`` looks every entry up by its index's name (an attribute lookup each: a
    few microseconds, several times per training step); this reads the list's own parameters,
    which it registers in index order under the names ``"0"``, ``"1"``, ... (replacing an entry
    keeps its place), duplicates included.
    """
    named = parameters.named_parameters(recurse=False, remove_duplicate=False)
    return [entry for _, entry in named]


def _accumulate(parameter: torch.Tensor, grad: torch.Tensor) -> None:
    """Add ``grad`` to ``parameter.grad`` as autograd does (the parameter's layout)."""
    if parameter.grad is None:
        parameter.grad = grad.contiguous()
    else:
        parameter.grad.add_(grad)


def _detached_copies(tensors) -> list[torch.Tensor]:
    return [t.detach().to("cpu", copy=True) for t in tensors]


class PositionNetwork(nn.Module):
    r"""Base class of the networks whose neurons have positions: one forward pass for all.

    A network of :math:`L` weight layers computes, for :math:`l = 0, \dots, L-1`,

    .. math::

        h_{l+1} = \sigma\!\left(h_l\, (W^{\mathrm{eff}}_l)^\top + b_l\right),

    with :math:`\sigma` the hidden activation (none after the last layer) and
    :math:`W^{\mathrm{eff}}_l` the effective weights the subclass forms from its neurons.

    A subclass sets ``positions`` (one tensor per neuron layer), ``biases`` (one per weight
    layer) and ``falloff``, and says only what is its own: :meth:`effective_weight` (and
    :meth:`layer_output` where a layer is better not formed as a matrix), a
    ``forward_with_penalty`` that passes its per-layer penalty to :meth:`penalized_forward`,
    and its hidden-neuron layout for pruning and growth (``_neuron_slots``, ``_raw_weights``,
    ``_new_neurons``). The rest of the package reads a network through :meth:`plain_layers`
    and :meth:`neuron_snapshot`.

    Parameters
    ----------
    layer_sizes : sequence of int
        Neurons per layer, inputs first and outputs last; at least two layers of at least one.
    activation : str
        The hidden activation, one of :data:`~sklearn_posnet.nn.activations.ACTIVATIONS`.

    Shape:
        - Input: :math:`(N, n_0)`
        - Output: :math:`(N, n_L)`, logits.
    """

    positions: nn.ParameterList
    biases: nn.ParameterList
    falloff: Falloff

    def __init__(self, layer_sizes: Sequence[int], activation: str):
        super().__init__()
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        if len(self.layer_sizes) < 2 or min(self.layer_sizes) < 1:
            raise ValueError(
                f"layer_sizes needs at least two layers of at least one neuron, got {layer_sizes}."
            )
        self.activation = activation
        self._activation = get_activation(activation)

    @property
    def hidden_activation(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The function of ``activation``, applied after every layer but the last."""
        return self._activation

    @property
    def n_layers(self) -> int:
        """Number of weight layers."""
        return len(self.biases)

    @property
    def n_parameters(self) -> int:
        """Number of trainable scalars (frozen parameters do not count)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def squared_distances(self, layer: int) -> torch.Tensor:
        """Squared distances, shape ``(n_out, n_in)``, between the neurons joined by ``layer``."""
        return squared_distances(self.positions[layer + 1], self.positions[layer])

    # ------------------------------------------------------------------- what a layer does
    def effective_weight(self, layer: int) -> torch.Tensor:
        """The weight matrix of ``layer`` as a plain MLP's, shape ``(n_out, n_in)``."""
        raise NotImplementedError

    def effective_weights(self) -> list[torch.Tensor]:
        """The effective weight matrix of every layer: the equivalent plain MLP's weights."""
        return [self.effective_weight(layer) for layer in range(self.n_layers)]

    def layer_output(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """Pre-activations ``x @ W_eff.T + b`` of ``layer``, shape ``(N, n_out)``."""
        return F.linear(x, self.effective_weight(layer), self.biases[layer])

    # ----------------------------------------------------------------- the forward passes
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return propagate(x, self.layer_output, self.n_layers, self._activation)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the last hidden layer (``x`` itself when there is none)."""
        return propagate(
            x, self.layer_output, self.n_layers, self._activation, depth=self.n_layers - 1
        )

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
        hidden: list[torch.Tensor] = []
        logits = propagate(x, self.layer_output, self.n_layers, self._activation, hidden=hidden)
        return logits, hidden

    def penalized_forward(
        self,
        x: torch.Tensor,
        penalized_layer_output: Callable[[torch.Tensor, int], tuple],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The forward pass with a penalty: what the subclasses' ``forward_with_penalty`` run.

        Parameters
        ----------
        x : Tensor of shape (N, n_0)
        penalized_layer_output : callable
            ``penalized_layer_output(x, layer)``: the pre-activations of ``layer`` and its share
            of the penalty (a scalar tensor, or None for none).

        Returns
        -------
        logits : Tensor of shape (N, n_L)
        penalty : Tensor
            The sum of the layers' shares, a scalar (zero when no layer has one).
        """
        penalty = x.new_zeros(())

        def layer_output(x, layer):
            nonlocal penalty
            x, share = penalized_layer_output(x, layer)
            if share is not None:  # added as each layer runs, in the order autograd records
                penalty = penalty + share
            return x

        logits = propagate(x, layer_output, self.n_layers, self._activation)
        return logits, penalty

    # ------------------------------------------------------------ the hand-derived backward
    def hand_derived_layers(self, **terms) -> list | None:
        """Every layer's :class:`~sklearn_posnet.nn._fused.LayerWeight` with the penalty
        ``terms`` of ``forward_with_penalty``, or None where a layer has none (the kernels do
        not serve it): then :meth:`backprop` leaves the step to autograd."""
        return None

    def backprop(
        self, x: torch.Tensor, loss_of: Callable[[torch.Tensor], torch.Tensor], **terms
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The training loss and its gradients, differentiated by hand, as MLPClassifier's
        ``_backprop``: the same values and gradients as ``forward_with_penalty(x, **terms)``
        followed by ``(loss_of(logits) + penalty).backward()``, without an autograd node per
        layer.

        The loss is differentiated over the logits, in closed form where ``loss_of`` gives its
        gradient, else by autograd; the layers' products and activations by their derivatives
        (:data:`~sklearn_posnet.nn.activations.DERIVATIVES`), and each layer's weights and
        penalty by its :meth:`hand_derived_layers`. The gradients are added to the parameters'
        ``grad``, as ``backward`` adds them.

        Parameters
        ----------
        x : Tensor of shape (N, n_0)
        loss_of : callable
            ``loss_of(logits)``: the scalar loss of the batch's logits, or the pair ``(loss,
            gradient of the loss with respect to the logits)``, as
            :meth:`~sklearn_posnet._outputs.Output.loss_and_gradient` returns it.
        **terms
            The penalty's coefficients, as ``forward_with_penalty`` takes them.

        Returns
        -------
        (loss, logits) or None
            The loss with the penalty (detached) and the logits; None where a layer has no
            hand-derived gradient, and nothing was computed.
        """
        layers = self.hand_derived_layers(**terms)
        if layers is None:
            return None
        inputs, pre_activations = [], []
        biases = parameter_entries(self.biases)

        def layer_output(h, layer):
            inputs.append(h)
            pre = F.linear(h, layers[layer].effective, biases[layer])
            pre_activations.append(pre)
            return pre

        with torch.no_grad():
            logits = propagate(x, layer_output, len(layers), self._activation)
        logits.requires_grad_()
        with torch.enable_grad():
            loss = loss_of(logits)
        if isinstance(loss, tuple):
            loss, grad = loss
        else:
            (grad,) = torch.autograd.grad(loss, logits)
        with torch.no_grad():
            for layer in reversed(range(len(layers))):
                bias = biases[layer]
                if bias.requires_grad:
                    _accumulate(bias, grad.sum(dim=0))
                h = inputs[layer]
                grad_effective = grad.T.mm(h)
                if layer:  # through the layer's weights and the activation before it
                    grad = DERIVATIVES[self.activation](
                        grad.mm(layers[layer].effective), pre_activations[layer - 1], h
                    )
                for parameter, parameter_grad in layers[layer].gradients(grad_effective):
                    _accumulate(parameter, parameter_grad)
            # Summed in the input's dtype, layer after layer, as penalized_forward sums them.
            penalty = x.new_zeros(())
            for layer in layers:
                penalty = penalty + layer.penalty
        return loss.detach() + penalty, logits.detach()

    # ------------------------------------------------------------------------------- doors
    @torch.no_grad()
    def plain_layers(
        self, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The equivalent plain MLP: ``(effective weight, bias)`` of every layer, detached.

        Parameters
        ----------
        dtype : torch.dtype, optional
            The weights are formed from the parameters converted to this dtype (not formed and
            then converted): ``torch.float64`` gives the float64 network that inference and
            export use. By default, the parameters' own.
        device : torch.device or str, optional
            Where to form them; by default where the parameters are.

        Returns
        -------
        list of (Tensor of shape (n_out, n_in), Tensor of shape (n_out,))
            Copies: they share no memory with the parameters.
        """
        module = self
        parameter = self.biases[0]
        moves = device is not None and torch.device(device) != parameter.device
        if moves or (dtype is not None and dtype != parameter.dtype):
            # Converting a copy leaves this module's parameters (and their optimizer) alone.
            module = copy.deepcopy(self).to(device=device, dtype=dtype)
        return [
            (weight.detach().clone(), bias.detach().clone())
            for weight, bias in zip(module.effective_weights(), module.biases, strict=True)
        ]

    def neuron_snapshot(self) -> NeuronSnapshot:
        """Where the neurons are now: detached CPU copies of the positions (and dipoles)."""
        return NeuronSnapshot(_detached_copies(self.positions))

    # ---------------------------------------------------------------- hidden-neuron layout
    def _neuron_slots(self, layer: int) -> list[tuple[nn.ParameterList, int, int]]:
        """The parameters a neuron of hidden neuron layer ``layer`` owns a slice of:
        ``(parameter list, index in it, dimension of the slice)``, its position first.
        Pruning cuts these slices together, growth appends to them, and the gradient norms
        are taken over them, in this order."""
        raise NotImplementedError

    def _raw_weights(self) -> list[torch.Tensor]:
        """Every layer's weights before the falloff, shape ``(n_out, n_in)``: what the
        "mean_squared_weight" criterion of :meth:`neuron_scores` scores."""
        raise NotImplementedError

    def _new_neurons(
        self, layer: int, n_new: int, positions, generator: torch.Generator
    ) -> list[torch.Tensor]:
        """The slices (in :meth:`_neuron_slots` order) of ``n_new`` neurons for hidden neuron
        layer ``layer`` that leave the network's function as it is (see :meth:`grow_hidden`)."""
        raise NotImplementedError

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
            "mean_squared_weight" scores the weights before the falloff: a positional network's
            raw weights (the paper's), a particle network's dipole alignments ``v_i . v_j`` (it
            has no raw weight matrix; the alignment is the analogue). "effective" scores the
            effective weights, falloff applied. They coincide with ``falloff="none"``.

        Returns
        -------
        scores : list of Tensor of shape (n_k,)
            One tensor per hidden layer, in layer order.
        """
        check_criterion(criterion)
        if criterion == "mean_squared_weight":
            return mean_squared_connection(self._raw_weights())
        return mean_squared_connection(self.effective_weights())

    @torch.no_grad()
    def grow_hidden(
        self,
        hidden_layer: int,
        n_new: int,
        positions=None,
        generator: torch.Generator | None = None,
    ) -> None:
        r"""Append new neurons to a hidden layer without changing the network's function, in place.

        Each new neuron goes to the given position, or near a random neuron of its layer. In a
        positional network it gets incoming raw weights drawn as at initialization
        (Glorot-uniform over the layer's new fan-in and fan-out, divided by the mean falloff of
        the new rows), a zero bias and zero outgoing raw weights: its output is multiplied by
        zero, so the logits are unchanged, and the gradient of its outgoing weights (the
        correlation of its activation with the next layer's error) is not zero, so training
        makes it contribute. In a particle network it gets a zero dipole, so every weight
        :math:`(v_i \cdot v_j) f(d_{ij})` to and from it is zero, and a bias drawn from
        :math:`U(0, \mathrm{limit}]` (the positive half of the initialization's Glorot range):
        its activation is then a non-zero constant, so the gradient of its dipole,
        :math:`a \sum_m \frac{\partial L}{\partial z_m} f(d_{m}) v_m` over the next layer,
        is not zero (with a zero bias a ReLU particle would stay dead); once the dipole leaves
        zero, the incoming weights, the position and the activation's dependence on the input
        follow. Like :meth:`select_hidden_neurons`, the touched parameters are replaced by new
        ``nn.Parameter`` objects: build a new optimizer.

        Parameters
        ----------
        hidden_layer : int
            Which hidden layer grows: 0 for the first (neuron layer ``hidden_layer + 1``).
        n_new : int
            How many neurons to add; they become the last ``n_new`` neurons of the layer.
        positions : array-like of shape (n_new, dim), optional
            Where to put them. By default each goes near a randomly chosen neuron of its layer,
            at a normal offset of the median nearest-neighbour distance in that layer.
        generator : torch.Generator, optional
            Source of randomness; by default a generator seeded from the operating system.
        """
        layer = growth_layer(hidden_layer, n_new, self.layer_sizes)
        generator = growth_generator(generator)
        self._append_neurons(layer, self._new_neurons(layer, n_new, positions, generator))

    @torch.no_grad()
    def select_hidden_neurons(self, keep: Sequence[torch.Tensor]) -> None:
        """Keep only the given hidden neurons, removing the others from every tensor, in place.

        A hidden neuron's slices go together: its position and bias, and its incoming weight
        row and outgoing weight column (a positional network) or its dipole (a particle
        network); input and output neurons are never touched. The parameters are replaced by
        new ``nn.Parameter`` objects, so an optimizer built before the call no longer sees
        them: build a new one.

        Parameters
        ----------
        keep : sequence of LongTensor or array-like of int
            One entry per hidden layer: the indices of the neurons to keep, unique, at least one,
            in the order they will have.
        """
        indices = validated_keep(keep, self.layer_sizes, self.biases[0].device)
        for hidden, kept in enumerate(indices, start=1):
            for parameters, index, dim in self._neuron_slots(hidden):
                parameters[index] = sliced(parameters[index], kept, dim)
        self.layer_sizes = kept_layer_sizes(self.layer_sizes, indices)

    def _append_neurons(self, layer: int, new: Sequence[torch.Tensor]) -> None:
        """Append the slices ``new`` (one per :meth:`_neuron_slots` entry, in its order) of new
        neurons to hidden neuron layer ``layer``, as new parameters."""
        slots = self._neuron_slots(layer)
        for (parameters, index, dim), values in zip(slots, new, strict=True):
            parameters[index] = appended(parameters[index], values, dim=dim)
        sizes = list(self.layer_sizes)
        sizes[layer] += len(new[0])
        self.layer_sizes = tuple(sizes)

    @torch.no_grad()
    def neuron_gradient_norms(self) -> list[torch.Tensor]:
        """Norm of the gradient of every hidden neuron's parameters, after a backward pass.

        A hidden neuron's parameters are those :meth:`select_hidden_neurons` moves together.
        Missing gradients (frozen positions, or no backward pass yet) count as zero. For a
        neuron added by ``grow_hidden``, only its outgoing weights (a positional network) or
        its dipole (a particle network) have a gradient at insertion: the norm is how fast
        training it would first lower the loss.

        Returns
        -------
        norms : list of Tensor of shape (n_k,)
            One tensor per hidden layer, in layer order.
        """
        norms = []
        for hidden in range(1, len(self.layer_sizes) - 1):
            gradients = []
            for parameters, index, dim in self._neuron_slots(hidden):
                gradient = parameters[index].grad
                gradients.append(gradient.T if gradient is not None and dim == 1 else gradient)
            norms.append(squared_gradient_rows(gradients, self.biases[hidden - 1]).sqrt())
        return norms
