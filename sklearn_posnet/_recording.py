"""Recording where the neurons are while a network trains, for animations and analysis.

:class:`PositionRecorder` is a skorch callback; the estimators add it when their
``record_positions`` parameter asks for it and copy what it recorded into the fitted attributes
``positions_history_``, ``dipoles_history_`` and ``positions_history_epochs_``.
"""

from __future__ import annotations

import numpy as np
from skorch.callbacks import Callback

__all__ = ["PositionRecorder", "recording_callbacks", "resume_recording", "store_recorded_history"]

_NAME = "position_recorder"


def _snapshot(parameters) -> list[np.ndarray]:
    return [p.detach().cpu().numpy().copy() for p in parameters]


class PositionRecorder(Callback):
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

    def __init__(self, every_n_batches: int | None = None):
        self.every_n_batches = every_n_batches

    def initialize(self):
        self.positions = []
        self.dipoles = None
        self.epochs = []
        self._epochs_done = 0
        self._batches_in_epoch = 0
        self._batches_per_epoch = 1
        self._steps = 0
        return self

    def _record(self, net, epoch: float) -> None:
        module = net.module_
        self.positions.append(_snapshot(module.positions))
        if hasattr(module, "dipoles"):
            if self.dipoles is None:
                self.dipoles = []
            self.dipoles.append(_snapshot(module.dipoles))
        self.epochs.append(float(epoch))

    def on_train_begin(self, net, **kwargs):
        if not self.positions:
            self._record(net, 0.0)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self._batches_in_epoch = 0
        if dataset_train is not None:
            self._batches_per_epoch = max(1, -(-len(dataset_train) // int(net.batch_size)))

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self._batches_in_epoch += 1
        self._steps += 1
        if self.every_n_batches is not None and self._steps % self.every_n_batches == 0:
            fraction = min(1.0, self._batches_in_epoch / self._batches_per_epoch)
            self._record(net, self._epochs_done + fraction)

    def on_epoch_end(self, net, **kwargs):
        self._epochs_done += 1
        if self.every_n_batches is None:
            self._record(net, self._epochs_done)


def recording_callbacks(record_positions: bool | int) -> list:
    """The ``(name, callback)`` pairs an estimator adds for its ``record_positions`` parameter.

    ``False`` adds nothing, ``True`` records after every epoch, an int ``k`` after every ``k``
    training steps.
    """
    if record_positions is False or record_positions is None:
        return []
    every = None if record_positions is True else int(record_positions)
    return [(_NAME, PositionRecorder(every_n_batches=every))]


def store_recorded_history(estimator, net) -> None:
    """Set the estimator's history attributes from the recorder of ``net`` (None when absent)."""
    recorder = dict(net.callbacks_).get(_NAME)
    if recorder is None:
        estimator.positions_history_ = None
        estimator.dipoles_history_ = None
        estimator.positions_history_epochs_ = None
        return
    estimator.positions_history_ = list(recorder.positions)
    estimator.dipoles_history_ = None if recorder.dipoles is None else list(recorder.dipoles)
    estimator.positions_history_epochs_ = np.asarray(recorder.epochs, dtype=float)


def resume_recording(estimator, net) -> None:
    """Seed the recorder of a rebuilt ``net`` (after unpickling) with the estimator's history.

    Later ``partial_fit`` calls then append to the frames recorded before the model was saved,
    as they do without the round trip.
    """
    recorder = dict(net.callbacks_).get(_NAME)
    frames = getattr(estimator, "positions_history_", None)
    if recorder is None or not frames:
        return
    recorder.positions = list(frames)
    dipoles = getattr(estimator, "dipoles_history_", None)
    recorder.dipoles = None if dipoles is None else list(dipoles)
    recorder.epochs = [float(epoch) for epoch in estimator.positions_history_epochs_]
    recorder._epochs_done = int(np.floor(recorder.epochs[-1]))


def extend_recorded_layer(net, layer: int, positions: np.ndarray, dipoles=None) -> None:
    """Add neurons grown in neuron layer ``layer`` to every frame the recorder of ``net`` holds.

    The frames recorded before the growth show the new neurons where they were born (with the
    dipoles given, zero for particles), so that every frame has the network's current shape.
    """
    recorder = dict(net.callbacks_).get(_NAME)
    if recorder is None or not recorder.positions:
        return

    def extended(frames, rows):
        rows = np.asarray(rows)
        return [
            [
                *frame[:layer],
                np.concatenate([frame[layer], rows.astype(frame[layer].dtype)]),
                *frame[layer + 1 :],
            ]
            for frame in frames
        ]

    recorder.positions = extended(recorder.positions, positions)
    if recorder.dipoles is not None and dipoles is not None:
        recorder.dipoles = extended(recorder.dipoles, dipoles)
