"""The lean training loop: the closed-form penalty, the per-batch and per-gradient doors for
callbacks, divergence before any scoring, the eager optimizers and a cold start without
torch._dynamo."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)
from sklearn_posnet._optimizers import SOLVERS
from sklearn_posnet._training import sees_gradients, sees_training_batches

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    PositionalMLPClassifier,
    ParticleNetworkClassifier,
    PositionalMLPRegressor,
    ParticleNetworkRegressor,
]


def _target(cls, y):
    return y.astype(float) if cls in (PositionalMLPRegressor, ParticleNetworkRegressor) else y


# ---------------------------------------------------------------------- the closed-form penalty
@pytest.mark.parametrize("falloff", ["inverse_square", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_closed_form_l2_gives_the_gradient_and_value_of_the_autograd_penalty(
    digits, falloff, weighted
):
    """A step's gradients and loss equal those of the loss written out for autograd, also for
    a batch shorter than the others and with sample weights (in float64, off the kernels)."""
    X, y = digits
    alpha, distance_alpha = 0.3, 0.05
    estimator = PositionalMLPClassifier(
        (6,), alpha=alpha, distance_alpha=distance_alpha, falloff=falloff, max_iter=1
    ).fit(X, y)
    net, module = estimator.net_, estimator.module_.double()
    rows = 37  # not the batch size: what a short last batch is
    X_batch = torch.as_tensor(X[:rows], dtype=torch.float64)
    labels = torch.as_tensor(np.searchsorted(estimator.classes_, y[:rows]))
    weights = torch.linspace(0.2, 3.0, rows, dtype=torch.float64)
    target = (labels, weights) if weighted else labels
    total_weight = float(weights.sum()) if weighted else rows

    module.zero_grad()
    step = net.train_step_single((X_batch, target))
    ours = {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}

    module.zero_grad()
    data_loss = net.get_loss(module(X_batch), target, training=True)
    penalty = 0.5 * alpha / total_weight * module.weight_l2() + (
        distance_alpha * module.distance_penalty()
    )
    reference = data_loss + penalty
    reference.backward()
    assert float(step["loss"]) == pytest.approx(float(reference.detach()), rel=1e-12)
    for name, p in module.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(ours[name], p.grad, rtol=1e-10, atol=1e-13)


def test_the_closed_form_l2_matches_autograd_on_the_kernels_in_float32(digits):
    X, y = digits
    estimator = PositionalMLPClassifier((9,), alpha=0.5, max_iter=1, random_state=0).fit(X, y)
    net, module = estimator.net_, estimator.module_
    X_batch = torch.as_tensor(X[:50], dtype=torch.float32)
    labels = torch.as_tensor(np.searchsorted(estimator.classes_, y[:50]))
    module.zero_grad()
    step = net.train_step_single((X_batch, labels))
    ours = [p.grad.clone() for p in module.weights]
    module.zero_grad()
    logits, penalty = module.forward_with_penalty(
        X_batch, l2=0.5 * 0.5 / 50, distance=estimator.distance_alpha
    )
    reference = net.get_loss(logits, labels, training=True) + penalty
    reference.backward()
    assert float(step["loss"]) == pytest.approx(float(reference.detach()), rel=1e-6)
    for grad, p in zip(ours, module.weights):
        torch.testing.assert_close(grad, p.grad, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------- doors for callbacks
class CountBatches(Callback):
    def initialize(self):
        self.training_batches_ = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.training_batches_ += int(training)


class CountGradients(Callback):
    def initialize(self):
        self.calls_ = 0
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        assert all(p.grad is not None for _, p in named_parameters)
        self.calls_ += 1


def test_which_callbacks_see_batches_and_gradients():
    from skorch.callbacks import EpochScoring, PrintLog, ProgressBar

    assert sees_training_batches(CountBatches())
    assert sees_training_batches(ProgressBar())
    assert sees_training_batches(EpochScoring("accuracy", on_train=True))
    assert not sees_training_batches(EpochScoring("accuracy", on_train=False))
    assert not sees_training_batches(PrintLog())
    assert not sees_training_batches(CountGradients())
    assert sees_gradients(CountGradients()) and sees_gradients(GradientNormClipping(1.0))
    assert not sees_gradients(CountBatches())


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_per_batch_callback_sees_every_batch_and_changes_no_result(cls, digits):
    """With a callback that sees batches the net runs skorch's per-batch events and records;
    the model it trains is bitwise the one of the lean loop."""
    X, y = digits
    y = _target(cls, y)
    params = {"hidden_layer_sizes": (7,), "batch_size": 30, "max_iter": 3, "random_state": 0}
    lean = cls(**params).fit(X, y)
    counter = CountBatches()
    watched = cls(**params, callbacks=[("count", counter)]).fit(X, y)
    batches_per_epoch = -(-len(X) // 30)
    assert watched.net_.callback("count").training_batches_ == 3 * batches_per_epoch
    assert len(watched.net_.history[-1]["batches"]) == batches_per_epoch
    assert lean.net_.history[-1]["batches"] == []
    assert watched.loss_curve_ == lean.loss_curve_
    for name, value in lean.module_.state_dict().items():
        torch.testing.assert_close(watched.module_.state_dict()[name], value, rtol=0, atol=0)


def test_a_gradient_callback_is_called_after_every_backward_pass(digits):
    X, y = digits
    estimator = PositionalMLPClassifier(
        (5,), batch_size=50, max_iter=2, callbacks=[("grads", CountGradients())]
    ).fit(X, y)
    assert estimator.net_.callback("grads").calls_ == 2 * -(-len(X) // 50)
    clipped = PositionalMLPClassifier(
        (5,), max_iter=2, random_state=0, callbacks=[GradientNormClipping(1e-3)]
    ).fit(X, y)
    free = PositionalMLPClassifier((5,), max_iter=2, random_state=0).fit(X, y)
    assert clipped.loss_curve_ != free.loss_curve_  # the clipping took effect


class StopFromAHelper(Callback):
    """Stops as skorch's callbacks do, but from a function the callback calls."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            _stop()


def _stop():
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "callback", [StopFromAHelper(), EarlyStopping(monitor="train_loss", patience=1, threshold=10)]
)
def test_a_callback_that_raises_keyboard_interrupt_ends_training_quietly(digits, callback):
    X, y = digits
    estimator = PositionalMLPClassifier((5,), max_iter=20, callbacks=[callback]).fit(X, y)
    assert 1 <= estimator.n_iter_ < 20
    assert len(estimator.loss_curve_) == estimator.n_iter_


# ------------------------------------------------------------------ divergence before scoring
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_divergence_is_reported_before_any_scoring(cls, solver, early_stopping):
    """No scorer ever sees a diverged network: the user reads the package's own message, never
    scikit-learn's "Input contains NaN/infinity" about their data."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = X @ rng.normal(size=6) * 1e8 if cls in ESTIMATORS[2:] else (X[:, 0] > 0).astype(int)
    estimator = cls(
        (8,),
        solver=solver,
        learning_rate_init=1e12,
        early_stopping=early_stopping,
        max_iter=5,
        random_state=0,
    )
    try:
        estimator.fit(X * 1e4, y)
    except ValueError as error:
        assert str(error).startswith("Training diverged"), error
    else:  # a fit that did not diverge must have stayed finite
        assert np.isfinite(estimator.loss_curve_).all()


def test_partial_fit_reports_divergence_too():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)) * 1e6, rng.normal(size=60) * 1e12
    estimator = PositionalMLPRegressor((4,), solver="sgd", learning_rate_init=1e6)
    with pytest.raises(ValueError, match=r"^Training diverged"):
        for _ in range(5):
            estimator.partial_fit(X, y)
    assert np.isfinite(estimator.predict(X)).all()


# ----------------------------------------------------------------------- the eager optimizers
@pytest.mark.parametrize(
    ("solver", "options"),
    [
        ("adam", {"lr": 0.01, "fused": True}),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "fused": True}),
        ("rmsprop", {"lr": 0.01, "foreach": True}),
    ],
)
def test_the_eager_optimizers_step_exactly_as_torchs(solver, options):
    torch_class = SOLVERS[solver].__mro__[2]
    assert torch_class.__module__.startswith("torch.optim")
    generator = torch.Generator().manual_seed(0)
    start = [torch.randn(4, 3, generator=generator), torch.randn(3, generator=generator)]
    trained = {}
    for cls in (SOLVERS[solver], torch_class):
        params = [torch.nn.Parameter(t.clone()) for t in start]
        optimizer = cls(params, **options)
        for step in range(5):
            optimizer.zero_grad()
            loss = sum(((p - step) ** 2).sum() for p in params)
            loss.backward()
            optimizer.step()
        trained[cls] = ([p.detach() for p in params], optimizer.state_dict())
    (ours, our_state), (theirs, their_state) = trained.values()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert our_state["param_groups"] == their_state["param_groups"]
    assert isinstance(SOLVERS[solver](start, lr=0.1), torch_class)


def test_a_torch_scheduler_drives_the_eager_optimizer(digits):
    from skorch.callbacks import LRScheduler

    X, y = digits
    halve = LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    estimator = PositionalMLPClassifier(
        (5,), max_iter=3, learning_rate_init=0.01, callbacks=[halve]
    ).fit(X, y)
    assert estimator.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01 / 8)


# ------------------------------------------------------------------------------- cold start
_COLD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import sklearn_posnet
    heavy = ["torch._dynamo", "sympy", "matplotlib", "onnx", "onnxruntime", "networkx", "skops"]
    imported = [name for name in heavy if name in sys.modules]
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 5)), np.arange(60) % 3
    for solver in ("adam", "sgd", "lbfgs"):
        sklearn_posnet.PositionalMLPClassifier((4,), solver=solver, max_iter=2).fit(X, y)
        sklearn_posnet.ParticleNetworkRegressor((4,), solver=solver, max_iter=2).fit(X, y * 1.0)
    sklearn_posnet.ParticleNetworkClassifier((4,), max_iter=2).fit(X, y).partial_fit(X, y)
    print(json.dumps({"at import": imported,
                      "after fits": [name for name in heavy[:2] if name in sys.modules]}))
    """
)


def test_neither_the_import_nor_a_fit_imports_torch_dynamo_or_optional_packages():
    """torch's optimizers import torch._dynamo (and sympy, about 1.5 s) at their first step:
    every fresh process of a grid search would pay it. Plotting, export and structure
    packages are imported by the functions that need them."""
    done = subprocess.run(
        [sys.executable, "-c", _COLD_SCRIPT], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"at import": [], "after fits": []}


def test_the_best_epoch_marks_follow_the_loss_across_calls(digits):
    """PrintLog's "best" mark: an epoch is best when its loss is below every earlier one of the
    net's history, partial_fit calls included."""
    X, y = digits
    estimator = PositionalMLPClassifier((5,), max_iter=4, learning_rate_init=0.05).fit(X, y)
    estimator.partial_fit(X, y)
    losses = list(estimator.net_.history[:, "train_loss"])
    marks = list(estimator.net_.history[:, "train_loss_best"])
    assert marks == [loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    assert marks[0] is True
