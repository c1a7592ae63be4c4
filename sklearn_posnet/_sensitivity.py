"""How the loss depends on every hidden neuron: what pruning and growth rank neurons by.

:func:`taylor_sensitivity` is the first-order Taylor sensitivity (Molchanov et al., 2017) that
pruning's criterion "taylor" removes the least sensitive neurons by; :func:`neuron_gradient_norms`
is the size of the loss gradient of each neuron's parameters, by which growth keeps the candidate
neurons that training would first use most.

Removing hidden neuron ``i`` sets its activation ``a_i`` to zero; to first order that changes the
loss of sample ``n`` by ``-a_ni * dl_n/da_ni``. The sensitivity of a neuron is the mean over the
samples of the absolute value of that change, ``mean_n |a_ni * dl_n/da_ni|``, weighted by the
sample weights when there are some.

Why the mean of absolute values and not the absolute value of the mean: near a minimum of the
training loss the mean of ``a_ni * dl_n/da_ni`` over the training data is close to zero for every
neuron (it is the gradient of the loss with respect to a gain on the neuron's output), so its
absolute value ranks neurons by noise; the per-sample changes are not small, and their mean
magnitude measures how much the predictions depend on the neuron (Molchanov et al. make the same
argument for taking the absolute value per example). The scores are estimated loss changes, in
the units of the loss, so the neurons of different layers can be ranked together without the
per-layer normalization that criteria without units need.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["neuron_gradient_norms", "taylor_sensitivity"]

#: Rows per forward and backward pass (bounds the memory of the activations kept for autograd).
_CHUNK_ROWS = 4096


def _rows(target, rows: slice):
    return tuple(part[rows] for part in target) if isinstance(target, tuple) else target[rows]


def taylor_sensitivity(net, X: torch.Tensor, target) -> list[np.ndarray]:
    """``mean_n |a_ni * dl_n/da_ni|`` for every hidden neuron of ``net.module_``.

    The loss is the net's own, ``net.get_loss(logits, target)``: the mean (or, with ``target``
    a pair ``(y, sample_weight)``, the weighted mean) of the samples' losses, so that the
    gradient of one chunk's loss with respect to sample ``n``'s activations is
    ``share_n * dl_n/da_n``: summing ``|a * gradient|`` over the rows gives the weighted mean
    of the per-sample terms directly (samples do not interact in the forward pass).

    Parameters
    ----------
    net : skorch NeuralNet
        A fitted net whose ``module_`` has ``forward_with_hidden``.
    X : Tensor of shape (n_samples, n_features)
        On the module's device.
    target : Tensor or tuple of Tensor
        What ``net.get_loss`` takes as ``y_true`` for these rows.

    Returns
    -------
    sensitivity : list of ndarray of shape (n_k,)
        One float64 array per hidden layer.
    """
    module = net.module_
    if len(module.layer_sizes) == 2:
        return []  # no hidden layer
    n_rows = len(X)
    weights = target[1] if isinstance(target, tuple) else None
    total_weight = float(weights.double().sum()) if weights is not None else float(n_rows)
    if not total_weight > 0:
        raise ValueError("The sample weights sum to zero: there is no loss to differentiate.")
    totals = None
    with torch.enable_grad():
        for start in range(0, n_rows, _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            chunk_target = _rows(target, rows)
            chunk_weight = (
                float(chunk_target[1].double().sum()) if weights is not None else len(X[rows])
            )
            if chunk_weight == 0:
                continue  # these rows weigh nothing (and their weighted mean is 0 / 0)
            logits, hidden = module.forward_with_hidden(X[rows])
            loss = net.get_loss(logits, chunk_target, X=X[rows], training=False)
            gradients = torch.autograd.grad(loss, hidden)
            share = chunk_weight / total_weight
            chunk_totals = [
                share * (a * g).abs().double().sum(dim=0)
                for a, g in zip(hidden, gradients, strict=True)
            ]
            totals = (
                chunk_totals
                if totals is None
                else [t + c for t, c in zip(totals, chunk_totals, strict=True)]
            )
    return [t.detach().cpu().numpy() for t in totals]


def neuron_gradient_norms(net, X: torch.Tensor, target) -> list[torch.Tensor]:
    """The module's ``neuron_gradient_norms()`` (one tensor per hidden layer, one norm per
    neuron) for the gradient of the net's loss on ``X``, with ``net``, ``X`` and ``target`` as
    for :func:`taylor_sensitivity`.

    One forward and backward pass over all of ``X`` (the loss is ``net.get_loss(logits,
    target)``, without penalty); the parameters' gradients are cleared before and after.
    """
    module = net.module_
    module.zero_grad()
    loss = net.get_loss(module(X), target, X=X)
    loss.backward()
    norms = module.neuron_gradient_norms()
    module.zero_grad()
    return norms
