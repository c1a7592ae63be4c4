"""The estimators' parameters, each written once, and what the estimators are assembled from.

:data:`PARAMETERS` lists every parameter of the four public estimators, in the order of their
signatures: its name, its default, its constraint (scikit-learn's ``_parameter_constraints``),
its numpydoc type and description, the families (positional, particle) and kinds (classifier,
regressor) of estimator that take it, whether it defines the torch module (``_module_params``: a
warm start refuses a change of it, a saved model is checked against it) and whether it may be
passed by position (``hidden_layer_sizes`` and ``activation``, as in MLPClassifier). What
differs between families or kinds is written once per variant with :class:`Per`.

:func:`assemble_estimator` gives each public class, from the table, its ``__init__``,
``_parameter_constraints``, ``_module_params`` and the Parameters section of its docstring
(with the Attributes, shared Notes and References of :mod:`sklearn_posnet._docstrings`).
Adding a parameter is one entry here; what remains is the code that reads it
(``_build_module``, the training).
"""

from __future__ import annotations

import dataclasses
import linecache
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from ._docstrings import (
    FAMILIES,
    KINDS,
    Per,
    applies,
    class_docstring,
    format_default,
    numpydoc_entry,
    pick,
)
from ._optimizers import SOLVERS
from ._validation import (
    CALLBACKS,
    DEVICES,
    HIDDEN_LAYER_SIZES,
    HIDDEN_SPREADS,
    IMAGE_SHAPES,
    LAYOUT_ARRAYS,
    CallableFalloff,
)
from .falloff import FALLOFFS
from .nn.activations import ACTIVATIONS
from .nn.positional import DISTANCE_REDUCTIONS, REFERENCE_HIDDEN_SPREAD

__all__ = ["PARAMETERS", "Parameter", "assemble_estimator", "parameters_of"]


@dataclass(frozen=True)
class Parameter:
    """A parameter of the estimators: what its entry in :data:`PARAMETERS` says.

    ``default``, ``type`` and ``doc`` may be a :class:`Per`; ``doc`` is the numpydoc
    description, written with any indentation, and the entry's first line,
    ``name : type, default=...``, shows ``default`` as formatted from the value.
    """

    name: str
    default: object
    constraint: list
    type: str | Per
    doc: str | Per
    #: The families and kinds of estimator that take the parameter.
    families: tuple = FAMILIES
    kinds: tuple = KINDS
    #: Whether the parameter defines the torch module (``_module_params``).
    module: bool = False
    #: False for the parameters that may be passed by position; they come first.
    keyword_only: bool = True

    def __post_init__(self):
        if not (set(self.families) <= set(FAMILIES) and set(self.kinds) <= set(KINDS)):
            raise ValueError(
                f"The parameter {self.name!r} is for families among {FAMILIES} and kinds among "
                f"{KINDS}; got {self.families} and {self.kinds}."
            )

    def applies(self, family: str, kind: str) -> bool:
        """Whether estimators of ``family`` and ``kind`` take the parameter."""
        return applies(self, family, kind)

    def variant(self, family: str, kind: str) -> Parameter:
        """The parameter as an estimator of ``family`` and ``kind`` takes it (no :class:`Per`)."""
        return dataclasses.replace(
            self,
            default=pick(self.default, family, kind),
            type=pick(self.type, family, kind),
            doc=pick(self.doc, family, kind),
        )

    def numpydoc(self) -> str:
        """The entry of the Parameters section (of a :meth:`variant`)."""
        return numpydoc_entry(
            self.name, f"{self.type}, default={format_default(self.default)}", self.doc
        )


PARAMETERS = (
    Parameter(
        "hidden_layer_sizes",
        default=Per(positional=(100,), particle=(128,)),
        constraint=[HIDDEN_LAYER_SIZES],
        type="array-like of shape (n_layers - 2,)",
        doc=Per(
            positional="The ith element is the number of neurons in the ith hidden layer.",
            particle="""
            The ith element is the number of neurons in the ith hidden layer (the paper's MNIST
            network is 784-128-10).
            """,
        ),
        module=True,
        keyword_only=False,
    ),
    Parameter(
        "activation",
        default="relu",
        constraint=[StrOptions(set(ACTIVATIONS))],
        type='{"relu", "tanh", "logistic", "identity", "swish"}',
        doc=Per(
            positional='Activation function of the hidden layers (the paper uses "swish").',
            particle="Activation function of the hidden layers.",
        ),
        module=True,
        keyword_only=False,
    ),
    Parameter(
        "loss",
        default="squared_error",
        constraint=[StrOptions({"squared_error", "poisson"})],
        type='{"squared_error", "poisson"}',
        doc="""
        The loss, as MLPRegressor's: half the squared error with identity outputs, or half the
        Poisson deviance with the outputs read as the log of the predicted mean (``predict``
        returns the mean); "poisson" needs non-negative ``y``.
        """,
        kinds=("regressor",),
        module=True,
    ),
    Parameter(
        "particle_dim",
        default=2,
        constraint=[Interval(Integral, 1, None, closed="left")],
        type="int",
        doc="""
        Dimension of positions and dipoles (the paper uses 2 and 3). With 1 the dipoles are
        scalars and every implied weight has the sign of ``v_i * v_j``: all the neurons of a
        layer weigh their inputs with one sign pattern, a loss of capacity that no falloff
        makes up for (``benchmarks/falloff_panel.py``).
        """,
        families=("particle",),
        module=True,
    ),
    Parameter(
        "falloff",
        default=Per(positional="inverse_square", particle="gaussian"),
        constraint=[StrOptions(set(FALLOFFS)), CallableFalloff],
        type=Per(
            positional='{"inverse_square", "gaussian", "exponential", "none"} or callable',
            particle='{"gaussian", "inverse_square", "exponential", "none"} or callable',
        ),
        doc=Per(
            positional="""
            How a connection's strength falls with distance: ``1 / (1 + d**2)``, ``exp(-d**2)``,
            ``exp(-d)`` or ``1``. A callable gets a tensor of distances and returns a tensor of the
            same shape.
            """,
            particle="""
            How the implied weight falls with distance; the paper's is ``exp(-d**2)``. The
            initial positions, N(0, 0.5) per component, keep every named falloff well above zero
            in dimensions 1 to 4. With "none" each weight matrix is ``V_out @ V_in.T``, of rank at
            most ``particle_dim``.
            """,
        ),
        module=True,
    ),
    Parameter(
        "length_scale",
        default="auto",
        constraint=[Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        type='float or "auto"',
        doc="""
        Distances are divided by this before the falloff is applied. "auto" fits it to the
        falloff and the geometry: the falloff falls to half its strength at the typical
        (root-mean-square) initial length of the connections of the layer whose connections are
        longest, so that every named falloff, and a callable one, starts with effective weights
        and position gradients of a usable size (see the :ref:`User Guide <positional>`). The
        value used is ``length_scale_``. The reference implementation's geometry is
        ``length_scale=1.0, input_layout="auto", output_layout="circle"``.
        """,
        families=("positional",),
        module=True,
    ),
    Parameter(
        "remove_translation",
        default=True,
        constraint=["boolean"],
        type="bool",
        doc="""
        Whether to remove the mean of the position gradients at every step, the paper's trick:
        outputs do not change when all particles move together, so that component only drifts.
        """,
        families=("particle",),
        module=True,
    ),
    Parameter(
        "weight_mode",
        default="auto",
        constraint=[StrOptions({"auto", "materialized", "tiled"})],
        type='{"auto", "materialized", "tiled"}',
        doc="""
        How each layer's implied weights are formed. "materialized" builds the
        ``(n_out, n_in)`` matrix once per batch; "tiled" builds it a tile of ``tile_size``
        output neurons at a time and rebuilds it in the backward pass, so memory grows with the
        number of neurons rather than connections, for the same values and gradients at some
        extra time. "auto" tiles the layers of at least ``2**24`` connections.
        """,
        families=("particle",),
        module=True,
    ),
    Parameter(
        "tile_size",
        default=None,
        constraint=[Interval(Integral, 1, None, closed="left"), None],
        type="int",
        doc="Output neurons per tile of a tiled layer; None picks about 4 Mi weights per tile.",
        families=("particle",),
        module=True,
    ),
    Parameter(
        "alpha",
        default=Per(positional=1e-4, particle=0.0),
        constraint=[Interval(Real, 0, None, closed="left")],
        type="float",
        doc=Per(
            positional="""
            Strength of the plain L2 penalty on the raw weights, as in
            :class:`~sklearn.neural_network.MLPClassifier`: ``0.5 * alpha * sum(w**2)`` divided by
            the batch size (the paper's "unweighted regularization").
            """,
            particle="""
            Strength of the L2 penalty on the implied weight matrices, scaled as in
            :class:`~sklearn.neural_network.MLPClassifier`: ``0.5 * alpha * sum(w**2)`` divided by
            the batch size. The paper uses none.
            """,
        ),
    ),
    Parameter(
        "distance_alpha",
        default=1e-4,
        constraint=[Interval(Real, 0, None, closed="left")],
        type="float",
        doc="""
        Strength of the distance-weighted penalty on the raw weights, ``distance_alpha *
        sum(d**2 * w**2)`` over every connection with the default ``distance_reduction``:
        the knob that trades accuracy for short wiring. On MNIST (784-128-10, 30,000 images,
        10 epochs) the wiring cost falls at every step from 0 to 1e-3, to half the plain
        network's at 1e-4, where the accuracy is 0.23 points below it; see
        :ref:`choosing-distance-alpha`. Lower it (1e-5 to 3e-5) where accuracy matters more than
        short wiring: on a non-image problem the default cost 1.7 points.
        """,
        families=("positional",),
    ),
    Parameter(
        "distance_reduction",
        default="sum",
        constraint=[StrOptions(set(DISTANCE_REDUCTIONS))],
        type='{"sum", "layer_mean"}',
        doc="""
        How the penalty adds up ``d**2 * w**2`` over the connections. "sum" counts every
        connection once. "layer_mean" is the reference implementation's: the mean over layers
        of each layer's mean, which weighs one connection of the 10-output layer of a
        784-128-10 network as much as 78 input connections, so that the penalty barely
        touches the input layer (91% of the wiring) and mostly shrinks the output weights; with
        it, ``distance_alpha=0.25`` is the paper's loss on MNIST. Until
        ``distance_reduction`` existed the penalty was "layer_mean" with a default
        ``distance_alpha=0.01``: pass both to get the old behaviour exactly.
        """,
        families=("positional",),
        module=True,
    ),
    Parameter(
        "position_dim",
        default=2,
        constraint=[Interval(Integral, 1, None, closed="left")],
        type="int",
        doc="Dimension of the space the neurons live in.",
        families=("positional",),
        module=True,
    ),
    Parameter(
        "input_layout",
        default="even",
        constraint=[
            StrOptions({"even", "auto", "grid", "line", "sphere", "random"}),
            LAYOUT_ARRAYS["input_layout"],
        ],
        type=(
            '{"even", "auto", "grid", "line", "sphere", "random"} or array-like of shape '
            "(n_features, position_dim)"
        ),
        doc="""
        Where the input neurons sit. "grid" puts one per pixel of ``input_shape`` on a grid
        spanning [-2, 2]; "sphere" spreads them evenly on a sphere of radius 2 (a circle in
        2-D, a Fibonacci spiral in 3-D, a line in 1-D), every input equally far from the hidden
        neurons; "even" is a grid when ``input_shape`` is given or ``n_features`` is a perfect
        square (8x8 digits, 28x28 MNIST), else a sphere; "auto" (the reference's) is the same
        grid, else a line.
        """,
        families=("positional",),
        module=True,
    ),
    Parameter(
        "input_shape",
        default=None,
        constraint=[IMAGE_SHAPES, None],
        type="tuple of int",
        doc="Shape of the input images, e.g. ``(28, 28)``, for the grid layout.",
        families=("positional",),
        module=True,
    ),
    Parameter(
        "output_layout",
        default="sphere",
        constraint=[
            StrOptions({"sphere", "circle", "line", "random"}),
            LAYOUT_ARRAYS["output_layout"],
        ],
        type=(
            '{"sphere", "circle", "line", "random"} or array-like of shape '
            "(n_classes, position_dim)"
        ),
        doc="""
        Where the output neurons sit: "circle" spreads them evenly on a circle of radius 5 in
        the first two axes; "sphere" on a sphere of radius 5 (the same circle in 2-D, a
        Fibonacci spiral in 3-D, so that many classes stay apart, a line in 1-D).
        """,
        families=("positional",),
        module=True,
    ),
    Parameter(
        "hidden_spread",
        default=REFERENCE_HIDDEN_SPREAD,
        constraint=[HIDDEN_SPREADS],
        type="float or tuple of float",
        doc="""
        Standard deviation of the hidden positions at initialization, per hidden layer; the
        last value repeats for deeper layers. The default is the reference implementation's.
        """,
        families=("positional",),
        module=True,
    ),
    Parameter(
        "trainable_positions",
        default="hidden",
        constraint=[StrOptions({"hidden", "all", "none"})],
        type='{"hidden", "all", "none"}',
        doc='Which positions are learned; input and output neurons stay in place with "hidden".',
        families=("positional",),
        module=True,
    ),
    Parameter(
        "solver",
        default=Per(positional="adam", particle="rmsprop"),
        constraint=[StrOptions(set(SOLVERS))],
        type=Per(
            positional='{"adam", "rmsprop", "sgd", "lbfgs"}',
            particle='{"rmsprop", "adam", "sgd", "lbfgs"}',
        ),
        doc=Per(
            positional="""
            The optimizer; "lbfgs" is full-batch L-BFGS (see ``max_fun``), which can converge
            faster on small data, as for MLPClassifier.
            """,
            particle="""
            The optimizer; the paper's is RMSProp with a decay of 0.99. "lbfgs" is full-batch
            L-BFGS (see ``max_fun``), as for MLPClassifier.
            """,
        ),
    ),
    Parameter(
        "batch_size",
        default=Per(positional="auto", particle=100),
        constraint=[StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        type='int or "auto"',
        doc=Per(
            positional='Size of the minibatches; "auto" is ``min(200, n_samples)``.',
            particle="""
            Size of the minibatches (the paper's 100); "auto" is ``min(200, n_samples)``. Implied
            weights learn from many small steps: on scikit-learn's digits, "auto" leaves 7 steps
            per epoch and about 1 point of accuracy.
            """,
        ),
    ),
    Parameter(
        "learning_rate",
        default="constant",
        constraint=[StrOptions({"constant", "invscaling", "adaptive"})],
        type='{"constant", "invscaling", "adaptive"}',
        doc="""
        Learning-rate schedule of the "sgd" solver, as MLPClassifier's: "constant" keeps
        ``learning_rate_init``; "invscaling" sets it to ``learning_rate_init / (t + 1) **
        power_t`` after every epoch, ``t`` the number of samples seen (``t_``); "adaptive"
        divides it by 5 whenever ``n_iter_no_change`` epochs in a row fail to improve by
        ``tol``, and stops once it is at most 1e-6.
        """,
    ),
    Parameter(
        "power_t",
        default=0.5,
        constraint=[Interval(Real, 0, None, closed="left")],
        type="float",
        doc='The exponent of "invscaling".',
    ),
    Parameter(
        "learning_rate_init",
        default=Per(positional=0.003, particle=0.01),
        constraint=[Interval(Real, 0, None, closed="neither")],
        type="float",
        doc=Per(
            positional="""
            The learning rate. Hidden positions move at most about this far per step with Adam, so
            it is higher than MLPClassifier's 0.001.
            """,
            particle="""
            The learning rate. The paper's 0.005 over 50 MNIST epochs is many more steps than
            200 epochs of a small data set such as digits take.
            """,
        ),
    ),
    Parameter(
        "max_iter",
        default=200,
        constraint=[Interval(Integral, 1, None, closed="left")],
        type="int",
        doc="Maximum number of epochs.",
    ),
    Parameter(
        "shuffle",
        default=True,
        constraint=["boolean"],
        type="bool",
        doc="Whether to shuffle the samples in each epoch.",
    ),
    Parameter(
        "random_state",
        default=None,
        constraint=["random_state"],
        type="int, RandomState instance or None",
        doc=Per(
            positional="""
            Seeds weight and position initialization, shuffling and the validation split. An int
            makes a CPU fit bitwise reproducible; the global random states of NumPy and torch are
            never used.
            """,
            particle="""
            Seeds initialization, shuffling and the validation split. An int makes a CPU fit
            bitwise reproducible; the global random states of NumPy and torch are never used.
            """,
        ),
    ),
    Parameter(
        "tol",
        default=1e-4,
        constraint=[Interval(Real, 0, None, closed="left")],
        type="float",
        doc="""
        Tolerance for the optimization: training stops when the loss (or the validation score
        with ``early_stopping``) does not improve by at least ``tol`` for ``n_iter_no_change``
        consecutive epochs.
        """,
    ),
    Parameter(
        "verbose",
        default=False,
        constraint=["verbose"],
        type="bool or int",
        doc=Per(
            classifier="""
            ``True`` (or 1) prints one line per epoch (training loss, validation loss and
            accuracy with ``early_stopping``, duration), without colour codes unless the output
            is a terminal; 2 also shows a progress bar over each epoch's batches.
            """,
            regressor="""
            ``True`` (or 1) prints one line per epoch (training loss, validation loss and R^2
            with ``early_stopping``, duration), without colour codes unless the output is a
            terminal; 2 also shows a progress bar over each epoch's batches.
            """,
        ),
    ),
    Parameter(
        "warm_start",
        default=False,
        constraint=["boolean"],
        type="bool",
        doc="When True, ``fit`` continues from the previous solution.",
    ),
    Parameter(
        "momentum",
        default=0.9,
        constraint=[Interval(Real, 0, 1, closed="both")],
        type="float",
        doc='Momentum of the "sgd" solver.',
    ),
    Parameter(
        "nesterovs_momentum",
        default=True,
        constraint=["boolean"],
        type="bool",
        doc="""Whether the "sgd" solver uses Nesterov's momentum.""",
    ),
    Parameter(
        "early_stopping",
        default=False,
        constraint=["boolean"],
        type="bool",
        doc=Per(
            classifier="""
            Whether to hold out ``validation_fraction`` of the data, stop when its accuracy
            stops improving, and keep the parameters of the best epoch.
            """,
            regressor="""
            Whether to hold out ``validation_fraction`` of the data, stop when its R^2 stops
            improving, and keep the parameters of the best epoch.
            """,
        ),
    ),
    Parameter(
        "validation_fraction",
        default=0.1,
        constraint=[Interval(Real, 0, 1, closed="neither")],
        type="float",
        doc="The share of the training data held out for early stopping.",
    ),
    Parameter(
        "beta_1",
        default=0.9,
        constraint=[Interval(Real, 0, 1, closed="left")],
        type="float",
        doc="Decay rate of Adam's first moment estimate.",
    ),
    Parameter(
        "beta_2",
        default=0.999,
        constraint=[Interval(Real, 0, 1, closed="left")],
        type="float",
        doc="Decay rate of Adam's second moment estimate.",
    ),
    Parameter(
        "epsilon",
        default=1e-8,
        constraint=[Interval(Real, 0, None, closed="neither")],
        type="float",
        doc='Numerical stability term of "adam" and "rmsprop".',
    ),
    Parameter(
        "n_iter_no_change",
        default=10,
        constraint=[Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        type="int",
        doc="Number of epochs without an improvement of ``tol`` before training stops.",
    ),
    Parameter(
        "max_fun",
        default=15000,
        constraint=[Interval(Integral, 1, None, closed="left")],
        type="int",
        doc="""
        With ``solver="lbfgs"``: the most loss evaluations the fit may use. Every epoch is
        then one L-BFGS iteration over the whole data (``batch_size``, ``shuffle`` and
        ``early_stopping`` do not apply, ``max_iter`` counts iterations); it stops when the
        largest gradient component is at most ``tol`` or the loss stops decreasing.
        """,
    ),
    Parameter(
        "device",
        default="cpu",
        constraint=[DEVICES],
        type="str or torch.device",
        doc='Where to train: "cpu", "cuda" or "cuda:N".',
    ),
    Parameter(
        "record_positions",
        default=False,
        constraint=["boolean", Interval(Integral, 1, None, closed="left")],
        type="bool or int",
        doc="""
        Whether to record where the neurons are during training, for
        :func:`~sklearn_posnet.plotting.animate_training`: True records after every epoch, an int
        ``k`` after every ``k`` training steps (batches), False nothing. Read when the network is
        built (every ``fit`` without ``warm_start``); frames accumulate over ``partial_fit`` calls.
        """,
    ),
    Parameter(
        "callbacks",
        default=None,
        constraint=[CALLBACKS, None],
        type="list of skorch callbacks",
        doc="""
        Extra :mod:`skorch.callbacks` run during training, e.g. ``ProgressBar()``,
        ``LRScheduler(...)``, ``Checkpoint(...)`` or your own ``Callback`` subclass, each as an
        instance or a ``(name, callback)`` pair. They are copied when the network is built (every
        ``fit`` without ``warm_start``), so the parameter itself stays as given and is cloned
        like any other; they see the estimator's skorch net (``net_``). A callback that raises
        ``KeyboardInterrupt`` to stop (skorch's ``EarlyStopping``) ends training quietly; a real
        Ctrl-C propagates.
        """,
    ),
    Parameter(
        "n_threads",
        default=None,
        constraint=[Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        type="int",
        doc="""
        CPU threads of each ``fit``, ``partial_fit`` and prediction (torch's intra-op threads and
        the fused kernels'). None lets the package decide from the size of the network and of a
        batch: one thread for small problems, such as the defaults on the digits or a 784-128-10
        network with batches of 200, since idle threads spin on cores another process could
        use; -1 uses every thread allowed. Never more than the calling thread is allowed:
        :func:`torch.get_num_threads`, which follows ``OMP_NUM_THREADS`` (set by joblib's
        workers and Dask's) and :func:`threadpoolctl.threadpool_limits`. torch's own setting is
        put back after each call. See :ref:`threads`.
        """,
    ),
)


def parameters_of(family: str, kind: str, table=PARAMETERS) -> list[Parameter]:
    """The parameters of an estimator of ``family`` and ``kind``, in the order of its
    signature, each as that estimator takes it."""
    parameters = [p.variant(family, kind) for p in table if p.applies(family, kind)]
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"The table names a parameter twice: {names}.")
    keyword_only = [p.keyword_only for p in parameters]
    if keyword_only != sorted(keyword_only):
        raise ValueError("The parameters that may be passed by position come first.")
    return parameters


def _init_function(cls, parameters: list[Parameter]):
    # scikit-learn reads an estimator's parameters from the signature of its __init__
    # (BaseEstimator._get_param_names) and refuses *args and **kwargs, so every class gets a
    # real __init__ with its parameters spelled out, compiled from the table as dataclasses
    # compiles its __init__: help(), inspect.signature, Sphinx's autodoc and scikit-learn see
    # explicit parameters and defaults, and inspect.getsource and tracebacks show the generated
    # source (registered with linecache, as attrs does). Tools that read the code without
    # running it (an IDE's completion, a type checker) see no parameters; explicit signatures
    # checked against the table by a test would show them, but then adding a parameter would
    # be four edits and a test failure rather than one entry.
    lines = ["def __init__(", "    self,"]
    for previous, parameter in zip([None, *parameters], parameters):
        if parameter.keyword_only and (previous is None or not previous.keyword_only):
            lines.append("    *,")
        lines.append(f"    {parameter.name}=_defaults[{parameter.name!r}],")
    lines.append("):")
    lines += [f"    self.{p.name} = {p.name}" for p in parameters] or ["    pass"]
    source = "\n".join(lines) + "\n"
    filename = f"<generated __init__ of {cls.__module__}.{cls.__qualname__}>"
    namespace = {"_defaults": {p.name: p.default for p in parameters}}
    exec(compile(source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    init = namespace["__init__"]
    init.__module__ = cls.__module__
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = "Store the parameters (see the class docstring) as attributes, unchecked."
    return init


def assemble_estimator(family: str, kind: str, table=PARAMETERS):
    """A class decorator: the estimator of ``family`` and ``kind`` gets, from ``table``, its
    ``__init__``, ``_parameter_constraints``, ``_module_params`` and docstring (its written
    docstring with the Parameters, Attributes and shared Notes sections added, see
    :func:`~sklearn_posnet._docstrings.class_docstring`)."""
    if family not in FAMILIES or kind not in KINDS:
        raise ValueError(f"No estimator of family {family!r} and kind {kind!r}.")

    def assemble(cls):
        parameters = parameters_of(family, kind, table)
        cls.__init__ = _init_function(cls, parameters)
        cls._parameter_constraints = {p.name: p.constraint for p in parameters}
        cls._module_params = tuple(p.name for p in parameters if p.module)
        cls.__doc__ = class_docstring(cls.__doc__, family, kind, [p.numpydoc() for p in parameters])
        return cls

    return assemble
