"""Building the skorch net and configuring it for each call: the estimators' network room.

:class:`NetworkBuilding` builds the net once per new network (:meth:`~NetworkBuilding._build_net`:
the module, its loss, the optimizer and every callback), refuses to continue a network whose
defining parameters changed (:meth:`~NetworkBuilding._check_network_unchanged`), and sets what
each ``fit`` or ``partial_fit`` call may change (:meth:`~NetworkBuilding._configure_call`: batch
size, penalty, optimizer, validation split, schedule, stopping rules).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from types import MappingProxyType

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback, EpochScoring, ProgressBar

from ._inference import InferenceCopy
from ._optimizers import SOLVERS
from ._outputs import output_for, target_of, validation_score
from ._recording import RECORDER_NAME, recording_callbacks
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
)

__all__ = [
    "BuiltNetwork",
    "NetworkBuilding",
    "as_tensor",
    "torch_generator",
]

# Loss evaluations one L-BFGS iteration may spend: the first, and scipy's default of at most
# 20 in the line search (MLPClassifier's lbfgs is scipy's).
_LBFGS_EVALUATIONS_PER_ITERATION = 21


def as_tensor(array: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``array`` as a tensor on ``device``: shares memory where it can, never a read-only buffer.

    Views torch cannot wrap (read-only, or with a negative stride: ``X[::-1]``, ``np.flip``) are
    copied first.
    """
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def torch_generator(random_state) -> torch.Generator:
    """A torch generator seeded from ``random_state`` without touching any global random state."""
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return torch.Generator().manual_seed(seed)


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


@dataclass(frozen=True)
class BuiltNetwork:
    """The configuration a fitted network was built with: the one owner of it.

    ``params`` is the estimator's ``get_params(deep=False)`` at the fit that built the network
    (deep-copied, ``device`` as a string), read-only, without ``hidden_layer_sizes``: the layer
    sizes are the module's own (``module_.layer_sizes``), which pruning and growth change, so
    nothing else keeps a copy of them. Whatever is rebuilt later (unpickling) or checked later (a
    warm start) reads this object, never the current constructor parameters, which a user may
    have changed since.
    """

    params: Mapping

    @classmethod
    def from_params(cls, params: Mapping) -> BuiltNetwork:
        """The record of a network built from the ``get_params()`` dictionary ``params``."""
        kept = {name: value for name, value in params.items() if name != "hidden_layer_sizes"}
        return cls(MappingProxyType(kept))

    def __getitem__(self, name: str):
        return self.params[name]

    def module_params(self, layer_sizes: Sequence[int]) -> dict:
        """A ``get_params()`` dictionary that builds this network with ``layer_sizes`` (the
        module's, input and output layers included): what ``_build_module`` takes, and what a
        saved estimator stores."""
        hidden = tuple(int(n) for n in layer_sizes[1:-1])
        return {**self.params, "hidden_layer_sizes": hidden}


class NetworkBuilding:
    """The estimators' net: built from a ``get_params()`` dictionary, configured per call.

    A mixin of :class:`~sklearn_posnet._base.BasePositionalNetwork`; it reads the estimator's
    parameters and its subclass hooks (``_build_module``, ``_penalty``, ``_module_callbacks``).
    """

    def _build_network(self, n_features, n_outputs, n_samples):
        """A new network, its generator, and the record of the parameters it was built with."""
        params = self.get_params(deep=False)
        # Callables (a falloff: a functools.partial, a callable object) are kept, not copied: a
        # copy is another object, which a warm start would take for a changed parameter.
        params = copy.deepcopy(params, {id(v): v for v in params.values() if callable(v)})
        params["device"] = str(params["device"])
        self._generator = torch_generator(self.random_state)
        self.net_ = self._build_net(
            params,
            n_features,
            n_outputs,
            n_samples,
            self._generator,
            self._device(),
        )
        self._built = BuiltNetwork.from_params(params)
        self._inference = InferenceCopy()

    def _check_network_unchanged(self):
        """Refuse to continue a network whose defining parameters were changed since it was
        built (MLPClassifier refuses a new ``hidden_layer_sizes`` the same way); the hidden sizes
        are the module's, as pruning or growth left them."""
        built = self._built.module_params(self.net_.module_.layer_sizes)
        changed = [
            name
            for name in self._module_params
            if not _same_value(
                self._comparable(name, getattr(self, name)),
                self._comparable(name, built[name]),
            )
        ]
        if changed:
            details = ", ".join(
                f"{name}={built[name]!r} -> {getattr(self, name)!r}" for name in changed
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
        # skorch's set_params refuses a new optimizer on an initialized net (it re-initializes
        # modules and criteria only), so the two are assigned and its initialize_optimizer run.
        for name, value in self._optimizer_params().items():
            setattr(net, name, value)
        net.initialize_optimizer()

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
        """The net's ``optimizer`` (the torch class with this solver's options bound, so that no
        ``optimizer__*`` entry of a previous solver can linger on the net) and ``lr``."""
        # torch's default single-tensor loop costs more than a small network's whole step on the
        # CPU. Adam and SGD have fused kernels (one pass per tensor); RMSprop has none, so
        # multi-tensor (foreach) updates.
        if self.solver == "lbfgs":
            optimizer = functools.partial(
                SOLVERS["lbfgs"],
                # One iteration per epoch, so that every callback sees every iteration.
                max_iter=1,
                max_eval=_LBFGS_EVALUATIONS_PER_ITERATION,
                tolerance_grad=self.tol,
                history_size=10,  # scipy's maxcor
                line_search_fn="strong_wolfe",
            )
            # scipy's unit first step: learning_rate_init is not used, as in MLPClassifier.
            return {"optimizer": optimizer, "lr": 1.0}
        if self.solver == "adam":
            options = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "fused": True}
        elif self.solver == "rmsprop":
            options = {"alpha": 0.99, "eps": self.epsilon, "foreach": True}
        else:
            options = {
                "momentum": self.momentum,
                "nesterov": self.nesterovs_momentum and self.momentum > 0,
                "fused": True,
            }
        optimizer = functools.partial(SOLVERS[self.solver], **options)
        return {"optimizer": optimizer, "lr": self.learning_rate_init}

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
