"""Where one training step's time goes, phase by phase (issue 23).

scikit-learn's digits (scaled to [0, 1]), 64-100-10, one thread: the positional estimator
(``input_shape=(8, 8)``, adam, batch 200) and the particle one (rmsprop, batch 200). The script
fits each for one epoch, then times the phases of its training step as the net runs them
(``PositionNetwork.backprop``'s forward, loss, backward, the closed-form L2, the gradient
callbacks, the optimizer step), each through the package's public doors, and the whole
``train_step`` for comparison. It also times one full-batch step (1,797 rows, L-BFGS's) by
hand and by autograd over the same module. Medians of ``--rounds`` rounds of ``--steps``
steps::

    python benchmarks/step_phases.py            # writes results/step_phases.md
    python benchmarks/step_phases.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier  # noqa: E402
from sklearn_posnet.nn.activations import DERIVATIVES  # noqa: E402
from sklearn_posnet.nn.base import propagate  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results"
PHASES = (
    "forming the layers' weights (kernels, forward)",
    "forward products",
    "loss and its gradient over the logits",
    "backward products and activations",
    "the layers' weights (kernels, backward)",
    "penalty sum",
    "closed-form L2",
    "gradient callbacks",
    "optimizer step",
)


def _fitted(kind, X, y):
    common = dict(hidden_layer_sizes=(100,), batch_size=200, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "positional":
            return PositionalMLPClassifier(input_shape=(8, 8), **common).fit(X, y)
        return ParticleNetworkClassifier(**common).fit(X, y)


def _add(parameter, grad):
    parameter.grad = grad.contiguous() if parameter.grad is None else parameter.grad + grad


def _timed_step(net, X, y, clock):
    """One training step, phase by phase, as PosNet.train_step and PositionNetwork.backprop
    run it; ``clock(phase)`` is called at the end of each phase."""
    module, penalty = net.module_, net.penalty
    terms = penalty.graph_terms(float(len(X))) if penalty is not None else {}
    net.optimizer_.zero_grad()
    layers = module.hand_derived_layers(**terms)
    clock(0)
    inputs, pre_activations, biases = [], [], list(module.biases)

    def layer_output(h, layer):
        inputs.append(h)
        pre_activations.append(F.linear(h, layers[layer].effective, biases[layer]))
        return pre_activations[-1]

    with torch.no_grad():
        logits = propagate(X, layer_output, len(layers), module.hidden_activation)
    clock(1)
    _, grad = net.criterion_.loss_and_gradient(logits, y)
    clock(2)
    with torch.no_grad():
        for layer in reversed(range(len(layers))):
            _add(biases[layer], grad.sum(dim=0))
            grad_effective = grad.T.mm(inputs[layer])
            if layer:
                grad = DERIVATIVES[module.activation](
                    grad.mm(layers[layer].effective), pre_activations[layer - 1], inputs[layer]
                )
            clock(3)
            for parameter, parameter_grad in layers[layer].gradients(grad_effective):
                _add(parameter, parameter_grad)
            clock(4)
        total = X.new_zeros(())
        for layer in layers:
            total = total + layer.penalty
    clock(5)
    if penalty is not None:
        penalty.add_closed_form(module, float(len(X)))
    clock(6)
    for callback in net.gradient_callbacks_:
        callback.on_grad_computed(net, named_parameters=None, batch=None, training=True)
    clock(7)
    net.optimizer_.step()
    clock(8)


def _phases(net, X, y, steps):
    spent = [0.0] * len(PHASES)
    last = [0.0]

    def clock(phase):
        now = time.perf_counter()
        spent[phase] += now - last[0]
        last[0] = now

    for _ in range(20):
        last[0] = time.perf_counter()
        _timed_step(net, X, y, clock)
    spent = [0.0] * len(PHASES)
    for _ in range(steps):
        last[0] = time.perf_counter()
        _timed_step(net, X, y, clock)
    start = time.perf_counter()
    for _ in range(steps):
        net.train_step((X, y))
    whole = time.perf_counter() - start
    return [s / steps * 1e6 for s in spent], whole / steps * 1e6


def _full_batch(net, X, y, steps):
    module, criterion = net.module_, net.criterion_
    terms = net.penalty.graph_terms(float(len(X))) if net.penalty is not None else {}

    def by_hand():
        module.zero_grad()
        module.backprop(X, lambda logits: criterion.loss_and_gradient(logits, y), **terms)

    def by_autograd():
        module.zero_grad()
        logits, penalty = module.forward_with_penalty(X, **terms)
        (criterion(logits, y) + penalty).backward()

    times = {}
    for name, step in (("by hand", by_hand), ("by autograd", by_autograd)):
        for _ in range(10):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times[name] = (time.perf_counter() - start) / steps * 1e6
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    steps = args.steps or (20 if args.quick else 1000)
    output = args.output or RESULTS / ("step_phases_quick.md" if args.quick else "step_phases.md")
    torch.set_num_threads(1)
    X_all, y_all = load_digits(return_X_y=True)
    X_all = (X_all / 16).astype("float32")
    kinds = ("positional", "particle")
    nets = {kind: _fitted(kind, X_all, y_all).net_ for kind in kinds}
    X, y = torch.as_tensor(X_all[:200]), torch.as_tensor(y_all[:200])
    phases = {kind: [] for kind in kinds}
    wholes = {kind: [] for kind in kinds}
    full = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:  # interleaved
            spent, whole = _phases(nets[kind], X, y, steps)
            phases[kind].append(spent)
            wholes[kind].append(whole)
            full[kind].append(
                _full_batch(nets[kind], torch.as_tensor(X_all), torch.as_tensor(y_all), steps // 10)
            )
    lines = [
        "# step_phases",
        "",
        f"Command: `python benchmarks/step_phases.py{' --quick' if args.quick else ''}`",
        "",
        f"torch {torch.__version__}, one thread; digits 64-100-10, batch 200; medians of "
        f"{rounds} round(s) of {steps} steps, in µs per step.",
        "",
        "| phase | positional | particle |",
        "|---|---|---|",
    ]
    for index, phase in enumerate(PHASES):
        cells = [statistics.median(r[index] for r in phases[kind]) for kind in kinds]
        lines.append(f"| {phase} | {cells[0]:.1f} | {cells[1]:.1f} |")
    totals = [statistics.median(sum(r) for r in phases[kind]) for kind in kinds]
    lines.append(f"| sum of the phases | {totals[0]:.1f} | {totals[1]:.1f} |")
    whole = [statistics.median(wholes[kind]) for kind in kinds]
    lines.append(f"| the net's own `train_step` | {whole[0]:.1f} | {whole[1]:.1f} |")
    lines += ["", "One full-batch step (1,797 rows, as L-BFGS evaluates it), µs:", ""]
    lines += ["| | positional | particle |", "|---|---|---|"]
    for name in ("by hand", "by autograd"):
        cells = [statistics.median(t[name] for t in full[kind]) for kind in kinds]
        lines.append(f"| {name} | {cells[0]:.0f} | {cells[1]:.0f} |")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
