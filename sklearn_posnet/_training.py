"""The skorch net every estimator drives, its data pipeline, and one callback per training concern.

skorch's default ``Dataset`` indexes one sample at a time and collates; for data that already sits
in memory as one tensor that costs more than the training step itself. Here a batch is a slice
(or a gather of shuffled indices) of tensors that live on the training device for the whole fit.

:class:`PosNet` runs the batches of each epoch in a loop of its own and checks the epoch's loss
and parameters; the training concerns are skorch callbacks, each owning its own state:

- :class:`DivergenceGuard`: the parameters at the start of every epoch, put back when the net
  finds a non-finite loss, parameter or validation prediction;
- :class:`TrainingCurves`: the loss curve over all calls and the validation scores of this call;
- :class:`PlateauStopping`: MLPClassifier's ``tol``/``n_iter_no_change`` stopping rule;
- :class:`KeepBestEpoch`: with early stopping, the parameters of the best-scoring epoch;
- :class:`~sklearn_posnet._recording.PositionRecorder`: where the neurons were during training.

The estimators read their fitted attributes from these callbacks; nothing is copied back and
forth.
"""

from __future__ import annotations

import contextlib
import copy
import re
import signal
import sys
import threading

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PrintLog
from skorch.callbacks.scoring import ScoringBase
from skorch.utils import TeeGenerator

from ._saved import Field, SavedFields, floats, optional
from .nn._fused import entry_dot
from .nn.base import parameter_entries

__all__ = [
    "DivergenceGuard",
    "EpochLog",
    "HoldOutSplit",
    "InverseScaling",
    "KeepBestEpoch",
    "LbfgsStopping",
    "Penalty",
    "PlateauStopping",
    "PosNet",
    "RemoveMeanPositionGradient",
    "StopTraining",
    "TensorBatches",
    "TensorDataset",
    "TrainingCurves",
    "TrainingDiverged",
]


class StopTraining(Exception):
    """Raised by a callback to end training quietly after the current epoch.

    skorch's own convention is to raise ``KeyboardInterrupt``, which cannot be told apart from a
    user's Ctrl-C; the package's callbacks raise this instead, and :meth:`PosNet.train` lets a
    real ``KeyboardInterrupt`` through.
    """


class TrainingDiverged(FloatingPointError):
    """The loss or the parameters became non-finite; the last finite epoch was put back.

    Attributes
    ----------
    epochs_kept : int
        Epochs of this call whose parameters were kept (0: those at the start of the call).
    """

    def __init__(self, reason: str, epochs_kept: int):
        super().__init__(reason)
        self.epochs_kept = epochs_kept


# ------------------------------------------------------------------------------------ data
class TensorDataset(torch.utils.data.Dataset):
    """Input and target tensors of equal length (the target may be None), and optionally
    sample weights: pass ``y`` as a pair ``(targets, weights)``.

    Batches then carry the pair as their target, so that the loss (``PosNet.get_loss``) can
    weigh each sample.
    """

    def __init__(self, X: torch.Tensor, y=None):
        self.X = X
        self.y, self.w = y if isinstance(y, tuple) else (y, None)

    def __len__(self) -> int:
        return len(self.X)

    def target(self, rows):
        """The target of ``rows`` (a slice or an index tensor): targets, or (targets, weights)."""
        if self.y is None:
            return None
        sliced = isinstance(rows, slice)
        y = self.y[rows] if sliced else self.y.index_select(0, rows)
        if self.w is None:
            return y
        return y, (self.w[rows] if sliced else self.w.index_select(0, rows))

    def __getitem__(self, index):
        if self.y is None:
            return self.X[index], None
        return self.X[index], (self.y[index] if self.w is None else (self.y[index], self.w[index]))


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
        dataset = self.dataset
        X = dataset.X
        n, size = len(X), self.batch_size
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(X.device)
            for start in range(0, n, size):
                index = order[start : start + size]
                # index_select, not X[index]: the same gather, several times faster on the CPU.
                yield X.index_select(0, index), dataset.target(index)
        else:
            for start in range(0, n, size):
                rows = slice(start, start + size)
                yield X[rows], dataset.target(rows)


class HoldOutSplit:
    """skorch ``train_split``: hold out a ``fraction`` of a :class:`TensorDataset`, stratified by
    class for single-label classification.

    skorch's ``ValidSplit`` returns ``Subset`` objects that index one sample at a time; this
    returns two :class:`TensorDataset` so that both keep being sliced in batches.

    Parameters
    ----------
    fraction : float
        Share of the rows held out.
    seed : int
        Seeds the split (the estimator draws it from its own generator).
    stratify : bool, default=True
        Keep the class proportions (the targets must be class indices).
    """

    def __init__(self, fraction: float, seed: int, stratify: bool = True):
        self.fraction = fraction
        self.seed = seed
        self.stratify = stratify

    def __call__(self, dataset, y=None, **fit_params):
        labels = dataset.y.cpu().numpy()
        train, valid = train_test_split(
            np.arange(len(labels)),
            test_size=self.fraction,
            stratify=labels if self.stratify else None,
            random_state=self.seed,
        )
        if len(valid) < 2:
            # As MLPClassifier: a score of one sample (an R^2 above all) means nothing.
            raise ValueError(
                f"The validation set is too small ({len(valid)} sample of {len(labels)}). "
                "Increase validation_fraction or the size of your dataset."
            )
        train, valid = (torch.as_tensor(rows, device=dataset.X.device) for rows in (train, valid))
        return tuple(
            TensorDataset(dataset.X.index_select(0, rows), dataset.target(rows))
            for rows in (train, valid)
        )


# ------------------------------------------------------------------------------------ net
def _overrides(callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


def sees_training_batches(callback) -> bool:
    """Whether ``callback`` must be called on every training batch (``on_batch_begin`` and
    ``on_batch_end``, with skorch's per-batch history records).

    A callback says so through a ``needs_training_batches`` attribute where it has one;
    otherwise it does when it overrides either method, except skorch's scoring callbacks of
    validation data, which see the validation batches only. While no callback sees them, the
    net runs its lean loop over the training batches (see :meth:`PosNet.run_single_epoch`).
    """
    declared = getattr(callback, "needs_training_batches", None)
    if declared is not None:
        return bool(declared)
    if isinstance(callback, ScoringBase) and not callback.on_train:
        return False
    return _overrides(callback, "on_batch_begin") or _overrides(callback, "on_batch_end")


def sees_gradients(callback) -> bool:
    """Whether ``callback`` overrides ``on_grad_computed``, which the net calls after every
    backward pass, between it and the optimizer's step."""
    return _overrides(callback, "on_grad_computed")


class Penalty:
    """The regularization of every training batch, divided, as MLPClassifier's, by the batch's
    total sample weight (its length without weights), so that the last, shorter batch and
    weighted samples are penalized exactly.

    Parameters
    ----------
    alpha : float, default=0.0
        MLPClassifier's L2 penalty, ``0.5 * alpha * sum(W**2) / total_weight``.
    distance_alpha : float, default=0.0
        Weight of the module's ``distance_penalty()`` (positional networks).
    closed_form : bool, default=False
        Whether ``W`` are the module's raw ``weights`` and its layers plain (positional
        networks with the constant falloff): the L2 gradient ``alpha * W / total_weight`` is
        then added to their gradients after the backward pass (:meth:`add_closed_form`) and
        the value computed without grad, instead of going through autograd. Otherwise the
        module's ``forward_with_penalty`` (or its hand-derived step) forms the whole penalty
        with the layers' weights: the positional fused layers with the effective weight, in
        the same pass; a particle network over its implied weights.
    """

    def __init__(self, alpha: float = 0.0, distance_alpha: float = 0.0, closed_form=False):
        self.alpha = alpha
        self.distance_alpha = distance_alpha
        self.closed_form = closed_form

    def graph_terms(self, total_weight: float) -> dict:
        """Keyword arguments of the module's ``forward_with_penalty``: the terms autograd
        differentiates (empty when there are none)."""
        terms = {}
        if self.alpha and not self.closed_form:
            terms["l2"] = 0.5 * self.alpha / total_weight
        if self.distance_alpha:
            terms["distance"] = self.distance_alpha
        return terms

    @torch.no_grad()
    def add_closed_form(self, module, total_weight: float):
        """Add the closed-form terms' gradients to the module's gradients; return their value
        (a scalar tensor, or 0.0 when there are none)."""
        if not (self.alpha and self.closed_form):
            return 0.0
        l2 = 0.5 * self.alpha / total_weight
        value = 0.0
        for weight in parameter_entries(module.weights):
            value = value + entry_dot(weight, weight)  # whatever the number of threads
            if weight.grad is not None:
                weight.grad.add_(weight, alpha=2.0 * l2)
        return value * l2


class PosNet(NeuralNet):
    """A skorch ``NeuralNet`` over tensor batches whose training loss adds a penalty.

    skorch keeps what it is good at: the epochs, their callbacks and history, ``callbacks=``,
    learning-rate schedulers, checkpoints. The batches of a training epoch run in a loop of
    the net's own (:meth:`run_single_epoch`): one forward pass with its penalty, one backward
    pass (by hand where the module can, see
    :meth:`~sklearn_posnet.nn.PositionNetwork.backprop`), the callbacks that adjust gradients
    (``on_grad_computed``), one optimizer step. It
    records one ``train_loss`` per epoch, the batch-size-weighted mean of the batch losses, and
    stops with :class:`TrainingDiverged` when that loss or a parameter is non-finite, before
    any validation or scoring.

    The door for callbacks that must see every training batch: one that overrides
    ``on_batch_begin`` or ``on_batch_end`` (or sets ``needs_training_batches = True``, see
    :func:`sees_training_batches`) makes the net call every callback's batch methods and record
    skorch's per-batch history (``history[-1]["batches"]``), as skorch's own loop does.

    Parameters
    ----------
    penalty : Penalty, optional
        The regularization added to every batch's loss: its autograd terms go to the module's
        ``forward_with_penalty(X, **terms)``, which returns the logits and a scalar penalty,
        and its closed-form terms are added after the backward pass. With None, the module is
        called plainly.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, penalty=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.penalty = penalty

    def get_default_callbacks(self):
        # skorch's defaults but PrintLog, which the estimator adds as EpochLog when verbose, and
        # PassthroughScoring("train_loss"): run_single_epoch records the epoch's loss itself.
        return [("epoch_timer", EpochTimer())]

    def get_all_learnable_params(self):
        # Frozen positions (input and output neurons) stay out of the optimizer.
        for name, param in super().get_all_learnable_params():
            if param.requires_grad:
                yield name, param

    def initialize_history(self):
        # With the history, the lowest training loss in it (PrintLog's "best" mark), kept here
        # rather than searched for in the history at every epoch.
        super().initialize_history()
        self.best_train_loss_ = np.inf
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        callbacks = [callback for _, callback in self.callbacks_]
        self.batch_callbacks_ = [cb for cb in callbacks if sees_training_batches(cb)]
        self.gradient_callbacks_ = [cb for cb in callbacks if sees_gradients(cb)]

    def train_step_single(self, batch, **fit_params):
        # skorch's, differentiated by hand where the module can (PositionNetwork.backprop: an
        # autograd node per layer costs more than a small network's products), else with the
        # penalty formed in the same pass as the logits (forward_with_penalty). The batch is
        # already a pair of tensors on the device. The mode is set only when it changes:
        # skorch's walk over the module tree on every batch costs as much as a small step.
        if not self.module_.training:
            self.module_.train()
        X, y = batch
        penalty = self.penalty
        terms = {}
        if penalty is not None:
            total_weight = float(y[1].sum()) if isinstance(y, tuple) else len(y)
            terms = penalty.graph_terms(total_weight)
        loss_of = self._loss_of(X, y)
        by_hand = None
        if not fit_params:
            by_hand = self.module_.backprop(X, loss_of, **terms)
        if by_hand is not None:
            loss, y_pred = by_hand
        else:
            graph_penalty = None
            if terms:
                y_pred, graph_penalty = self.module_.forward_with_penalty(X, **terms)
            else:
                y_pred = self.module_(X, **fit_params)
            loss = _backward(loss_of(y_pred), y_pred, graph_penalty)
        if penalty is not None:
            loss = loss.detach() + penalty.add_closed_form(self.module_, total_weight)
        return {"loss": loss, "y_pred": y_pred}

    def _loss_of(self, X, y):
        """The loss of a training step's logits, for the hand-derived step
        (:meth:`~sklearn_posnet.nn.PositionNetwork.backprop`) and autograd's alike: the
        criterion's loss and closed-form gradient where it has them (the package's outputs,
        :meth:`~sklearn_posnet._outputs.Output.loss_and_gradient`), else, or where
        ``get_loss`` is not skorch's own (a subclass's), ``get_loss``, which autograd
        differentiates."""
        closed_form = getattr(self.criterion_, "loss_and_gradient", None)
        if closed_form is not None and type(self).get_loss is NeuralNet.get_loss:
            return lambda logits: closed_form(logits, y)
        return lambda logits: self.get_loss(logits, y, X=X, training=True)

    def train_step(self, batch, **fit_params):
        """One optimization step on ``batch``: skorch's, without its closure where the
        optimizer takes none (L-BFGS takes one: it evaluates the loss several times)."""
        if isinstance(self.optimizer_, torch.optim.LBFGS):
            return super().train_step(batch, **fit_params)
        self.optimizer_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        for callback in self.gradient_callbacks_:
            callback.on_grad_computed(
                self,
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self.optimizer_.step()
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``; a training pass records the epoch's ``train_loss`` and
        checks that it and the parameters are finite.

        Validation passes are skorch's. A training pass calls the callbacks' batch methods and
        records per-batch history only where a callback sees training batches (see the class
        docstring); the batch losses stay tensors until the epoch ends, so that a step never
        waits for the device.
        """
        if not training or iterator is None:
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        batch_events = bool(self.batch_callbacks_)
        losses, sizes = [], []
        for batch in iterator:
            if batch_events:
                self.notify("on_batch_begin", batch=batch, training=True)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0]))
            if batch_events:
                self.history.record_batch("train_loss", losses[-1].item())
                self.history.record_batch("train_batch_size", sizes[-1])
                self.notify("on_batch_end", batch=batch, training=True, **step)
        loss = float(torch.stack(losses).double() @ torch.tensor(sizes, dtype=torch.float64)) / sum(
            sizes
        )
        if not np.isfinite(loss):
            self.diverge(f"the loss became {loss}")
        if not _all_finite(self.module_.parameters()):
            self.diverge("the parameters became non-finite")
        self.history.record("train_loss", loss)
        self.history.record("train_loss_best", bool(loss < self.best_train_loss_))
        self.best_train_loss_ = min(self.best_train_loss_, loss)
        self.history.record("train_batch_count", len(losses))

    def diverge(self, what: str):
        """Stop training because ``what`` became non-finite: the :class:`DivergenceGuard`
        among the callbacks puts the last finite parameters back and raises
        :class:`TrainingDiverged`; without one, it is raised here.

        Nothing may validate or score a diverged network: the training pass calls this for its
        loss and parameters, the validation score for its predictions.
        """
        for _, callback in self.callbacks_:
            if isinstance(callback, DivergenceGuard):
                callback.diverge(self, what)
        raise TrainingDiverged(what, epochs_kept=0)

    def callback(self, name: str):
        """The initialized callback called ``name``, or None."""
        return dict(self.callbacks_).get(name)

    def train(self, X, y, epochs: int):
        """Train ``epochs`` epochs, or until a callback stops training.

        skorch's ``partial_fit`` with one difference: it swallows every ``KeyboardInterrupt``,
        so a user's Ctrl-C would return a half-trained model as if nothing happened. Here a
        :class:`StopTraining` (or a skorch callback's ``raise KeyboardInterrupt``) ends training
        quietly, and anything else, the user's interrupt included, propagates after
        ``on_train_end`` has left the callbacks in a consistent state.
        """
        with _watching_interrupts() as user_interrupted:
            self.notify("on_train_begin", X=X, y=y)
            try:
                self.fit_loop(X, y, epochs=epochs)
            except StopTraining:
                pass
            except KeyboardInterrupt:
                if user_interrupted():
                    raise
            finally:
                self.notify("on_train_end", X=X, y=y)
        return self


def _backward(loss, logits: torch.Tensor, graph_penalty: torch.Tensor | None) -> torch.Tensor:
    """Backpropagate ``loss`` (a scalar, or a pair ``(loss, gradient over the logits)`` in
    closed form) and the graph's penalty; return the detached total.

    With the closed form, autograd starts at the logits with their gradient (and at the penalty
    with 1): the same gradient as the hand-derived step's, and no Python node for the loss.
    """
    if isinstance(loss, tuple):
        loss, grad = loss
        roots, grads = [logits], [grad]
        if graph_penalty is not None:
            roots.append(graph_penalty)
            grads.append(torch.ones_like(graph_penalty))
            loss = loss + graph_penalty.detach()
        torch.autograd.backward(roots, grads)
        return loss
    if graph_penalty is not None:
        loss = loss + graph_penalty
    loss.backward()
    return loss.detach()


def _all_finite(tensors) -> bool:
    """Whether every element of ``tensors`` is finite: one check over their concatenation
    (a check per tensor costs more than the copy for the networks of a small problem)."""
    flat = [tensor.detach().reshape(-1) for tensor in tensors]
    return not flat or bool(torch.cat(flat).isfinite().all())


@contextlib.contextmanager
def _watching_interrupts():
    """Yield a function that tells whether the user interrupted (SIGINT) since entering.

    skorch's callbacks stop training by raising ``KeyboardInterrupt`` (``EarlyStopping``), the
    exception that the user's Ctrl-C raises too. A handler chained in front of the current SIGINT
    handler, for the duration of the block, tells them apart. Only the main thread receives
    signals and may set handlers; elsewhere, and where SIGINT raises no ``KeyboardInterrupt``
    (ignored, or not handled by Python), every ``KeyboardInterrupt`` is a callback's.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield lambda: False
        return
    received = []

    def note(signum, frame):
        received.append(signum)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------------------ callbacks
def _module_state(net) -> dict:
    return {name: tensor.detach().clone() for name, tensor in net.module_.state_dict().items()}


class DivergenceGuard(Callback):
    """Keep the parameters at the start of every epoch, and put them back when training diverges.

    :class:`PosNet` checks the summed training loss of every epoch and the parameters after the
    epoch's last step, before any validation, and the validation score checks its predictions,
    before any scoring; the first non-finite value calls :meth:`PosNet.diverge`, which calls
    :meth:`diverge` here: the parameters of the end of the last finite epoch are put back, the
    optimizer is rebuilt (its state went non-finite with the parameters) and
    :class:`TrainingDiverged` is raised.
    """

    def initialize(self):
        self.last_finite_state_ = None
        self.epochs_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.epochs_ = 0

    def on_epoch_begin(self, net, **kwargs):
        self.last_finite_state_ = _module_state(net)

    def diverge(self, net, what: str):
        """Put back the parameters of the start of this epoch and raise
        :class:`TrainingDiverged`.

        Parameters
        ----------
        net : PosNet
        what : str
            What became non-finite, e.g. "the loss became nan".
        """
        net.module_.load_state_dict(self.last_finite_state_)
        net.initialize_optimizer()
        raise TrainingDiverged(f"{what} in epoch {self.epochs_ + 1}", self.epochs_)

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


class TrainingCurves(SavedFields, Callback):
    """The training loss after every epoch of every call, and this call's validation scores.

    ``loss_curve_`` and ``samples_seen_`` (MLPClassifier's ``t_``) accumulate across the calls
    of one network (``partial_fit``, warm starts), as MLPClassifier's do; ``n_epochs_`` and
    ``validation_scores_`` describe the last call (``validation_scores_`` is None when that call
    held out no data).
    """

    saved_fields = {
        "loss_curve": Field("loss_curve_", floats),
        "validation_scores": Field("validation_scores_", optional(floats)),
        "n_epochs": Field("n_epochs_", int),
        # absent from models saved before it
        "samples_seen": Field("samples_seen_", int, absent_value=0),
    }

    def __init__(self, score_name: str = "valid_acc"):
        self.score_name = score_name

    def initialize(self):
        self.loss_curve_ = []
        self.validation_scores_ = None
        self.n_epochs_ = 0
        self.samples_seen_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.n_epochs_ = 0
        self.validation_scores_ = [] if net.train_split is not None else None

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        row = net.history[-1]
        self.loss_curve_.append(float(row["train_loss"]))
        self.samples_seen_ += len(dataset_train)
        if self.validation_scores_ is not None:
            self.validation_scores_.append(float(row[self.score_name]))
        self.n_epochs_ += 1


class PlateauStopping(SavedFields, Callback):
    """MLPClassifier's stopping rule: stop once ``n_iter_no_change`` epochs in a row failed to
    improve the monitored value by at least ``tol``.

    skorch's ``EarlyStopping`` is not used: it stops by raising ``KeyboardInterrupt`` (see
    :class:`StopTraining`) and counts differently (its best value moves only on an improvement
    of ``threshold``; MLPClassifier's moves on any improvement).

    Parameters
    ----------
    monitor : str, default="train_loss"
        The history key to watch.
    lower_is_better : bool, default=True
    tol : float, default=1e-4
    n_iter_no_change : int or inf, default=10
    stop : bool, default=True
        Whether to stop; False only counts (``partial_fit`` trains its one epoch regardless).
    lower_learning_rate : bool, default=False
        MLPClassifier's ``learning_rate="adaptive"``: when the rule fires, divide the learning
        rate by 5 and count again; stop only once it is at most 1e-6.

    Attributes
    ----------
    best_ : float
        The best monitored value so far (kept across calls).
    no_improvement_count_ : int
        Epochs since the last improvement by ``tol`` (kept across calls).
    converged_ : bool
        Whether this call stopped on the rule.
    """

    saved_fields = {  # what continues the count exactly
        "monitor": Field("monitor", str),
        "lower_is_better": Field("lower_is_better", bool),
        "best": Field("best_", float),
        "no_improvement_count": Field("no_improvement_count_", int),
    }

    def __init__(
        self,
        monitor="train_loss",
        lower_is_better=True,
        tol=1e-4,
        n_iter_no_change=10,
        stop=True,
        lower_learning_rate=False,
    ):
        self.monitor = monitor
        self.lower_is_better = lower_is_better
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.stop = stop
        self.lower_learning_rate = lower_learning_rate

    def initialize(self):
        self.restart()
        return self

    def restart(self) -> None:
        """Forget the best value and the count (a new quantity is about to be monitored)."""
        self.best_ = np.inf if self.lower_is_better else -np.inf
        self.no_improvement_count_ = 0
        self.converged_ = False

    def on_train_begin(self, net, **kwargs):
        self.converged_ = False

    def on_epoch_end(self, net, **kwargs):
        value = float(net.history[-1][self.monitor])
        if self.lower_is_better:
            improved = value <= self.best_ - self.tol
            self.best_ = min(self.best_, value)
        else:
            improved = value >= self.best_ + self.tol
            self.best_ = max(self.best_, value)
        self.no_improvement_count_ = 0 if improved else self.no_improvement_count_ + 1
        if self.no_improvement_count_ <= self.n_iter_no_change:
            return
        if self.lower_learning_rate and learning_rate(net) > 1e-6:
            set_learning_rate(net, learning_rate(net) / 5.0)
            self.no_improvement_count_ = 0
        elif self.stop:
            self.converged_ = True
            raise StopTraining


def learning_rate(net) -> float:
    """The optimizer's current learning rate."""
    return float(net.optimizer_.param_groups[0]["lr"])


def set_learning_rate(net, value: float) -> None:
    """Set the learning rate of every parameter group of the net's optimizer."""
    for group in net.optimizer_.param_groups:
        group["lr"] = value


class InverseScaling(Callback):
    """MLPClassifier's ``learning_rate="invscaling"``: after every epoch the learning rate
    becomes ``learning_rate_init / (t + 1) ** power_t``, ``t`` the number of training samples
    seen so far (``samples_seen_`` of the ``curves`` callback, which comes first).

    skorch's ``LRScheduler`` steps a torch scheduler by epochs or batches; this rule counts
    samples, over every call that trained the network, so it is a callback of its own. With
    ``power_t=None`` it does nothing (the estimator sets its parameters for every call).
    """

    def __init__(self, learning_rate_init: float, power_t: float | None = None):
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t

    def on_epoch_end(self, net, **kwargs):
        if self.power_t is None:
            return
        seen = net.callback("curves").samples_seen_
        set_learning_rate(net, self.learning_rate_init / (seen + 1) ** self.power_t)


class LbfgsStopping(Callback):
    """Stopping for ``solver="lbfgs"``, where every epoch is one L-BFGS iteration over the
    whole data.

    The fit has converged when an iteration took no step (torch's L-BFGS returns at once when
    the largest gradient component is at most ``tolerance_grad``, the estimator's ``tol``, as
    scipy's ``gtol`` does for MLPClassifier), or when the loss's relative decrease
    ``(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1)`` is at most ``ftol`` (scipy's default). It stops
    without converging once ``max_fun`` loss evaluations have been made.

    With ``active=False`` (another solver) it does nothing; the estimator sets its parameters for
    every call.

    Attributes
    ----------
    converged_ : bool
        Whether this call stopped on a convergence rule.
    out_of_evaluations_ : bool
        Whether this call stopped because it used ``max_fun`` evaluations.
    """

    def __init__(
        self, active: bool = False, max_fun: int = 15000, ftol: float = 2.220446049250313e-09
    ):
        self.active = active
        self.max_fun = max_fun
        self.ftol = ftol

    def _state(self, net) -> dict:
        parameter = net.optimizer_.param_groups[0]["params"][0]
        return net.optimizer_.state.get(parameter, {})

    def on_train_begin(self, net, **kwargs):
        self.converged_ = False
        self.out_of_evaluations_ = False
        self.previous_loss_ = None
        self.evaluations_at_start_ = self._state(net).get("func_evals", 0)

    def on_epoch_begin(self, net, **kwargs):
        self.iterations_before_ = self._state(net).get("n_iter", 0)

    def on_epoch_end(self, net, **kwargs):
        if not self.active:
            return
        state = self._state(net)
        loss = float(net.history[-1]["train_loss"])
        previous, self.previous_loss_ = self.previous_loss_, loss
        no_step = state.get("n_iter", 0) == self.iterations_before_
        if previous is not None:
            decrease = (previous - loss) / max(abs(previous), abs(loss), 1.0)
            no_step = no_step or decrease <= self.ftol
        if no_step:
            self.converged_ = True
            raise StopTraining
        if state.get("func_evals", 0) - self.evaluations_at_start_ >= self.max_fun:
            self.out_of_evaluations_ = True
            raise StopTraining


class KeepBestEpoch(Callback):
    """Keep the parameters of this call's epoch with the highest ``score_name`` (a history key)
    and put them back when training ends, as MLPClassifier does with early stopping.

    skorch's ``Checkpoint(load_best=True)`` does the same through files; a grid search of
    hundreds of fits should not write to disk, so the copy stays in memory.
    """

    def __init__(self, score_name: str = "valid_acc"):
        self.score_name = score_name

    def initialize(self):
        self.best_score_ = -np.inf
        self.best_state_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.initialize()

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1].get(self.score_name)
        if score is not None and score > self.best_score_:
            self.best_score_ = score
            self.best_state_ = copy.deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            self.best_state_ = None


class RemoveMeanPositionGradient(Callback):
    """After each backward pass, remove the common drift of all particle positions (Lange)."""

    def on_grad_computed(self, net, named_parameters, **kwargs):
        net.module_.remove_mean_position_gradient()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class EpochLog(PrintLog):
    """skorch's ``PrintLog``: one line per epoch, coloured only when the output is a terminal.

    Logs, notebooks' captured output and CI files get plain text, not escape codes.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _is_terminal(self.sink):
            return _ANSI.sub("", text)
        return text


def _is_terminal(sink) -> bool:
    return sink is print and hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
