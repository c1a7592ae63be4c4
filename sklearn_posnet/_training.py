"""The skorch net every estimator drives, fed by slicing tensors, and its callbacks.

skorch's default ``Dataset`` indexes one sample at a time and collates; for data that already sits
in memory as one tensor that costs more than the training step itself. Here a batch is a slice
(or a gather of shuffled indices) of tensors that live on the training device for the whole fit.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog

__all__ = ["PosNet", "TensorBatches", "TensorDataset", "TrainingMonitor"]


class TensorDataset:
    """Input and target tensors of equal length (the target may be None)."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None = None):
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return len(self.X)


class TensorBatches:
    """Iterate over a :class:`TensorDataset` in mini-batches made by slicing.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    shuffle : bool, default=False
        Draw a fresh permutation every epoch from ``generator``.
    generator : torch.Generator, optional
        The only source of randomness: the global torch generator is never used.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n, size = len(X), self.batch_size
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(X.device)
            for start in range(0, n, size):
                index = order[start : start + size]
                # index_select, not X[index]: the same gather, several times faster on the CPU.
                yield X.index_select(0, index), (None if y is None else y.index_select(0, index))
        else:
            for start in range(0, n, size):
                yield X[start : start + size], (None if y is None else y[start : start + size])


class PosNet(NeuralNet):
    """A skorch ``NeuralNet`` over tensor batches whose training loss adds a penalty.

    Parameters
    ----------
    penalty : callable, optional
        ``penalty(batch_size)`` returns the keyword arguments of the module's
        ``forward_with_penalty(X, **kwargs)``, which returns the logits and a scalar penalty
        that is added to the training loss. With None, the module is called plainly.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, penalty=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.penalty = penalty

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def get_all_learnable_params(self):
        # Frozen positions (input and output neurons) stay out of the optimizer.
        for name, param in super().get_all_learnable_params():
            if param.requires_grad:
                yield name, param

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, which walks the whole module tree each time;
        # only walk it when the mode actually changes.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def train_step_single(self, batch, **fit_params):
        # skorch's, with the penalty formed in the same pass as the logits (see
        # forward_with_penalty): the batch is already a pair of tensors on the device.
        self._set_training(True)
        X, y = batch
        if self.penalty is None:
            y_pred = self.module_(X, **fit_params)
            loss = self.get_loss(y_pred, y, X=X, training=True)
        else:
            y_pred, penalty = self.module_.forward_with_penalty(X, **self.penalty(len(y)))
            loss = self.get_loss(y_pred, y, X=X, training=True) + penalty
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


class TrainingMonitor(Callback):
    """Keeps MLPClassifier's bookkeeping of a stochastic fit and decides when to stop.

    After every epoch it appends the training loss to ``loss_curve``, scores the held-out data when
    there is some, and counts the epochs without an improvement of more than ``tol``: of the
    validation accuracy when ``validation_data`` is given, else of the training loss. Training
    stops (``converged`` becomes True) once that count exceeds ``n_iter_no_change``. With
    validation data, the parameters of the best-scoring epoch are kept in ``best_state``.

    It also guards against divergence. The loss of every training batch is checked (skorch has
    already copied it to the host to record it, so this costs no extra device synchronization),
    and at the end of every epoch the parameters are checked once, so that an overflow in the
    epoch's last step is caught too. A copy of the parameters is kept at the start of training
    and after every finite epoch in ``last_finite_state``; the first non-finite value raises
    :class:`FloatingPointError`, and :meth:`restore_last_finite_state` puts that copy back.
    """

    def __init__(self, tol, n_iter_no_change, validation_data=None, stop=True):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_data = validation_data
        self.stop = stop

    def initialize(self):
        self.loss_curve = []
        self.validation_scores = []
        self.best_loss = np.inf
        self.best_validation_score = -np.inf
        self.best_state = None
        self.no_improvement_count = 0
        self.converged = False
        self.n_epochs = 0
        self.last_finite_state = None
        return self

    def _keep_finite_state(self, net):
        self.last_finite_state = {
            name: tensor.detach().clone() for name, tensor in net.module_.state_dict().items()
        }

    def restore_last_finite_state(self, net):
        """Load the last finite parameters into ``net`` and give it a fresh optimizer.

        The optimizer's state (e.g. Adam's moment estimates) went non-finite with the
        parameters, so it is rebuilt rather than restored.
        """
        net.module_.load_state_dict(self.last_finite_state)
        net.initialize_optimizer()

    def on_train_begin(self, net, **kwargs):
        if self.last_finite_state is None:
            self._keep_finite_state(net)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            # Plain indexing: History's tuple indexing costs more than the check itself.
            loss = net.history[-1]["batches"][-1]["train_loss"]
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss} in epoch {self.n_epochs + 1}, batch "
                    f"{len(net.history[-1, 'batches'])}"
                )

    def on_epoch_end(self, net, **kwargs):
        loss = float(net.history[-1, "train_loss"])
        parameters = [p.detach() for p in net.module_.parameters()]
        if not (
            np.isfinite(loss) and bool(torch.stack([p.isfinite().all() for p in parameters]).all())
        ):
            raise FloatingPointError(
                f"the parameters became non-finite in epoch {self.n_epochs + 1}"
            )
        self._keep_finite_state(net)
        self.n_epochs += 1
        self.loss_curve.append(loss)
        if self.validation_data is not None:
            X_val, y_val = self.validation_data
            with torch.no_grad():
                net.module_.eval()
                predicted = net.module_(X_val).argmax(dim=1)
            score = float((predicted == y_val).float().mean())
            net.history.record("valid_acc", score)
            self.validation_scores.append(score)
            improved = score >= self.best_validation_score + self.tol
            if score > self.best_validation_score:
                self.best_validation_score = score
                self.best_state = copy.deepcopy(net.module_.state_dict())
        else:
            improved = loss <= self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1
        if self.stop and self.no_improvement_count > self.n_iter_no_change:
            self.converged = True
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        self.validation_data = None  # the fitted estimator does not keep the data


class RemoveMeanPositionGradient(Callback):
    """After each backward pass, remove the common drift of all particle positions (Lange)."""

    def on_grad_computed(self, net, named_parameters, **kwargs):
        net.module_.remove_mean_position_gradient()
