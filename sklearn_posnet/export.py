"""Take a fitted network anywhere: as a scikit-learn MLP, a plain torch network, or ONNX.

A positional or particle network computes exactly what a plain multilayer perceptron computes
with its *effective* weights (falloff applied, dipoles multiplied out). These functions form
those weights once, in float64, and hand them to a model that needs nothing of this package:

- :func:`to_sklearn`: a fitted :class:`~sklearn.neural_network.MLPClassifier` (or
  :class:`~sklearn.neural_network.MLPRegressor` for a regressor);
- :func:`to_torch`: a :class:`torch.nn.Sequential` of :class:`~torch.nn.Linear` layers and
  activations, which ``torch.export.export``, ``torch.jit.trace`` and ``torch.onnx.export``
  take as they take any plain network;
- :func:`to_onnx`: that network exported to ONNX (needs the ``export`` extra:
  ``pip install sklearn_posnet[export]``).

Only hidden activations that both scikit-learn and torch have export ("identity",
"logistic", "tanh", "relu"); "swish" has no scikit-learn counterpart.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._outputs import OUTPUTS, Exp, output_for
from .nn.activations import ACTIVATION_LAYERS
from .nn.base import PositionNetwork

__all__ = ["EXPORTABLE_ACTIVATIONS", "Exp", "to_onnx", "to_sklearn", "to_torch"]

#: The hidden activations of scikit-learn's MLPs.
_SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
#: Hidden activations that export, with their torch modules.
EXPORTABLE_ACTIVATIONS = {name: ACTIVATION_LAYERS[name] for name in _SKLEARN_ACTIVATIONS}
_OUTPUTS = ("logits", "proba", "predict")


@dataclass(frozen=True)
class _PlainNetwork:
    """A fitted network reduced to a plain MLP: float64 weights ``(n_out, n_in)`` per layer,
    biases, the hidden activation, and what the output means (``head``)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: str
    head: str  # the estimator's out_activation_: "softmax", "logistic", "identity" or "exp"


def _plain_network(estimator) -> _PlainNetwork:
    """The effective weights of a fitted estimator, computed in float64 from its module."""
    check_is_fitted(estimator)
    module = getattr(estimator, "module_", None)
    if not isinstance(module, PositionNetwork):
        raise TypeError(
            f"{type(estimator).__name__} cannot be exported: it needs a fitted module_ that "
            "is a PositionNetwork (one of this package's estimators; for a NeuronPruner, pass "
            "its estimator_)."
        )
    head = getattr(estimator, "out_activation_", None)
    if head not in OUTPUTS:
        raise TypeError(
            f"{type(estimator).__name__} cannot be exported: its out_activation_ {head!r} is "
            f"not one of {sorted(OUTPUTS)}."
        )
    activation = module.activation
    if activation not in EXPORTABLE_ACTIVATIONS:
        raise ValueError(
            f"activation={activation!r} cannot be exported: scikit-learn's MLPClassifier has no "
            f"such activation. Activations that export: {sorted(EXPORTABLE_ACTIVATIONS)}."
        )
    layers = module.plain_layers(torch.float64, device="cpu")
    weights = [weight.numpy() for weight, _ in layers]
    biases = [bias.numpy() for _, bias in layers]
    return _PlainNetwork(weights, biases, activation, head=head)


def to_sklearn(estimator) -> MLPClassifier | MLPRegressor:
    """A fitted :class:`~sklearn.neural_network.MLPClassifier` (or
    :class:`~sklearn.neural_network.MLPRegressor`) computing what ``estimator`` does.

    Its ``coefs_`` are the effective weights. With two classes, scikit-learn's MLP has a single
    logistic output where ours has two softmax logits ``(z0, z1)``; since
    ``softmax(z)[1] == logistic(z1 - z0)``, the output layer becomes the difference of the two
    rows, which gives the same probabilities and predictions. Multilabel classifiers and
    regressors (both losses) map one to one.

    Parameters
    ----------
    estimator : PositionalMLPClassifier, ParticleNetworkClassifier, PositionalMLPRegressor \
            or ParticleNetworkRegressor
        Fitted, with a hidden activation in :data:`EXPORTABLE_ACTIVATIONS`.

    Returns
    -------
    MLPClassifier or MLPRegressor
        Fitted: ``predict`` (and ``predict_proba``) agree with ``estimator``'s (up to float64
        rounding); it can be pickled, or converted further with skl2onnx. Its training state
        (``loss_curve_``, optimizer) is empty: refit it and it trains as a fresh MLP.

    Raises
    ------
    ValueError
        If the activation has no scikit-learn counterpart ("swish").

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.export import to_sklearn
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> clf = clf.fit(X[:200] / 16, y[:200])
    >>> mlp = to_sklearn(clf)
    >>> bool((mlp.predict(X / 16) == clf.predict(X / 16)).all())
    True
    """
    plain = _plain_network(estimator)
    coefs = [w.T.copy() for w in plain.weights]
    intercepts = [b.copy() for b in plain.biases]
    hidden = tuple(w.shape[0] for w in plain.weights[:-1])
    n_features, n_outputs = coefs[0].shape[0], coefs[-1].shape[1]
    if not is_classifier(estimator):
        loss = "poisson" if plain.head == "exp" else "squared_error"
        mlp = MLPRegressor(hidden_layer_sizes=hidden, activation=plain.activation, loss=loss)
        placeholder_y = np.zeros((2, n_outputs)) if n_outputs > 1 else np.zeros(2)
    else:
        classes = np.asarray(estimator.classes_)
        mlp = MLPClassifier(hidden_layer_sizes=hidden, activation=plain.activation)
        if plain.head == "logistic":  # multilabel: one logistic output per label
            placeholder_y = np.eye(len(classes), dtype=int)
        else:
            placeholder_y = classes
            if len(classes) == 2:  # MLPClassifier's one logistic output: z1 - z0
                coefs[-1] = coefs[-1][:, 1:2] - coefs[-1][:, 0:1]
                intercepts[-1] = intercepts[-1][1:2] - intercepts[-1][0:1]
    # MLPClassifier's own fit sets every fitted attribute its predict methods read (the label
    # encoding included), on one placeholder row per class; its weights are then replaced. lbfgs
    # leaves no optimizer state behind; the parameters are set back to MLPClassifier's defaults.
    defaults = {"solver": mlp.solver, "max_iter": mlp.max_iter, "random_state": mlp.random_state}
    mlp.set_params(solver="lbfgs", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(np.zeros((len(placeholder_y), n_features)), placeholder_y)
    mlp.set_params(**defaults)
    if [c.shape for c in mlp.coefs_] != [c.shape for c in coefs]:
        raise RuntimeError(
            f"scikit-learn's MLP has layers {[c.shape for c in mlp.coefs_]}, the network "
            f"{[c.shape for c in coefs]}: this version of scikit-learn lays them out otherwise."
        )
    mlp.coefs_, mlp.intercepts_ = coefs, intercepts
    if hasattr(estimator, "feature_names_in_"):
        mlp.feature_names_in_ = estimator.feature_names_in_
    mlp.n_iter_, mlp.t_ = 0, 0
    mlp.loss_curve_, mlp.best_loss_ = [], None
    del mlp.loss_  # the placeholder's
    return mlp


def to_torch(
    estimator, *, dtype: torch.dtype = torch.float32, output: str = "logits"
) -> nn.Sequential:
    """A plain :class:`torch.nn.Sequential` computing what ``estimator``'s module computes.

    ``Linear, activation, Linear, ..., Linear`` with the effective weights (formed in float64,
    then cast to ``dtype``). It holds nothing of this package, so every torch route takes it:
    ``torch.export.export``, ``torch.jit.trace``, ``torch.onnx.export``, ``torch.compile``.

    Parameters
    ----------
    estimator : fitted estimator of this package
        Fitted, with a hidden activation in :data:`EXPORTABLE_ACTIVATIONS`.
    dtype : torch.dtype, default=torch.float32
        Of the parameters, and so of the inputs the network takes.
    output : {"logits", "proba", "predict"}, default="logits"
        What the network returns: the raw outputs (what ``estimator.module_`` returns); a
        classifier's probabilities ("proba": a final :class:`~torch.nn.Softmax`, or a
        :class:`~torch.nn.Sigmoid` for multilabel), in the order of ``classes_``; or a
        regressor's predictions ("predict": nothing more, or :class:`Exp` for
        ``loss="poisson"``).

    Returns
    -------
    torch.nn.Sequential
        In eval mode, with ``requires_grad=False`` parameters, on the CPU.

    Examples
    --------
    With ``clf`` a fitted classifier and ``X`` its data:

    >>> from sklearn_posnet.export import to_torch
    >>> network = to_torch(clf)  # doctest: +SKIP
    >>> network(torch.as_tensor(X[:5] / 16, dtype=torch.float32)).argmax(dim=1)  # doctest: +SKIP
    """
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {list(_OUTPUTS)}, got {output!r}.")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}.")
    plain = _plain_network(estimator)
    regressor = plain.head in ("identity", "exp")
    if (output == "proba" and regressor) or (output == "predict" and not regressor):
        kind = "a regressor" if regressor else "a classifier"
        raise ValueError(
            f"output={output!r} does not apply to {kind}: use "
            f"{'predict' if regressor else 'proba'!r} or 'logits'."
        )
    layers: list[nn.Module] = []
    for index, (weight, bias) in enumerate(zip(plain.weights, plain.biases)):
        linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
        if index < len(plain.weights) - 1:
            layers.append(EXPORTABLE_ACTIVATIONS[plain.activation]())
    if output != "logits":
        layers.append(output_for(plain.head).layer())
    network = nn.Sequential(*layers).eval()
    network.requires_grad_(False)
    return network


def to_onnx(
    estimator,
    path: str | os.PathLike | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    output: str = "logits",
):
    """``estimator`` as an ONNX model: :func:`to_torch`'s network through ``torch.onnx.export``.

    The model has one input, ``"input"``, of shape ``(batch, n_features)`` with any batch size,
    and one output, ``"logits"`` or ``"proba"`` (see ``output``). Needs the ``onnx`` and
    ``onnxscript`` packages (``pip install sklearn_posnet[export]``); run it with
    ``onnxruntime``.

    Parameters
    ----------
    estimator : fitted estimator of this package
        Fitted, with a hidden activation in :data:`EXPORTABLE_ACTIVATIONS`.
    path : str or path-like, optional
        Where to write the ``.onnx`` file; by default nothing is written.
    dtype : torch.dtype, default=torch.float32
        Of the weights and of the input the model takes.
    output : {"logits", "proba", "predict"}, default="logits"
        What the model returns (see :func:`to_torch`).

    Returns
    -------
    onnx.ModelProto

    Examples
    --------
    With ``clf`` a fitted classifier and ``X`` its data:

    >>> import onnxruntime  # doctest: +SKIP
    >>> from sklearn_posnet.export import to_onnx
    >>> model = to_onnx(clf)  # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())  # doctest: +SKIP
    >>> logits = session.run(None, {"input": X.astype("float32") / 16})[0]  # doctest: +SKIP
    """
    network = to_torch(estimator, dtype=dtype, output=output)
    example = torch.zeros(2, network[0].in_features, dtype=dtype)
    with warnings.catch_warnings():
        # torch's exporter copies its own pytree specs, which warns about their deprecated
        # LeafSpec class (torch 2.13): nothing the caller can act on.
        warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
        program = torch.onnx.export(
            network,
            (example,),
            input_names=["input"],
            output_names=[output],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            dynamo=True,
            verbose=False,
        )
    if path is not None:
        program.save(os.fspath(path))
    return program.model_proto
