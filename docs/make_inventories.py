"""Write the intersphinx inventories that the docs build reads from ``docs/_inventories``.

The docs build has no network, so it cannot download ``objects.inv`` from the projects it links
to. This script writes those inventories instead, from the packages installed here, with each
project's real URL layout (checked against the published pages):

=============  =================================================================================
project        page of a documented object
=============  =================================================================================
scikit-learn   ``modules/generated/sklearn.pipeline.Pipeline.html#sklearn.pipeline.Pipeline``
               (methods are anchors on the class page; glossary terms ``glossary.html#term-fit``)
NumPy          ``reference/generated/numpy.mean.html#numpy.mean``
PyTorch        ``generated/torch.nn.Linear.html#torch.nn.Linear``; ``tensors.html#torch.Tensor``
skorch         one page per module: ``net.html#skorch.net.NeuralNet``,
               ``callbacks.html#skorch.callbacks.EarlyStopping``
matplotlib     ``api/_as_gen/matplotlib.pyplot.subplots.html#matplotlib.pyplot.subplots``
=============  =================================================================================

Python's own inventory is the official one, copied from Debian's ``python3.X-doc`` package
(``apt-get install python3.11-doc``) when it is there.

Run it from the repository root after upgrading one of these packages::

    python docs/make_inventories.py

An object missing from an inventory is only a missing link (the build does not warn); a wrong
page would be a broken link, so every rule below follows a published page layout and nothing is
listed that the rules do not cover.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import shutil
import sys
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "_inventories"

# (name, domain:role, uri relative to the project's base URL, display name or "-")
Entry = tuple[str, str, str, str]


def _public(names: Iterable[str]) -> list[str]:
    return sorted(name for name in names if not name.startswith("_"))


def _exported(module) -> list[str]:
    """The module's ``__all__``, or its public names defined in it."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return _public(names)
    return _public(
        name
        for name, obj in vars(module).items()
        if getattr(obj, "__module__", "").startswith(module.__name__)
    )


def _methods(cls: type, inherited: bool = True) -> list[str]:
    names = dir(cls) if inherited else vars(cls)
    return [
        name
        for name in _public(names)
        if inspect.isroutine(inspect.getattr_static(cls, name, None))
        or isinstance(inspect.getattr_static(cls, name, None), (classmethod, staticmethod))
    ]


def _properties(cls: type, inherited: bool = True) -> list[str]:
    names = dir(cls) if inherited else vars(cls)
    return [
        name
        for name in _public(names)
        if isinstance(inspect.getattr_static(cls, name, None), property)
    ]


def term_anchor(term: str) -> str:
    """The id Sphinx gives a glossary term (``sphinx.util.nodes.make_id`` with prefix "term")."""
    text = unicodedata.normalize("NFKD", f"term-{term}").encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9._]+", "-", " ".join(text.split()))
    return re.sub(r"^[-0-9._]+|-+$", "", text)


def _docstring_refs(objects: Iterable[object], role: str) -> set[str]:
    """Targets of ``:role:`target``` and ``:role:`text <target>``` in the objects' docstrings."""
    pattern = re.compile(rf":{role}:`(?:[^`<]*<([^>`]+)>|([^`<]+))`")
    targets = set()
    for obj in objects:
        for match in pattern.finditer(inspect.getdoc(obj) or ""):
            targets.add(" ".join((match.group(1) or match.group(2)).split()))
    return targets


# scikit-learn ---------------------------------------------------------------------------------

SKLEARN_EXTRA_MODULES = ["base", "utils", "utils.validation", "utils.estimator_checks"]
# User-guide labels that the docstrings rendered in these docs point to, with their pages.
SKLEARN_LABELS = {
    "accuracy_score": ("modules/model_evaluation.html#accuracy-score", "Accuracy score"),
    "metadata_routing": ("metadata_routing.html#metadata-routing", "Metadata Routing"),
    "grid_search": (
        "modules/grid_search.html#grid-search",
        "Tuning the hyper-parameters of an estimator",
    ),
    "neural_networks_supervised": (
        "modules/neural_networks_supervised.html#neural-networks-supervised",
        "Neural network models (supervised)",
    ),
    "pipeline": ("modules/compose.html#pipeline", "Pipeline: chaining estimators"),
    "cross_validation": (
        "modules/cross_validation.html#cross-validation",
        "Cross-validation: evaluating estimator performance",
    ),
}


def sklearn_entries() -> Iterator[Entry]:
    import sklearn

    # Experimental estimators import on demand; their pages exist like any other.
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")
    importlib.import_module("sklearn.experimental.enable_iterative_imputer")
    modules = [m for m in sklearn.__all__ if not callable(getattr(sklearn, m, None))]
    documented: list[object] = []
    for short in sorted(set(modules + SKLEARN_EXTRA_MODULES) - {"externals", "experimental"}):
        try:
            module = importlib.import_module(f"sklearn.{short}")
        except ImportError:
            continue
        modname = module.__name__
        yield modname, "py:module", f"api/{modname}.html#module-{modname}", "-"
        for name in _exported(module):
            obj = getattr(module, name, None)
            full = f"{modname}.{name}"
            page = f"modules/generated/{full}.html"
            if inspect.isclass(obj):
                documented.append(obj)
                yield full, "py:class", f"{page}#$", "-"
                # The class pages document inherited members too.
                for method in _methods(obj):
                    documented.append(getattr(obj, method))
                    yield f"{full}.{method}", "py:method", f"{page}#$", "-"
                for prop in _properties(obj):
                    yield f"{full}.{prop}", "py:property", f"{page}#$", "-"
            elif inspect.isfunction(obj):
                documented.append(obj)
                yield full, "py:function", f"{page}#$", "-"
    for name in ("clone", "get_config", "set_config", "config_context", "show_versions"):
        # Top-level names: clone is documented under sklearn.base, the others at the top.
        target = "sklearn.base.clone" if name == "clone" else f"sklearn.{name}"
        yield f"sklearn.{name}", "py:function", f"modules/generated/{target}.html#{target}", "-"
    # Terms these docs use themselves, whether or not a docstring above mentions them.
    own_terms = {"estimator", "meta-estimator", "random_state", "n_jobs", "fit", "predict"}
    for term in sorted(_docstring_refs(documented, "term") | own_terms):
        yield term, "std:term", f"glossary.html#{term_anchor(term)}", term
    for label, (uri, title) in SKLEARN_LABELS.items():
        yield label, "std:label", uri, title


# NumPy ----------------------------------------------------------------------------------------


def numpy_entries() -> Iterator[Entry]:
    import numpy as np

    yield "numpy", "py:module", "reference/index.html#module-numpy", "-"
    for name in _public(np.__all__):
        obj = getattr(np, name, None)
        full = f"numpy.{name}"
        if inspect.ismodule(obj) or obj is None:
            continue
        if inspect.isclass(obj) and issubclass(obj, np.generic):
            yield full, "py:class", f"reference/arrays.scalars.html#{full}", "-"
        elif inspect.isclass(obj):
            yield full, "py:class", f"reference/generated/{full}.html#$", "-"
        elif callable(obj):
            yield full, "py:function", f"reference/generated/{full}.html#$", "-"
        elif isinstance(obj, float):
            yield full, "py:data", f"reference/constants.html#{full}", "-"
    for method in _methods(np.ndarray):
        full = f"numpy.ndarray.{method}"
        yield full, "py:method", f"reference/generated/{full}.html#$", "-"
    for attr in ("T", "dtype", "ndim", "shape", "size", "itemsize", "nbytes", "strides"):
        full = f"numpy.ndarray.{attr}"
        yield full, "py:attribute", f"reference/generated/{full}.html#$", "-"
    yield "numpy.linalg", "py:module", "reference/routines.linalg.html#module-numpy.linalg", "-"
    for name in _public(np.linalg.__all__):
        if inspect.isfunction(getattr(np.linalg, name)):
            full = f"numpy.linalg.{name}"
            yield full, "py:function", f"reference/generated/{full}.html#$", "-"
    yield "numpy.random", "py:module", "reference/random/index.html#module-numpy.random", "-"
    yield "numpy.random.Generator", "py:class", "reference/random/generator.html#$", "-"
    yield "numpy.random.default_rng", "py:function", "reference/random/generator.html#$", "-"
    yield "numpy.random.RandomState", "py:class", "reference/random/legacy.html#$", "-"
    for cls in ("Generator", "RandomState"):
        for method in _methods(getattr(np.random, cls)):
            full = f"numpy.random.{cls}.{method}"
            yield full, "py:method", f"reference/random/generated/{full}.html#$", "-"
    yield "array_like", "std:term", "glossary.html#term-array_like", "array_like"
    yield "arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars", "Scalars"


# PyTorch --------------------------------------------------------------------------------------

TORCH_SPECIAL_PAGES = {
    "torch.Tensor": "tensors.html",
    "torch.Size": "size.html",
    "torch.dtype": "tensor_attributes.html",
    "torch.device": "tensor_attributes.html",
    "torch.layout": "tensor_attributes.html",
    "torch.autograd.Function": "autograd.html",
    "torch.utils.data.DataLoader": "data.html",
    "torch.utils.data.Dataset": "data.html",
    "torch.utils.data.TensorDataset": "data.html",
}
TORCH_MODULE_PAGES = {
    "torch": "torch.html",
    "torch.nn": "nn.html",
    "torch.nn.functional": "nn.functional.html",
    "torch.nn.init": "nn.init.html",
    "torch.optim": "optim.html",
    "torch.autograd": "autograd.html",
    "torch.utils.data": "data.html",
    "torch.onnx": "onnx.html",
}


def torch_entries() -> Iterator[Entry]:
    import torch

    for modname, page in TORCH_MODULE_PAGES.items():
        yield modname, "py:module", f"{page}#module-{modname}", "-"
    for full, page in TORCH_SPECIAL_PAGES.items():
        yield full, "py:class", f"{page}#$", "-"
    for name in _public(torch.__all__):
        obj = getattr(torch, name, None)
        full = f"torch.{name}"
        if full in TORCH_SPECIAL_PAGES or obj is None:
            continue
        if inspect.isclass(obj):
            yield full, "py:class", f"generated/{full}.html#$", "-"
        elif callable(obj):
            yield full, "py:function", f"generated/{full}.html#$", "-"
    # Tensor methods have a page each; nn.Module's are anchors on its page.
    for method in _methods(torch.Tensor):
        full = f"torch.Tensor.{method}"
        yield full, "py:method", f"generated/{full}.html#$", "-"
    for name in _public(torch.nn.modules.__all__):
        full = f"torch.nn.{name}"
        yield full, "py:class", f"generated/{full}.html#$", "-"
    for method in _methods(torch.nn.Module, inherited=False):
        yield f"torch.nn.Module.{method}", "py:method", "generated/torch.nn.Module.html#$", "-"
    parameter = "generated/torch.nn.parameter.Parameter.html#torch.nn.parameter.Parameter"
    yield "torch.nn.parameter.Parameter", "py:class", parameter, "-"
    yield "torch.nn.Parameter", "py:class", parameter, "-"
    for name in _public(vars(torch.nn.functional)):
        obj = getattr(torch.nn.functional, name)
        if inspect.isfunction(obj) or inspect.isbuiltin(obj):
            full = f"torch.nn.functional.{name}"
            yield full, "py:function", f"generated/{full}.html#$", "-"
    for name in _public(vars(torch.optim)):
        obj = getattr(torch.optim, name)
        if inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer):
            if obj is not torch.optim.Optimizer:
                full = f"torch.optim.{name}"
                yield full, "py:class", f"generated/{full}.html#$", "-"


# skorch ---------------------------------------------------------------------------------------

# Each of these modules is one page, ``automodule:: skorch.X`` with ``:members:``.
SKORCH_MODULES = [
    "callbacks",
    "classifier",
    "dataset",
    "exceptions",
    "helper",
    "history",
    "net",
    "regressor",
    "toy",
    "utils",
]


def skorch_entries() -> Iterator[Entry]:
    import skorch

    for short in SKORCH_MODULES:
        module = importlib.import_module(f"skorch.{short}")
        modname = module.__name__
        page = f"{short}.html"
        yield modname, "py:module", f"{page}#module-{modname}", "-"
        for name in _exported(module):
            obj = getattr(module, name, None)
            full = f"{modname}.{name}"
            if inspect.isclass(obj):
                yield full, "py:class", f"{page}#$", "-"
                # automodule :members: documents a class's own public methods.
                for method in _methods(obj, inherited=False):
                    yield f"{full}.{method}", "py:method", f"{page}#$", "-"
            elif inspect.isfunction(obj):
                yield full, "py:function", f"{page}#$", "-"
    for name in ("NeuralNet", "NeuralNetClassifier", "NeuralNetBinaryClassifier"):
        home = getattr(skorch, name).__module__.removeprefix("skorch.")
        home = home if home in SKORCH_MODULES else "net"
        yield f"skorch.{name}", "py:class", f"{home}.html#skorch.{home}.{name}", "-"
    yield (
        "skorch.NeuralNetRegressor",
        "py:class",
        ("regressor.html#skorch.regressor.NeuralNetRegressor"),
        "-",
    )


# matplotlib -----------------------------------------------------------------------------------

MATPLOTLIB_MODULE_PAGES = {
    "matplotlib.pyplot": "api/pyplot_summary.html",
    "matplotlib.figure": "api/figure_api.html",
    "matplotlib.axes": "api/axes_api.html",
    "matplotlib.animation": "api/animation_api.html",
    "matplotlib.colors": "api/colors_api.html",
}


def matplotlib_entries() -> Iterator[Entry]:
    import matplotlib.animation
    import matplotlib.axes
    import matplotlib.colors
    import matplotlib.figure
    import matplotlib.pyplot as plt

    def generated(full: str) -> str:
        return f"api/_as_gen/{full}.html#$"

    for modname, page in MATPLOTLIB_MODULE_PAGES.items():
        yield modname, "py:module", f"{page}#module-{modname}", "-"
    for name in _public(vars(plt)):
        obj = getattr(plt, name)
        if inspect.isfunction(obj) and obj.__module__ == "matplotlib.pyplot":
            full = f"matplotlib.pyplot.{name}"
            yield full, "py:function", generated(full), "-"
    for cls in (matplotlib.figure.Figure, matplotlib.axes.Axes):
        full = f"{cls.__module__.split('._')[0]}.{cls.__name__}"
        yield full, "py:class", generated(full), "-"
        for method in _methods(cls):
            yield f"{full}.{method}", "py:method", generated(f"{full}.{method}"), "-"
    for module in (matplotlib.animation, matplotlib.colors):
        for name in _exported(module):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                full = f"{module.__name__}.{name}"
                yield full, "py:class", generated(full), "-"


# Writing --------------------------------------------------------------------------------------

PROJECTS = {
    "sklearn": ("scikit-learn", "sklearn", sklearn_entries),
    "numpy": ("NumPy", "numpy", numpy_entries),
    "torch": ("PyTorch", "torch", torch_entries),
    "skorch": ("skorch", "skorch", skorch_entries),
    "matplotlib": ("Matplotlib", "matplotlib", matplotlib_entries),
}
PYTHON_DOC = Path(f"/usr/share/doc/python3.{sys.version_info.minor}/html/objects.inv")


def write_inventory(path: Path, project: str, version: str, entries: Iterable[Entry]) -> int:
    """Write a version-2 Sphinx inventory (the format ``sphinx.util.inventory`` reads)."""
    unique = {(name, role): (uri, display) for name, role, uri, display in entries}
    lines = [
        f"{name} {role} 1 {uri} {display}\n"
        for (name, role), (uri, display) in sorted(unique.items())
        if " " not in name or role.startswith("std:")
    ]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode(), 9))
    return len(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    for key, (project, package, entries) in PROJECTS.items():
        version = importlib.import_module(package).__version__.split("+")[0]
        count = write_inventory(args.output / f"{key}.inv", project, version, entries())
        print(f"{key}.inv: {project} {version}, {count} objects")
    if PYTHON_DOC.exists():
        shutil.copyfile(PYTHON_DOC, args.output / "python.inv")
        print(f"python.inv: copied from {PYTHON_DOC}")
    else:
        print(f"python.inv: kept as it is ({PYTHON_DOC} is not installed)")


if __name__ == "__main__":
    main()
