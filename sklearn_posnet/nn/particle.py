"""Particle networks (A. W. Lange): weights implied by particles' positions and dipoles."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..falloff import get_falloff
from ._fused import entry_dot, particle_layer_weight, particle_weight
from ._neurons import glorot_limit, grown_positions
from ._tiled import default_tile_rows, tiled_particle_linear, tiled_weight_square_sum
from .base import NeuronSnapshot, PositionNetwork, parameter_entries

__all__ = ["ParticleNetwork"]

#: Standard deviation of the initial position and dipole components (Lange's N(0, 0.5)).
INIT_SCALE = 0.5

#: With ``weight_mode="auto"``, layers with at least this many connections (64 MiB of float32
#: weights) are computed in tiles instead of materialized.
TILED_ABOVE_CONNECTIONS = 1 << 24


class ParticleNetwork(PositionNetwork):
    r"""A network with no weight matrices: every neuron is a particle with a position and a dipole.

    Neuron :math:`i` of every layer is a particle with position :math:`r_i \in \mathbb{R}^n` and
    dipole :math:`v_i \in \mathbb{R}^n`. The weight joining neuron :math:`j` of one layer to
    neuron :math:`i` of the next is implied:

    .. math::

        w_{ij} = (v_i \cdot v_j)\, f(\lVert r_i - r_j \rVert), \qquad f(d) = e^{-d^2},
        \qquad y = x\, W^\top + b.

    A layer's particles serve both weight layers they touch, so the number of parameters grows
    with the number of neurons, not connections: :math:`2n \sum_l N_l + \sum_{l>0} N_l`.

    Parameters
    ----------
    layer_sizes : sequence of int
        Particles per layer, inputs first and outputs last, e.g. ``(784, 128, 10)``.
    particle_dim : int, default=2
        Dimension ``n`` of positions and dipoles (the paper uses 2 and 3).
    falloff : str or callable, default="gaussian"
        See :mod:`sklearn_posnet.falloff`.
    activation : str, default="relu"
        Hidden activation: "identity", "logistic", "tanh", "relu" or "swish".
    generator : torch.Generator, optional
        Source of randomness for :meth:`reset_parameters`; the global generator is never used.
    weight_mode : {"auto", "materialized", "tiled"}, default="auto"
        "materialized" forms each layer's ``(N_out, N_in)`` weight matrix per forward pass;
        "tiled" forms it ``tile_size`` output rows at a time and again in the backward pass,
        so that memory grows with the number of neurons, not connections (same values and
        gradients, roughly 1.2x the time); "auto" tiles the layers of at least
        :data:`TILED_ABOVE_CONNECTIONS` connections.
    tile_size : int, optional
        Output neurons per tile in tiled layers; by default about 4 Mi weights per tile.

    Attributes
    ----------
    positions, dipoles : nn.ParameterList of Tensor (N_l, n)
        One tensor per layer of particles, the input layer included.
    biases : nn.ParameterList of Tensor (N_l,)
        One per non-input layer.

    Shape:
        - Input: :math:`(B, N_0)`
        - Output: :math:`(B, N_L)`, logits.

    Examples
    --------
    >>> import torch
    >>> from sklearn_posnet.nn import ParticleNetwork
    >>> ParticleNetwork([784, 128, 10], particle_dim=2).n_parameters
    3826
    >>> ParticleNetwork([784, 256, 128, 10], particle_dim=3).n_parameters
    7462
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        particle_dim: int = 2,
        falloff="gaussian",
        activation: str = "relu",
        generator: torch.Generator | None = None,
        weight_mode: str = "auto",
        tile_size: int | None = None,
    ):
        if weight_mode not in ("auto", "materialized", "tiled"):
            raise ValueError(
                f"weight_mode must be 'auto', 'materialized' or 'tiled', got {weight_mode!r}."
            )
        if tile_size is not None and int(tile_size) < 1:
            raise ValueError(f"tile_size must be a positive integer or None, got {tile_size}.")
        super().__init__(layer_sizes, activation)
        self.weight_mode = weight_mode
        self.tile_size = None if tile_size is None else int(tile_size)
        self.particle_dim = int(particle_dim)
        self.falloff = get_falloff(falloff)
        self.positions = nn.ParameterList(
            nn.Parameter(torch.empty(n, self.particle_dim)) for n in self.layer_sizes
        )
        self.dipoles = nn.ParameterList(
            nn.Parameter(torch.empty(n, self.particle_dim)) for n in self.layer_sizes
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(n)) for n in self.layer_sizes[1:])
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Lange's initialization: positions and dipoles N(0, 0.5) per component, dipoles then
        scaled to unit length, biases Glorot-uniform over the layer's fan-in and fan-out."""
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        for position, dipole in zip(self.positions, self.dipoles):
            position.normal_(0.0, INIT_SCALE, generator=generator)
            dipole.normal_(0.0, INIT_SCALE, generator=generator)
            dipole.div_(dipole.norm(dim=1, keepdim=True).clamp_min(1e-12))
        for layer, bias in enumerate(self.biases):
            n_in, n_out = self.layer_sizes[layer], self.layer_sizes[layer + 1]
            limit = glorot_limit(n_in, n_out)
            bias.uniform_(-limit, limit, generator=generator)

    def effective_weight(self, layer: int) -> torch.Tensor:
        """The implied weight matrix of ``layer``, shape ``(n_out, n_in)``.

        Named falloffs go through one fused autograd function, with the same values and
        gradients as ``alignment * falloff(squared_distances(layer))``.
        """
        return particle_weight(*self._particles(layer), self.falloff)

    def _particles(self, layer: int) -> tuple[torch.Tensor, ...]:
        """The tensors ``layer`` is formed from: positions and dipoles out, then in."""
        out, into = layer + 1, layer
        return self.positions[out], self.dipoles[out], self.positions[into], self.dipoles[into]

    def is_tiled(self, layer: int) -> bool:
        """Whether ``layer`` forms its weights in tiles (see ``weight_mode``)."""
        if self.weight_mode == "auto":
            n_in, n_out = self.layer_sizes[layer], self.layer_sizes[layer + 1]
            return n_in * n_out >= TILED_ABOVE_CONNECTIONS
        return self.weight_mode == "tiled"

    def _tile_rows(self, layer: int) -> int:
        return self.tile_size or default_tile_rows(self.positions[layer].shape[0])

    def layer_output(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """Pre-activations ``x @ W.T + b`` of ``layer``, materialized or tiled."""
        if self.is_tiled(layer):
            return tiled_particle_linear(
                x, *self._particles(layer), self.biases[layer], self.falloff, self._tile_rows(layer)
            )
        return super().layer_output(x, layer)

    def forward_with_penalty(
        self, x: torch.Tensor, *, l2: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits and the training penalty ``l2 * weight_l2()``, computed together.

        A materialized layer's implied weights serve both the layer and its penalty, instead of
        being formed twice.

        Parameters
        ----------
        x : Tensor of shape (B, N_0)
        l2 : float, default=0.0
            Weight of :meth:`weight_l2`, the sum of the squared implied weights.

        Returns
        -------
        logits : Tensor of shape (B, N_L)
        penalty : Tensor
            A scalar (zero without ``l2``).
        """

        def penalized_layer_output(x, layer):
            if self.is_tiled(layer):
                weight, x_next = None, self.layer_output(x, layer)
            else:
                weight = self.effective_weight(layer)
                x_next = F.linear(x, weight, self.biases[layer])
            return x_next, (l2 * self._square_sum(layer, weight) if l2 else None)

        return self.penalized_forward(x, penalized_layer_output)

    def hand_derived_layers(self, *, l2: float = 0.0) -> list | None:
        """Each layer's implied weight and penalty of :meth:`forward_with_penalty`, with their
        gradients, where every layer is materialized and the kernels serve."""
        if any(self.is_tiled(layer) for layer in range(self.n_layers)):
            return None
        positions, dipoles = parameter_entries(self.positions), parameter_entries(self.dipoles)
        layers = []
        for layer in range(self.n_layers):
            out, into = layer + 1, layer
            layer_weight = particle_layer_weight(
                positions[out], dipoles[out], positions[into], dipoles[into], self.falloff, l2=l2
            )
            if layer_weight is None:
                return None
            layers.append(layer_weight)
        return layers

    def _square_sum(self, layer: int, weight: torch.Tensor | None = None) -> torch.Tensor:
        """``sum(W**2)`` of ``layer``: tile by tile when tiled, else of ``weight`` (formed here
        when not given)."""
        if self.is_tiled(layer):
            return tiled_weight_square_sum(
                *self._particles(layer), self.falloff, self._tile_rows(layer)
            )
        weight = self.effective_weight(layer) if weight is None else weight
        return entry_dot(weight, weight)

    def weight_l2(self) -> torch.Tensor:
        """Sum of the squared implied weights of all layers (biases excluded); tiled layers
        compute it tile by tile."""
        return sum(self._square_sum(layer) for layer in range(self.n_layers))

    def neuron_snapshot(self) -> NeuronSnapshot:
        """Where the particles are now: detached CPU copies of the positions and dipoles."""
        return NeuronSnapshot(
            super().neuron_snapshot().positions,
            [d.detach().to("cpu", copy=True) for d in self.dipoles],
        )

    @torch.no_grad()
    def remove_mean_position_gradient(self) -> None:
        """Subtract the mean position gradient over all particles from every particle's gradient.

        The outputs are invariant under a common translation of all positions, so this component
        of the gradient only drifts the whole network through space; the paper removes it.
        """
        grads = [p.grad for p in parameter_entries(self.positions) if p.grad is not None]
        if not grads:
            return
        mean = torch.cat(grads).mean(dim=0)
        for grad in grads:
            grad.sub_(mean)

    def extra_repr(self) -> str:
        sizes = "-".join(str(n) for n in self.layer_sizes)
        return (
            f"layer_sizes={sizes}, particle_dim={self.particle_dim}, "
            f"falloff={self.falloff.name!r}, activation={self.activation!r}, "
            f"weight_mode={self.weight_mode!r}"
        )

    # ------------------------------------------------------------ hidden-neuron layout
    def _raw_weights(self) -> list[torch.Tensor]:
        """The dipole alignments ``v_i . v_j``: the implied weights before the falloff."""
        return [self.dipoles[layer + 1] @ self.dipoles[layer].T for layer in range(self.n_layers)]

    def _neuron_slots(self, layer: int) -> list[tuple[nn.ParameterList, int, int]]:
        """A hidden particle's position, dipole and bias."""
        return [(self.positions, layer, 0), (self.dipoles, layer, 0), (self.biases, layer - 1, 0)]

    def _new_neurons(self, layer, n_new, positions, generator) -> list[torch.Tensor]:
        """New particles' positions, zero dipoles and positive biases (see
        :meth:`grow_hidden`)."""
        new_positions = grown_positions(
            self.positions[layer], n_new, positions, INIT_SCALE, generator
        )
        n_in, n_out = self.layer_sizes[layer - 1], self.layer_sizes[layer] + n_new
        limit = glorot_limit(n_in, n_out)
        # 1 - U[0, 1) lies in (0, 1]: the bias is never exactly zero.
        new_biases = (1.0 - torch.rand(n_new, generator=generator, dtype=torch.float64)) * limit
        return [new_positions, torch.zeros(n_new, self.particle_dim), new_biases]
