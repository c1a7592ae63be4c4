"""Write ``training_expectations_<CPU capability>.npz``: predictions of fixed fits, to check that
refactoring the training loop changes no result.

First made with the code at commit 90b5a54 (before the training loop became skorch callbacks):
``python tests/data/make_training_expectations.py``. Rerun it only when a change of results is
intended, and say so in the commit, or to add the file of another kind of CPU, with the code
before your change. The results last changed on purpose when the loss's gradient became a
closed form (issue 23): ``AuthenticAMD_AVX512`` is made with the code of that commit. The
``GenuineIntel_AVX512`` file of the code before it was removed then, since it could not be
remade on that AMD machine: remake it on an Intel AVX512 CPU with the code of that commit (the
test skips where a CPU kind has no file). Fits run on one thread: float32 matrix products (and
so the trained parameters) round differently with another number of threads.
"""

from __future__ import annotations

import platform
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier


def cpu_vendor() -> str:
    """The CPU's vendor as Linux names it (``GenuineIntel``, ``AuthenticAMD``), or the
    platform's processor name elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def expectations_path() -> Path:
    """The expectations of this machine's kind of CPU: float32 products round differently with
    other vector instructions (AVX2, AVX512) and, with the same instructions, on another
    vendor's CPU (the BLAS picks other kernels: an AMD and an Intel CPU, both AVX512, differ
    by an ulp), so each vendor and capability has its own file."""
    capability = torch.backends.cpu.get_cpu_capability()
    return Path(__file__).with_name(f"training_expectations_{cpu_vendor()}_{capability}.npz")


#: The geometry the positional cases were made with (the defaults at 90b5a54).
REFERENCE_GEOMETRY = {"length_scale": 1.0, "input_layout": "auto", "output_layout": "circle"}
#: The distance penalty the positional cases were made with (the defaults before issue 26).
PENALTY = {"distance_alpha": 0.01, "distance_reduction": "layer_mean"}

#: name -> (class, parameters): every fit on the first 400 digits scaled to [0, 1].
CASES = {
    "positional": (
        PositionalMLPClassifier,
        {"hidden_layer_sizes": (16,), "max_iter": 6, **REFERENCE_GEOMETRY, **PENALTY},
    ),
    "vanilla": (
        PositionalMLPClassifier,
        {
            "hidden_layer_sizes": (16, 8),
            "falloff": "none",
            "distance_alpha": 0.0,
            "max_iter": 6,
            **REFERENCE_GEOMETRY,
        },
    ),
    "positional_early_stopping": (
        PositionalMLPClassifier,
        {
            "hidden_layer_sizes": (16,),
            "early_stopping": True,
            "max_iter": 8,
            **REFERENCE_GEOMETRY,
            **PENALTY,
        },
    ),
    "positional_sgd_plateau": (
        PositionalMLPClassifier,
        {
            "hidden_layer_sizes": (16,),
            "solver": "sgd",
            "tol": 0.05,
            "n_iter_no_change": 2,
            "max_iter": 50,
            **REFERENCE_GEOMETRY,
            **PENALTY,
        },
    ),
    "particle": (ParticleNetworkClassifier, {"hidden_layer_sizes": (16,), "max_iter": 6}),
}


def data():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def fit_case(name):
    cls, params = CASES[name]
    X, y = data()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator = cls(random_state=0, **params).fit(X, y)
            estimator.partial_fit(X, y)
        proba = estimator.predict_proba(X)
    finally:
        torch.set_num_threads(threads)
    return estimator, proba


def main():
    arrays = {}
    for name in CASES:
        estimator, proba = fit_case(name)
        arrays[f"{name}_proba"] = proba
        arrays[f"{name}_loss_curve"] = np.asarray(estimator.loss_curve_)
    out = expectations_path()
    np.savez(out, **arrays)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
