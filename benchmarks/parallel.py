"""Fits sharing a machine: parallel grid searches, concurrent processes, Dask (issues 19, 23).

Parts, each ours against scikit-learn's MLPClassifier, timed in one run, the cases interleaved:

(a) ``GridSearchCV`` on scikit-learn's digits scaled to [0, 1], ``cv=3``, 50 epochs per fit:
    PositionalMLPClassifier over falloff x distance_alpha (2 x 2) and MLPClassifier over
    alpha x activation (2 x 2), ``n_jobs`` 1, 2 and -1. Every search runs cold, in a fresh
    Python process, as a user runs a script (its loky workers start and import everything),
    then once more warm in the same process. With ``--before``, ours also runs at ``n_jobs=1``
    with ``n_threads=-1``: every thread torch has (slow on a busy machine, hence optional).
(b) 1, 2 and 3 processes each fitting the same model at the same moment: falloff="none"
    784-128-10 on 20,000 rows of MNIST (random data without it), 3 epochs, batches of 200;
    seconds per fit, and its slowdown against the same fit alone. Cases: ours under the thread
    policy, ours with ``n_threads=-1`` (as before), the same with ``OMP_WAIT_POLICY=PASSIVE``
    in the environment (the wait policy can only be set so), and MLPClassifier. Each process
    imports, loads the data and warms up before the fits start together. The two cases on
    every thread run 1 and 2 at once, not 3 (on a busy machine they take minutes).
(c) The same search as (a) through joblib's Dask backend on a ``distributed.LocalCluster``
    with 2 worker processes of one thread each.
(d) What the policy's threshold rests on: one fit alone on 1 thread and on 2, per network
    size, seconds per training step.

Usage::

    python benchmarks/parallel.py               # results/parallel.md (several minutes)
    python benchmarks/parallel.py --quick       # smoke run, under a minute on an idle machine
    python benchmarks/parallel.py --parts a b   # some parts only

The machine's load (``os.getloadavg``) is written beside every part: timings on a shared
machine are noisy, which is why cases alternate within each round and rounds repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# Subprocesses (loky's and Dask's workers, part (b)'s) import this checkout and stay quiet.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)
os.environ.setdefault("PYTHONWARNINGS", "ignore")
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# ------------------------------------------------------------------------------- estimators
def _ours(**params):
    from sklearn_posnet import PositionalMLPClassifier

    return PositionalMLPClassifier(**params)


def _mlp(**params):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**params)


def _search_case(name: str, epochs: int) -> tuple:
    """(estimator, grid) of the search ``name`` of parts (a) and (c); imports only that
    estimator's package (MLPClassifier's process never imports torch)."""
    grid = {"falloff": ["inverse_square", "none"], "distance_alpha": [0.0, 0.01]}
    if name == "ours":
        return _ours(max_iter=epochs, random_state=0), grid
    if name == "ours, n_threads=-1":
        return _ours(max_iter=epochs, random_state=0, n_threads=-1), grid
    return (
        _mlp(max_iter=epochs, random_state=0),
        {"alpha": [1e-4, 1e-2], "activation": ["relu", "tanh"]},
    )


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children alive now (loky's workers), or NaN."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    process = psutil.Process()
    total = sum(process.cpu_times()[:2])
    for child in process.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def _time_search(estimator, grid, X, y, n_jobs, cv) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all processes) of one search."""
    from sklearn.model_selection import GridSearchCV

    start, cpu = time.perf_counter(), _cpu_seconds()
    GridSearchCV(estimator, grid, cv=cv, n_jobs=n_jobs, error_score="raise").fit(X, y)
    return time.perf_counter() - start, _cpu_seconds() - cpu


# ------------------------------------------------------------------------------- part (a)
def search_worker(name: str, n_jobs: int, epochs: int, cv: int) -> None:
    """A part (a) process, started fresh for one case: the search cold (its first in this
    process: loky's workers start and import everything), then the same search warm."""
    start = time.perf_counter()
    X, y = _digits()
    estimator, grid = _search_case(name, epochs)  # imports the estimator's package
    imported = time.perf_counter() - start
    cold, cold_cpu = _time_search(estimator, grid, X, y, n_jobs, cv)
    warm, _ = _time_search(estimator, grid, X, y, n_jobs, cv)
    print(json.dumps({"import": imported, "cold": cold, "cold_cpu": cold_cpu, "warm": warm}))


def part_grid(args) -> dict:
    """Every search in a fresh Python process, as a user runs it: the process's whole wall
    time (interpreter, imports, data, search), the search's cold and warm seconds."""
    n_jobs_values = [1, 2, -1] if not args.quick else [1, 2]
    names = ["ours", "MLPClassifier"] + (["ours, n_threads=-1"] if args.before else [])
    runs = []
    for round_ in range(args.rounds):
        shift = round_ % len(n_jobs_values)
        for n_jobs in n_jobs_values[shift:] + n_jobs_values[:shift]:
            for name in names if round_ % 2 == 0 else names[::-1]:
                if name == "ours, n_threads=-1" and n_jobs != 1:
                    continue  # in loky's workers, which allow 1 thread each, it is "ours"
                if name == "MLPClassifier" and n_jobs == 1 and args.skip_serial_mlp:
                    continue
                command = [
                    sys.executable,
                    __file__,
                    "--search-worker",
                    json.dumps([name, n_jobs, args.epochs, args.cv]),
                ]
                start = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                process = time.perf_counter() - start
                result = json.loads(done.stdout.strip().splitlines()[-1])
                runs.append(
                    {
                        "case": name,
                        "n_jobs": n_jobs,
                        "seconds": result["cold"],
                        "warm": result["warm"],
                        "process": process,
                        "import": result["import"],
                        "cpu": result["cold_cpu"],
                    }
                )
                print(
                    f"(a) {name:20s} n_jobs={n_jobs:2d} cold {result['cold']:6.2f} s, warm "
                    f"{result['warm']:6.2f} s, whole process {process:6.2f} s",
                    flush=True,
                )
    return {"runs": runs, "load": _load()}


# ------------------------------------------------------------------------------- part (b)
# Fits on every thread run 1 and 2 at once only: on a busy machine they take minutes.
FIT_CASES = {
    "ours": {"kind": "ours", "n_threads": None},
    "ours, n_threads=-1": {"kind": "ours", "n_threads": -1, "counts": [1, 2]},
    "ours, n_threads=-1, OMP_WAIT_POLICY=PASSIVE": {
        "kind": "ours",
        "n_threads": -1,
        "env": {"OMP_WAIT_POLICY": "PASSIVE"},
        "counts": [1, 2],
    },
    "MLPClassifier": {"kind": "mlp"},
}


def _fit_data(rows: int, folder: Path):
    """The first ``rows`` MNIST training images from ``folder``, else random pixels."""
    import numpy as np

    if any((folder / f"train-labels-idx1-ubyte{end}").exists() for end in ("", ".gz")):
        from sklearn_posnet.datasets import load_mnist

        X, y = load_mnist(folder, subset="train")
        return X[:rows], y[:rows], "MNIST"
    rng = np.random.default_rng(0)
    return rng.random((rows, 784), dtype=np.float32), rng.integers(0, 10, rows), "random"


def _fit_estimator(case: dict, epochs: int):
    if case["kind"] == "mlp":
        return _mlp(hidden_layer_sizes=(128,), max_iter=epochs, random_state=0)
    return _ours(
        hidden_layer_sizes=(128,),
        falloff="none",
        max_iter=epochs,
        random_state=0,
        n_threads=case["n_threads"],
    )


def fit_worker(rows: int, folder: Path) -> None:
    """A part (b) process: on each ``{"case", "epochs"}`` line, warm up, say "ready", wait for a
    line, fit, print the seconds."""
    warnings.simplefilter("ignore")
    X, y, source = _fit_data(rows, folder)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        _fit_estimator(command["case"], 1).fit(X[:1000], y[:1000])  # warm-up
        print(json.dumps({"ready": source}), flush=True)
        sys.stdin.readline()
        start = time.perf_counter()
        _fit_estimator(command["case"], command["epochs"]).fit(X, y)
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def _start_workers(count: int, rows: int, folder: Path, env: dict) -> list:
    command = [sys.executable, __file__, "--fit-worker", str(rows), "--data", str(folder)]
    return [
        subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for _ in range(count)
    ]


def _concurrent_fits(workers: list, case: dict, epochs: int) -> tuple[list, str]:
    for worker in workers:
        worker.stdin.write(json.dumps({"case": case, "epochs": epochs}) + "\n")
        worker.stdin.flush()
    sources = {json.loads(worker.stdout.readline())["ready"] for worker in workers}
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    seconds = [json.loads(worker.stdout.readline())["seconds"] for worker in workers]
    return seconds, sources.pop()


def part_concurrent(args) -> dict:
    counts = [1, 2, 3] if not args.quick else [1, 2]
    names = list(FIT_CASES) if not args.quick else ["ours", "MLPClassifier"]
    pools = {}  # one set of processes per environment: the wait policy is read at start
    for name in names:
        env_key = json.dumps(FIT_CASES[name].get("env", {}), sort_keys=True)
        if env_key not in pools:
            pools[env_key] = _start_workers(
                max(counts), args.rows, args.data, FIT_CASES[name].get("env", {})
            )
    runs, source = [], None
    try:
        for round_ in range(args.rounds):
            for name in names:
                workers = pools[json.dumps(FIT_CASES[name].get("env", {}), sort_keys=True)]
                order = [n for n in counts if n in FIT_CASES[name].get("counts", counts)]
                order = order if round_ % 2 == 0 else order[::-1]
                for count in order:
                    seconds, source = _concurrent_fits(
                        workers[:count], FIT_CASES[name], args.fit_epochs
                    )
                    runs.append({"case": name, "processes": count, "seconds": seconds})
                    shown = " ".join(f"{s:.2f}" for s in seconds)
                    print(f"(b) {name:45s} x{count}: {shown} s", flush=True)
    finally:
        for workers in pools.values():
            for worker in workers:
                worker.stdin.write(json.dumps({"quit": True}) + "\n")
                worker.stdin.flush()
                worker.wait(timeout=60)
    return {"runs": runs, "source": source, "load": _load()}


# ------------------------------------------------------------------------------- part (c)
def part_dask(args) -> dict:
    try:
        import distributed
        import joblib
    except ImportError:
        return {"skipped": "dask.distributed is not installed"}
    X, y = _digits()
    names = ["ours", "MLPClassifier"]
    cases = {name: _search_case(name, args.epochs) for name in names}
    runs = []
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        warm_up = {name: _time_search(*cases[name], X, y, -1, args.cv)[0] for name in names}
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                seconds = _time_search(*cases[name], X, y, -1, args.cv)[0]
                runs.append({"case": name, "seconds": seconds})
                print(f"(c) {name:20s} dask {seconds:6.2f} s", flush=True)
    return {"warm_up": warm_up, "runs": runs, "load": _load()}


# ------------------------------------------------------------------------------- part (d)
SIZES = [
    ((64, 100, 10), 200),
    ((784, 128, 10), 200),
    ((784, 512, 10), 200),
    ((784, 2048, 10), 200),
    ((784, 4096, 10), 256),
]


def part_sizes(args) -> dict:
    import numpy as np
    import torch

    from sklearn_posnet._threads import choose_n_threads, forward_work

    sizes = SIZES if not args.quick else SIZES[:2]
    rng = np.random.default_rng(0)
    runs = []
    for layers, batch in sizes:
        steps = 20 if not args.quick else 5
        X = rng.random((batch * steps, layers[0]), dtype=np.float32)
        y = np.arange(batch * steps) % layers[-1]
        seconds = {1: [], 2: []}
        for round_ in range(args.rounds + 1):  # the first round warms up
            for n in (1, 2) if round_ % 2 == 0 else (2, 1):
                clf = _ours(hidden_layer_sizes=layers[1:-1], batch_size=batch, max_iter=1)
                clf.set_params(n_threads=n, random_state=0, shuffle=False).fit(X, y)
                if round_:
                    seconds[n].append(clf.fit_time_ / steps)
        work = forward_work(layers, batch)
        runs.append(
            {
                "layers": "-".join(map(str, layers)),
                "batch": batch,
                "work": work,
                "policy": choose_n_threads(None, work, allowed=torch.get_num_threads()),
                "step_1": statistics.median(seconds[1]),
                "step_2": statistics.median(seconds[2]),
            }
        )
        print(f"(d) {runs[-1]}", flush=True)
    return {"runs": runs, "load": _load()}


# ------------------------------------------------------------------------------- report
def _median(runs, **match) -> float:
    values = [
        s
        for run in runs
        if all(run[key] == value for key, value in match.items())
        for s in (run["seconds"] if isinstance(run["seconds"], list) else [run["seconds"]])
    ]
    return statistics.median(values) if values else float("nan")


def _times(ratio: float) -> str:
    return "" if ratio != ratio else f"{ratio:.2f}x"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(args, results: dict) -> str:
    import sklearn
    import torch

    lines = [
        "# parallel",
        "",
        f"Command: `{' '.join(['python benchmarks/parallel.py', *args.argv])}`",
        "",
        f"Machine: {os.cpu_count()} logical cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads by default), scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}; load average (1 / 5 / 15 min) at the start "
        f"{results['load_start']}, at the end {_load()}. The machine was shared with other "
        "jobs: compare the ratios within this run, not the seconds across runs.",
        "",
    ]
    targets = []
    if "a" in results:
        runs = results["a"]["runs"]
        lines += [
            f"## (a) GridSearchCV on the digits: 2 x 2 grid, cv={args.cv}, {args.epochs} epochs "
            f"(median of {args.rounds} rounds; load at the end {results['a']['load']})",
            "",
            "Every search runs in a fresh Python process, as a user runs a script: *cold* is "
            "the search's wall time there (its first: loky's workers start and import "
            "everything), *warm* the same search once more in that process, *process* the "
            "whole process from the outside (interpreter, imports, data, both searches). "
            "CPU s: the cold search's CPU time, this process and its workers together.",
            "",
            "| estimator | n_jobs | cold, s | speed-up over n_jobs=1 | vs MLPClassifier "
            "| warm, s | vs MLPClassifier | process, s | CPU s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]

        def median(name, n_jobs, key="seconds"):
            values = [r[key] for r in runs if r["case"] == name and r["n_jobs"] == n_jobs]
            return statistics.median(values) if values else float("nan")

        for name in ("ours", "ours, n_threads=-1", "MLPClassifier"):
            for n_jobs in (1, 2, -1):
                cold = median(name, n_jobs)
                if cold != cold:
                    continue
                warm = median(name, n_jobs, "warm")
                lines.append(
                    f"| {name} | {n_jobs} | {cold:.2f} | {_times(median(name, 1) / cold)} "
                    f"| {_times(cold / median('MLPClassifier', n_jobs))} | {warm:.2f} "
                    f"| {_times(warm / median('MLPClassifier', n_jobs, 'warm'))} "
                    f"| {median(name, n_jobs, 'process'):.2f} | {median(name, n_jobs, 'cpu'):.1f} |"
                )
        lines.append("")
        speedup = median("ours", 1) / median("ours", 2)
        versus = median("ours", 2) / median("MLPClassifier", 2)
        warm_speedup = median("ours", 1, "warm") / median("ours", 2, "warm")
        warm_versus = median("ours", 2, "warm") / median("MLPClassifier", 2, "warm")
        targets += [
            f"- GridSearchCV cold, n_jobs=2 over n_jobs=1, ours: {speedup:.2f}x (target >= 1.5x):"
            f" {_verdict(speedup >= 1.5)}; warm: {warm_speedup:.2f}x",
            f"- GridSearchCV cold at n_jobs=2, ours / MLPClassifier: {versus:.2f}x (target "
            f"<= 1.3x): {_verdict(versus <= 1.3)}; warm: {warm_versus:.2f}x",
        ]
    if "b" in results:
        runs = results["b"]["runs"]
        lines += [
            f"## (b) Concurrent processes, each fitting 784-128-10 (falloff='none' for ours) on "
            f"{args.rows:,} rows of {results['b']['source']}, {args.fit_epochs} epochs "
            f"(median over processes and {args.rounds} rounds; load at the end "
            f"{results['b']['load']})",
            "",
            "| case | alone, s | 2 at once, s per fit | slowdown | 3 at once, s per fit "
            "| slowdown |",
            "|---|---|---|---|---|---|",
        ]
        for name in FIT_CASES:
            alone = _median(runs, case=name, processes=1)
            if alone != alone:
                continue
            row = f"| {name} | {alone:.2f} |"
            for count in (2, 3):
                seconds = _median(runs, case=name, processes=count)
                row += (
                    " | |" if seconds != seconds else f" {seconds:.2f} | {seconds / alone:.2f}x |"
                )
            lines.append(row)
        lines.append("")

        def slowdown(name):
            return _median(runs, case=name, processes=2) / _median(runs, case=name, processes=1)

        cases = {run["case"] for run in runs}
        if {"ours, n_threads=-1", "ours, n_threads=-1, OMP_WAIT_POLICY=PASSIVE"} <= cases:
            every, passive = "ours, n_threads=-1", "ours, n_threads=-1, OMP_WAIT_POLICY=PASSIVE"
            lines += [
                "Mechanisms against spinning, from this table: two threads per fit (as before "
                f"the policy) slow each of two concurrent fits {slowdown(every):.2f}x; the same "
                f"with OMP_WAIT_POLICY=PASSIVE {slowdown(passive):.2f}x, and a passive fit "
                f"alone takes {_median(runs, case=passive, processes=1):.2f} s against "
                f"{_median(runs, case=every, processes=1):.2f} s; the policy's one thread "
                f"{slowdown('ours'):.2f}x. The wait policy is read from the environment when "
                "torch loads its OpenMP runtime, so the package cannot set it; it sets the "
                "thread count. No parallel region nests in another: the fused kernels are "
                "called from Python, outside torch's parallel regions.",
                "",
            ]
        ours, mlp = slowdown("ours"), slowdown("MLPClassifier")
        targets.append(
            f"- Two concurrent fits, slowdown of each: ours {ours:.2f}x, MLPClassifier "
            f"{mlp:.2f}x (target: at most 2.5x): {_verdict(ours <= 2.5)}"
        )
        if "ours, n_threads=-1" in {run["case"] for run in runs}:
            today = _median(runs, case="ours, n_threads=-1", processes=1)
            now = _median(runs, case="ours", processes=1)
            targets.append(
                f"- One fit alone: {now:.2f} s under the policy, {today:.2f} s on every thread "
                f"(before): {now / today:.2f}x (target: no slower): {_verdict(now <= today * 1.05)}"
            )
    if "c" in results:
        lines += ["## (c) The grid search of (a) on a Dask LocalCluster (2 workers x 1 thread)", ""]
        if "skipped" in results["c"]:
            lines += [f"Skipped: {results['c']['skipped']}.", ""]
        else:
            runs = results["c"]["runs"]
            lines += [
                f"Median of {args.rounds} rounds after a warm-up search each; load at the end "
                f"{results['c']['load']}.",
                "",
                "| estimator | seconds | vs MLPClassifier |",
                "|---|---|---|",
            ]
            mlp = _median(runs, case="MLPClassifier")
            for name in ("ours", "MLPClassifier"):
                seconds = _median(runs, case=name)
                lines.append(f"| {name} | {seconds:.2f} | {seconds / mlp:.2f}x |")
            lines.append("")
    if "d" in results:
        lines += [
            "## (d) One fit alone on 1 and 2 threads, per size (what the policy rests on)",
            "",
            f"Median ms per training step over {args.rounds} rounds after a warm-up; the policy "
            "column is the count the package picks here (`n_threads=None`). Load at the end "
            f"{results['d']['load']}.",
            "",
            "| layers | batch | multiply-adds per step | 1 thread, ms | 2 threads, ms "
            "| 1 thread / 2 threads | policy |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in results["d"]["runs"]:
            lines.append(
                f"| {run['layers']} | {run['batch']} | {run['work'] / 1e6:.0f} M "
                f"| {1e3 * run['step_1']:.2f} | {1e3 * run['step_2']:.2f} "
                f"| {run['step_1'] / run['step_2']:.2f}x | {run['policy']} |"
            )
        lines.append("")
    if targets:
        lines += ["## Against the targets of issue 23", "", *targets, ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small and few cases")
    parser.add_argument("--parts", nargs="+", default=["a", "b", "c", "d"], choices="abcd")
    parser.add_argument("--rounds", type=int, default=None, help="repetitions of every case")
    parser.add_argument("--output", type=Path, default=None, help="the Markdown table's path")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_MNIST, help="MNIST IDX folder (else random data)"
    )
    parser.add_argument(
        "--before", action="store_true", help="(a) also with n_threads=-1 at n_jobs=1"
    )
    parser.add_argument(
        "--skip-serial-mlp",
        action="store_true",
        help="(a) without MLPClassifier at n_jobs=1 (minutes on a busy machine: its BLAS spins)",
    )
    parser.add_argument("--fit-worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--search-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.fit_worker is not None:
        fit_worker(args.fit_worker, args.data)
        return
    if args.search_worker is not None:
        warnings.simplefilter("ignore")
        search_worker(*json.loads(args.search_worker))
        return
    warnings.simplefilter("ignore")
    if args.quick:
        args.rounds = args.rounds or 1
        args.epochs, args.cv, args.rows, args.fit_epochs = 5, 3, 5000, 1
        args.parts = [part for part in args.parts if part != "d"] if args.parts else []
    else:
        args.rounds = args.rounds or 3
        args.epochs, args.cv, args.rows, args.fit_epochs = 50, 3, 20000, 3
    output = args.output or RESULTS_DIR / ("parallel_quick.md" if args.quick else "parallel.md")
    results = {"load_start": _load()}
    parts = {"a": part_grid, "b": part_concurrent, "c": part_dask, "d": part_sizes}
    for part in args.parts:
        results[part] = parts[part](args)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report(args, results))
    print(report(args, results))


if __name__ == "__main__":
    main()
