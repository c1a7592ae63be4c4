"""The scikit-learn contract every estimator shares: validation, the fit sequence, inference.

:class:`BasePositionalNetwork` is assembled from one mixin per job: :class:`~._network.
NetworkBuilding` builds the skorch net and configures each call, :class:`~._fitted.
FittedAttributes` reads the fitted attributes from where they live, :class:`~._resizing.Resizing`
changes the fitted network's size (pruning's door, growth), and :class:`~._persistence.
Persistence` saves and loads. :class:`BasePositionalClassifier` and
:class:`BasePositionalRegressor` add what their kind of target needs (encoding ``y``, the output
layer's meaning, ``predict``), as scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` do over
their common base.

A fit is a short sequence of named steps (:meth:`BasePositionalNetwork._fit`): validate the
data, build the network or check that a warm start may continue it, configure this call, train.
Each training concern (divergence, the loss curve, stopping, the best epoch, recording) is one
skorch callback in :mod:`sklearn_posnet._training`, built once with the network; the fitted
attributes are read from those callbacks.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABCMeta, abstractmethod

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import (
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._concurrency import exclusive
from ._fitted import FittedAttributes
from ._network import NetworkBuilding, as_tensor
from ._network import torch_generator as _torch_generator  # noqa: F401 (tests import it here)
from ._outputs import consistent_log_proba, output_for
from ._persistence import Persistence
from ._resizing import Resizing
from ._sensitivity import taylor_sensitivity
from ._threads import data_shape, forward_work, uses_threads
from ._training import Penalty, TrainingDiverged
from ._validation import (
    check_float32_range,
    check_label_types,
    check_training_weights,
    check_warm_start_classes,
    validated_every_call,
)
from ._warnings import warn_caller
from .nn._extended_range import recompute_overflowing_rows

__all__ = ["BasePositionalClassifier", "BasePositionalNetwork", "BasePositionalRegressor"]

# Rows per forward pass at prediction time: bounds the activations' memory on large inputs.
_PREDICT_CHUNK = 8192


def _training_work(estimator, X) -> int:
    """Multiply-adds of one training batch's forward pass, for the thread policy (0: unknown)."""
    n_rows, n_features = data_shape(X)
    net = vars(estimator).get("net_")
    n_outputs = net.module_.layer_sizes[-1] if net is not None else 2
    layer_sizes = estimator._layer_sizes(n_features, n_outputs)  # validated by then
    return forward_work(layer_sizes, estimator._batch_size(n_rows))


def _sensitivity_work(estimator, X) -> int:
    """Multiply-adds of the fitted network's forward pass over all of ``X`` (0: not fitted)."""
    if "net_" not in vars(estimator):
        return 0
    return forward_work(estimator.net_.module_.layer_sizes, data_shape(X)[0])


def _inference_work(estimator, X) -> int:
    """Multiply-adds of one prediction chunk's forward pass, for the thread policy (0: unknown)."""
    if "net_" not in vars(estimator):
        return 0
    return forward_work(estimator.net_.module_.layer_sizes, min(data_shape(X)[0], _PREDICT_CHUNK))


def _stochastic_solver(estimator) -> bool:
    """Whether ``partial_fit`` is available: as MLPClassifier's, not with ``solver="lbfgs"``."""
    if isinstance(estimator.solver, str) and estimator.solver == "lbfgs":
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers; {estimator.solver!r} is "
            "not stochastic."
        )
    return True


class BasePositionalNetwork(
    Persistence, FittedAttributes, NetworkBuilding, Resizing, BaseEstimator, metaclass=ABCMeta
):
    """Base class of the estimators: the scikit-learn contract around a skorch net.

    The public subclasses take their parameters from the table of
    :mod:`sklearn_posnet._parameters` (``__init__``, ``_parameter_constraints``,
    ``_module_params`` and the docstring's Parameters, through
    :func:`~sklearn_posnet._parameters.assemble_estimator`) and say which torch module to build
    (:meth:`_build_module`), which penalty to add (:meth:`_penalty`) and which callbacks the
    module needs (:meth:`_module_callbacks`); the classifier and regressor bases say how ``y``
    becomes training targets (:meth:`_encode_targets`) and what the outputs mean
    (``out_activation_``, see :mod:`sklearn_posnet._outputs`). This class validates the data,
    drives the fit and exposes MLPClassifier's fitted attributes.

    Warning: This class should not be used directly. Use the derived classes instead.
    """

    #: The parameters that define the torch module (set from the table, see above). A
    #: warm-started ``fit`` or a ``partial_fit`` continues the network as it was built and
    #: refuses a change of any of them.
    _module_params: tuple

    # ----------------------------------------------------------------- what subclasses provide
    @abstractmethod
    def _build_module(self, n_features: int, n_outputs: int, generator, params=None):
        """Return the torch module for ``n_features`` inputs and ``n_outputs`` logits, built from
        ``params`` (a ``get_params()`` dictionary; the current parameters when None)."""

    def _penalty(self) -> Penalty | None:
        """The training penalty (None for none)."""
        return Penalty(alpha=self.alpha) if self.alpha else None

    def _module_callbacks(self, params: dict) -> list:
        """Callbacks the module needs, as ``(name, callback)`` pairs, built from ``params``."""
        return []

    @abstractmethod
    def _encode_targets(self, y, new_network: bool, incremental: bool) -> np.ndarray:
        """The training targets for ``y`` (already validated with ``X``), as the output layer
        expects them; with ``new_network``, learn what ``y`` looks like (``classes_``,
        ``out_activation_``), else check ``y`` against it."""

    @abstractmethod
    def _n_output_neurons(self, y) -> int:
        """The size of the output layer for the encoded targets ``y``."""

    #: The history key of the validation score (``early_stopping``).
    _score_name: str = "valid_score"

    # ----------------------------------------------------------------------------- public API
    @exclusive  # one thread at a time: see _concurrency
    @_fit_context(prefer_skip_nested_validation=True)  # nothing reads a parameter before
    @uses_threads(_training_work)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data. Sparse matrices are refused: densify them first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets: class labels (an indicator matrix for multilabel classification) for
            a classifier, real numbers for a regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, as MLPClassifier's: each batch's loss is the weighted mean of its
            samples' losses, and the L2 penalty is divided by the batch's total weight instead
            of its size; with ``early_stopping`` the held-out score is weighted too. None
            weighs every sample 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def hidden_activations(self, X) -> np.ndarray:
        """Activations of the last hidden layer for ``X``, in float64.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        activations : ndarray of shape (n_samples, n_neurons)
            One column per neuron of the last hidden layer (the input itself for a network
            without hidden layers).
        """
        return self._inference_forward(X, features=True)[0].numpy()

    @exclusive
    @uses_threads(_sensitivity_work)
    def hidden_neuron_sensitivity(self, X, y, sample_weight=None) -> list[np.ndarray]:
        """First-order Taylor estimate of how much removing each hidden neuron changes the loss.

        For hidden neuron ``i`` and sample ``n`` with activation ``a_ni`` and loss ``l_n`` (the
        training loss, without penalty), the mean over the samples of ``|a_ni * dl_n/da_ni|``,
        weighted by ``sample_weight`` (Molchanov et al., 2017): the criterion "taylor" of
        :class:`~sklearn_posnet.pruning.NeuronPruner`. A neuron the output does not depend on
        (zero outgoing weights, or zero activation on the data) scores 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to estimate on (the training data, typically).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, as in :meth:`fit`; None weighs every sample 1.

        Returns
        -------
        sensitivity : list of ndarray of shape (n_k,)
            One float64 array per hidden layer, one non-negative score per neuron, in the
            units of the loss.
        """
        check_is_fitted(self)
        X, y = self._validate_training_data(X, y, new_network=False, incremental=True)
        if sample_weight is not None:
            sample_weight = check_training_weights(sample_weight, X)
        X_tensor, target = self._training_tensors(X, y, sample_weight)
        return taylor_sensitivity(self.net_, X_tensor, target)

    def __sklearn_is_fitted__(self) -> bool:
        return "net_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------------- the fit steps
    def _fit(self, X, y, sample_weight, incremental, classes=None):
        new_network = not self.__sklearn_is_fitted__() or not (self.warm_start or incremental)
        with self._unchanged_on_error():
            if incremental:
                self._check_partial_fit_call(classes)
            X, y = self._validate_training_data(X, y, new_network, incremental)
            if sample_weight is not None:
                sample_weight = check_training_weights(sample_weight, X)
            if new_network:
                self._build_network(X.shape[1], self._n_output_neurons(y), n_samples=len(X))
            else:
                self._check_network_unchanged()
            X_tensor, target = self._training_tensors(X, y, sample_weight)
            self._configure_call(incremental, new_network, n_samples=len(X))  # last: see below
        self._train(X_tensor, target, epochs=1 if incremental else self.max_iter)
        if not incremental:
            self._warn_if_not_converged()
        return self

    @contextlib.contextmanager
    def _unchanged_on_error(self):
        """Leave the estimator exactly as it was if preparing a fit fails (bad data, a network
        that cannot be built): no half-fitted estimator whose ``predict`` fails oddly.

        A shallow copy of the attributes suffices: every step of :meth:`_fit` before the last
        only rebinds attributes (``n_features_in_``, ``classes_``, a new ``net_`` ...); the last,
        ``_configure_call``, changes the existing net in place, from parameters already
        validated, so everything that can fail on the data or the device has run before it."""
        before = dict(vars(self))
        try:
            yield
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    #: Whether ``y`` must be numeric (regression targets).
    _y_numeric: bool = False
    #: What to scale when training diverges.
    _scaling_advice: str = "scale X (e.g. with StandardScaler)"

    def _check_partial_fit_call(self, classes) -> None:
        """Check the extra arguments of a ``partial_fit`` call (a classifier's ``classes``)."""

    def _validate_training_data(self, X, y, new_network, incremental=False):
        """X and the training targets, validated; ``new_network`` learns ``n_features_in_``
        and the targets' form, else checks them against the fitted ones."""
        X, y = validate_data(
            self,
            X,
            y,
            reset=new_network,
            dtype=(np.float32, np.float64),
            accept_sparse=False,
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        check_float32_range(X, "X", "Scale X, e.g. with StandardScaler.")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # MLPClassifier's and MLPRegressor's warning
        return X, self._encode_targets(y, new_network, incremental)

    def _target_tensor(self, y, device) -> torch.Tensor:
        """Encoded targets as the tensor the output layer's loss takes."""
        return as_tensor(y, self.net_.criterion_.target_dtype, device)

    def _training_tensors(self, X, y, sample_weight):
        """X and the target as tensors on the module's device; the target is a pair
        (labels, weights) when there are sample weights (see ``TensorDataset``)."""
        self._device()  # the requested device must exist (a model loaded without its GPU)
        device = next(self.net_.module_.parameters()).device
        target = self._target_tensor(y, device)
        if sample_weight is not None:
            target = (target, as_tensor(sample_weight, torch.float32, device))
        return as_tensor(X, torch.float32, device), target

    def _train(self, X, y, epochs):
        start = time.perf_counter()
        try:
            self.net_.train(X, y, epochs=epochs)
        except TrainingDiverged as diverged:
            restored = f"epoch {diverged.epochs_kept}" if diverged.epochs_kept else "the start"
            raise ValueError(
                f"Training diverged: {diverged}. The parameters from the end of the last epoch "
                f"with a finite loss ({restored} of this call) were restored and the optimizer "
                f"was reset. Lower learning_rate_init, {self._scaling_advice} or add alpha."
            ) from None
        finally:
            self.fit_time_ = time.perf_counter() - start

    def _warn_if_not_converged(self):
        if self.solver == "lbfgs":
            stopping = self.net_.callback("lbfgs")
            if stopping.out_of_evaluations_ or (
                not stopping.converged_ and self.n_iter_ == self.max_iter
            ):
                used = (
                    f"max_fun={self.max_fun} loss evaluations"
                    if stopping.out_of_evaluations_
                    else f"max_iter={self.max_iter} iterations"
                )
                warn_caller(
                    f"lbfgs failed to converge: it used its {used} before the gradient (tol) or "
                    "the loss's decrease became small enough. Increase max_iter or max_fun, or "
                    "scale X (e.g. with StandardScaler).",
                    ConvergenceWarning,
                )
            return
        if not self.net_.callback("plateau").converged_ and self.n_iter_ == self.max_iter:
            warn_caller(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------------------ inference
    @uses_threads(_inference_work)
    def _inference_forward(self, X, *, features: bool = False) -> tuple[torch.Tensor, np.dtype]:
        """Logits of the fitted module for X (with ``features``, the activations of its last
        hidden layer), as a CPU float64 tensor, from the cached float64 copy of the module
        (see :mod:`sklearn_posnet._inference`); and the dtype of the outputs: float32 for
        float32 ``X``, as scikit-learn keeps it, else float64."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32), accept_sparse=False)
        module = self._inference.get(self.net_.module_)
        device = next(module.parameters()).device
        chunks = []
        for start in range(0, len(X), _PREDICT_CHUNK):
            rows = as_tensor(X[start : start + _PREDICT_CHUNK], torch.float64, device)
            chunks.append(self._inference.forward(rows, features=features).cpu())
        # Rows beyond the float64 range come back as logits minus their maximum (same softmax),
        # or as they are (infinite where they overflow) for outputs read one by one.
        shift = self.out_activation_ == "softmax"
        outputs = recompute_overflowing_rows(
            module, X, torch.cat(chunks), features=features, shift=shift
        )
        return outputs, X.dtype


class BasePositionalClassifier(ClassifierMixin, BasePositionalNetwork):
    """Base class of the classifiers: class labels as targets, one output neuron per class
    and a softmax; or, for an indicator matrix ``y`` (multilabel), one logistic output neuron
    per label, as MLPClassifier does.

    Warning: This class should not be used directly. Use the derived classes instead.
    """

    _score_name = "valid_acc"

    @available_if(_stochastic_solver)
    @exclusive
    @validated_every_call  # outside _fit_context, which skips it for a fitted estimator
    @_fit_context(prefer_skip_nested_validation=True)
    @uses_threads(_training_work)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Not available with ``solver="lbfgs"``, as for MLPClassifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The target class labels, or an indicator matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (see :meth:`fit`).
        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear in ``y`` (``range(n_labels)`` for multilabel
            targets). Required on the first call, ignored after.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        if classes is not None:
            check_label_types(classes, "classes")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_`` (summing to 1); for
            multilabel targets, each label's probability. float32 for float32 ``X``, else
            float64.
        """
        raw, dtype = self._inference_forward(X)
        return output_for(self.out_activation_).activate(raw).numpy().astype(dtype, copy=False)

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class (or label), in the order of ``classes_``;
            float32 for float32 ``X``, else float64. It is ``np.log(predict_proba(X))``, as
            scikit-learn's, where that probability is a normal float, and stays finite where
            the probability underflows to 0.
        """
        raw, dtype = self._inference_forward(X)
        output = output_for(self.out_activation_)
        log_proba = output.log_activate(raw).numpy()
        proba = output.activate(raw).numpy().astype(dtype, copy=False)
        return consistent_log_proba(proba, log_proba)  # agrees with predict_proba

    def predict(self, X):
        """Predict using the trained model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted classes, as labels from ``classes_``; for multilabel targets, an
            indicator matrix (1 where a label's probability exceeds 0.5).
        """
        raw, _ = self._inference_forward(X)  # checks that the estimator is fitted
        decided = output_for(self.out_activation_).decide(raw).numpy()
        return decided if decided.ndim == 2 else self.classes_[decided]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # --------------------------------------------------------------------------- the targets
    def _check_partial_fit_call(self, classes) -> None:
        _check_partial_fit_first_call(self, classes)

    def _encode_targets(self, y, new_network, incremental):
        check_label_types(y)  # before scikit-learn sorts them
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if y.ndim == 2 and not multilabel:
            raise ValueError(
                f"y has {y.shape[1]} columns of class labels (multiclass-multioutput), which "
                "this classifier does not fit, as MLPClassifier does not. For labels that can "
                "occur together, pass an indicator matrix of 0s and 1s (multilabel); for "
                "several separate targets, wrap the classifier in "
                "sklearn.multioutput.MultiOutputClassifier."
            )
        kind = "logistic" if multilabel else "softmax"
        if new_network:
            self.out_activation_ = kind
        elif kind != self.out_activation_:
            fitted = "multilabel" if self.out_activation_ == "logistic" else "single-label"
            raise ValueError(
                f"This classifier was fitted on {fitted} targets and y is not: warm_start and "
                "partial_fit continue the network as built. Fit with warm_start=False to start "
                "over."
            )
        reset = new_network and not incremental
        if multilabel:
            return self._encode_indicator(y, reset)
        return self._encode_labels(y, reset)

    def _encode_indicator(self, y, reset):
        """A multilabel indicator matrix as float targets; ``classes_`` are the label columns."""
        if reset:
            self.classes_ = np.arange(y.shape[1])
        if y.shape[1] != len(self.classes_):
            raise ValueError(
                f"y has {y.shape[1]} label columns; the classifier has {len(self.classes_)}: "
                f"{self.classes_.tolist()}."
            )
        return y.astype(np.float32)

    def _encode_labels(self, y, reset):
        """Class indices of ``y``; ``reset`` learns ``classes_`` from it, else they must match."""
        if reset:
            self.classes_ = np.unique(y)
        classes = self.classes_
        if not reset and self.warm_start:
            check_warm_start_classes(classes, y)  # MLPClassifier's rule, partial_fit included
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

    def _n_output_neurons(self, y) -> int:
        return len(self.classes_) if y.ndim == 1 else y.shape[1]


class BasePositionalRegressor(RegressorMixin, BasePositionalNetwork):
    """Base class of the regressors: real targets, one output neuron per target, MLPRegressor's
    losses (``loss="squared_error"``: identity outputs; ``"poisson"``: the outputs are the log
    of the predicted mean).

    Warning: This class should not be used directly. Use the derived classes instead.
    """

    _score_name = "valid_r2"
    _y_numeric = True
    _scaling_advice = (
        "scale X and y (e.g. with StandardScaler, and TransformedTargetRegressor for y)"
    )

    @available_if(_stochastic_solver)
    @exclusive
    @validated_every_call  # outside _fit_context, which skips it for a fitted estimator
    @_fit_context(prefer_skip_nested_validation=True)
    @uses_threads(_training_work)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Not available with ``solver="lbfgs"``, as for MLPRegressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (see :meth:`fit`).

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict using the trained model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values; one-dimensional when the model was fitted on a
            one-dimensional ``y``; float32 for float32 ``X``, else float64.
        """
        raw, dtype = self._inference_forward(X)
        outputs = output_for(self.out_activation_).activate(raw).numpy().astype(dtype, copy=False)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def score(self, X, y, sample_weight=None):
        """The coefficient of determination R^2 of ``predict(X)`` against ``y``.

        :func:`sklearn.metrics.r2_score`: 1 is a perfect prediction, 0 that of always
        predicting the mean of ``y``; negative is worse. Several outputs are averaged
        uniformly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of ``predict(X)`` against ``y``.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # --------------------------------------------------------------------------- the targets
    def _encode_targets(self, y, new_network, incremental):
        y = y.reshape(len(y), -1)
        check_float32_range(
            y,
            "y",
            "Scale y, e.g. with TransformedTargetRegressor(regressor, "
            "transformer=StandardScaler()).",
        )
        loss = self.loss if new_network else self._built["loss"]
        if loss == "poisson" and (y < 0).any():
            raise ValueError(
                "loss='poisson' models counts or rates, which are non-negative; y has negative "
                f"values (the smallest is {y.min()!r}). Use loss='squared_error', or shift y."
            )
        if new_network:
            self.out_activation_ = "exp" if loss == "poisson" else "identity"
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} target column(s); the network was fitted for "
                f"{self.n_outputs_}. warm_start and partial_fit continue the network as built."
            )
        return y.astype(np.float32)

    def _n_output_neurons(self, y) -> int:
        return y.shape[1]
