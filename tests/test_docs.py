"""The documentation's own tools: the API page check, the results tables, the inventories."""

import importlib.util
from pathlib import Path

import pytest

from sklearn_posnet import NeuronPruner, PositionalMLPClassifier

DOCS = Path(__file__).resolve().parents[1] / "docs"
RESULTS = DOCS.parent / "benchmarks" / "results"


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_api_pages = load(DOCS / "check_api_pages.py")


def test_estimator_pages_promise_the_estimator_methods():
    excluded = check_api_pages.excluded_bases()
    members = check_api_pages.promised_members(PositionalMLPClassifier, excluded)
    for name in ["fit", "partial_fit", "predict", "predict_proba", "predict_log_proba", "score"]:
        assert name in members
    assert {"module_", "n_parameters_", "get_params", "set_params"} <= set(members)
    # scikit-learn's metadata-routing and set_output machinery stay out.
    assert not {"get_metadata_routing", "set_score_request", "set_output"} & set(members)
    pruner = check_api_pages.promised_members(NeuronPruner, excluded)
    assert {"fit", "transform", "fit_transform", "predict", "score"} <= set(pruner)
    assert "set_output" not in pruner


def write_page(directory, cls, members):
    qualified = f"{cls.__module__.split('.')[0]}.{cls.__name__}"
    ids = "".join(f'<dt id="{qualified}.{name}"></dt>' for name in members)
    page = directory / "gen_modules" / f"{qualified}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<html><dt id="{qualified}"></dt>{ids}</html>', encoding="utf-8")
    return page


def test_check_api_pages_fails_when_fit_is_missing(tmp_path):
    excluded = check_api_pages.excluded_bases()
    members = check_api_pages.promised_members(PositionalMLPClassifier, excluded)
    write_page(tmp_path, PositionalMLPClassifier, members)
    assert check_api_pages.check(tmp_path) == (1, [])

    write_page(tmp_path, PositionalMLPClassifier, [m for m in members if m != "fit"])
    missing_fit = "sklearn_posnet.PositionalMLPClassifier.fit: not on the page"
    assert check_api_pages.check(tmp_path)[1] == [missing_fit]
    assert check_api_pages.main([str(tmp_path)]) == 1


def test_check_api_pages_fails_without_pages(tmp_path):
    pages, problems = check_api_pages.check(tmp_path)
    assert pages == 0 and problems


def test_every_benchmark_table_parses():
    pytest.importorskip("sphinx")
    benchmark_results = load(DOCS / "_ext" / "benchmark_results.py")
    files = sorted(RESULTS.glob("*.md"))
    assert files
    for path in files:
        blocks = benchmark_results.split_blocks(path.read_text(encoding="utf-8"))
        tables = [lines for kind, lines in blocks if kind == "table"]
        assert tables, path.name
        for lines in tables:
            header, body = benchmark_results.parse_table(lines)
            assert body and all(len(row) == len(header) for row in body)
        # The title is left to the page; the command that produced the numbers is kept.
        text = "\n".join(line for kind, lines in blocks if kind == "text" for line in lines)
        assert not text.startswith("# ")
        assert "python benchmarks/" in text, path.name


def test_benchmark_table_rejects_ragged_rows():
    pytest.importorskip("sphinx")
    benchmark_results = load(DOCS / "_ext" / "benchmark_results.py")
    with pytest.raises(ValueError, match="3 cells"):
        benchmark_results.parse_table(["| a | b |", "|---|---|", "| 1 | 2 | 3 |"])
    assert benchmark_results.markdown_to_rest("run `x` or ``y``") == "run ``x`` or ``y``"


@pytest.mark.parametrize(
    ("name", "role", "url"),
    [
        (
            "sklearn",
            ("py:class", "sklearn.pipeline.Pipeline"),
            "https://scikit-learn.org/stable/modules/generated/sklearn.pipeline.Pipeline.html"
            "#sklearn.pipeline.Pipeline",
        ),
        (
            "sklearn",
            ("std:label", "accuracy_score"),
            "https://scikit-learn.org/stable/modules/model_evaluation.html#accuracy-score",
        ),
        (
            "sklearn",
            ("std:term", "random_state"),
            "https://scikit-learn.org/stable/glossary.html#term-random_state",
        ),
        (
            "torch",
            ("py:class", "torch.nn.Linear"),
            "https://docs.pytorch.org/docs/stable/generated/torch.nn.Linear.html#torch.nn.Linear",
        ),
        (
            "torch",
            ("py:class", "torch.Tensor"),
            "https://docs.pytorch.org/docs/stable/tensors.html#torch.Tensor",
        ),
        (
            "skorch",
            ("py:class", "skorch.NeuralNetClassifier"),
            "https://skorch.readthedocs.io/en/stable/classifier.html"
            "#skorch.classifier.NeuralNetClassifier",
        ),
        (
            "numpy",
            ("py:function", "numpy.mean"),
            "https://numpy.org/doc/stable/reference/generated/numpy.mean.html#numpy.mean",
        ),
        (
            "matplotlib",
            ("py:function", "matplotlib.pyplot.subplots"),
            "https://matplotlib.org/stable/api/_as_gen/matplotlib.pyplot.subplots.html"
            "#matplotlib.pyplot.subplots",
        ),
        (
            "python",
            ("py:class", "int"),
            "https://docs.python.org/3/library/functions.html#int",
        ),
    ],
)
def test_vendored_inventories_resolve(name, role, url):
    inventory = pytest.importorskip("sphinx.util.inventory")
    base = url.split("/")[0] + "//" + url.split("/")[2]
    prefix = {
        "sklearn": "/stable/",
        "torch": "/docs/stable/",
        "skorch": "/en/stable/",
        "numpy": "/doc/stable/",
        "matplotlib": "/stable/",
        "python": "/3/",
    }[name]
    loaded = inventory.InventoryFile.loads(
        (DOCS / "_inventories" / f"{name}.inv").read_bytes(), uri=base + prefix
    )
    item = getattr(loaded, "data", loaded)[role[0]][role[1]]
    # Sphinx 8.2 and later give a named item; earlier ones a (project, version, uri, name) tuple.
    uri = item.uri if hasattr(item, "uri") else item[2]
    assert uri == url


def test_glossary_anchors_follow_sphinx():
    make_inventories = load(DOCS / "make_inventories.py")
    assert make_inventories.term_anchor("random_state") == "term-random_state"
    assert make_inventories.term_anchor("CV splitter") == "term-CV-splitter"
    assert make_inventories.term_anchor("meta-estimator") == "term-meta-estimator"
