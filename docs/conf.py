"""Sphinx configuration of the sklearn_posnet documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py`` during the build.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
# The examples train small networks: keep them on one thread each, like the tests.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import sklearn_posnet  # noqa: E402

project = "sklearn_posnet"
author = "sklearn_posnet developers"
copyright = "2026, sklearn_posnet developers"
release = version = sklearn_posnet.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax shipped with the docs (sphinx-mathjax-offline): formulas render without a network.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "benchmark_results",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_title = f"sklearn_posnet {release}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": {"**": ["page-toc"], "results": []},
    "header_links_before_dropdown": 5,
    "show_prev_next": False,
}
html_sidebars = {"**": []}

autosummary_generate = True
autodoc_typehints = "none"
# The page's table of contents names methods as "fit()", not "PositionalMLPClassifier.fit()".
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in Parameters/Returns/Attributes link out: numpydoc's own table (Python builtins, NumPy
# arrays) plus these; other words stay plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "estimator": ":term:`sklearn:estimator`",
    "path-like": ":term:`python:path-like object`",
    "Tensor": "torch.Tensor",
    "torch.Tensor": "torch.Tensor",
    "torch.Generator": "torch.Generator",
    "torch.device": "torch.device",
    "torch.dtype": "torch.dtype",
    "torch.nn.Module": "torch.nn.Module",
    "skorch.NeuralNet": "skorch.net.NeuralNet",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "FuncAnimation": "matplotlib.animation.FuncAnimation",
    "Generator": "numpy.random.Generator",
    "PositionalMLPClassifier": "sklearn_posnet.PositionalMLPClassifier",
    "ParticleNetworkClassifier": "sklearn_posnet.ParticleNetworkClassifier",
    "NeuronPruner": "sklearn_posnet.pruning.NeuronPruner",
    "PositionalMLP": "sklearn_posnet.nn.PositionalMLP",
    "ParticleNetwork": "sklearn_posnet.nn.ParticleNetwork",
    "Falloff": "sklearn_posnet.falloff.Falloff",
}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": (True, "jshtml"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklearn_posnet",),
}

# The build has no network: the inventories are vendored, written by docs/make_inventories.py
# from the installed packages with each project's URL layout (Python's is the official one).
_INVENTORIES = Path(__file__).resolve().parent / "_inventories"
intersphinx_mapping = {
    name: (url, str(_INVENTORIES / f"{name}.inv"))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "sklearn": "https://scikit-learn.org/stable/",
        "torch": "https://docs.pytorch.org/docs/stable/",
        "skorch": "https://skorch.readthedocs.io/en/stable/",
        "matplotlib": "https://matplotlib.org/stable/",
    }.items()
}

# The examples stop training early on purpose; the docs need not repeat it.
warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")


# "ndarray of shape (n_features_in_,)" reads as a link target to docutils; quote it as
# scikit-learn's docstrings do.
_TRAILING_UNDERSCORE_NAME = re.compile(r"\((n_features_in_),\)")


def _quote_attribute_names(app, what, name, obj, options, lines):
    lines[:] = [_TRAILING_UNDERSCORE_NAME.sub(r"(`\1`,)", line) for line in lines]


def _skip_metadata_request_setters(app, what, name, obj, skip, options):
    # scikit-learn generates set_{method}_request on every estimator class; their docstrings
    # point into scikit-learn's own glossary and say nothing specific to this package.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _quote_attribute_names, priority=100)
    app.connect("autodoc-skip-member", _skip_metadata_request_setters)
