"""Microseconds for one layer's effective weight, forward and backward: C kernels against torch ops.

One positional layer (raw weight, positions, inverse-square falloff, both penalties) and one
particle layer (gaussian falloff), float32 on the CPU, one thread. Each repetition times the
kernels and the PyTorch-operations path back to back (interleaved, after a warm-up), so that a
shared machine's load hits both alike; the table gives medians, their ratio, and the fastest
round of each (the least disturbed by other processes). Used to check that
the kernels' input checks at their boundary (issue 15) do not cost their speed: run it on the
commit before and after and compare the kernel column.

Usage::

    python benchmarks/kernel_layer.py                # 128 x 784, 300 repetitions
    python benchmarks/kernel_layer.py --quick        # 60 repetitions
    python benchmarks/kernel_layer.py --output benchmarks/results/kernel_layer.md
    python benchmarks/kernel_layer.py --root /tmp/before   # a checkout of an earlier commit
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# --root DIR imports sklearn_posnet from another checkout (with its built kernels), to compare.
_root = sys.argv[sys.argv.index("--root") + 1] if "--root" in sys.argv else str(REPO_ROOT)
sys.path.insert(0, _root)

import torch  # noqa: E402

from sklearn_posnet.falloff import get_falloff  # noqa: E402
from sklearn_posnet.nn import _fused, use_kernels  # noqa: E402


def _positional_step(weight, p_out, p_in):
    out, penalty = _fused.penalized_falloff_weight(
        weight, p_out, p_in, get_falloff("inverse_square"), 1.0, 1e-4, 1e-5
    )
    ((out * out).sum() + penalty).backward()


def _particle_step(p_out, v_out, p_in, v_in):
    out = _fused.particle_weight(p_out, v_out, p_in, v_in, get_falloff("gaussian"))
    (out * out).sum().backward()


def _time(step, tensors, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        step(*tensors)
    return (time.perf_counter() - start) / repeats * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-out", type=int, default=128)
    parser.add_argument("--n-in", type=int, default=784)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, help="append the table to this file")
    parser.add_argument("--root", help="import sklearn_posnet from this folder")
    args = parser.parse_args(argv)
    rounds = 60 if args.quick else args.rounds
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)

    def tensor(*shape):
        return torch.randn(*shape, generator=generator).requires_grad_()

    n_out, n_in = args.n_out, args.n_in
    cases = {
        "positional": (_positional_step, (tensor(n_out, n_in), tensor(n_out, 2), tensor(n_in, 2))),
        "particle": (
            _particle_step,
            (tensor(n_out, 2), tensor(n_out, 2), tensor(n_in, 2), tensor(n_in, 2)),
        ),
    }
    rows = []
    for name, (step, tensors) in cases.items():
        times = {True: [], False: []}
        for use in (True, False):  # warm-up
            with use_kernels(use):
                _time(step, tensors, 20)
        for _ in range(rounds):
            for use in (True, False):
                with use_kernels(use):
                    times[use].append(_time(step, tensors, 5))
        kernels, torch_ops = statistics.median(times[True]), statistics.median(times[False])
        best_kernels, best_torch = min(times[True]), min(times[False])
        rows.append(
            f"| {name} | {kernels:.0f} | {torch_ops:.0f} | {torch_ops / kernels:.2f} "
            f"| {best_kernels:.0f} | {best_torch:.0f} |"
        )

    load = os.getloadavg()
    import sklearn_posnet

    lines = [
        f"## One layer {n_out} x {n_in}, forward + backward, float32, 1 thread",
        "",
        f"sklearn_posnet from `{Path(sklearn_posnet.__file__).parent.parent}`.",
        "",
        f"Command: `python benchmarks/kernel_layer.py{' --quick' if args.quick else ''}`; "
        f"{rounds} interleaved rounds of 5 steps; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on a shared machine "
        f"({os.cpu_count()} cores).",
        "",
        "| layer | kernels (us) | torch operations (us) | torch / kernels | fastest round, "
        "kernels (us) | fastest round, torch (us) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        with args.output.open("a") as file:
            file.write(text + "\n")


if __name__ == "__main__":
    main()
