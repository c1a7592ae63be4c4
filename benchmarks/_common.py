"""What the benchmark scripts share: arguments, MNIST, fitting, and writing CSV, Markdown and PNG.

Results are rewritten after every configuration, so a run that is stopped early leaves the
tables of what finished; ``--resume`` skips the configurations already in the CSV.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

from sklearn_posnet.datasets import load_mnist  # noqa: E402

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"
#: The positional estimators' penalty before issue 26 (the defaults then): the benchmarks whose
#: committed results were made at the defaults pin it, so that they stay reproducible.
PENALTY_BEFORE_ISSUE_26 = {"distance_alpha": 0.01, "distance_reduction": "layer_mean"}
MNIST_GZ_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """The arguments every benchmark takes; ``name`` is the default stem of the result files."""
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument("--data", type=Path, default=DEFAULT_MNIST, help="MNIST IDX folder")
    arguments.add_argument("--seeds", type=int, nargs="+", default=[0], help="random seeds")
    arguments.add_argument(
        "--quick", action="store_true", help="smoke run: tiny subset, 1 epoch, few configurations"
    )
    arguments.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"path stem of the results (.csv, .md, .png); default benchmarks/results/{name}"
        "[_quick]",
    )
    arguments.add_argument(
        "--resume", action="store_true", help="skip configurations already in the CSV"
    )
    arguments.add_argument("--device", default="cpu", help="torch device of our estimators")
    arguments.set_defaults(name=name)
    return arguments


def output_stem(args: argparse.Namespace) -> Path:
    """Where the results go: ``--out``, else ``benchmarks/results/<name>[_quick]``."""
    if args.out is not None:
        return args.out
    return RESULTS_DIR / (args.name + ("_quick" if args.quick else ""))


def check_mnist_md5(folder: Path) -> bool:
    """Whether the gzipped files in ``folder`` are the original MNIST release (md5).

    Plain (un-gzipped) files cannot be checked against the published md5 and count as unchecked.
    """
    for name, expected in MNIST_GZ_MD5.items():
        path = Path(folder) / name
        if not path.is_file():
            return False
        if hashlib.md5(path.read_bytes()).hexdigest() != expected:
            raise ValueError(
                f"{path} has md5 {hashlib.md5(path.read_bytes()).hexdigest()}; "
                f"expected {expected} (the original MNIST release)."
            )
    return True


def mnist(args: argparse.Namespace, quick_train: int = 2000, quick_test: int = 2000):
    """MNIST as ``X_train, y_train, X_test, y_test``; the first rows only with ``--quick``."""
    checked = check_mnist_md5(args.data)
    X_train, y_train, X_test, y_test = load_mnist(args.data)
    print(
        f"MNIST from {args.data}: {len(X_train)} train, {len(X_test)} test "
        f"({'md5 of the original release verified' if checked else 'md5 not checked'})"
    )
    if args.quick:
        X_train, y_train = X_train[:quick_train], y_train[:quick_train]
        X_test, y_test = X_test[:quick_test], y_test[:quick_test]
    return X_train, y_train, X_test, y_test


def n_parameters(estimator) -> int:
    """Trainable parameters of a fitted estimator of ours or of a fitted MLPClassifier."""
    if hasattr(estimator, "n_parameters_"):
        return int(estimator.n_parameters_)
    return int(sum(c.size for c in estimator.coefs_) + sum(b.size for b in estimator.intercepts_))


def mlp_parameters(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of a dense network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(layer_sizes))


def particle_parameters(layer_sizes: Sequence[int], particle_dim: int) -> int:
    """Positions and dipoles of every particle plus the biases of the non-input layers."""
    return 2 * particle_dim * sum(layer_sizes) + sum(layer_sizes[1:])


def positional_parameters(layer_sizes: Sequence[int], position_dim: int = 2) -> int:
    """Weights, biases and the positions of the hidden neurons (input and output ones are fixed)."""
    return mlp_parameters(layer_sizes) + position_dim * sum(layer_sizes[1:-1])


def fit(estimator, X, y):
    """Fit without ConvergenceWarnings (fixed epoch budgets end 'unconverged' by design)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, time.perf_counter() - start


def topology(n_features: int, hidden: Sequence[int], n_classes: int = 10) -> str:
    """``784-128-10`` style name of a network."""
    return "-".join(str(size) for size in (n_features, *hidden, n_classes))


class Results:
    """Rows of one benchmark, rewritten to ``<stem>.csv`` and ``<stem>.md`` after every row.

    Parameters
    ----------
    stem : Path
        Path without suffix.
    columns : list of str
        Column order of the CSV and the Markdown table.
    key : list of str
        Columns that identify a configuration (for ``resume``).
    title, notes : str
        Heading and text above the Markdown table (setup, command, reference).
    resume : bool
        Load the rows of an existing CSV and report their keys as done.
    """

    def __init__(self, stem, columns, key, title, notes="", resume=False):
        self.stem = Path(stem)
        self.columns = list(columns)
        self.key = list(key)
        self.title = title
        self.notes = notes
        self.rows: list[dict] = []
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        csv_path = self.stem.with_suffix(".csv")
        if resume and csv_path.is_file():
            with csv_path.open(newline="") as handle:
                self.rows = [dict(row) for row in csv.DictReader(handle)]

    def _key(self, row) -> tuple:
        return tuple(str(row[name]) for name in self.key)

    def done(self, **key) -> bool:
        """Whether a row with these key values is already there."""
        return self._key(key) in {self._key(row) for row in self.rows}

    def add(self, row: dict, table: Callable[[list[dict]], list[dict]] | None = None) -> None:
        """Append a row and rewrite the files; ``table`` turns the rows into the Markdown rows."""
        self.rows.append(row)
        self.write(table)

    def write(self, table=None) -> None:
        with self.stem.with_suffix(".csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows)
        markdown_rows = table(self.rows) if table else self.rows
        text = f"# {self.title}\n\n{self.notes.strip()}\n\n{markdown_table(markdown_rows)}\n"
        self.stem.with_suffix(".md").write_text(text)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def markdown_table(rows: Iterable[dict]) -> str:
    """A GitHub Markdown table of dicts sharing keys (the first row's order)."""
    rows = list(rows)
    if not rows:
        return "(no results yet)"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(row.get(name)) for name in header) + " |" for row in rows]
    return "\n".join(lines)


def as_float(value) -> float:
    """A CSV cell (or number) as float; empty cells are NaN."""
    return float(value) if value not in (None, "") else math.nan


def grouped_mean(rows: list[dict], by: Sequence[str], values: Sequence[str]) -> list[dict]:
    """Mean and standard deviation of ``values`` over the rows sharing ``by`` (e.g. over seeds)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        # str: rows read back from a CSV (``--resume``) hold text, new rows numbers
        groups.setdefault(tuple(str(row[name]) for name in by), []).append(row)
    summary = []
    for key, members in groups.items():
        entry = dict(zip(by, key, strict=True))
        entry["n_seeds"] = len(members)
        for name in values:
            numbers = np.array([as_float(member[name]) for member in members])
            entry[name] = float(np.mean(numbers))
            entry[f"{name}_std"] = float(np.std(numbers)) if len(numbers) > 1 else math.nan
        summary.append(entry)
    return summary


def save_plot(stem: Path, draw: Callable) -> Path:
    """Call ``draw(ax)`` on a fresh figure and save it as ``<stem>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    draw(ax)
    path = stem.with_suffix(".png")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def draw_curves_against_reference(
    ax,
    stats: list[dict],
    models: Sequence[str],
    reference: dict[str, Sequence[float]],
    reference_x: Sequence[float],
    reference_label: str,
    x: str = "fraction",
    value: str = "test_accuracy",
) -> None:
    """Draw each model's mean ``value`` against ``x`` with a +-1 std bar (from
    :func:`grouped_mean`), and the reference curves dashed in the same colors."""
    colors = {model: f"C{i}" for i, model in enumerate(models)}
    for model in models:
        points = sorted(
            (float(e[x]), e[value], np.nan_to_num(e[f"{value}_std"]))
            for e in stats
            if e["model"] == model
        )
        if points:
            xs, mean, std = zip(*points, strict=True)
            ax.errorbar(xs, mean, yerr=std, color=colors[model], marker="o", capsize=3, label=model)
    for model, values in reference.items():
        ax.plot(
            reference_x, values, color=colors[model], ls="--", alpha=0.6,
            label=f"{model} ({reference_label})",
        )  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend()
