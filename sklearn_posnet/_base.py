"""What every estimator shares: validation, building and driving the skorch net, fitted attributes.

:class:`BasePositionalNetwork` holds all of it; :class:`BasePositionalClassifier` and
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
import copy
import time
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
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
from skorch.callbacks import Callback, EpochScoring, ProgressBar

from . import _persistence
from ._concurrency import exclusive
from ._inference import InferenceCopy
from ._outputs import consistent_log_proba, output_for, target_of, validation_score
from ._recording import RECORDER_NAME, recording_callbacks
from ._sensitivity import taylor_sensitivity
from ._threads import data_shape, forward_work, uses_threads
from ._training import (
    DivergenceGuard,
    EpochLog,
    HoldOutSplit,
    InverseScaling,
    KeepBestEpoch,
    LbfgsStopping,
    PlateauStopping,
    PosNet,
    TensorBatches,
    TensorDataset,
    TrainingCurves,
    TrainingDiverged,
)
from ._validation import (
    CALLBACKS,
    DEVICES,
    HIDDEN_LAYER_SIZES,
    check_float32_range,
    check_label_types,
    check_training_weights,
    check_warm_start_classes,
    validated_every_call,
)
from .nn._extended_range import recompute_overflowing_rows
from .nn.activations import ACTIVATIONS

__all__ = ["BasePositionalClassifier", "BasePositionalNetwork", "BasePositionalRegressor"]

_SOLVERS = {
    "adam": torch.optim.Adam,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
    "lbfgs": torch.optim.LBFGS,
}
# Loss evaluations one L-BFGS iteration may spend: the first, and scipy's default of at most
# 20 in the line search (MLPClassifier's lbfgs is scipy's).
_LBFGS_EVALUATIONS_PER_ITERATION = 21
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


#: Names of the callbacks every network gets; a user's callbacks take other names.
_OWN_CALLBACKS = (
    "divergence",
    "valid_acc",
    "valid_r2",
    "curves",
    "plateau",
    "schedule",
    "lbfgs",
    "best_epoch",
    RECORDER_NAME,
)


def _same_value(a, b) -> bool:
    """Whether two parameter values are equal (arrays and sequences element-wise)."""
    if a is b:
        return True
    if isinstance(a, (np.ndarray, list, tuple)) or isinstance(b, (np.ndarray, list, tuple)):
        try:
            return np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        except (TypeError, ValueError):
            return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _hidden_sizes(value) -> tuple:
    return (value,) if isinstance(value, Integral) else tuple(value)


def _stochastic_solver(estimator) -> bool:
    """Whether ``partial_fit`` is available: as MLPClassifier's, not with ``solver="lbfgs"``."""
    if isinstance(estimator.solver, str) and estimator.solver == "lbfgs":
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers; {estimator.solver!r} is "
            "not stochastic."
        )
    return True


class BasePositionalNetwork(BaseEstimator, metaclass=ABCMeta):
    """Base class of the estimators: the scikit-learn contract around a skorch net.

    Subclasses say which torch module to build (:meth:`_build_module`), which parameters define
    it (``_module_params``), which penalty to add (:meth:`_penalty`) and which callbacks the
    module needs (:meth:`_module_callbacks`); the classifier and regressor bases say how ``y``
    becomes training targets (:meth:`_encode_targets`) and what the outputs mean
    (``out_activation_``, see :mod:`sklearn_posnet._outputs`). This class validates the data,
    drives the fit and exposes MLPClassifier's fitted attributes.

    Warning: This class should not be used directly. Use the derived classes instead.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [HIDDEN_LAYER_SIZES],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(_SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
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
        "callbacks": [CALLBACKS, None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
    }

    #: The parameters that define the torch module. A warm-started ``fit`` or a ``partial_fit``
    #: continues the network as it was built and refuses a change of any of them.
    _module_params: tuple = ("hidden_layer_sizes", "activation")

    # ----------------------------------------------------------------- what subclasses provide
    @abstractmethod
    def _build_module(self, n_features: int, n_outputs: int, generator, params=None):
        """Return the torch module for ``n_features`` inputs and ``n_outputs`` logits, built from
        ``params`` (a ``get_params()`` dictionary; the current parameters when None)."""

    def _penalty(self) -> _Penalty | None:
        """The training penalty (None for none)."""
        return _Penalty(alpha=self.alpha) if self.alpha else None

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

    @exclusive
    def select_hidden_neurons(self, keep) -> BasePositionalNetwork:
        """Shrink the fitted network in place to the hidden neurons in ``keep``.

        The door :class:`~sklearn_posnet.NeuronPruner` goes through: the module drops the other
        neurons' weights, biases and positions; ``hidden_layer_sizes`` (and the configuration
        the network was built with) become the new sizes; the optimizer is rebuilt on the new
        parameter tensors (the old one would hold the removed tensors and silently train
        nothing); the recorded positions keep the kept neurons' trajectories.

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
        module = self.net_.module_
        device = next(module.parameters()).device
        keep = [np.asarray(k, dtype=np.int64).reshape(-1) for k in keep]
        module.select_hidden_neurons([torch.as_tensor(k, device=device) for k in keep])
        sizes = tuple(int(n) for n in module.layer_sizes[1:-1])
        self.hidden_layer_sizes = sizes
        self._built_with["hidden_layer_sizes"] = sizes
        self.net_.initialize_optimizer()
        recorder = self.net_.callback(RECORDER_NAME)
        if recorder is not None:
            recorder.select_hidden_neurons(keep)
        return self

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
        ``warm_start=True``) makes them contribute. ``hidden_layer_sizes`` becomes the new sizes,
        the optimizer starts afresh on the new parameter tensors (its moment estimates are
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
        module = self.net_.module_
        generator = self._generator if random_state is None else _torch_generator(random_state)
        n_drawn = n_new * n_candidates if guided else n_new
        module.grow_hidden(hidden_layer, n_drawn, positions=positions, generator=generator)
        layer = int(hidden_layer) + 1
        first_new = module.layer_sizes[layer] - n_drawn
        if guided:
            device = next(module.parameters()).device
            module.zero_grad()
            X_tensor = _as_tensor(X, torch.float32, device)
            logits = module(X_tensor)
            loss = self.net_.get_loss(logits, self._target_tensor(y, device), X=X_tensor)
            loss.backward()
            norms = module.neuron_gradient_norms()[hidden_layer][first_new:].cpu()
            module.zero_grad()
            best = torch.argsort(norms, descending=True, stable=True)[:n_new].sort().values
            keep = [torch.arange(size) for size in module.layer_sizes[1:-1]]
            keep[hidden_layer] = torch.cat([torch.arange(first_new), first_new + best])
            module.select_hidden_neurons(keep)
        born = slice(first_new, None)
        dipoles = getattr(module, "dipoles", None)
        recorder = self.net_.callback(RECORDER_NAME)
        if recorder is not None:
            recorder.grow_layer(
                layer,
                module.positions[layer][born].detach().cpu().numpy(),
                None if dipoles is None else dipoles[layer][born].detach().cpu().numpy(),
            )
        sizes = tuple(int(n) for n in module.layer_sizes[1:-1])
        self.hidden_layer_sizes = sizes
        self._built_with["hidden_layer_sizes"] = sizes
        self.net_.initialize_optimizer()
        return self

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
        with torch.no_grad():
            return [w.cpu().numpy().T.copy() for w in module.effective_weights()]

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

    def __sklearn_is_fitted__(self) -> bool:
        return "net_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------------------ saving
    def __getstate__(self):
        # The net and generator are saved as numpy arrays and builtins: see _persistence.
        # (object.__getstate__ returns the instance's own __dict__: copy it before changing it.)
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        generator = state.pop("_generator", None)
        state.pop("_inference", None)
        torch_state = {}
        if net is not None:
            torch_state.update(
                module=dict(net.module_.state_dict()),
                layer_sizes=[int(n) for n in net.module_.layer_sizes],
                module_config=_persistence.module_config(net.module_),
                optimizer=net.optimizer_.state_dict(),
                batch_size=int(net.batch_size),
                callbacks={
                    name: callback.state_dict()
                    for name, callback in net.callbacks_
                    if callable(getattr(callback, "state_dict", None))
                },
            )
        if generator is not None:
            torch_state["generator"] = generator.get_state()
        if isinstance(state.get("device"), torch.device):
            state["device"] = str(state["device"])
            torch_state["device_is_torch_device"] = True
        return _persistence.pack(state, torch_state)

    def __setstate__(self, state):
        state, torch_state = _persistence.unpack(state)
        super().__setstate__(state)
        if torch_state is None:
            return
        _persistence.check_saved_state(self, torch_state)
        if torch_state.get("device_is_torch_device"):
            self.device = torch.device(self.device)
        generator = None
        if "generator" in torch_state:
            generator = torch.Generator()
            generator.set_state(torch.from_numpy(torch_state["generator"].copy()))
            self._generator = generator
        if "module" in torch_state:
            self._restore_net(torch_state, generator)

    def _restore_net(self, torch_state: dict, generator) -> None:
        """Rebuild ``net_`` from a saved state, with the configuration it was built with (its
        saved layer sizes, after pruning) on the current ``device`` or the CPU if it is absent."""
        layer_sizes = torch_state["layer_sizes"]
        params = dict(self._built_with, hidden_layer_sizes=tuple(layer_sizes[1:-1]))
        net = self._build_net(
            params,
            layer_sizes[0],
            layer_sizes[-1],
            torch_state["batch_size"],
            generator if generator is not None else torch.Generator(),
            _persistence.loading_device(self.device),
        )
        if generator is not None:
            # Building drew random numbers for an initialization that is about to be overwritten.
            generator.set_state(torch.from_numpy(torch_state["generator"].copy()))
        _persistence.check_net_state(self, torch_state, net)
        net.module_.load_state_dict(_persistence.to_torch_tree(torch_state["module"]))
        net.optimizer_.load_state_dict(_persistence.to_torch_tree(torch_state["optimizer"]))
        for name, callback_state in torch_state.get("callbacks", {}).items():
            callback = net.callback(name)
            if callback is not None:
                callback.load_state_dict(callback_state)
        self.net_ = net
        self._inference = InferenceCopy()

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
            self._configure_call(incremental, new_network, n_samples=len(X))
            X_tensor, target = self._training_tensors(X, y, sample_weight)
        self._train(X_tensor, target, epochs=1 if incremental else self.max_iter)
        if not incremental:
            self._warn_if_not_converged()
        return self

    @contextlib.contextmanager
    def _unchanged_on_error(self):
        """Leave the estimator exactly as it was if preparing a fit fails (bad data, a network
        that cannot be built): no half-fitted estimator whose ``predict`` fails oddly."""
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

    def _build_network(self, n_features, n_outputs, n_samples):
        """A new network, its generator, and the record of the parameters it was built with."""
        params = self.get_params(deep=False)
        # Callables (a falloff: a functools.partial, a callable object) are kept, not copied: a
        # copy is another object, which a warm start would take for a changed parameter.
        params = copy.deepcopy(params, {id(v): v for v in params.values() if callable(v)})
        params["device"] = str(params["device"])
        self._generator = _torch_generator(self.random_state)
        self.net_ = self._build_net(
            params,
            n_features,
            n_outputs,
            n_samples,
            self._generator,
            self._device(),
        )
        self._built_with = params
        self._inference = InferenceCopy()

    def _check_network_unchanged(self):
        """Refuse to continue a network whose defining parameters were changed since it was
        built (MLPClassifier refuses a new ``hidden_layer_sizes`` the same way)."""
        changed = [
            name
            for name in self._module_params
            if not _same_value(
                self._comparable(name, getattr(self, name)),
                self._comparable(name, self._built_with[name]),
            )
        ]
        if changed:
            details = ", ".join(
                f"{name}={self._built_with[name]!r} -> {getattr(self, name)!r}" for name in changed
            )
            raise ValueError(
                f"The network was built with other parameters than the current ones ({details}); "
                "warm_start and partial_fit continue the network as built. Set them back, or fit "
                "with warm_start=False to build a new network."
            )

    @staticmethod
    def _comparable(name, value):
        return _hidden_sizes(value) if name == "hidden_layer_sizes" else value

    def _configure_call(self, incremental, new_network, n_samples):
        """Set this call's batch size, penalty, optimizer, validation split, learning-rate
        schedule and stopping rules."""
        net = self.net_
        lbfgs = self.solver == "lbfgs"
        # As MLPClassifier's, lbfgs takes the whole data at once and holds none out.
        early_stopping = self.early_stopping and not (incremental or lbfgs)
        train_split = None
        if early_stopping:
            seed = int(torch.randint(2**31 - 1, (1,), generator=self._generator))
            train_split = HoldOutSplit(
                self.validation_fraction, seed, stratify=net.criterion_.stratify
            )
        net.set_params(
            batch_size=n_samples if lbfgs else self._batch_size(n_samples),
            penalty=self._penalty(),
            train_split=train_split,
        )
        if not (incremental or new_network):
            self._restart_optimizer()
        schedule = self.learning_rate if self.solver == "sgd" else "constant"
        net.callback("schedule").set_params(
            learning_rate_init=self.learning_rate_init,
            power_t=self.power_t if schedule == "invscaling" else None,
        )
        net.callback("lbfgs").set_params(active=lbfgs, max_fun=self.max_fun)
        plateau = net.callback("plateau")
        monitor = self._score_name if early_stopping else "train_loss"
        if early_stopping or plateau.monitor != monitor:
            plateau.set_params(monitor=monitor, lower_is_better=not early_stopping)
            plateau.restart()
        plateau.set_params(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            stop=not (incremental or lbfgs),
            lower_learning_rate=schedule == "adaptive",
        )

    def _restart_optimizer(self):
        """A fresh optimizer from the current solver parameters: as MLPClassifier's, a
        warm-started fit starts one (the solver itself may have changed); partial_fit keeps
        the optimizer's state."""
        net = self.net_
        for name in [name for name in vars(net) if name.startswith("optimizer__")]:
            delattr(net, name)  # the previous solver's options (skorch reads them from here)
        for name, value in self._optimizer_params().items():
            setattr(net, name, value)
        net.initialize_optimizer()

    def _target_tensor(self, y, device) -> torch.Tensor:
        """Encoded targets as the tensor the output layer's loss takes."""
        return _as_tensor(y, self.net_.criterion_.target_dtype, device)

    def _training_tensors(self, X, y, sample_weight):
        """X and the target as tensors on the module's device; the target is a pair
        (labels, weights) when there are sample weights (see ``TensorDataset``)."""
        self._device()  # the requested device must exist (a model loaded without its GPU)
        device = next(self.net_.module_.parameters()).device
        target = self._target_tensor(y, device)
        if sample_weight is not None:
            target = (target, _as_tensor(sample_weight, torch.float32, device))
        return _as_tensor(X, torch.float32, device), target

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
                warnings.warn(
                    f"lbfgs failed to converge: it used its {used} before the gradient (tol) or "
                    "the loss's decrease became small enough. Increase max_iter or max_fun, or "
                    "scale X (e.g. with StandardScaler).",
                    ConvergenceWarning,
                    stacklevel=7,  # this, _fit, fit and its 3 decorators: the caller
                )
            return
        if not self.net_.callback("plateau").converged_ and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=7,  # this, _fit, fit and its 3 decorators: the caller of fit
            )

    # ------------------------------------------------------------------- building the network
    def _layer_sizes(self, n_features, n_outputs, hidden=None):
        hidden = self.hidden_layer_sizes if hidden is None else hidden
        sizes = [hidden] if isinstance(hidden, Integral) else list(hidden)
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in sizes):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must be an int >= 1 "
                "or a sequence of ints >= 1 (one per hidden layer). "
                f"Got {hidden!r} instead."
            )
        return [n_features, *(int(h) for h in sizes), n_outputs]

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
        if self.solver == "lbfgs":
            return {
                "optimizer": torch.optim.LBFGS,
                # scipy's unit first step: learning_rate_init is not used, as in MLPClassifier.
                "lr": 1.0,
                # One iteration per epoch, so that every callback sees every iteration.
                "optimizer__max_iter": 1,
                "optimizer__max_eval": _LBFGS_EVALUATIONS_PER_ITERATION,
                "optimizer__tolerance_grad": self.tol,
                "optimizer__history_size": 10,  # scipy's maxcor
                "optimizer__line_search_fn": "strong_wolfe",
            }
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

    def _user_callbacks(self, callbacks) -> list:
        """Copies of the user's ``callbacks`` (the parameter itself stays unfitted), named."""
        named = []
        for item in callbacks or []:
            name, callback = item if isinstance(item, tuple) else (None, item)
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be a list of skorch callbacks (skorch.callbacks.Callback "
                    f"instances) or (name, callback) pairs; got {item!r}."
                )
            name = name or type(callback).__name__
            if name in _OWN_CALLBACKS:
                raise ValueError(
                    f"The callback name {name!r} is taken by the estimator's own callbacks "
                    f"{list(_OWN_CALLBACKS)}; pass it as a (name, callback) pair with another name."
                )
            named.append((name, copy.deepcopy(callback)))
        return named

    def _build_net(self, params, n_features, n_outputs, n_samples, generator, device):
        """The skorch net over a new module built from ``params``, with every callback."""
        module = self._build_module(n_features, n_outputs, generator, params=params).to(device)
        score_name = self._score_name
        callbacks = [
            ("divergence", DivergenceGuard()),
            (
                score_name,
                EpochScoring(
                    validation_score,
                    lower_is_better=False,
                    on_train=False,
                    name=score_name,
                    target_extractor=target_of,
                ),
            ),
            ("curves", TrainingCurves(score_name)),
            ("schedule", InverseScaling(params["learning_rate_init"], power_t=None)),
            ("lbfgs", LbfgsStopping()),
            ("plateau", PlateauStopping()),
            ("best_epoch", KeepBestEpoch(score_name)),
            *self._module_callbacks(params),
            *recording_callbacks(params["record_positions"]),
            *self._user_callbacks(params["callbacks"]),
        ]
        verbose = int(params["verbose"])
        if verbose:
            callbacks.append(("print_log", EpochLog()))
        if verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        net = PosNet(
            module=module,
            criterion=output_for(self.out_activation_),
            penalty=self._penalty(),
            batch_size=self._batch_size(n_samples),
            max_epochs=params["max_iter"],
            train_split=None,
            dataset=TensorDataset,
            iterator_train=TensorBatches,
            iterator_train__shuffle=params["shuffle"],
            iterator_train__generator=generator,
            iterator_valid=TensorBatches,
            callbacks=callbacks,
            device=device,
            verbose=verbose,
            **self._optimizer_params(),
        )
        return net.initialize()

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
            rows = _as_tensor(X[start : start + _PREDICT_CHUNK], torch.float64, device)
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

    _parameter_constraints: dict = {
        **BasePositionalNetwork._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
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
        loss = self.loss if new_network else self._built_with["loss"]
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
