"""How far every export route agrees with the estimator's own predict and predict_proba.

For a fitted PositionalMLPClassifier and ParticleNetworkClassifier on each data set, every route
to a model outside this package is scored on held-out rows: the share of predictions equal to
``clf.predict`` and the largest absolute difference from ``clf.predict_proba`` (the estimators
predict in float64; float32 routes differ by float32 rounding).

Routes: ``to_sklearn`` (float64 MLPClassifier), ``to_torch`` in float32 and float64,
``to_onnx`` run by onnxruntime, and ``module_`` itself through ``torch.export.export``,
``torch.jit.trace`` and ``torch.onnx.export`` (the dynamo and the TorchScript exporters), in
float32.

Data: the digits (64 features), MNIST-shaped noise (784 features; the model is fitted on noise,
so its predictions have small margins: a hard case for agreement) and, unless ``--quick``, MNIST
itself (``--data``, a subset: ``--mnist-train`` rows to fit, the 10,000 test rows to score).

Usage::

    python benchmarks/export_agreement.py            # results/export_agreement.md
    python benchmarks/export_agreement.py --quick    # digits and noise, short fits
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier  # noqa: E402
from sklearn_posnet.datasets import load_mnist  # noqa: E402
from sklearn_posnet.export import to_onnx, to_sklearn, to_torch  # noqa: E402

MODELS = {"positional": PositionalMLPClassifier, "particle": ParticleNetworkClassifier}


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype(np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _run_onnx(data: bytes, X: np.ndarray, dtype=np.float32) -> np.ndarray:
    session = onnxruntime.InferenceSession(data)
    return session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})[0]


def _module_onnx(module, x, dynamo: bool) -> bytes:
    if dynamo:
        return torch.onnx.export(module, (x,), dynamo=True, verbose=False).model_proto
    buffer = io.BytesIO()
    torch.onnx.export(module, (x,), buffer, dynamo=False)
    return buffer.getvalue()


def routes(clf, X):
    """Each route's class probabilities for ``X`` (float64 arrays)."""
    x32 = torch.as_tensor(X, dtype=torch.float32)
    module = clf.module_
    with torch.no_grad():
        yield "to_sklearn (float64)", to_sklearn(clf).predict_proba(X)
        for dtype, label in ((torch.float32, "float32"), (torch.float64, "float64")):
            network = to_torch(clf, dtype=dtype, output="proba")
            yield f"to_torch ({label})", network(torch.as_tensor(X, dtype=dtype)).double().numpy()
    onnx_model = to_onnx(clf, output="proba").SerializeToString()
    yield "to_onnx + onnxruntime (float32)", _run_onnx(onnx_model, X).astype(np.float64)
    exported = torch.export.export(module, (x32,)).module()  # a static batch: all of X
    with torch.no_grad():
        yield "`module_`: torch.export.export", _softmax(exported(x32).numpy())
        traced = torch.jit.trace(module, (x32[:8],), check_trace=False)  # any batch
        yield "`module_`: torch.jit.trace", _softmax(traced(x32).numpy())
    for dynamo in (True, False):
        name = "dynamo" if dynamo else "TorchScript"
        # the exported graph keeps the batch size it was exported with: export the whole X
        data = _module_onnx(module, x32, dynamo)
        data = data.SerializeToString() if hasattr(data, "SerializeToString") else data
        yield f"`module_`: torch.onnx.export ({name})", _softmax(_run_onnx(data, X))


def datasets(args):
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train, test = order[:1200], order[1200:]
    yield "digits", X[train] / 16, y[train], X[test] / 16
    noise = rng.random((2300, 784))
    yield "MNIST-shaped noise", noise[:300], rng.integers(0, 10, 300), noise[300:]
    if not args.quick:
        X_train, y_train, X_test, _ = load_mnist(args.data)
        yield "MNIST", X_train[: args.mnist_train], y_train[: args.mnist_train], X_test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/mnist"))
    parser.add_argument("--mnist-train", type=int, default=10000)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    output = args.output or REPO_ROOT / "benchmarks" / "results" / (
        "export_agreement_quick.md" if args.quick else "export_agreement.md"
    )
    epochs = 3 if args.quick else 10
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="Exporting a model while it is in training mode")
    rows = []
    start = time.perf_counter()
    for data_name, X_train, y_train, X_test in datasets(args):
        for model_name, model in MODELS.items():
            clf = model(hidden_layer_sizes=(64,), max_iter=epochs, random_state=0)
            clf.fit(X_train, y_train)
            expected_proba = clf.predict_proba(X_test)
            expected = clf.predict(X_test)
            for route, proba in routes(clf, X_test):
                agreement = np.mean(clf.classes_[proba.argmax(axis=1)] == expected)
                difference = np.abs(proba - expected_proba).max()
                rows.append(
                    f"| {data_name} | {model_name} | {route} | {len(X_test)} "
                    f"| {agreement:.2%} | {difference:.1e} |"
                )
                print(rows[-1], flush=True)
    load = os.getloadavg()
    command = "python benchmarks/export_agreement.py" + (" --quick" if args.quick else "")
    text = "\n".join(
        [
            "# Agreement of every export route with the estimator",
            "",
            f"Command: `{command}` ({time.perf_counter() - start:.0f} s; load average "
            f"{load[0]:.1f} on a shared machine with {os.cpu_count()} cores). Models: one "
            f"hidden layer of 64, {epochs} epochs, random_state=0. torch {torch.__version__}, "
            f"onnxruntime {onnxruntime.__version__}.",
            "",
            "| data | model | route | rows | predictions equal to predict | "
            "max abs difference from predict_proba |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    output.write_text(text)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
