"""Recording where the neurons are while a network trains, for animations and analysis.

:class:`PositionRecorder` is a skorch callback; the estimators add it when their
``record_positions`` parameter asks for it, and read their fitted attributes
``positions_history_``, ``dipoles_history_`` and ``positions_history_epochs_`` from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skorch.callbacks import Callback

from ._saved import Field, SavedFields, floats, frames, optional

__all__ = ["PositionRecorder", "recording_callbacks"]

#: The name under which the estimators register the recorder with their net.
RECORDER_NAME = "position_recorder"


def _snapshot(module) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """The module's positions and dipoles (None without dipoles) now, as numpy copies."""
    snapshot = module.neuron_snapshot()
    dipoles = None if snapshot.dipoles is None else [d.numpy() for d in snapshot.dipoles]
    return [p.numpy() for p in snapshot.positions], dipoles


class PositionRecorder(SavedFields, Callback):
    """Copy every layer's positions (and dipoles, for particles) at a regular pace during training.

    The first frame is taken before the first training step, the next ones after every epoch
    (``every_n_batches=None``) or after every ``every_n_batches`` training steps. Frames accumulate
    across the calls to ``partial_fit`` of one network.

    Parameters
    ----------
    every_n_batches : int or None, default=None
        Record after every this many training steps; None records after every epoch.

    Attributes
    ----------
    positions : list of list of ndarray
        One entry per frame: the positions of every neuron layer, arrays of shape
        ``(n_neurons, dim)``.
    dipoles : list of list of ndarray or None
        The same for the dipoles of a module that has dipoles (a particle network), else None.
    epochs : list of float
        The training epochs completed at each frame, fractional when recording per batch.
    """

    saved_fields = {
        "positions": Field("positions", frames),
        "dipoles": Field("dipoles", optional(frames)),
        "epochs": Field("epochs", floats),
        "epochs_done": Field("epochs_done_", int),
        "steps": Field("steps_", int),
    }

    def __init__(self, every_n_batches: int | None = None):
        self.every_n_batches = every_n_batches

    def initialize(self):
        self.positions = []
        self.dipoles = None
        self.epochs = []
        self.epochs_done_ = 0
        self.steps_ = 0
        self._batches_in_epoch = 0
        self._batches_per_epoch = 1
        return self

    def _record(self, net, epoch: float) -> None:
        positions, dipoles = _snapshot(net.module_)
        self.positions.append(positions)
        if dipoles is not None:
            if self.dipoles is None:
                self.dipoles = []
            self.dipoles.append(dipoles)
        self.epochs.append(float(epoch))

    def on_train_begin(self, net, **kwargs):
        if not self.positions:
            self._record(net, 0.0)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self._batches_in_epoch = 0
        if dataset_train is not None:
            self._batches_per_epoch = max(1, -(-len(dataset_train) // int(net.batch_size)))

    @property
    def needs_training_batches(self) -> bool:
        """Whether the net must call :meth:`on_batch_end` after every training batch: only
        when recording per batch (see :func:`~sklearn_posnet._training.sees_training_batches`)."""
        return self.every_n_batches is not None

    def on_batch_end(self, net, training=False, **kwargs):
        if not training or self.every_n_batches is None:
            return
        self._batches_in_epoch += 1
        self.steps_ += 1
        if self.every_n_batches is not None and self.steps_ % self.every_n_batches == 0:
            fraction = min(1.0, self._batches_in_epoch / self._batches_per_epoch)
            self._record(net, self.epochs_done_ + fraction)

    def on_epoch_end(self, net, **kwargs):
        self.epochs_done_ += 1
        if self.every_n_batches is None:
            self.steps_ += int(net.history[-1]["train_batch_count"])
            self._record(net, self.epochs_done_)

    def follow_hidden_neurons(self, sources: Sequence[np.ndarray], module) -> None:
        """Give every recorded frame the hidden layers ``module`` has after pruning or growth.

        ``sources[l][i]`` is the index, before the change, of what is now neuron ``i`` of hidden
        layer ``l + 1``, or -1 for a neuron just added: the kept neurons' trajectories stay
        complete, and the frames recorded before a neuron was added show it where it is now,
        where it was born (with its dipole, zero for a new particle). Input and output layers are
        left whole.
        """
        now_positions, now_dipoles = _snapshot(module)

        def followed(frame, now):
            layers = [frame[0]]
            for layer, source in enumerate(sources, start=1):
                source = np.asarray(source)
                old = frame[layer]
                new = now[layer].astype(old.dtype)
                kept = source >= 0
                new[kept] = old[source[kept]]
                layers.append(new)
            return [*layers, frame[-1]]

        self.positions = [followed(frame, now_positions) for frame in self.positions]
        if self.dipoles is not None and now_dipoles is not None:
            self.dipoles = [followed(frame, now_dipoles) for frame in self.dipoles]


def recording_callbacks(record_positions: bool | int) -> list:
    """The ``(name, callback)`` pairs an estimator adds for its ``record_positions`` parameter.

    ``False`` adds nothing, ``True`` records after every epoch, an int ``k`` after every ``k``
    training steps.
    """
    if record_positions is False or record_positions is None:
        return []
    every = None if record_positions is True else int(record_positions)
    return [(RECORDER_NAME, PositionRecorder(every_n_batches=every))]
