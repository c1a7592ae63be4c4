"""
=================================
Deploy a fitted network with ONNX
=================================

A positional network computes what a plain multilayer perceptron computes with its
*effective* weights (the raw weights times the falloff of each connection's length).
:mod:`sklearn_posnet.export` forms them once and hands them to a model that needs nothing of
this package: a scikit-learn :class:`~sklearn.neural_network.MLPClassifier`
(:func:`~sklearn_posnet.export.to_sklearn`), a plain :class:`torch.nn.Sequential`
(:func:`~sklearn_posnet.export.to_torch`), or an ONNX model
(:func:`~sklearn_posnet.export.to_onnx`, ``pip install sklearn_posnet[export]``) that
`onnxruntime <https://onnxruntime.ai>`_ runs without PyTorch.
"""

# %%
# Train a positional network on the digits
# ----------------------------------------
import warnings

import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_posnet import PositionalMLPClassifier
from sklearn_posnet.export import to_onnx, to_sklearn

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3, random_state=0)
clf = PositionalMLPClassifier(hidden_layer_sizes=(32,), max_iter=40, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a short fit for the example
    clf.fit(X_train, y_train)
print(f"test accuracy of the positional network: {clf.score(X_test, y_test):.3f}")

# %%
# Export to ONNX and score with onnxruntime
# -----------------------------------------
# The ONNX model takes float32 rows (any number of them) under the input name ``"input"``
# and returns the class probabilities, in the order of ``clf.classes_``.
model = to_onnx(clf, output="proba")
session = onnxruntime.InferenceSession(model.SerializeToString())
proba_onnx = session.run(["proba"], {"input": X_test.astype(np.float32)})[0]
y_onnx = clf.classes_[proba_onnx.argmax(axis=1)]

print(f"test accuracy of the ONNX model:           {np.mean(y_onnx == y_test):.3f}")
print(f"predictions equal to clf.predict:          {np.mean(y_onnx == clf.predict(X_test)):.1%}")
print(
    "largest probability difference:           "
    f"{np.abs(proba_onnx - clf.predict_proba(X_test)).max():.1e} (float32 against float64)"
)

# %%
# The same network as a scikit-learn MLP
# --------------------------------------
# :func:`~sklearn_posnet.export.to_sklearn` gives a fitted ``MLPClassifier`` with the effective
# weights as its ``coefs_``: it predicts, pickles and converts (e.g. with skl2onnx) like any
# other.
mlp = to_sklearn(clf)
print(f"MLPClassifier coefs_ shapes: {[c.shape for c in mlp.coefs_]}")
print(
    f"predictions equal to clf.predict: {np.mean(mlp.predict(X_test) == clf.predict(X_test)):.1%}"
)
