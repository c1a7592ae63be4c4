"""What every estimator shares: validation, driving the skorch net, fitted attributes."""

from __future__ import annotations

import copy
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _persistence
from ._recording import recording_callbacks, store_recorded_history
from ._training import PosNet, TensorBatches, TensorDataset, TrainingMonitor
from ._validation import DEVICES, check_label_types
from .nn._extended_range import recompute_overflowing_rows
from .nn.activations import ACTIVATIONS

__all__ = ["BasePositionalClassifier"]

_SOLVERS = {
    "adam": torch.optim.Adam,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}
# Rows per forward pass at prediction time: bounds the activations' memory on large inputs.
_PREDICT_CHUNK = 8192


def _as_tensor(array: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``array`` as a tensor on ``device``: shares memory where it can, never a read-only buffer.

    Views torch cannot wrap (read-only, or with a negative stride: ``X[::-1]``, ``np.flip``) are
    copied first.
    """
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def _torch_generator(random_state) -> torch.Generator:
    """A torch generator seeded from ``random_state`` without touching any global random state."""
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return torch.Generator().manual_seed(seed)


class _Penalty:
    """The regularization added to each training batch's loss, as keyword arguments of the
    module's ``forward_with_penalty``.

    ``alpha`` is MLPClassifier's: ``0.5 * alpha * sum(W**2) / batch_size`` over the weight
    matrices; ``distance_alpha`` weighs the module's ``distance_penalty()``.
    """

    def __init__(self, alpha: float = 0.0, distance_alpha: float = 0.0):
        self.alpha = alpha
        self.distance_alpha = distance_alpha

    def __call__(self, batch_size: int) -> dict:
        weights = {"l2": 0.5 * self.alpha / batch_size}
        if self.distance_alpha:
            weights["distance"] = self.distance_alpha
        return weights


class BasePositionalClassifier(ClassifierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the classifiers: the scikit-learn contract around a skorch net.

    Subclasses say which torch module to build (:meth:`_build_module`), which penalty to add
    (:meth:`_penalty`) and which callbacks to run (:meth:`_callbacks`); this class validates the
    data, drives the fit and exposes MLPClassifier's fitted attributes.

    Warning: This class should not be used directly. Use the derived classes instead.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(_SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "device": [DEVICES],
        "record_positions": ["boolean", Interval(Integral, 1, None, closed="left")],
    }

    # ----------------------------------------------------------------- what subclasses provide
    @abstractmethod
    def _build_module(self, n_features: int, n_outputs: int, generator: torch.Generator):
        """Return the torch module for ``n_features`` inputs and ``n_outputs`` logits."""

    def _penalty(self) -> _Penalty | None:
        """The training penalty (None for none)."""
        return _Penalty(alpha=self.alpha) if self.alpha else None

    def _callbacks(self) -> list:
        """Extra skorch callbacks, as ``(name, callback)`` pairs."""
        return []

    # ----------------------------------------------------------------------------- public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data. Sparse matrices are refused: densify them first.
        y : array-like of shape (n_samples,)
            The target class labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target class labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear in ``y``. Required on the first call, ignored after.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        if classes is not None:
            check_label_types(classes, "classes")
        _check_partial_fit_first_call(self, classes)
        return self._fit(X, y, incremental=True)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        logits = self._forward(X)
        return torch.log_softmax(logits.double(), dim=1).numpy()

    def predict(self, X):
        """Predict using the trained model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes, as labels from ``classes_``.
        """
        indices = self._forward(X).argmax(dim=1).numpy()
        return self.classes_[indices]

    @property
    def module_(self) -> torch.nn.Module:
        """The fitted torch module."""
        check_is_fitted(self)
        return self.net_.module_

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the fitted module."""
        return self.module_.n_parameters

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        # The net and generator are saved as numpy arrays and builtins: see _persistence.
        # (object.__getstate__ returns the instance's own __dict__: copy it before changing it.)
        return _persistence.plain_state(dict(super().__getstate__()))

    def __setstate__(self, state):
        state, torch_state = _persistence.split_state(state)
        super().__setstate__(state)
        _persistence.restore_torch_state(self, torch_state)

    # ----------------------------------------------------------------------------- internals
    def _validate_input(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=(np.float32, np.float64),
            accept_sparse=False,
        )
        check_label_types(y)  # before scikit-learn sorts them
        check_classification_targets(y)
        return X, y

    def _encode_labels(self, y, reset):
        """Class indices of ``y``; ``reset`` learns ``classes_`` from it, else they must match."""
        if reset:
            self.classes_ = np.unique(y)
        classes = self.classes_
        if len(classes) < 2:
            raise ValueError(
                f"The classifier needs samples of at least 2 classes; got 1 class: "
                f"{classes.tolist()[0]!r}."
            )
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels not seen in the first fit: {unknown.tolist()}; "
                f"expected labels from {classes.tolist()}."
            )
        return np.searchsorted(classes, y)

    def _layer_sizes(self, n_features, n_outputs):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, Integral) else list(hidden)
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in hidden):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must be an int >= 1 "
                "or a sequence of ints >= 1 (one per hidden layer). "
                f"Got {self.hidden_layer_sizes!r} instead."
            )
        return [n_features, *(int(h) for h in hidden), n_outputs]

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _device(self) -> torch.device:
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} was requested but CUDA is not available.")
        return device

    def _optimizer_params(self) -> dict:
        # torch's default single-tensor loop costs more than a small network's whole step on the
        # CPU. Adam and SGD have fused kernels (one pass per tensor); RMSprop has none, so
        # multi-tensor (foreach) updates.
        params = {"optimizer": _SOLVERS[self.solver], "lr": self.learning_rate_init}
        if self.solver == "adam":
            params.update(
                optimizer__betas=(self.beta_1, self.beta_2),
                optimizer__eps=self.epsilon,
                optimizer__fused=True,
            )
        elif self.solver == "rmsprop":
            params.update(
                optimizer__alpha=0.99, optimizer__eps=self.epsilon, optimizer__foreach=True
            )
        else:
            params.update(
                optimizer__momentum=self.momentum,
                optimizer__nesterov=self.nesterovs_momentum and self.momentum > 0,
                optimizer__fused=True,
            )
        return params

    def _build_net(self, n_features, n_outputs, n_samples, generator):
        module = self._build_module(n_features, n_outputs, generator).to(self._device())
        net = PosNet(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,
            penalty=self._penalty(),
            batch_size=self._batch_size(n_samples),
            max_epochs=self.max_iter,
            train_split=None,
            dataset=TensorDataset,
            iterator_train=TensorBatches,
            iterator_train__shuffle=self.shuffle,
            iterator_train__generator=generator,
            iterator_valid=TensorBatches,
            callbacks=self._callbacks() + recording_callbacks(self.record_positions),
            device=self.device,
            verbose=int(self.verbose),
            **self._optimizer_params(),
        )
        return net.initialize()

    def _fit(self, X, y, incremental):
        first_pass = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, reset=first_pass)
        y = self._encode_labels(y, reset=first_pass and not incremental)
        n_samples, n_features = X.shape
        device = self._device()

        if first_pass:
            self._generator = _torch_generator(self.random_state)
            n_outputs = len(self.classes_)
            self.net_ = self._build_net(n_features, n_outputs, n_samples, self._generator)
            self.loss_curve_ = []
            self.best_loss_ = np.inf
            self._no_improvement_count = 0
        else:
            # Later calls may pass another number of rows: re-derive the batch size.
            self.net_.set_params(batch_size=self._batch_size(n_samples))
            if not incremental:
                # As in MLPClassifier, a warm-started fit starts a fresh optimizer from the
                # current solver parameters; partial_fit keeps the optimizer's state.
                for name, value in self._optimizer_params().items():
                    setattr(self.net_, name, value)
                self.net_.initialize_optimizer()

        early_stopping = self.early_stopping and not incremental
        validation_data = None
        if early_stopping:
            split_seed = int(torch.randint(2**31 - 1, (1,), generator=self._generator))
            X, X_val, y, y_val = train_test_split(
                X, y, test_size=self.validation_fraction, stratify=y, random_state=split_seed
            )
            validation_data = (
                _as_tensor(X_val, torch.float32, device),
                _as_tensor(y_val, torch.int64, device),
            )
        X_tensor = _as_tensor(X, torch.float32, device)
        y_tensor = _as_tensor(y, torch.int64, device)

        monitor = TrainingMonitor(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            validation_data=validation_data,
            stop=not incremental,
        ).initialize()
        if not early_stopping and self.best_loss_ is not None:
            # Continue the loss-based stopping count of earlier calls (None after a fit with
            # early stopping, which tracked the validation score instead).
            monitor.best_loss = self.best_loss_
            monitor.no_improvement_count = self._no_improvement_count
        self.net_.callbacks_ = [
            (name, cb) for name, cb in self.net_.callbacks_ if name != "monitor"
        ] + [("monitor", monitor)]
        self.net_.callbacks_.sort(key=lambda item: item[0] == "print_log")

        start = time.perf_counter()
        epochs = 1 if incremental else self.max_iter
        divergence = None
        try:
            self.net_.partial_fit(X_tensor, y_tensor, epochs=epochs)
        except FloatingPointError as error:
            # Back to the end of the last finite epoch; the bookkeeping below then describes it.
            divergence = error
            monitor.restore_last_finite_state(self.net_)
            monitor.validation_data = None
        self.fit_time_ = time.perf_counter() - start

        self.n_iter_ = monitor.n_epochs
        self.loss_curve_ = self.loss_curve_ + monitor.loss_curve
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        self._no_improvement_count = monitor.no_improvement_count
        if early_stopping:
            self.validation_scores_ = monitor.validation_scores
            self.best_validation_score_ = monitor.best_validation_score
            self.best_loss_ = None
            if monitor.best_state is not None:
                self.net_.module_.load_state_dict(monitor.best_state)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.best_loss_ or np.inf, monitor.best_loss)
        if divergence is not None:
            store_recorded_history(self, self.net_)
            restored = f"epoch {monitor.n_epochs}" if monitor.n_epochs else "the start"
            raise ValueError(
                f"Training diverged: {divergence}. The parameters from the end of the last epoch "
                f"with a finite loss ({restored} of this call) were restored and the optimizer "
                "was reset. Lower learning_rate_init, scale X (e.g. with StandardScaler) or "
                "add alpha."
            ) from None
        if not incremental and not monitor.converged and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,  # _fit, fit, _fit_context: the caller of fit
            )
        store_recorded_history(self, self.net_)
        return self

    def _forward(self, X, *, features: bool = False) -> torch.Tensor:
        """Logits of the fitted module for X (with ``features``, the activations of its last
        hidden layer), as a CPU float64 tensor.

        Inference runs in float64 on a copy of the module, so that a row's prediction does not
        depend on which other rows are predicted with it (float32 matrix products round
        differently for different batch sizes).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=False)
        module = copy.deepcopy(self.net_.module_).double().eval()
        compute = module.features if features else module
        device = next(module.parameters()).device
        chunks = []
        with torch.no_grad():
            for start in range(0, len(X), _PREDICT_CHUNK):
                rows = _as_tensor(X[start : start + _PREDICT_CHUNK], torch.float64, device)
                chunks.append(compute(rows).cpu())
        # Rows beyond the float64 range come back as logits minus their maximum (same softmax).
        return recompute_overflowing_rows(module, X, torch.cat(chunks), features=features)
