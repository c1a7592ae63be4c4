"""Changing the size of a fitted network: pruning's door, growth, and the one door both use.

:meth:`~Resizing.select_hidden_neurons` is the door :class:`~sklearn_posnet.NeuronPruner` goes
through; :meth:`~Resizing.grow_hidden_neurons` adds neurons, chosen by the loss gradient when
given data (:func:`~sklearn_posnet._sensitivity.neuron_gradient_norms`). Both change the module
through :meth:`~Resizing._resize_hidden_layers`, which keeps everything else in step: the
``hidden_layer_sizes`` parameter, the optimizer, the position recorder. The fitted attributes
read the module, so they follow by themselves; the layer sizes have one owner, the module.

After pruning or growth, ``get_params()["hidden_layer_sizes"]`` is the network's new sizes: a
``clone`` is an unfitted estimator of the pruned (or grown) architecture, and a warm-started
``fit`` continues the resized network.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._concurrency import exclusive
from ._network import as_tensor, torch_generator
from ._recording import RECORDER_NAME
from ._sensitivity import neuron_gradient_norms

__all__ = ["Resizing"]


class Resizing:
    """Shrinking and growing the hidden layers of a fitted estimator's network.

    A mixin of :class:`~sklearn_posnet._base.BasePositionalNetwork`.
    """

    @exclusive
    def select_hidden_neurons(self, keep) -> Resizing:
        """Shrink the fitted network in place to the hidden neurons in ``keep``.

        The door :class:`~sklearn_posnet.NeuronPruner` goes through: the module drops the other
        neurons' weights, biases and positions; ``hidden_layer_sizes`` becomes the new sizes
        (so ``get_params()`` and :func:`~sklearn.base.clone` give the pruned architecture); the
        optimizer is rebuilt on the new parameter tensors (the old one would hold the removed
        tensors and silently train nothing); the recorded positions keep the kept neurons'
        trajectories.

        Parameters
        ----------
        keep : sequence of array-like of int
            For every hidden layer, the indices of the neurons to keep (at least one).

        Returns
        -------
        self : object
            The estimator, with fewer hidden neurons.
        """
        check_is_fitted(self)
        keep = [np.asarray(k, dtype=np.int64).reshape(-1) for k in keep]

        def select(module):
            device = next(module.parameters()).device
            module.select_hidden_neurons([torch.as_tensor(k, device=device) for k in keep])
            return keep

        return self._resize_hidden_layers(select)

    @exclusive
    def grow_hidden_neurons(
        self,
        hidden_layer: int,
        n_new: int,
        *,
        positions=None,
        X=None,
        y=None,
        n_candidates: int = 10,
        random_state=None,
    ):
        """Add hidden neurons to the fitted network, leaving its predictions unchanged.

        The module appends the new neurons (see ``grow_hidden`` of
        :class:`~sklearn_posnet.nn.PositionalMLP` and :class:`~sklearn_posnet.nn.ParticleNetwork`):
        their outgoing weights (or dipoles) are zero, so ``predict_proba`` returns the same
        probabilities, and further training (``partial_fit``, or ``fit`` with
        ``warm_start=True``) makes them contribute. ``hidden_layer_sizes`` becomes the new sizes
        (so ``get_params()`` and :func:`~sklearn.base.clone` give the grown architecture), the
        optimizer starts afresh on the new parameter tensors (its moment estimates are
        dropped, as after pruning), and the frames of ``positions_history_`` recorded so far
        show the new neurons at their birth positions.

        With ``X`` and ``y``, the loss gradient chooses where: ``n_candidates * n_new``
        candidates are drawn near existing neurons, and the ``n_new`` whose parameters have the
        largest gradient of the loss on ``(X, y)`` (the module's ``neuron_gradient_norms``: the
        candidates that training would first use most) are kept.

        Parameters
        ----------
        hidden_layer : int
            Which hidden layer grows: 0 for the first.
        n_new : int
            How many neurons to add; they become the last ``n_new`` neurons of that layer.
        positions : array-like of shape (n_new, dim), default=None
            Where to put them; by default each goes near a randomly chosen neuron of its layer.
            Not with ``X`` and ``y``.
        X : array-like of shape (n_samples, n_features), default=None
            Data on which the loss gradient picks the candidates (with ``y``); in one batch.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Its targets.
        n_candidates : int, default=10
            Candidates drawn per new neuron when ``X`` and ``y`` are given.
        random_state : int, RandomState instance or None, default=None
            Seeds the new neurons' positions and weights; None draws from the estimator's own
            random generator (so a fit with a fixed ``random_state`` grows reproducibly).

        Returns
        -------
        self : object
            The grown estimator.
        """
        check_is_fitted(self)
        guided = X is not None or y is not None
        if guided:
            if X is None or y is None:
                raise ValueError("X and y go together: give both to choose by the gradient.")
            if positions is not None:
                raise ValueError("Give positions, or X and y to choose them, not both.")
            if not isinstance(n_candidates, Integral) or isinstance(n_candidates, bool):
                raise ValueError(f"n_candidates must be an int >= 1, got {n_candidates!r}.")
            if n_candidates < 1:
                raise ValueError(f"n_candidates must be an int >= 1, got {n_candidates!r}.")
            X, y = self._validate_training_data(X, y, new_network=False, incremental=True)
        generator = self._generator if random_state is None else torch_generator(random_state)
        n_drawn = n_new * n_candidates if guided else n_new

        def grow(module):
            module.grow_hidden(hidden_layer, n_drawn, positions=positions, generator=generator)
            first_new = module.layer_sizes[int(hidden_layer) + 1] - n_drawn
            chosen = torch.arange(n_drawn)
            if guided:
                device = next(module.parameters()).device
                X_tensor = as_tensor(X, torch.float32, device)
                target = self._target_tensor(y, device)
                norms = neuron_gradient_norms(self.net_, X_tensor, target)
                norms = norms[hidden_layer][first_new:].cpu()
                chosen = torch.argsort(norms, descending=True, stable=True)[:n_new].sort().values
                keep = [torch.arange(size) for size in module.layer_sizes[1:-1]]
                keep[hidden_layer] = torch.cat([torch.arange(first_new), first_new + chosen])
                module.select_hidden_neurons(keep)
            sources = [np.arange(size) for size in module.layer_sizes[1:-1]]
            sources[hidden_layer] = np.concatenate([np.arange(first_new), np.full(len(chosen), -1)])
            return sources

        return self._resize_hidden_layers(grow)

    def _resize_hidden_layers(self, change: Callable) -> Resizing:
        """The one door that changes the size of the fitted network.

        ``change(module)`` edits the module's hidden layers in place (with its
        ``select_hidden_neurons`` and ``grow_hidden``) and returns, for every hidden layer, where
        each of its neurons now comes from: its index before the change, or -1 for a new neuron.
        Then ``hidden_layer_sizes`` becomes the module's sizes, the optimizer starts afresh on
        the new parameter tensors, and the recorded frames follow the neurons (see
        :meth:`~sklearn_posnet._recording.PositionRecorder.follow_hidden_neurons`). The fitted
        attributes and the configuration the network was built with read the sizes from the
        module, which owns them.
        """
        module = self.net_.module_
        sources = change(module)
        self.hidden_layer_sizes = tuple(int(n) for n in module.layer_sizes[1:-1])
        self.net_.initialize_optimizer()
        recorder = self.net_.callback(RECORDER_NAME)
        if recorder is not None:
            recorder.follow_hidden_neurons(sources, module)
        return self
