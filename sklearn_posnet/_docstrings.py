"""The estimators' docstrings, assembled from entries written once.

Each public estimator writes in its class body what is its own: the summary, See Also and
Examples. :func:`class_docstring` adds the Parameters section (one entry per parameter, from the
table of :mod:`sklearn_posnet._parameters`), the Attributes section, the Notes that the
estimators share and their family's References, from the tables below, and sets the sections in
numpydoc's order. An entry
that reads differently for a family of estimator (positional or particle) or a kind (classifier
or regressor) spells out each variant with :class:`Per`. The result is the class's ``__doc__``,
which ``help``, Sphinx's autodoc and doctest read.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

__all__ = [
    "ATTRIBUTES",
    "FAMILIES",
    "KINDS",
    "NOTES",
    "REFERENCES",
    "Attribute",
    "Note",
    "Per",
    "applies",
    "class_docstring",
    "format_default",
    "numpydoc_entry",
    "pick",
]

#: The families of estimator: which torch module they build.
FAMILIES = ("positional", "particle")
#: The kinds of estimator: what their targets are.
KINDS = ("classifier", "regressor")

#: numpydoc's sections, in its order; a class docstring has no others.
SECTIONS = ("Parameters", "Attributes", "See Also", "Notes", "References", "Examples")


class Per(dict):
    """A value written once for each family, ``Per(positional=..., particle=...)``, or once for
    each kind, ``Per(classifier=..., regressor=...)``, of estimator: a default, a numpydoc type
    or a description that differs between them."""

    def __init__(self, **values):
        if set(values) not in (set(FAMILIES), set(KINDS)):
            raise ValueError(
                f"Per takes one value for each family {FAMILIES} or for each kind {KINDS}; got "
                f"{sorted(values)}."
            )
        super().__init__(values)


def pick(value, family: str, kind: str):
    """The variant of ``value`` for an estimator of ``family`` and ``kind``; ``value`` itself
    unless it is a :class:`Per`."""
    if not isinstance(value, Per):
        return value
    return value[family] if family in value else value[kind]


def format_default(value) -> str:
    """A default as numpydoc's ``default=`` shows it: strings in double quotes, small floats in
    scientific notation (``1e-4``, not ``0.0001``)."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value and abs(value) < 1e-3:
        mantissa, exponent = f"{value:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    if isinstance(value, tuple):
        items = ", ".join(format_default(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def _indented(text: str, spaces: int) -> str:
    """``text`` (written with any indentation, see :func:`inspect.cleandoc`) indented by
    ``spaces``, each line ending with a newline."""
    lines = inspect.cleandoc(text).splitlines()
    return "".join(f"{' ' * spaces}{line}\n" if line else "\n" for line in lines)


def numpydoc_entry(name: str, type_: str, description: str) -> str:
    """One entry of a Parameters or Attributes section, indented as in a class docstring:
    ``name : type_`` and the description below it."""
    return f"    {name} : {type_}\n{_indented(description, 8)}"


@dataclass(frozen=True)
class Attribute:
    """A fitted attribute: its numpydoc type and description, and which estimators have it."""

    name: str
    type: str | Per
    doc: str | Per
    families: tuple = FAMILIES
    kinds: tuple = KINDS


@dataclass(frozen=True)
class Note:
    """A paragraph of the Notes section, and which estimators it is about."""

    text: str | Per
    families: tuple = FAMILIES
    kinds: tuple = KINDS


ATTRIBUTES = (
    Attribute(
        "classes_", "ndarray of shape (n_classes,)", "The class labels.", kinds=("classifier",)
    ),
    Attribute("n_features_in_", "int", "Number of features seen during fit."),
    Attribute(
        "feature_names_in_",
        "ndarray of shape (n_features_in_,)",
        "Names of the features seen during fit, when X has string column names.",
    ),
    Attribute(
        "loss_curve_",
        "list of float",
        Per(
            classifier="""
            Training loss (cross-entropy plus penalties) after each epoch; with
            ``solver="lbfgs"``, at the start of each iteration.
            """,
            regressor="""
            Training loss (``loss`` plus penalties) after each epoch; with ``solver="lbfgs"``,
            at the start of each iteration.
            """,
        ),
    ),
    Attribute("loss_", "float", "The last training loss."),
    Attribute(
        "best_loss_", "float or None", "The lowest training loss; None with ``early_stopping``."
    ),
    Attribute(
        "validation_scores_",
        "list of float or None",
        Per(
            classifier="Accuracy on the held-out data after each epoch, with ``early_stopping``.",
            regressor="R^2 on the held-out data after each epoch, with ``early_stopping``.",
        ),
    ),
    Attribute("best_validation_score_", "float or None", "The best of ``validation_scores_``."),
    Attribute(
        "n_iter_", "int", "Number of epochs the last call to ``fit`` or ``partial_fit`` ran."
    ),
    Attribute("fit_time_", "float", "Seconds the last training loop took."),
    Attribute("net_", "skorch.NeuralNet", "The skorch net that trained the module."),
    Attribute(
        "module_",
        Per(positional="PositionalMLP", particle="ParticleNetwork"),
        Per(
            positional="The fitted torch module: positions, raw and effective weights.",
            particle="The fitted torch module: positions, dipoles and implied weights.",
        ),
    ),
    Attribute(
        "n_parameters_",
        "int",
        Per(
            positional="Number of trainable parameters (weights, biases and hidden positions).",
            particle="""
            Number of trainable parameters: ``2 * particle_dim * sum(N_l) + sum(N_l for l > 0)``.
            """,
        ),
    ),
    Attribute("n_layers_", "int", "Number of layers, the input and output layers included."),
    Attribute(
        "n_outputs_",
        "int",
        Per(
            classifier="""
            Number of output neurons: one per class (two for a binary problem, where
            MLPClassifier has one), or one per label.
            """,
            regressor="Number of outputs: the number of columns of ``y``, 1 for a 1-D ``y``.",
        ),
    ),
    Attribute(
        "out_activation_",
        Per(classifier="{'softmax', 'logistic'}", regressor="{'identity', 'exp'}"),
        Per(
            classifier="""
            The output activation: 'logistic' for multilabel targets (an indicator matrix).
            """,
            regressor="""The output activation: 'exp' with ``loss="poisson"``.""",
        ),
    ),
    Attribute("t_", "int", "Number of training samples seen by the solver, over every call."),
    Attribute(
        "coefs_",
        "list of ndarray of shape (n_in, n_out)",
        """
        The effective weight matrices in scikit-learn's layout (float64): with ``intercepts_``
        and the activation they are the plain MLP this network is.
        """,
    ),
    Attribute(
        "intercepts_",
        "list of ndarray of shape (n_out,)",
        "The biases of every layer (float64).",
    ),
    Attribute(
        "length_scale_",
        "float",
        """
        The length scale the network was built with: ``length_scale``, or the value "auto"
        chose.
        """,
        families=("positional",),
    ),
    Attribute(
        "positions_history_",
        "list of list of ndarray or None",
        """
        With ``record_positions``: one entry per recorded frame, the first before training, each
        a list with the positions of every neuron layer (arrays of shape ``(n_neurons, dim)``).
        None without ``record_positions``.
        """,
    ),
    Attribute(
        "dipoles_history_",
        "list of list of ndarray or None",
        Per(
            positional="Always None: positional neurons have no dipoles.",
            particle="The same for the dipoles, one array per layer of particles.",
        ),
    ),
    Attribute(
        "positions_history_epochs_",
        "ndarray of shape (n_frames,) or None",
        "The training epochs completed at each frame of ``positions_history_``.",
    ),
)

NOTES = (
    Note(
        """
        The effective weight of the connection from neuron ``j`` at ``p_j`` to neuron ``i`` at
        ``p_i`` is ``falloff(|p_i - p_j| / length_scale) * w_ij``; biases are not scaled. Raw
        weights start Glorot-uniform divided by the mean falloff of their layer, so the effective
        weights start at the usual scale.
        """,
        families=("positional",),
    ),
    Note(
        """
        A fit whose loss becomes NaN or infinite (too high a ``learning_rate_init``, unscaled
        ``X``) stops at the first such training batch, puts back the parameters from the end of
        the last epoch with a finite loss (the initial ones when there is none), resets the
        optimizer and raises a ``ValueError`` that says so; ``loss_curve_`` and ``n_iter_``
        describe the epochs kept. The estimator left behind predicts finite outputs and can
        train further. Checking every batch adds no device synchronization: skorch already
        copies each batch's loss to the host.
        """
    ),
    Note(
        """
        A fitted estimator saves (with :mod:`pickle`, :mod:`joblib` or :mod:`skops.io`) its
        module, optimizer and random generator as numpy arrays, without any torch object: a
        model fitted with ``device="cuda"`` loads and predicts on a machine without a GPU (on
        the CPU, with a warning). With :func:`skops.io.load`, the only types to trust are this
        package's estimator classes, as :func:`skops.io.get_untrusted_types` lists them.
        """
    ),
)

#: The References section of each family.
REFERENCES = Per(
    positional='J. Shader, "Positional neurons: neural networks whose neurons have positions in '
    'space".',
    particle='A. W. Lange, "Particle networks" (particle-based neural networks with implied '
    "weights).",
)


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    """The summary of a class docstring (what comes before its first section) and the body of
    each section, by title."""
    lines = doc.splitlines()
    starts = [
        i
        for i, (line, below) in enumerate(itertools.pairwise(lines))
        if line.strip() and below.strip() == "-" * len(line.strip())
    ]
    summary = "\n".join(lines[: starts[0]] if starts else lines).rstrip()
    bodies = {
        lines[start].strip(): "\n".join(lines[start + 2 : end]).strip("\n").rstrip()
        for start, end in zip(starts, [*starts[1:], len(lines)])
    }
    return summary, bodies


def applies(entry, family: str, kind: str) -> bool:
    """Whether a table entry (a parameter, an attribute, a note) is for estimators of
    ``family`` and ``kind``: its ``families`` and ``kinds`` name them."""
    return family in entry.families and kind in entry.kinds


def class_docstring(written: str, family: str, kind: str, parameters: list[str]) -> str:
    """The docstring of a public estimator of ``family`` and ``kind``: the ``written`` class
    docstring (summary, See Also, Examples; its own Notes if any) with the Parameters section
    made of the ``parameters`` entries (:func:`numpydoc_entry`), the Attributes of
    :data:`ATTRIBUTES` and the shared :data:`NOTES` that apply to it, and the
    :data:`REFERENCES` of its family."""
    summary, sections = _sections(written)
    for title in sections:
        if title not in SECTIONS or title in ("Parameters", "Attributes", "References"):
            raise ValueError(f"A written estimator docstring has no {title!r} section.")
    sections["Parameters"] = "".join(parameters).rstrip()
    sections["Attributes"] = "".join(
        numpydoc_entry(a.name, pick(a.type, family, kind), pick(a.doc, family, kind))
        for a in ATTRIBUTES
        if applies(a, family, kind)
    ).rstrip()
    notes = [sections["Notes"]] if "Notes" in sections else []
    for note in NOTES:
        if applies(note, family, kind):
            notes.append(_indented(pick(note.text, family, kind), 4))
    sections["Notes"] = "\n\n".join(note.rstrip() for note in notes)
    sections["References"] = f"    {pick(REFERENCES, family, kind)}"
    text = summary + "\n"
    for title in SECTIONS:
        if sections.get(title):
            text += f"\n    {title}\n    {'-' * len(title)}\n{sections[title]}\n"
    return text + "    "
