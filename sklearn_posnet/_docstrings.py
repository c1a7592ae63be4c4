"""A regressor's docstring from its classifier's: one text per shared parameter and attribute.

The classifier and the regressor of a model take the same parameters (the regressor adds
``loss``) and have the same fitted attributes (the regressor has no ``classes_``). Rather than
two copies that drift apart, the regressor's numpydoc is the classifier's sections with the
words that differ changed, set as its ``__doc__`` when the module is imported (which is what
``help``, Sphinx's autodoc and doctest read).
"""

from __future__ import annotations

import re

__all__ = ["regressor_docstring"]

_LOSS = """\
    loss : {"squared_error", "poisson"}, default="squared_error"
        The loss, as MLPRegressor's: half the squared error with identity outputs, or half the
        Poisson deviance with the outputs read as the log of the predicted mean (``predict``
        returns the mean); "poisson" needs non-negative ``y``.
"""


def _section(doc: str, title: str) -> str:
    """The body of the numpydoc section ``title`` (after its underline, up to the next one)."""
    match = re.search(
        rf"\n    {title}\n    -+\n(.*?)(?=\n    \w[\w ]*\n    -+\n|\Z)", doc, flags=re.S
    )
    if match is None:
        raise ValueError(f"The docstring has no {title!r} section.")
    return match.group(1).rstrip() + "\n"


def _drop_entry(section: str, name: str) -> str:
    """``section`` without the entry ``name`` (its line and the indented lines after it)."""
    return re.sub(rf"    {name} :.*?\n(?:        .*\n)*", "", section)


def regressor_docstring(
    classifier_doc: str, *, summary: str, see_also: str, examples: str, references: str
) -> str:
    """The regressor's numpydoc: ``summary``, the classifier's parameters with ``loss`` after
    the positional ones, its attributes without ``classes_``, ``see_also``, its notes,
    ``references`` and ``examples`` (each a section body, indented by four spaces).
    ``n_outputs_`` and ``out_activation_`` are the regressor's own."""
    parameters = _section(classifier_doc, "Parameters")
    # After the positional parameters (hidden_layer_sizes, activation), as in the signature.
    positional_end = re.search(r"    activation : .*?\n(?:        .*\n)*", parameters).end()
    parameters = parameters[:positional_end] + _LOSS + parameters[positional_end:]
    parameters = re.sub(r"its\s+accuracy", "its R^2", parameters)
    parameters = re.sub(r"loss\s+and\s+accuracy", "loss and R^2", parameters)
    attributes = _section(classifier_doc, "Attributes")
    for name in ("classes_", "n_outputs_", "out_activation_"):
        attributes = _drop_entry(attributes, name)
    attributes = attributes.replace("(cross-entropy plus penalties)", "(plus penalties)")
    attributes = re.sub(r"Accuracy\s+on\s+the\s+held-out", "R^2 on the held-out", attributes)
    attributes += (
        "    n_outputs_ : int\n"
        "        Number of outputs: the number of columns of ``y``, 1 for a 1-D ``y``.\n"
        "    out_activation_ : {'identity', 'exp'}\n"
        "        The output activation: 'exp' with ``loss=\"poisson\"``.\n"
    )
    notes = _section(classifier_doc, "Notes").replace("predicts finite probabilities", "predicts")
    sections = [
        ("Parameters", parameters),
        ("Attributes", attributes),
        ("See Also", see_also),
        ("Notes", notes),
        ("References", references),
        ("Examples", examples),
    ]
    text = summary.rstrip() + "\n"
    for title, body in sections:
        text += f"\n    {title}\n    {'-' * len(title)}\n{body.rstrip()}\n"
    return text + "    "
