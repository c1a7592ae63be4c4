"""Export of fitted networks (sklearn_posnet.export) and every torch route over module_ itself."""

import io
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier, prune
from sklearn_posnet.export import to_onnx, to_sklearn, to_torch
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP

MODELS = {"positional": PositionalMLPClassifier, "particle": ParticleNetworkClassifier}


def _fit(model, X, y, **params):
    params = {"hidden_layer_sizes": (12,), "max_iter": 3, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MODELS[model](**params).fit(X, y)


@pytest.fixture(scope="module")
def data():
    """Fitted models and the rows to compare them on: the digits, and MNIST-shaped noise."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rng = np.random.default_rng(0)
    X_mnist = rng.random((300, 784))
    y_mnist = rng.integers(0, 10, 300)
    fitted = {}
    for model in MODELS:
        fitted[model, "digits"] = (_fit(model, X[:200], y[:200]), X)
        fitted[model, "mnist"] = (_fit(model, X_mnist[:100], y_mnist[:100]), X_mnist)
    return fitted


CASES = [(model, dataset) for model in MODELS for dataset in ("digits", "mnist")]


@pytest.mark.parametrize(("model", "dataset"), CASES)
def test_to_sklearn_predicts_as_the_estimator(data, model, dataset):
    clf, X = data[model, dataset]
    mlp = to_sklearn(clf)
    assert isinstance(mlp, MLPClassifier)
    np.testing.assert_array_equal(mlp.predict(X), clf.predict(X))
    np.testing.assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-12)
    # a plain MLPClassifier: it pickles and predicts without this package's classes
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(mlp)).predict(X[:20]), clf.predict(X[:20])
    )


@pytest.mark.parametrize(
    ("model", "activation"),
    [
        ("positional", "relu"),
        ("positional", "logistic"),
        ("particle", "tanh"),
        ("particle", "identity"),
    ],
)
def test_to_sklearn_binary_string_labels_and_two_hidden_layers(model, activation):
    """Two classes: one logistic output, ``z1 - z0``; labels come back as given."""
    X, y = load_digits(n_class=2, return_X_y=True)
    labels = np.array(["zero", "one"])[y]
    clf = _fit(model, X[:120] / 16, labels[:120], hidden_layer_sizes=(7, 5), activation=activation)
    mlp = to_sklearn(clf)
    assert mlp.out_activation_ == "logistic" and mlp.coefs_[-1].shape == (5, 1)
    np.testing.assert_array_equal(mlp.predict(X / 16), clf.predict(X / 16))
    np.testing.assert_allclose(mlp.predict_proba(X / 16), clf.predict_proba(X / 16), atol=1e-12)


def test_to_sklearn_keeps_feature_names_and_follows_pruning(data):
    pd = pytest.importorskip("pandas")
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:200] / 16, columns=[f"pixel{i}" for i in range(64)])
    clf = _fit("positional", frame, y[:200], hidden_layer_sizes=(10, 8))
    pruned = prune(clf, 0.5)
    for estimator in (clf, pruned):
        mlp = to_sklearn(estimator)
        np.testing.assert_array_equal(mlp.feature_names_in_, frame.columns)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no feature-name warning
            np.testing.assert_array_equal(mlp.predict(frame), estimator.predict(frame))
    assert to_sklearn(pruned).hidden_layer_sizes == tuple(pruned.hidden_layer_sizes)


@pytest.mark.parametrize("model", MODELS)
def test_to_sklearn_is_a_plain_mlp_with_default_parameters_and_no_training_state(data, model):
    """Made through MLPClassifier's own fit on placeholder rows: its parameters are the defaults,
    nothing of that fit shows, and a refit trains it as a fresh MLP."""
    clf, X = data[model, "digits"]
    mlp = to_sklearn(clf)
    hidden = tuple(clf.module_.layer_sizes[1:-1])
    expected = MLPClassifier(hidden_layer_sizes=hidden, activation=clf.activation).get_params()
    assert mlp.get_params() == expected
    assert mlp.loss_curve_ == [] and mlp.n_iter_ == 0 and not hasattr(mlp, "loss_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.set_params(max_iter=3).fit(X, clf.predict(X))
    assert len(mlp.loss_curve_) == 3 and mlp.n_iter_ == 3


@pytest.mark.parametrize(("model", "dataset"), CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_to_torch_is_a_plain_network_that_predicts_as_the_estimator(data, model, dataset, dtype):
    clf, X = data[model, dataset]
    network = to_torch(clf, dtype=dtype, output="proba")
    assert all(type(layer).__module__.startswith("torch.nn") for layer in network)
    with torch.no_grad():
        proba = network(torch.as_tensor(X, dtype=dtype)).numpy()
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=atol)


@pytest.mark.parametrize("model", MODELS)
def test_to_torch_exports_through_torch_export_and_jit_trace(data, model):
    clf, X = data[model, "digits"]
    network = to_torch(clf)
    x = torch.as_tensor(X[:50], dtype=torch.float32)
    expected = network(x)
    exported = torch.export.export(network, (x,))
    traced = torch.jit.trace(network, (x,))
    torch.testing.assert_close(exported.module()(x), expected)
    torch.testing.assert_close(traced(x), expected)


@pytest.mark.parametrize(("model", "dataset"), CASES)
def test_to_onnx_runs_in_onnxruntime_as_the_estimator(data, model, dataset, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    clf, X = data[model, dataset]
    path = tmp_path / "model.onnx"
    proto = to_onnx(clf, path, output="proba")
    onnx.checker.check_model(onnx.load(path))
    session = onnxruntime.InferenceSession(proto.SerializeToString())
    assert [i.name for i in session.get_inputs()] == ["input"]
    # any batch size: the batch dimension is dynamic
    proba = session.run(["proba"], {"input": X.astype(np.float32)})[0]
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-5)


def test_to_onnx_float64_logits(data):
    onnxruntime = pytest.importorskip("onnxruntime")
    clf, X = data["particle", "digits"]
    session = onnxruntime.InferenceSession(to_onnx(clf, dtype=torch.float64).SerializeToString())
    logits = session.run(["logits"], {"input": X})[0]
    np.testing.assert_array_equal(clf.classes_[logits.argmax(axis=1)], clf.predict(X))
    log_proba = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_proba, clf.predict_log_proba(X), rtol=0, atol=1e-10)


def test_swish_is_refused_with_the_activations_that_export(data):
    X, y = load_digits(return_X_y=True)
    clf = _fit("positional", X[:60] / 16, y[:60], activation="swish", max_iter=1)
    for convert in (to_sklearn, to_torch, to_onnx):
        with pytest.raises(ValueError, match=r"swish.*'identity', 'logistic', 'relu', 'tanh'"):
            convert(clf)


def test_bad_arguments_are_refused(data):
    clf, _ = data["positional", "digits"]
    with pytest.raises(NotFittedError):
        to_sklearn(PositionalMLPClassifier())
    with pytest.raises(TypeError, match="estimator_"):
        to_torch(MLPClassifier(max_iter=2).fit([[0.0], [1.0]], [0, 1]))
    with pytest.raises(ValueError, match="output"):
        to_torch(clf, output="labels")
    with pytest.raises(ValueError, match="dtype"):
        to_torch(clf, dtype=torch.float16)


def test_export_leaves_the_fitted_module_untouched(data):
    clf, _ = data["particle", "digits"]
    before = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    to_sklearn(clf)
    to_torch(clf, dtype=torch.float64)
    for key, value in clf.module_.state_dict().items():
        assert value.dtype == torch.float32 and torch.equal(value, before[key])


# --------------------------------------------------- torch routes over the modules themselves
def _modules():
    generator = torch.Generator().manual_seed(0)
    return {
        "positional": PositionalMLP([64, 12, 10], generator=generator),
        "particle": ParticleNetwork([64, 12, 10], generator=generator),
        "particle-tiled": ParticleNetwork(
            [64, 12, 10], generator=generator, weight_mode="tiled", tile_size=5
        ),
    }


def _onnx_output(module, x, dynamo):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    if dynamo:
        pytest.importorskip("onnxscript")
        data = torch.onnx.export(module, (x,), dynamo=True, verbose=False).model_proto
        data = data.SerializeToString()
    else:
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
            torch.onnx.export(module, (x,), buffer, dynamo=False)
        data = buffer.getvalue()
    session = onnxruntime.InferenceSession(data)
    return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])


ROUTES = {
    "torch.export": lambda module, x: torch.export.export(module, (x,)).module()(x),
    "torch.jit.trace": lambda module, x: torch.jit.trace(module, (x,), check_trace=False)(x),
    "onnx-dynamo": lambda module, x: _onnx_output(module, x, dynamo=True),
    "onnx-torchscript": lambda module, x: _onnx_output(module, x, dynamo=False),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", ["positional", "particle", "particle-tiled"])
@pytest.mark.parametrize("grad_mode", [False, True])
def test_every_torch_route_records_the_real_computation(route, kind, grad_mode):
    """The fused nodes step aside while a tracer records: the recorded graph computes what the
    eager module computes (before issue 15 the graphs silently held empty tensors)."""
    if kind == "particle-tiled" and route.startswith("onnx"):
        pytest.skip("the tiled layer steps aside like the materialized one (checked above)")
    if grad_mode and route in ("torch.export", "onnx-dynamo"):
        pytest.skip("torch.export records the same graph in either grad mode")
    module = _modules()[kind].eval()
    x = torch.rand(9, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = module(x)
    with torch.set_grad_enabled(grad_mode):
        got = ROUTES[route](module, x).detach()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("model", MODELS)
def test_fitted_module_exports_with_torch_export(data, model):
    clf, X = data[model, "digits"]
    x = torch.as_tensor(X[:40], dtype=torch.float32)
    module = clf.module_
    with torch.no_grad():
        expected = module(x)
    got = torch.export.export(module, (x,)).module()(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert (got.argmax(dim=1).numpy() == np.searchsorted(clf.classes_, clf.predict(X[:40]))).all()


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressors_export_to_mlpregressor_torch_and_onnx(loss):
    from sklearn.neural_network import MLPRegressor

    from sklearn_posnet import ParticleNetworkRegressor, PositionalMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    Y = rng.poisson(np.exp(0.4 * X[:, :2]))  # two count targets
    for cls in (PositionalMLPRegressor, ParticleNetworkRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg = cls(hidden_layer_sizes=(8,), loss=loss, max_iter=20, random_state=0).fit(X, Y)
        mlp = to_sklearn(reg)
        assert isinstance(mlp, MLPRegressor) and mlp.loss == loss
        np.testing.assert_allclose(mlp.predict(X), reg.predict(X), rtol=1e-10, atol=1e-12)
        network = to_torch(reg, dtype=torch.float64, output="predict")
        predicted = network(torch.as_tensor(X)).numpy()
        np.testing.assert_allclose(predicted, reg.predict(X), rtol=1e-12, atol=1e-12)
        with pytest.raises(ValueError, match="does not apply to a regressor"):
            to_torch(reg, output="proba")
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    session = onnxruntime.InferenceSession(to_onnx(reg, output="predict").SerializeToString())
    onnx_predicted = session.run(None, {"input": X.astype(np.float32)})[0]
    np.testing.assert_allclose(onnx_predicted, reg.predict(X), rtol=1e-5, atol=1e-5)


def test_a_multilabel_classifier_exports_with_logistic_outputs():
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = PositionalMLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
        clf.fit(X, Y)
    mlp = to_sklearn(clf)
    assert mlp.out_activation_ == "logistic"
    np.testing.assert_array_equal(mlp.predict(X), clf.predict(X))
    np.testing.assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), rtol=1e-10)
    network = to_torch(clf, dtype=torch.float64, output="proba")
    np.testing.assert_allclose(network(torch.as_tensor(X)).numpy(), clf.predict_proba(X))
    with pytest.raises(ValueError, match="does not apply to a classifier"):
        to_torch(clf, output="predict")
