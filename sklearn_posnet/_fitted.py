"""The fitted attributes of the estimators, each read from where it lives.

The module's shape and weights come from the fitted torch module, the loss curve, iteration
counts and validation scores from the ``curves`` and ``plateau`` callbacks of the net, the
recorded positions from its position recorder: nothing is copied into the estimator.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._recording import RECORDER_NAME

__all__ = ["FittedAttributes"]


class FittedAttributes:
    """MLPClassifier's fitted attributes (and the network's own), as read-only properties.

    A mixin of :class:`~sklearn_posnet._base.BasePositionalNetwork`.
    """

    @property
    def module_(self) -> torch.nn.Module:
        """The fitted torch module."""
        check_is_fitted(self)
        return self.net_.module_

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the fitted module."""
        return self.module_.n_parameters

    @property
    def n_layers_(self) -> int:
        """Number of layers, the input and output layers included."""
        return len(self.module_.layer_sizes)

    @property
    def n_outputs_(self) -> int:
        """Number of output neurons: one per class (two for a binary problem, where
        MLPClassifier has one logistic output), per label, or per regression target."""
        return int(self.module_.layer_sizes[-1])

    @property
    def t_(self) -> int:
        """Number of training samples seen by the solver, over every call that trained this
        network (MLPClassifier's ``t_``; ``learning_rate="invscaling"`` counts with it)."""
        return self._fitted_callback("curves").samples_seen_

    @property
    def coefs_(self) -> list[np.ndarray]:
        """The effective weight matrices in scikit-learn's layout, float64: ``coefs_[i]`` has
        shape ``(n_in, n_out)`` and maps layer ``i`` to layer ``i + 1``, as
        :class:`~sklearn.neural_network.MLPClassifier`'s. With ``intercepts_`` and the
        ``activation``, they are the plain MLP the network is, followed by ``out_activation_``
        (a classifier's output layer has one logit per class, two for a binary problem)."""
        module = self._inference.get(self.module_)
        return [w.cpu().numpy().T.copy() for w, _ in module.plain_layers(torch.float64)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The biases of every layer, float64: ``intercepts_[i]`` has shape ``(n_out,)``."""
        module = self._inference.get(self.module_)
        return [b.detach().cpu().numpy().copy() for b in module.biases]

    # ---------------------------------------------------- fitted attributes, read from callbacks
    def _fitted_callback(self, name):
        net = vars(self).get("net_")
        if net is None:
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet.")
        return net.callback(name)

    @property
    def loss_curve_(self) -> list:
        """Training loss after each epoch, over every call that trained this network."""
        return list(self._fitted_callback("curves").loss_curve_)

    @property
    def loss_(self) -> float | None:
        """The last training loss (None before the first finished epoch)."""
        curve = self._fitted_callback("curves").loss_curve_
        return curve[-1] if curve else None

    @property
    def n_iter_(self) -> int:
        """Number of epochs the last call to ``fit`` or ``partial_fit`` ran."""
        return self._fitted_callback("curves").n_epochs_

    @property
    def best_loss_(self) -> float | None:
        """The lowest training loss; None when the last fit stopped on validation scores."""
        plateau = self._fitted_callback("plateau")
        return float(plateau.best_) if plateau.monitor == "train_loss" else None

    @property
    def validation_scores_(self) -> list | None:
        """The score (accuracy, or R^2 for a regressor) on the held-out data after each epoch of
        the last call (``early_stopping``)."""
        scores = self._fitted_callback("curves").validation_scores_
        return None if scores is None else list(scores)

    @property
    def best_validation_score_(self) -> float | None:
        """The best of ``validation_scores_``."""
        scores = self.validation_scores_
        return max(scores) if scores else None

    @property
    def positions_history_(self) -> list | None:
        """With ``record_positions``: the positions of every layer at each recorded frame."""
        recorder = self._fitted_callback(RECORDER_NAME)
        return None if recorder is None else list(recorder.positions)

    @property
    def dipoles_history_(self) -> list | None:
        """With ``record_positions``: the dipoles of every layer at each frame (particles)."""
        recorder = self._fitted_callback(RECORDER_NAME)
        return None if recorder is None or recorder.dipoles is None else list(recorder.dipoles)

    @property
    def positions_history_epochs_(self) -> np.ndarray | None:
        """The training epochs completed at each frame of ``positions_history_``."""
        recorder = self._fitted_callback(RECORDER_NAME)
        return None if recorder is None else np.asarray(recorder.epochs, dtype=float)
