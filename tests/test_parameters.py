"""The estimators' parameters come from one table: signatures, constraints, docs, module params."""

import ast
import inspect
import warnings
from numbers import Real

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.utils._param_validation import Interval, InvalidParameterError

from sklearn_posnet import (
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
    PositionalMLPClassifier,
    PositionalMLPRegressor,
)
from sklearn_posnet._docstrings import Per, class_docstring, format_default, pick
from sklearn_posnet._parameters import PARAMETERS, Parameter, assemble_estimator, parameters_of

docscrape = pytest.importorskip("numpydoc.docscrape")

ESTIMATORS = [
    PositionalMLPClassifier,
    PositionalMLPRegressor,
    ParticleNetworkClassifier,
    ParticleNetworkRegressor,
]


def class_doc(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpydoc warns of what it cannot parse
        return docscrape.ClassDoc(cls)


def signature_parameters(cls):
    return inspect.signature(cls).parameters


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_signature_constraints_and_docs_name_the_same_parameters(cls):
    names = list(signature_parameters(cls))
    documented = [entry.name for entry in class_doc(cls)["Parameters"]]
    assert documented == names  # each once, in the signature's order
    assert list(cls._parameter_constraints) == names
    assert set(cls._module_params) <= set(names)
    assert {"hidden_layer_sizes", "activation"} <= set(cls._module_params)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_documented_default_is_the_signatures(cls):
    defaults = {name: p.default for name, p in signature_parameters(cls).items()}
    for entry in class_doc(cls)["Parameters"]:
        _, shown = entry.type.rsplit(", default=", 1)
        value = ast.literal_eval(shown)
        assert value == defaults[entry.name], entry.name
        assert type(value) is type(defaults[entry.name]), entry.name


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_generated_init_is_a_real_function(cls):
    init = cls.__init__
    assert init.__qualname__ == f"{cls.__name__}.__init__"
    assert init.__module__ == cls.__module__
    kinds = {p.kind for p in inspect.signature(init).parameters.values()}
    assert inspect.Parameter.VAR_POSITIONAL not in kinds
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    source = inspect.getsource(init)
    assert source.startswith("def __init__(")
    for name in signature_parameters(cls):
        assert f"    self.{name} = {name}\n" in source
    estimator = cls(hidden_layer_sizes=(3,), max_iter=7)
    assert vars(estimator) == {**estimator.get_params(), "hidden_layer_sizes": (3,)}


def test_the_families_and_kinds_take_their_own_parameters():
    assert "loss" not in signature_parameters(PositionalMLPClassifier)
    assert "loss" in PositionalMLPRegressor._module_params
    assert "distance_alpha" not in signature_parameters(ParticleNetworkRegressor)
    assert "particle_dim" not in signature_parameters(PositionalMLPRegressor)
    assert signature_parameters(ParticleNetworkClassifier)["solver"].default == "rmsprop"
    assert signature_parameters(PositionalMLPClassifier)["solver"].default == "adam"
    positional_doc = {e.name: e for e in class_doc(PositionalMLPRegressor)["Parameters"]}
    assert "R^2" in " ".join(positional_doc["early_stopping"].desc)
    classifier_doc = {e.name: e for e in class_doc(PositionalMLPClassifier)["Parameters"]}
    assert "accuracy" in " ".join(classifier_doc["early_stopping"].desc)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_documented_attribute_is_there_after_a_fit(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    estimator = cls(hidden_layer_sizes=(3,), max_iter=1, record_positions=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged
        estimator.fit(X, y)
    attributes = [entry.name for entry in class_doc(cls)["Attributes"]]
    assert ("classes_" in attributes) == is_classifier(estimator)
    for name in attributes:
        if name != "feature_names_in_":  # only for X with column names
            assert hasattr(estimator, name), name


# ------------------------------------------------------------------ adding a parameter: one entry
DROPOUT = Parameter(
    "dropout",
    default=0.0,
    constraint=[Interval(Real, 0, 1, closed="left")],
    type="float",
    doc="""
    The share of hidden activations set to zero in each training batch (an example entry:
    nothing reads it).
    """,
    families=("positional",),
    module=True,
)
WITH_DROPOUT = (*PARAMETERS, DROPOUT)


def with_dropout(base, family, kind):
    @assemble_estimator(family, kind, table=WITH_DROPOUT)
    class Estimator(base):
        """An estimator of the table with one more entry.

        See Also
        --------
        PositionalMLPClassifier : The estimator without it.
        """

    return Estimator


def test_a_parameter_added_to_the_table_is_in_signature_constraints_and_docs(digits):
    Estimator = with_dropout(PositionalMLPClassifier, "positional", "classifier")
    parameter = signature_parameters(Estimator)["dropout"]
    assert parameter.default == 0.0 and parameter.kind == parameter.KEYWORD_ONLY
    assert list(signature_parameters(Estimator))[:-1] == list(
        signature_parameters(PositionalMLPClassifier)
    )
    assert Estimator._parameter_constraints["dropout"] is DROPOUT.constraint
    assert Estimator._module_params[-1] == "dropout"
    entry = class_doc(Estimator)["Parameters"][-1]
    assert (entry.name, entry.type) == ("dropout", "float, default=0.0")
    assert entry.desc[0].startswith("The share of hidden activations")
    assert "See Also" in Estimator.__doc__ and "Attributes" in Estimator.__doc__

    estimator = Estimator(dropout=0.25)
    assert estimator.get_params()["dropout"] == 0.25
    assert clone(estimator).dropout == 0.25
    assert "dropout=0.25" in repr(estimator)
    X, y = digits
    with pytest.raises(InvalidParameterError, match="'dropout' parameter"):
        estimator.set_params(dropout=1.5).fit(X, y)
    # A module parameter: a warm start refuses to continue a network built with another value.
    estimator.set_params(dropout=0.25, hidden_layer_sizes=(4,), max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged
        estimator.fit(X, y)
    with pytest.raises(ValueError, match=r"dropout=0.25 -> 0.5"):
        estimator.set_params(dropout=0.5).fit(X, y)


def test_an_added_parameter_reaches_only_the_estimators_it_names():
    regressor = with_dropout(PositionalMLPRegressor, "positional", "regressor")
    assert "dropout" in signature_parameters(regressor)
    particle = with_dropout(ParticleNetworkClassifier, "particle", "classifier")
    assert "dropout" not in signature_parameters(particle)
    assert list(signature_parameters(particle)) == list(
        signature_parameters(ParticleNetworkClassifier)
    )


# ----------------------------------------------------------------------------- the machinery
def test_per_takes_one_value_per_family_or_per_kind():
    by_family = Per(positional=1, particle=2)
    by_kind = Per(classifier="a", regressor="b")
    assert pick(by_family, "particle", "classifier") == 2
    assert pick(by_kind, "particle", "regressor") == "b"
    assert pick(3, "particle", "regressor") == 3
    with pytest.raises(ValueError, match="one value for each family"):
        Per(positional=1)
    with pytest.raises(ValueError, match="one value for each family"):
        Per(positional=1, regressor=2)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1e-4, "1e-4"),
        (1e-8, "1e-8"),
        (2.5e-5, "2.5e-5"),
        (0.0, "0.0"),
        (0.003, "0.003"),
        (15000, "15000"),
        ((100,), "(100,)"),
        ((1.0, 1.5, 2.0), "(1.0, 1.5, 2.0)"),
        ("relu", '"relu"'),
        (None, "None"),
        (True, "True"),
    ],
)
def test_format_default(value, shown):
    assert format_default(value) == shown
    assert ast.literal_eval(shown) == value


def test_the_table_is_checked():
    late = Parameter("late", default=1, constraint=[None], type="int", doc="x", keyword_only=False)
    with pytest.raises(ValueError, match="passed by position come first"):
        parameters_of("positional", "classifier", (*PARAMETERS, late))
    with pytest.raises(ValueError, match="names a parameter twice"):
        parameters_of("particle", "regressor", (*PARAMETERS, PARAMETERS[-1]))
    with pytest.raises(ValueError, match="No estimator of family"):
        assemble_estimator("positional", "transformer")
    with pytest.raises(ValueError, match="for families among"):
        Parameter("typo", default=1, constraint=[None], type="int", doc="x", families=("mlp",))


def test_a_written_docstring_leaves_the_assembled_sections_to_the_table():
    written = """Summary.

    Parameters
    ----------
    x : int
        Written by hand.
    """
    with pytest.raises(ValueError, match="'Parameters'"):
        class_docstring(written, "positional", "classifier", [])
