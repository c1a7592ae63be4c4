"""The package's thread policy: how many CPU threads a fit or a prediction runs on.

torch parallelizes each operation over a pool of OpenMP threads (its intra-op pool), and the
fused kernels of :mod:`sklearn_posnet.nn._fused` open OpenMP parallel regions of their own, in the
same OpenMP runtime, sized by :func:`torch.get_num_threads`. OpenMP threads wait for the next
parallel region by spinning on a core, and a training step opens dozens of small regions, so a
process that trains a small network on two threads keeps two cores busy even when one would do
the work as fast. Two such processes on one machine (a grid search beside a notebook, a Dask
worker with several tasks) then each wait for threads the other one's spinning keeps off the
cores. In ``benchmarks/results/parallel.md`` (part (b), on a busy shared 2-core machine) a
784-128-10 fit took 59 s on two threads alone and 260 s beside a second one; on one thread,
3.4 s and 6.4 s.

The policy therefore gives a call one thread unless its work is large enough that more pay off,
and never more than the calling thread is allowed:

- the work is the number of multiply-adds of one forward pass over one training batch (for
  ``fit`` and ``partial_fit``) or one prediction chunk (for ``predict`` and the rest);
  the call gets one thread per :data:`WORK_PER_THREAD` of it, and at least one;
- what the calling thread is allowed is :func:`torch.get_num_threads` there, which follows
  ``OMP_NUM_THREADS`` (joblib's loky workers and Dask's set it to share the cores among the
  workers), :func:`threadpoolctl.threadpool_limits` and :func:`torch.set_num_threads`.

The estimators' ``n_threads`` overrides the first rule (an int, or -1 for all the allowed
threads), never the second. The count applies for the duration of the call and the previous
one is put back afterwards, also when the call raises.

The wait policy itself (``OMP_WAIT_POLICY``) is read once, when the OpenMP runtime is loaded
with torch, so a library cannot change it; the thread count is the lever left, and the one that
helps most (see the benchmark's notes).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral

import torch

__all__ = [
    "WORK_PER_THREAD",
    "choose_n_threads",
    "forward_work",
    "intra_op_threads",
    "uses_threads",
]

#: Multiply-adds per forward pass that each thread of a call gets at least. On the project's
#: shared 2-core machine a second thread made a training step 12-31x slower up to 81 M
#: multiply-adds, 4x slower at 325 M, and from 2x slower to 1.07x faster at 833 M
#: (benchmarks/results/parallel.md and parallel_sizes.md, part (d)); issue 19 found one thread
#: as fast as two at 20 M on the idle machine. Above this, large networks on an idle many-core
#: machine get threads; n_threads=1 keeps any fit on one.
WORK_PER_THREAD = 2**28


def forward_work(layer_sizes: Sequence[int], n_rows: int) -> int:
    """Multiply-adds of one forward pass of a dense network over ``n_rows`` rows.

    Parameters
    ----------
    layer_sizes : sequence of int
        Neurons per layer, inputs first.
    n_rows : int
        Rows per forward pass (a batch, or a chunk of the rows to predict).

    Returns
    -------
    work : int
        ``n_rows * sum(n_in * n_out)`` over the layers.
    """
    sizes = [int(size) for size in layer_sizes]
    return int(n_rows) * sum(n_in * n_out for n_in, n_out in itertools.pairwise(sizes))


def choose_n_threads(n_threads: int | None, work: int, allowed: int | None = None) -> int:
    """The number of intra-op threads of a call.

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads``: None for one thread per :data:`WORK_PER_THREAD`
        multiply-adds of ``work``, -1 for every allowed thread, or a count.
    work : int
        Multiply-adds of one forward pass (see :func:`forward_work`).
    allowed : int, default=None
        The most threads the call may use; None reads :func:`torch.get_num_threads` in the
        calling thread.

    Returns
    -------
    n : int
        Between 1 and ``allowed``.
    """
    if allowed is None:
        allowed = torch.get_num_threads()
    allowed = max(1, int(allowed))
    if n_threads is None:
        wanted = max(1, int(work) // WORK_PER_THREAD)
    elif n_threads == -1:
        wanted = allowed
    else:
        wanted = int(n_threads)
    return max(1, min(wanted, allowed))


@contextmanager
def intra_op_threads(n: int) -> Iterator[int]:
    """Run the body on ``n`` torch intra-op threads, then put the calling thread's count back.

    torch's count (and the OpenMP runtime's, which torch shares with the fused kernels) belongs
    to the calling thread; :func:`torch.set_num_threads` also sets the default of threads that
    start later, which restoring sets back to the count found on entry. Nothing is set when
    ``n`` is already the count.

    Parameters
    ----------
    n : int
        Threads for the body, at least 1.

    Yields
    ------
    n : int
        The count in force.
    """
    previous = torch.get_num_threads()
    if n == previous:
        yield n
        return
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)


def uses_threads(work: Callable[[object, object], int]) -> Callable:
    """Decorate an estimator method ``method(self, X, ...)`` to run under the thread policy.

    Parameters
    ----------
    work : callable
        ``work(estimator, X)``: the multiply-adds of one forward pass of the call (see
        :func:`forward_work`); 0 where they cannot be told yet (the call then validates and
        raises).

    Returns
    -------
    decorator : callable
        Applies :func:`choose_n_threads` with the estimator's ``n_threads`` and runs the method
        inside :func:`intra_op_threads`.
    """

    def decorator(method):
        @functools.wraps(method)
        def with_threads(self, X, *args, **kwargs):
            n_threads = getattr(self, "n_threads", None)
            if not (n_threads is None or isinstance(n_threads, Integral)):
                n_threads = None  # not validated yet: the method's validation reports it
            with intra_op_threads(choose_n_threads(n_threads, work(self, X))):
                return method(self, X, *args, **kwargs)

        return with_threads

    return decorator


def data_shape(X) -> tuple[int, int]:
    """Rows and columns of ``X`` as far as they show without converting it; 0 where they
    don't (X is validated later, by the call itself).

    Parameters
    ----------
    X : object
        What the user passed as ``X``.

    Returns
    -------
    shape : tuple of int
        ``(n_rows, n_columns)``.
    """
    shape = getattr(X, "shape", None)
    if shape is not None:
        try:
            return (int(shape[0]), int(shape[1])) if len(shape) == 2 else (0, 0)
        except (TypeError, ValueError):
            return 0, 0
    try:
        return len(X), len(X[0])
    except (TypeError, KeyError, IndexError):
        return 0, 0
