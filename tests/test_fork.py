"""A process forked after a fit works when PyTorch uses one thread: the package's C kernels add
no OpenMP thread pool of their own.

(With more than one thread, a forked child can hang in the GNU OpenMP runtime of PyTorch's CPU
build, with or without these kernels: the user guide says to use spawn or forkserver then.) The
check runs in a separate interpreter, so that a hang fails this test instead of hanging the suite.
"""

import subprocess
import sys
import textwrap

import pytest

from sklearn_posnet.nn._fused import kernels_available

CHILD_DEADLINE_S = 120

SCRIPT = textwrap.dedent(
    f"""
    import os, sys, time, warnings

    import numpy as np
    import torch

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 300))
    y = np.arange(200) % 3
    # 300 x 256 connections: above the size at which the kernels would use several threads.
    models = [
        PositionalMLPClassifier((256,), max_iter=2, random_state=0).fit(X, y),
        ParticleNetworkClassifier((256,), max_iter=2, random_state=0).fit(X, y),
    ]
    expected = [model.predict_proba(X) for model in models]
    pid = os.fork()
    if pid == 0:
        status = 0
        for model, probabilities in zip(models, expected):
            status |= not np.array_equal(model.predict_proba(X), probabilities)
            model.partial_fit(X, y)  # forward and backward kernels
        os._exit(int(status))
    deadline = time.monotonic() + {CHILD_DEADLINE_S}
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.05)
    os.kill(pid, 9)
    print("the forked child hung", flush=True)
    sys.exit(3)
    """
)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
@pytest.mark.skipif(not kernels_available(), reason="the C kernels are not built")
def test_a_child_forked_after_a_fit_predicts_and_trains_with_one_torch_thread():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=CHILD_DEADLINE_S + 240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
