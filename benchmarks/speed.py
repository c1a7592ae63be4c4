"""Seconds per epoch and peak memory of our estimators against minimal loops, MLPClassifier, skorch.

Every case runs in its own subprocess, so that its peak resident memory (``ru_maxrss``) is its own:
``tracemalloc`` does not see torch's allocations, and a process's peak never goes back down.
The table gives the peak RSS of the whole process (Python, torch, the data) and the growth over
the RSS measured once the data is loaded, which is what the training itself costs.

An epoch's time is the median over the timed epochs that follow one warm-up epoch.

Cases, per topology and batch size:

- ``positional``, ``particle``, ``none``: PositionalMLPClassifier, ParticleNetworkClassifier and
  PositionalMLPClassifier(falloff="none", distance_alpha=0) with their default penalties;
- ``loop:<name>``: a minimal hand-written torch loop over the same module, the same optimizer,
  the same loss (penalty and, for particles, the removal of the mean position gradient
  included) and shuffled tensor slices: what the estimator costs without scikit-learn and skorch;
- ``mlp``: scikit-learn's MLPClassifier (adam), epochs through ``partial_fit``;
- ``skorch``: a plain skorch NeuralNetClassifier over an equivalent ``nn.Sequential`` MLP, with
  skorch's default Dataset and DataLoader.

``--wide`` instead trains one particle layer of 16384 x 16384 (batch 256, a few steps) in tiled
mode, and compares tiled and materialized modes where both fit.

``--digits`` measures small data instead: scikit-learn's digits (1,797 x 64, scaled to [0, 1]),
one hidden layer of 100, batch 200, the three estimators against ``MLPClassifier``. Each figure
is the median epoch (the estimators' own ``dur``; ``MLPClassifier``'s ``partial_fit`` calls) and
the whole fit's wall time divided by its epochs (set-up and validation included). It also times
a one-row ``predict`` of a fitted 784-512-256-10 positional network against its module's own
float32 forward and ``MLPClassifier.predict`` (median of 200 calls after 20 warm-up calls).

Usage::

    python benchmarks/speed.py            # MNIST (60,000 rows), 3 rounds, results/speed_cpu.md
    python benchmarks/speed.py --quick    # 6,000 rows, one topology, batch 100
    python benchmarks/speed.py --wide     # writes results/speed_wide_cpu.md
    python benchmarks/speed.py --digits   # writes results/speed_digits_cpu.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

# The cold cases time their first fit from here (after the standard library's imports only).
_PROCESS_START = time.perf_counter()

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
MNIST_DIR = Path("/work/shared/data/mnist")
ESTIMATORS = ("positional", "particle", "none")


def _max_rss_mib() -> float:
    """Peak resident memory of this process since start or the last :func:`_reset_peak`, MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset_peak() -> float:
    """Reset the peak RSS to the current RSS (Linux: ``clear_refs`` 5); return it in MiB.

    Without this, the peak of decompressing MNIST would hide the peak of training.
    """
    import gc

    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _max_rss_mib()


def _data(n_rows: int):
    import numpy as np

    try:
        from sklearn_posnet.datasets import load_mnist

        if not MNIST_DIR.is_dir():
            raise FileNotFoundError(MNIST_DIR)
        X, y = load_mnist(MNIST_DIR, subset="train")
        return X[:n_rows].astype(np.float32), y[:n_rows], "MNIST"
    except (ImportError, FileNotFoundError, OSError):
        rng = np.random.default_rng(0)
        X = rng.random((n_rows, 784), dtype=np.float32)
        return X, rng.integers(0, 10, n_rows), "synthetic"


def _estimator(name: str, hidden: tuple, batch: int, epochs: int, input_shape=(28, 28)):
    from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

    common = dict(
        hidden_layer_sizes=hidden,
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
    )
    if name == "positional":
        return PositionalMLPClassifier(input_shape=input_shape, **common)
    if name == "particle":
        return ParticleNetworkClassifier(**common)
    return PositionalMLPClassifier(falloff="none", distance_alpha=0.0, **common)


def _minimal_loop(estimator, X, y, batch: int, epochs: int) -> list[float]:
    """Train ``estimator``'s module with the plainest torch loop; seconds per epoch."""
    import numpy as np
    import torch

    estimator.set_params(max_iter=1).fit(X[:batch], y[:batch])  # builds module, optimizer args
    net = estimator.net_
    module, penalty = net.module_, net.penalty
    params = [p for p in module.parameters() if p.requires_grad]
    _, optimizer_kwargs = net.get_params_for_optimizer("optimizer", [])
    optimizer = net.optimizer(params, **optimizer_kwargs)
    remove_drift = hasattr(estimator, "remove_translation") and estimator.remove_translation
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(np.searchsorted(estimator.classes_, y))
    criterion, generator = torch.nn.CrossEntropyLoss(), torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X_t), generator=generator)
        for first in range(0, len(X_t), batch):
            index = order[first : first + batch]
            optimizer.zero_grad()
            # the fastest gather on the CPU, as the estimators use
            X_batch, y_batch = X_t.index_select(0, index), y_t.index_select(0, index)
            terms = {} if penalty is None else penalty.graph_terms(len(index))
            if terms:
                logits, batch_penalty = module.forward_with_penalty(X_batch, **terms)
                loss = criterion(logits, y_batch) + batch_penalty
            else:
                loss = criterion(module(X_batch), y_batch)
            loss.backward()
            if penalty is not None:
                penalty.add_closed_form(module, len(index))
            if remove_drift:
                module.remove_mean_position_gradient()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def _mlp_epochs(X, y, hidden, batch, epochs) -> list[float]:
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden, batch_size=batch, random_state=0)
    classes = np.unique(y)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        mlp.partial_fit(X, y, classes=classes)
        times.append(time.perf_counter() - start)
    return times


def _skorch_epochs(X, y, hidden, batch, epochs) -> list[float]:
    import torch
    from skorch import NeuralNetClassifier

    sizes = [X.shape[1], *hidden]
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    module = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 10))
    net = NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=batch,
        max_epochs=epochs,
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
    )
    net.fit(X, y.astype("int64"))
    return list(net.history[:, "dur"])


def run_case(case: dict) -> dict:
    """Run one case in this process and return its timings and memory."""
    import torch

    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    warnings.simplefilter("ignore")
    X, y, source = _data(case["rows"])
    hidden, batch, epochs = tuple(case["hidden"]), case["batch"], case["epochs"]
    rss_data = _reset_peak()
    kind = case["kind"]
    if kind in ESTIMATORS:
        estimator = _estimator(kind, hidden, batch, epochs).fit(X, y)
        times = list(estimator.net_.history[:, "dur"])
    elif kind.startswith("loop:"):
        estimator = _estimator(kind[5:], hidden, batch, epochs)
        times = _minimal_loop(estimator, X, y, batch, epochs)
    elif kind == "mlp":
        times = _mlp_epochs(X, y, hidden, batch, epochs)
    elif kind == "skorch":
        times = _skorch_epochs(X, y, hidden, batch, epochs)
    else:
        raise ValueError(kind)
    return {
        **case,
        "source": source,
        "times": times,
        "epoch_s": statistics.median(times[1:]) if len(times) > 1 else times[0],
        "rss_mib": _max_rss_mib(),
        "rss_data_mib": rss_data,
        "threads": torch.get_num_threads(),
    }


def _digits(regression: bool = False):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16).astype("float32"), (y.astype("float64") if regression else y)


#: The digits cases: (family, task, solver, how) -> what each epoch is compared against.
DIGITS_CASES = {
    "mlp": ("mlp", "classifier", "adam", "fit"),
    "none": ("none", "classifier", "adam", "fit"),
    "positional": ("positional", "classifier", "adam", "fit"),
    "particle": ("particle", "classifier", "rmsprop", "fit"),
    "loop": ("loop", "classifier", "adam", "fit"),
    "mlp regressor": ("mlp", "regressor", "adam", "fit"),
    "positional regressor": ("positional", "regressor", "adam", "fit"),
    "particle regressor": ("particle", "regressor", "rmsprop", "fit"),
    "mlp lbfgs": ("mlp", "classifier", "lbfgs", "fit"),
    "positional lbfgs": ("positional", "classifier", "lbfgs", "fit"),
    "mlp partial_fit": ("mlp", "classifier", "adam", "partial_fit"),
    "positional partial_fit": ("positional", "classifier", "adam", "partial_fit"),
}
#: The MLPClassifier case each of ours is divided by.
DIGITS_REFERENCE = {
    "none": "mlp",
    "positional": "mlp",
    "particle": "mlp",
    "loop": "mlp",
    "positional regressor": "mlp regressor",
    "particle regressor": "mlp regressor",
    "positional lbfgs": "mlp lbfgs",
    "positional partial_fit": "mlp partial_fit",
}


def _digits_estimator(kind: str, epochs: int):
    """The estimator of a digits case: 64-100-10, batch 200, no early stop on the loss."""
    family, task, solver, _ = DIGITS_CASES[kind]
    common = dict(
        hidden_layer_sizes=(100,),
        batch_size=200,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
    )
    if solver == "lbfgs":
        common["solver"] = "lbfgs"
    if family == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        return (MLPRegressor if task == "regressor" else MLPClassifier)(**common)
    from sklearn_posnet import (
        ParticleNetworkClassifier,
        ParticleNetworkRegressor,
        PositionalMLPClassifier,
        PositionalMLPRegressor,
    )

    if family == "particle":
        cls = ParticleNetworkRegressor if task == "regressor" else ParticleNetworkClassifier
        return cls(**common)
    cls = PositionalMLPRegressor if task == "regressor" else PositionalMLPClassifier
    if family in ("none", "loop"):
        return cls(falloff="none", distance_alpha=0.0, **common)
    return cls(input_shape=(8, 8), **common)


def _timed_fit(kind: str, X, y, epochs: int) -> tuple[float, int]:
    """Seconds of one fit (``partial_fit``: of ``epochs`` calls) and its epochs."""
    estimator = _digits_estimator(kind, epochs)
    start = time.perf_counter()
    if DIGITS_CASES[kind][3] == "partial_fit":
        import numpy as np

        classes = np.unique(y)
        for _ in range(epochs):
            estimator.partial_fit(X, y, classes=classes)
        return time.perf_counter() - start, epochs
    if kind == "loop":
        estimator.set_params(max_iter=1).fit(X[:200], y[:200])
        start = time.perf_counter()
        return sum(_minimal_loop(estimator, X, y, 200, epochs)), epochs
    estimator.fit(X, y)
    return time.perf_counter() - start, estimator.n_iter_


def run_digits_case(case: dict) -> dict:
    """One small-data case: seconds per epoch of a whole fit, after a warm-up fit; with
    ``cold``, the first fit of a fresh process, imports included, and nothing before it."""
    warnings.simplefilter("ignore")
    regression = DIGITS_CASES[case["kind"]][1] == "regressor"
    if case.get("cold"):
        # Nothing but the case's own imports: MLPClassifier's process never imports torch (the
        # thread count comes from the environment, which _in_subprocess sets).
        X, y = _digits(regression)
        seconds, _ = _timed_fit(case["kind"], X, y, case["epochs"])
        return {
            **case,
            "first_fit_s": time.perf_counter() - _PROCESS_START,
            "fit_s": seconds,
            "torch_imported": "torch" in sys.modules,
        }
    import torch

    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    X, y = _digits(regression)
    _timed_fit(case["kind"], X, y, 2)  # warm-up: imports, allocator, kernels' first touch
    seconds, epochs = _timed_fit(case["kind"], X, y, case["epochs"])
    return {**case, "fit_epoch_s": seconds / epochs, "threads": torch.get_num_threads()}


def run_predict_case(case: dict) -> dict:
    """Latency of a one-row predict against the module's own forward and MLPClassifier."""
    import numpy as np
    import torch
    from sklearn.neural_network import MLPClassifier

    from sklearn_posnet import PositionalMLPClassifier

    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.random((500, 784), dtype=np.float32)
    y = rng.integers(0, 10, 500)
    hidden = (512, 256)
    ours = PositionalMLPClassifier(hidden, max_iter=1, random_state=0).fit(X, y)
    mlp = MLPClassifier(hidden, max_iter=1, random_state=0).fit(X, y)
    row = X[:1]
    row_tensor = torch.as_tensor(row)

    def module_forward():
        with torch.no_grad():
            return ours.module_(row_tensor)

    calls = {
        "predict": lambda: ours.predict(row),
        "module": module_forward,
        "mlp": lambda: mlp.predict(row),
    }
    timings = {name: [] for name in calls}
    for _ in range(20):
        for call in calls.values():
            call()
    for _ in range(200):  # interleaved, so that drift hits all three alike
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - start)
    return {
        **case,
        **{f"{name}_ms": 1e3 * statistics.median(t) for name, t in timings.items()},
        "threads": torch.get_num_threads(),
    }


def run_wide_case(case: dict) -> dict:
    """Train a particle network with one wide layer for a few steps; time per step and memory."""
    import torch

    from sklearn_posnet.nn import ParticleNetwork

    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    torch.manual_seed(0)
    width, batch, steps = case["width"], case["batch"], case["steps"]
    module = ParticleNetwork([width, width, 10], weight_mode=case["mode"])
    optimizer = torch.optim.RMSprop(module.parameters(), lr=1e-3)
    X = torch.rand(batch * steps, width)
    y = torch.randint(0, 10, (batch * steps,))
    rss_data = _reset_peak()
    times = []
    for step in range(steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        rows = slice(step * batch, (step + 1) * batch)
        loss = torch.nn.functional.cross_entropy(module(X[rows]), y[rows])
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return {
        **case,
        "times": times,
        "step_s": statistics.median(times[1:]),
        "rss_mib": _max_rss_mib(),
        "rss_data_mib": rss_data,
        "threads": torch.get_num_threads(),
    }


def _in_subprocess(case: dict) -> dict:
    command = [sys.executable, __file__, "--case", json.dumps(case)]
    env = dict(os.environ)
    if case.get("threads"):  # NumPy's BLAS (MLPClassifier) gets the same number as torch
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(case["threads"])
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        return {**case, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    import sklearn
    import skorch
    import torch

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{model}, {os.cpu_count()} logical cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads by default), scikit-learn {sklearn.__version__}, "
        f"skorch {skorch.__version__}, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )


def _table(results: list[dict]) -> str:
    lines = [
        "| topology | batch | case | s/epoch | vs own loop | vs none | vs MLPClassifier "
        "| peak RSS MiB | growth MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    groups = {}
    for result in results:
        groups.setdefault((tuple(result["hidden"]), result["batch"]), {})[result["kind"]] = result
    for (hidden, batch), cases in groups.items():
        topology = "-".join(map(str, (784, *hidden, 10)))

        def seconds(kind, cases=cases):
            case = cases.get(kind)
            return None if case is None or "error" in case else case["epoch_s"]

        for kind, case in cases.items():
            if "error" in case:
                lines.append(f"| {topology} | {batch} | {kind} | error: {case['error']} |||||")
                continue
            own = seconds(f"loop:{kind}") if kind in ESTIMATORS else None
            base = kind[5:] if kind.startswith("loop:") else kind
            none = seconds("loop:none" if kind.startswith("loop:") else "none")
            ratio = lambda a, b: "" if a is None or b is None else f"{a / b:.2f}x"  # noqa: E731
            lines.append(
                f"| {topology} | {batch} | {kind} | {case['epoch_s']:.3f} | "
                f"{ratio(case['epoch_s'], own)} | "
                f"{ratio(case['epoch_s'], none) if base in ('positional', 'particle') else ''} | "
                f"{ratio(case['epoch_s'], seconds('mlp')) if kind != 'mlp' else ''} | "
                f"{case['rss_mib']:.0f} | {case['rss_mib'] - case['rss_data_mib']:.0f} |"
            )
    return "\n".join(lines)


def _combined(runs: list[dict]) -> dict:
    """One case's result over several rounds: the median epoch time, the largest peak memory."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    combined = dict(runs[0])
    combined["rounds"] = [run["epoch_s"] for run in runs]
    combined["epoch_s"] = statistics.median(combined["rounds"])
    combined["rss_mib"] = max(run["rss_mib"] for run in runs)
    combined["rss_data_mib"] = min(run["rss_data_mib"] for run in runs)
    return combined


def _digits_benchmark(args):
    """Small-data epochs against MLPClassifier's, the first fit of a fresh process, and
    one-row predict latency; round robin over the cases, each in a process of its own."""
    repeats = args.repeats or (1 if args.quick else 5)
    epochs = args.epochs or (5 if args.quick else 30)
    kinds = list(DIGITS_CASES)
    cases = [
        {"kind": kind, "digits": True, "epochs": epochs, "threads": args.threads} for kind in kinds
    ]
    cases += [
        {"kind": kind, "digits": True, "cold": True, "epochs": epochs, "threads": args.threads}
        for kind in ("positional", "mlp")
    ]
    cases.append({"kind": "predict", "digits": True, "threads": args.threads})
    runs = []
    for round_index in range(repeats):
        for case in cases if round_index % 2 == 0 else cases[::-1]:
            result = _in_subprocess(case)
            print(f"round {round_index + 1}/{repeats}", result, flush=True)
            if "error" in result:
                raise RuntimeError(result)
            runs.append({**result, "round": round_index})

    def values(kind, key, cold=False):
        return [r[key] for r in runs if r["kind"] == kind and bool(r.get("cold")) == cold]

    def ratios(kind, reference, key="fit_epoch_s"):
        ours, theirs = values(kind, key), values(reference, key)
        return [a / b for a, b in zip(ours, theirs, strict=True)]

    def spread(r):
        return f"{statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f})"

    lines = [
        f"Data: scikit-learn's digits (1,797 x 64, scaled to [0, 1]; the regressors fit the "
        f"digit as a number), 64-100-10, batch 200, {epochs} epochs (L-BFGS: iterations; "
        f"partial_fit: {epochs} calls of one epoch); every case in a process of its own, after "
        f"a warm-up fit, {repeats} round(s) with the cases in turn (reversed every other round). "
        "An epoch is a whole fit's seconds divided by its epochs, set-up included, as "
        "MLPClassifier's `fit(max_iter=k) / k`. Ratios are per round, against the same "
        "round's MLPClassifier or MLPRegressor case, then the median and range over rounds. "
        "`loop` is a minimal hand-written torch loop over the `none` network (the same module, "
        "optimizer, loss and penalty): the floor of a torch implementation.",
        "",
        "| case | ms per epoch | vs scikit-learn's | target |",
        "|---|---|---|---|",
    ]
    targets = {"none": 1.0, "positional": 1.3, "particle": 1.3}
    verdicts = []
    for kind in kinds:
        cells = [kind, f"{statistics.median(values(kind, 'fit_epoch_s')) * 1e3:.2f}"]
        reference = DIGITS_REFERENCE.get(kind)
        if reference is None:
            cells += ["", ""]
        else:
            r = ratios(kind, reference)
            target = targets.get(kind)
            cells += [spread(r), "" if target is None else f"<= {target:.1f}x"]
            if target is not None:
                ok = statistics.median(r) <= target
                verdicts.append(
                    f"- {kind}: {statistics.median(r):.2f}x MLPClassifier's epoch (target "
                    f"<= {target:.1f}x): {'met' if ok else '**missed**'}"
                )
        lines.append("| " + " | ".join(cells) + " |")
    ours_cold, mlp_cold = (
        values("positional", "first_fit_s", True),
        values("mlp", "first_fit_s", True),
    )
    extra = [a - b for a, b in zip(ours_cold, mlp_cold, strict=True)]
    lines += [
        "",
        f"First fit in a fresh process ({epochs} epochs), from the start of the process's "
        "script to the end of the fit: imports, loading the digits and the fit (median over "
        "rounds):",
        "",
        "| case | seconds | of which the fit |",
        "|---|---|---|",
        f"| PositionalMLPClassifier | {statistics.median(ours_cold):.2f} "
        f"| {statistics.median(values('positional', 'fit_s', True)):.2f} |",
        f"| MLPClassifier | {statistics.median(mlp_cold):.2f} "
        f"| {statistics.median(values('mlp', 'fit_s', True)):.2f} |",
        "",
    ]
    ok = statistics.median(extra) <= 0.3
    verdicts.append(
        f"- First fit in a fresh process: ours {statistics.median(extra):+.2f} s against "
        f"MLPClassifier's (range {min(extra):+.2f} to {max(extra):+.2f}; target <= +0.3 s): "
        f"{'met' if ok else '**missed**'}"
    )
    predict = [r for r in runs if r["kind"] == "predict"]
    per_round = [run["predict_ms"] / run["module_ms"] for run in predict]

    def median_of(key):
        return statistics.median(run[key] for run in predict)

    lines += [
        "One-row predict, 784-512-256-10 positional network (median of 200 interleaved calls):",
        "",
        "| call | ms |",
        "|---|---|",
        f"| `predict` (validation, float64 copy, argmax) | {median_of('predict_ms'):.3f} |",
        f"| the module's own float32 forward | {median_of('module_ms'):.3f} |",
        f"| `MLPClassifier.predict` | {median_of('mlp_ms'):.3f} |",
        "",
        f"`predict` / module forward: {statistics.median(per_round):.2f}x "
        f"({min(per_round):.2f}-{max(per_round):.2f} over rounds).",
        "",
        "Against the targets of issue 23:",
        "",
        *verdicts,
    ]
    output = Path(
        args.output
        or RESULTS_DIR / ("speed_digits_cpu_quick.md" if args.quick else "speed_digits_cpu.md")
    )
    command = "python benchmarks/speed.py --digits" + (" --quick" if args.quick else "")
    command += _threads_flag(args) + (f" --repeats {args.repeats}" if args.repeats else "")
    return output, command, lines


def _threads_flag(args) -> str:
    flags = f" --threads {args.threads}" if args.threads else ""
    return flags + (f" --epochs {args.epochs}" if args.epochs and not args.wide else "")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="6,000 rows, 784-128-10, batch 100 only"
    )
    parser.add_argument("--wide", action="store_true", help="the 16384 x 16384 particle layer")
    parser.add_argument(
        "--digits", action="store_true", help="small data (digits) and one-row predict latency"
    )
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs (+1 warm-up)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per case")
    parser.add_argument(
        "--repeats", type=int, default=None, help="rounds over all cases (default 3, 1 if --quick)"
    )
    parser.add_argument("--output", default=None, help="Markdown file to write")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case is not None:
        case = json.loads(args.case)
        if "width" in case:
            result = run_wide_case(case)
        elif case.get("digits"):
            result = run_predict_case(case) if case["kind"] == "predict" else run_digits_case(case)
        else:
            result = run_case(case)
        print(json.dumps(result))
        return

    if args.digits:
        output, command, lines = _digits_benchmark(args)
    elif args.wide:
        cases = [
            {"width": width, "batch": 256, "steps": 4, "mode": mode, "threads": args.threads}
            for width in (2048, 4096)
            for mode in ("materialized", "tiled")
        ] + [{"width": 16384, "batch": 256, "steps": 3, "mode": "tiled", "threads": args.threads}]
        lines = [
            "| layer | mode | s/step | peak RSS MiB | growth MiB |",
            "|---|---|---|---|---|",
        ]
        for case in cases:
            result = _in_subprocess(case)
            print(result, flush=True)
            if "error" in result:
                lines.append(f"| {case['width']}^2 | {case['mode']} | error {result['error']} |||")
                continue
            lines.append(
                f"| {case['width']} x {case['width']} (+ x 10), batch 256 | {case['mode']} | "
                f"{result['step_s']:.3f} | {result['rss_mib']:.0f} | "
                f"{result['rss_mib'] - result['rss_data_mib']:.0f} |"
            )
        output = Path(args.output or RESULTS_DIR / "speed_wide_cpu.md")
        command = "python benchmarks/speed.py --wide" + _threads_flag(args)
    else:
        rows = 6000 if args.quick else 60000
        epochs = 1 + (args.epochs or (2 if args.quick else 3))
        repeats = args.repeats or (1 if args.quick else 3)
        topologies = [(128,)] if args.quick else [(128,), (256, 128)]
        kinds = [*ESTIMATORS, *(f"loop:{name}" for name in ESTIMATORS), "mlp", "skorch"]
        cases = [
            {
                "kind": kind,
                "hidden": hidden,
                "batch": batch,
                "rows": rows,
                "epochs": epochs,
                "threads": args.threads,
            }
            for hidden in topologies
            for batch in ((100,) if args.quick else (100, 1000))
            for kind in kinds
        ]
        # Round robin: the machine's speed drifts over minutes (shared hosts), so every case
        # is run once per round and its figure is the median over the rounds.
        rounds = []
        for round_index in range(repeats):
            rounds.append([])
            for case in cases:
                result = _in_subprocess(case)
                print(
                    f"round {round_index + 1}/{repeats}",
                    case["kind"],
                    case["hidden"],
                    case["batch"],
                    result.get("epoch_s", result.get("error")),
                    flush=True,
                )
                rounds[-1].append(result)
        results = [_combined(list(runs)) for runs in zip(*rounds)]
        source = next((r["source"] for r in results if "source" in r), "?")
        lines = [
            f"Data: {source}, {rows} rows x 784 features, 10 classes; per case the median over "
            f"{repeats} round(s) (every case once per round, in turn) of the median of "
            f"{epochs - 1} epochs after a warm-up epoch.",
            "",
            _table(results),
        ]
        output = Path(
            args.output or RESULTS_DIR / ("speed_cpu_quick.md" if args.quick else "speed_cpu.md")
        )
        command = "python benchmarks/speed.py" + (" --quick" if args.quick else "")
        command += _threads_flag(args)
        command += f" --repeats {args.repeats}" if args.repeats else ""
    text = "\n".join(
        [
            f"# {output.stem}",
            "",
            f"Command: `{command}`",
            "",
            f"Machine: {machine()}",
            "",
            *lines,
            "",
        ]
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
