"""Forward passes whose activations may leave the float64 range, for finite inputs of any size.

A finite input near the top of the float64 range (``1e308``) makes a plain float64 forward pass
overflow: a pre-activation becomes ``inf``, and ``inf - inf`` in the next matrix product (or
``swish(-inf)``) gives NaN logits, hence NaN probabilities. Here every row is carried as a
mantissa array and one power-of-two exponent, ``value = mantissa * 2**exponent`` with
``|mantissa| <= 1``, so the matrix products never overflow; only the activations see the real
values, where an overflow to ``inf`` is harmless once its limit is known.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["extended_range_forward", "recompute_overflowing_rows"]

#: Rows with a larger value than this take the extended-range path even when their plain
#: forward pass gives finite numbers: an intermediate overflow can hide behind an activation
#: that saturates (``tanh(inf) == 1``), and no data of real use comes near this size.
PLAIN_RANGE_LIMIT = 2.0**512

_LARGEST = np.finfo(np.float64).max


def _normalized(values: np.ndarray, exponent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``values * 2**exponent`` as mantissas of at most 1 and exponents of at least 0.

    Only powers of two are applied, so no digit is lost (but for values below 2**-1022).
    """
    _, magnitude = np.frexp(np.abs(values).max(axis=1, initial=0.0))
    shift = np.maximum(magnitude, -exponent)
    return np.ldexp(values, -shift[:, None]), exponent + shift


def _activated(activation, mantissa: np.ndarray, exponent: np.ndarray):
    """``activation(mantissa * 2**exponent)``, again as mantissas and exponents.

    Where the value overflows to ``inf``, the activation is evaluated at the largest float of the
    same sign instead: an activation that returns that float there grows like its input (relu
    and swish above zero, identity), and its value is the input's, kept as mantissa and exponent;
    any other value is the activation's bounded limit (tanh, logistic; relu and swish below zero).
    """
    value = np.ldexp(mantissa, exponent[:, None])
    overflowed = np.isinf(value)
    at_limit = np.where(overflowed, np.copysign(_LARGEST, value), 0.0)
    limit = activation(torch.from_numpy(at_limit)).numpy()
    grows = overflowed & (np.abs(limit) == _LARGEST)
    activated = np.where(overflowed, limit, activation(torch.from_numpy(value)).numpy())
    huge_rows = grows.any(axis=1)
    # Rows with a value beyond the float64 range keep their exponent; next to that value, the
    # bounded ones are negligible, and scaled down they may vanish.
    scaled = np.where(
        grows, mantissa, np.ldexp(np.where(grows, 0.0, activated), -exponent[:, None])
    )
    mantissa = np.where(huge_rows[:, None], scaled, activated)
    return _normalized(mantissa, np.where(huge_rows, exponent, 0))


@torch.no_grad()
def extended_range_forward(
    module, X: np.ndarray, *, features: bool = False, shift: bool = True
) -> np.ndarray:
    """Logits (or last hidden activations) of ``module`` for ``X``, computed without overflow.

    ``module`` is any network of this package: its output is ``X`` through the plain layers
    ``x @ W.T + b`` of its :meth:`~sklearn_posnet.nn.PositionNetwork.plain_layers`, with its
    ``activation`` between them. The weights are formed in float64, whole (tiled particle
    layers too), and the pass runs on the host.

    Parameters
    ----------
    module : PositionNetwork
    X : ndarray of shape (n_samples, n_inputs)
        Finite float64 values.
    features : bool, default=False
        Return the activations of the last hidden layer (``X`` itself when there is none)
        instead of the logits.
    shift : bool, default=True
        Return the logits minus their row maximum (for a softmax); False returns them as they
        are, ``inf`` (with its sign) where they exceed the float64 range (for outputs read one
        by one: a regression's values, multilabel logits).

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        With ``features``, the activations, ``inf`` where they exceed the float64 range. Else,
        with ``shift``, the logits minus their row maximum, which leaves the softmax and the
        argmax unchanged: the largest logit of each row is 0, the others are finite or ``-inf``.
    """
    with np.errstate(over="ignore", under="ignore"):  # overflows are what this path handles
        return _forward(module, X, features, shift)


def _forward(module, X, features, shift):
    layers = module.plain_layers(torch.float64)
    weights = [weight.cpu().numpy() for weight, _ in layers]
    biases = [bias.cpu().numpy() for _, bias in layers]
    activation = module.hidden_activation
    n_hidden = len(weights) - 1
    mantissa, exponent = _normalized(np.asarray(X, dtype=np.float64), np.zeros(len(X), int))
    for layer in range(n_hidden if features else len(weights)):
        pre_activation = mantissa @ weights[layer].T + np.ldexp(biases[layer], -exponent[:, None])
        mantissa, exponent = _normalized(pre_activation, exponent)
        if layer < n_hidden:
            mantissa, exponent = _activated(activation, mantissa, exponent)
    if features or not shift:
        return np.ldexp(mantissa, exponent[:, None])
    return np.ldexp(mantissa - mantissa.max(axis=1, keepdims=True), exponent[:, None])


def recompute_overflowing_rows(
    module, X: np.ndarray, outputs: torch.Tensor, *, features: bool = False, shift: bool = True
) -> torch.Tensor:
    """``outputs`` (of a plain float64 forward pass over ``X``), with the rows that overflowed
    recomputed by :func:`extended_range_forward`.

    A row is recomputed when its outputs are not all finite, or when ``X`` holds a value beyond
    :data:`PLAIN_RANGE_LIMIT` in it. Other rows are returned untouched, bit for bit. ``shift``
    is :func:`extended_range_forward`'s.
    """
    redo = ~torch.isfinite(outputs).all(dim=1).numpy()
    if X.dtype.itemsize > 4:  # float32 cannot hold such values
        redo |= (X.max(axis=1) > PLAIN_RANGE_LIMIT) | (X.min(axis=1) < -PLAIN_RANGE_LIMIT)
    if not redo.any():
        return outputs
    outputs = outputs.clone()
    rows = np.flatnonzero(redo)
    recomputed = extended_range_forward(
        module, X[rows].astype(np.float64), features=features, shift=shift
    )
    outputs[torch.from_numpy(rows)] = torch.from_numpy(recomputed).to(outputs.dtype)
    return outputs
