"""What the output layer means: its loss, its activation and its validation score.

One class per output activation of scikit-learn's MLPs (their ``out_activation_``): ``softmax``
for multiclass classification (binary too: two logits), ``logistic`` for multilabel
classification, ``identity`` for squared-error regression and ``exp`` for Poisson regression.
Each is the skorch ``criterion`` of the net: ``forward(raw, target)`` is the training loss of a
batch, where ``target`` is the targets or a pair ``(targets, sample_weights)``. Every loss is
MLPClassifier's and MLPRegressor's, value for value: a (weighted) mean over the samples of the
per-sample loss, summed over the outputs for the log and Poisson losses and averaged over them
for the squared error (the "half" losses of scikit-learn's ``neural_network._base``).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import accuracy_score, r2_score
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

__all__ = [
    "OUTPUTS",
    "Output",
    "consistent_log_proba",
    "output_for",
    "target_of",
    "validation_score",
]


class Output(torch.nn.Module):
    """Base class: the loss, the prediction-time activation and the validation score."""

    #: scikit-learn's name of the output activation (``out_activation_``).
    name: str = ""
    #: dtype of the training targets.
    target_dtype: torch.dtype = torch.float32
    #: Whether a held-out split should keep the class proportions.
    stratify: bool = False

    def per_sample_loss_and_gradient(
        self, raw: torch.Tensor, target: torch.Tensor, gradient: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The loss of every sample, shape ``(n_samples,)``, and (with ``gradient``) its
        derivative with respect to ``raw``, row ``i`` that of sample ``i``'s loss, in closed
        form (None without ``gradient``)."""
        raise NotImplementedError

    def per_sample_loss(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of every sample, shape ``(n_samples,)``."""
        return self.per_sample_loss_and_gradient(raw, target, gradient=False)[0]

    def loss_and_gradient(
        self, raw: torch.Tensor, target, gradient: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The batch's loss and its gradient with respect to ``raw``, without autograd.

        The loss is the mean of the per-sample losses or, with sample weights (``target`` a
        pair ``(targets, weights)``), their weighted mean ``sum(w_i * loss_i) / sum(w_i)``;
        the gradient is the closed form of its derivative (MLPClassifier's ``deltas`` of the
        last layer), the same tensor that autograd's backward of :meth:`forward` returns.

        Parameters
        ----------
        raw : Tensor of shape (n_samples, n_outputs)
            The raw outputs (logits).
        target : Tensor or (Tensor, Tensor)
            The targets, or the targets and the sample weights.
        gradient : bool, default=True
            Whether to form the gradient (None otherwise).

        Returns
        -------
        loss : Tensor
            A float64 scalar, detached: the per-sample losses are summed in float64, so that
            the loss of a float32 network resolves changes below float32's precision (L-BFGS's
            line search and stopping rule compare losses that close).
        gradient : Tensor of shape (n_samples, n_outputs) or None
            In ``raw``'s dtype.
        """
        weights = None
        if isinstance(target, (tuple, list)):
            target, weights = target
        with torch.no_grad():
            per_sample, grad = self.per_sample_loss_and_gradient(raw.detach(), target, gradient)
            if weights is None:
                if grad is not None:
                    grad.mul_(1.0 / len(per_sample))
                return per_sample.mean(dtype=torch.float64), grad
            total = weights.sum()
            if grad is not None:
                grad.mul_((weights / total).unsqueeze(1))
            return (per_sample * weights).sum(dtype=torch.float64) / total, grad

    def forward(self, raw: torch.Tensor, target) -> torch.Tensor:
        """The batch's loss (see :meth:`loss_and_gradient`), differentiable with respect to
        ``raw``: autograd's gradient is the closed form, so a step differentiated by autograd
        and one differentiated by hand (:meth:`loss_and_gradient`) agree bit for bit."""
        if not (raw.requires_grad and torch.is_grad_enabled()):
            return self.loss_and_gradient(raw, target, gradient=False)[0]
        return _ClosedFormLoss.apply(self, raw, target)

    @staticmethod
    def activate(raw: torch.Tensor) -> torch.Tensor:
        """The predicted values (probabilities, regression values) from the raw outputs."""
        raise NotImplementedError

    @staticmethod
    def layer() -> torch.nn.Module:
        """A torch layer computing :meth:`activate` (what a plain torch copy ends with)."""
        raise NotImplementedError

    @staticmethod
    def log_activate(raw: torch.Tensor) -> torch.Tensor:
        """The logarithm of :meth:`activate`, computed stably (classifiers' outputs)."""
        raise NotImplementedError

    @staticmethod
    def decide(raw: torch.Tensor) -> torch.Tensor:
        """The predicted classes: class indices, or an indicator matrix for multilabel outputs
        (classifiers' outputs)."""
        raise NotImplementedError

    def score(self, raw: torch.Tensor, target: torch.Tensor, weights=None) -> float:
        """The validation score of the raw outputs against the targets (higher is better)."""
        raise NotImplementedError


class Softmax(Output):
    """Multiclass (and binary) classification: cross-entropy over one logit per class."""

    name = "softmax"
    target_dtype = torch.int64
    stratify = True

    def per_sample_loss_and_gradient(self, raw, target, gradient=True):
        # -log p_y, and p - onehot(y)
        log_p = _log_softmax(raw)
        rows = target.unsqueeze(1)
        loss = log_p.gather(1, rows).squeeze(1).neg_()
        if not gradient:
            return loss, None
        minus_one = torch.full(rows.shape, -1.0, dtype=raw.dtype, device=raw.device)
        return loss, log_p.exp_().scatter_add_(1, rows, minus_one)

    @staticmethod
    def activate(raw):
        return torch.softmax(raw, dim=1)

    @staticmethod
    def layer():
        return torch.nn.Softmax(dim=1)

    @staticmethod
    def log_activate(raw):
        return torch.log_softmax(raw, dim=1)

    @staticmethod
    def decide(raw):
        return raw.argmax(dim=1)

    def score(self, raw, target, weights=None):
        """Accuracy (weighted by the sample weights, if any)."""
        correct = (self.decide(raw).cpu() == target.cpu()).double()
        if weights is None:
            return float(correct.mean())
        weights = weights.cpu().double()
        return float((correct * weights).sum() / weights.sum())


class Logistic(Output):
    """Multilabel classification: one logistic output per label, binary cross-entropy summed
    over the labels (MLPClassifier's ``binary_log_loss``)."""

    name = "logistic"

    def per_sample_loss_and_gradient(self, raw, target, gradient=True):
        loss = F.binary_cross_entropy_with_logits(raw, target, reduction="none").sum(dim=1)
        return loss, (torch.sigmoid(raw).sub_(target) if gradient else None)

    @staticmethod
    def activate(raw):
        return torch.sigmoid(raw)

    @staticmethod
    def layer():
        return torch.nn.Sigmoid()

    @staticmethod
    def log_activate(raw):
        return F.logsigmoid(raw)

    @staticmethod
    def decide(raw):
        """1 where a label's probability exceeds 0.5."""
        return (raw > 0).to(torch.int64)

    def score(self, raw, target, weights=None):
        """Subset accuracy: the share of samples whose every label is right (scikit-learn's
        ``accuracy_score`` on indicator matrices)."""
        predicted = self.decide(raw).cpu().numpy().astype(bool)
        return float(
            accuracy_score(target.cpu().numpy() > 0.5, predicted, sample_weight=_np(weights))
        )


class Identity(Output):
    """Regression with the squared error: half the squared error, averaged over the outputs
    (MLPRegressor's ``loss="squared_error"``)."""

    name = "identity"

    def per_sample_loss_and_gradient(self, raw, target, gradient=True):
        error = raw - target
        loss = 0.5 * error.square().mean(dim=1)
        return loss, (error.mul_(1.0 / raw.shape[1]) if gradient else None)

    @staticmethod
    def activate(raw):
        return raw

    @staticmethod
    def layer():
        return torch.nn.Identity()

    def score(self, raw, target, weights=None):
        """R^2, averaged over the outputs (scikit-learn's ``r2_score``)."""
        return float(
            r2_score(
                target.cpu().numpy(), self.activate(raw).cpu().numpy(), sample_weight=_np(weights)
            )
        )


class Exp(torch.nn.Module):
    """``exp`` as a layer: the last layer of a Poisson regressor's network (torch has none)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


class Exponential(Identity):
    """Poisson regression: the network's output is the log of the mean, and the loss is half
    the Poisson deviance, summed over the outputs (MLPRegressor's ``loss="poisson"``)."""

    name = "exp"

    def per_sample_loss_and_gradient(self, raw, target, gradient=True):
        # exp(raw) - y * raw is the deviance up to a term of y alone, kept so that the loss
        # values are MLPRegressor's: y * log(y) - y (0 where y = 0).
        mean = torch.exp(raw)
        loss = (mean - target * raw + torch.xlogy(target, target) - target).sum(dim=1)
        return loss, (mean.sub_(target) if gradient else None)

    @staticmethod
    def activate(raw):
        return torch.exp(raw)

    @staticmethod
    def layer():
        return Exp()


class _ClosedFormLoss(torch.autograd.Function):
    """:meth:`Output.forward`: the loss of :meth:`Output.loss_and_gradient`, whose backward
    multiplies the closed-form gradient formed in the forward pass."""

    @staticmethod
    def forward(ctx, output, raw, target):
        loss, grad = output.loss_and_gradient(raw, target)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss):
        (grad,) = ctx.saved_tensors
        return None, grad * grad_loss.to(grad.dtype), None


def _log_softmax(raw: torch.Tensor) -> torch.Tensor:
    """``log_softmax(raw, dim=1)``, over the columns of a transposed copy where there are few.

    torch's CPU kernel over the last dimension runs element by element when the dimension is
    shorter than a vector register (16 floats): for 200 x 10 logits it takes 3 times as long as
    the kernel over the first dimension of the transpose, copy included (timed on torch 2.13).
    """
    if raw.shape[1] < 16 and raw.device.type == "cpu":
        return torch.log_softmax(raw.T.contiguous(), dim=0).T
    return torch.log_softmax(raw, dim=1)


def _np(weights):
    return None if weights is None else weights.cpu().numpy()


#: The output classes by scikit-learn's name of their activation.
OUTPUTS = {output.name: output for output in (Softmax, Logistic, Identity, Exponential)}


def output_for(name: str) -> type[Output]:
    """The output class called ``name`` (``"softmax"``, ``"logistic"``, ``"identity"``,
    ``"exp"``)."""
    return OUTPUTS[name]


def validation_score(net, dataset, y) -> float:
    """The net's validation score of ``dataset`` (the criterion's :meth:`Output.score`), for
    skorch's ``EpochScoring``."""
    raw = torch.cat([torch.as_tensor(batch) for batch in net.forward_iter(dataset)])
    if not bool(raw.isfinite().all()):
        net.diverge("the predictions of the validation data became non-finite")
    return net.criterion_.score(raw, dataset.y, dataset.w)


def target_of(y):
    """The targets of a batch's target (without its sample weights), for ``EpochScoring``."""
    return (y[0] if isinstance(y, tuple) else y).detach().cpu().numpy()


def consistent_log_proba(proba: np.ndarray, log_proba: np.ndarray) -> np.ndarray:
    """Log-probabilities that agree with the probabilities ``proba`` (in their dtype).

    ``log_proba``, computed in log space, can differ from ``log(proba)`` where a probability
    rounds to 1 (``log_proba`` -6.04e-14, ``log(1 - 6.04e-14)`` -6.0396e-14; in float32,
    -1e-8 against 0): where ``proba`` is a normal number of its dtype its log is taken, as
    scikit-learn's ``predict_log_proba``, ``np.log(predict_proba)``, does; where it underflows,
    ``log_proba`` keeps the finite value ``proba`` lost.
    """
    normal = proba >= np.finfo(proba.dtype).tiny
    with np.errstate(divide="ignore"):
        logs = np.log(proba)
    return np.where(normal, logs, log_proba.astype(proba.dtype))
