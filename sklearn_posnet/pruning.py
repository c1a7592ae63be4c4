"""Structured neuron pruning that really shrinks the network: NeuronPruner, prune, pruning_curve.

Pruning removes whole hidden neurons: their weight rows and columns (or dipoles), biases and
positions leave the module's tensors, so the pruned network has fewer parameters and predicts
faster. The modules own their tensors: the pruner asks a module for ``neuron_scores`` and tells
it which neurons to keep with ``select_hidden_neurons``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .nn._neurons import CRITERIA
from .plotting import plot_pruning_curve  # a picture: it lives with the others

__all__ = ["NeuronPruner", "plot_pruning_curve", "prune", "pruning_curve"]


# --------------------------------------------------------------------------------- helpers
def _fitted_module(estimator) -> torch.nn.Module:
    module = getattr(estimator, "module_", None)
    if not (
        hasattr(module, "neuron_scores")
        and hasattr(estimator, "select_hidden_neurons")
        and hasattr(estimator, "hidden_activations")
    ):
        raise TypeError(
            f"{type(estimator).__name__} cannot be pruned: it must provide select_hidden_neurons() "
            "and hidden_activations(), and its fitted module_ neuron_scores() "
            "(PositionalMLPClassifier and ParticleNetworkClassifier do)."
        )
    return module


def _neuron_scores(estimator, criterion, data: tuple = (None, None, None)) -> list[np.ndarray]:
    """The score of every hidden neuron of the fitted ``estimator``, one array per hidden layer;
    "taylor" scores on ``data``, ``(X, y, sample_weight)``."""
    module = _fitted_module(estimator)
    hidden_sizes = list(module.layer_sizes[1:-1])
    if callable(criterion):
        return _checked_criterion_scores(criterion(estimator), hidden_sizes, criterion)
    elif criterion == "taylor":
        if not hasattr(estimator, "hidden_neuron_sensitivity"):
            raise TypeError(
                f"criterion='taylor' needs the estimator's hidden_neuron_sensitivity(X, y); "
                f"{type(estimator).__name__} has none."
            )
        raw_scores = estimator.hidden_neuron_sensitivity(*data)
    else:
        raw_scores = [s.detach().cpu().double().numpy() for s in module.neuron_scores(criterion)]
    scores = [np.asarray(s, dtype=np.float64).reshape(-1) for s in raw_scores]
    if [len(s) for s in scores] != hidden_sizes:
        raise ValueError(
            f"The criterion must return one score per hidden neuron, {hidden_sizes} per layer; "
            f"got {[len(s) for s in scores]}."
        )
    if not all(np.isfinite(s).all() for s in scores):
        raise ValueError("The neuron scores contain NaN or infinity.")
    return scores


def _checked_criterion_scores(returned, hidden_sizes: list[int], criterion) -> list[np.ndarray]:
    """The scores a callable ``criterion`` returned, as float64 arrays, if they are one
    sequence of finite numbers per hidden layer with one number per neuron; else a TypeError or
    ValueError naming the criterion, what it returned and what it must return."""
    name = getattr(criterion, "__name__", type(criterion).__name__)
    expected = (
        f"a list of {len(hidden_sizes)} array(s) of scores, one per hidden layer, with one score "
        f"per hidden neuron: lengths {hidden_sizes} (e.g. [np.ones(n) for n in "
        "estimator.hidden_layer_sizes])"
    )

    def refuse(error, problem):
        return error(f"The criterion callable {name!r} must return {expected}; {problem}.")

    if isinstance(returned, np.ndarray):
        if returned.ndim == 0 or (returned.ndim == 1 and returned.dtype != object):
            raise refuse(
                TypeError,
                f"it returned one array of shape {returned.shape}; return a list of arrays",
            )
    elif isinstance(returned, (str, bytes, dict)) or not hasattr(returned, "__iter__"):
        raise refuse(TypeError, f"it returned a {type(returned).__name__}: {returned!r}")
    layers = list(returned)
    if len(layers) != len(hidden_sizes):
        raise refuse(ValueError, f"it returned {len(layers)} entries")
    scores = []
    for index, (layer, size) in enumerate(zip(layers, hidden_sizes)):
        try:
            array = np.asarray(layer, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError) as error:
            raise refuse(
                TypeError, f"entry {index} is not numbers ({type(layer).__name__}: {error})"
            ) from None
        # (n,), or (n, 1) and (1, n): one axis of scores.
        if array.size != size or max(array.shape, default=1) != size:
            raise refuse(ValueError, f"entry {index} has shape {array.shape}, not ({size},)")
        if not np.isfinite(array).all():
            raise refuse(ValueError, f"entry {index} contains NaN or infinity")
        scores.append(array.reshape(-1))
    return scores


def _n_removed(amount, size: int) -> int:
    return int(amount) if isinstance(amount, Integral) else round(float(amount) * size)


def _neurons(count: int) -> str:
    return "one neuron" if count == 1 else f"{count} neurons"


def _kept_neurons(
    scores: list[np.ndarray], amount, scope: str, minimum: int = 1
) -> list[np.ndarray]:
    """Indices of the neurons to keep per hidden layer: the lowest scores go, and every layer
    keeps at least ``minimum`` neurons (all of them when it has fewer).

    With ``scope="layer"``, ``amount`` may be a list of neuron counts, one per hidden layer.
    Ties go in layer order, then neuron order (a stable sort), so the result is deterministic.
    """
    sizes = [len(s) for s in scores]
    floors = [min(size, minimum) for size in sizes]
    if scope == "layer":
        amounts = amount if isinstance(amount, list) else [amount] * len(sizes)
        kept = []
        for layer, (layer_scores, size, floor, layer_amount) in enumerate(
            zip(scores, sizes, floors, amounts, strict=True), start=1
        ):
            n_removed = _n_removed(layer_amount, size)
            if n_removed > size - floor:
                raise ValueError(
                    f"amount={amount!r} removes {n_removed} of the {size} neurons of hidden layer "
                    f"{layer}; at least {_neurons(floor)} per hidden layer must stay."
                )
            order = np.argsort(layer_scores, kind="stable")
            kept.append(np.sort(order[n_removed:]))
        return kept

    n_removed = _n_removed(amount, sum(sizes))
    if n_removed > sum(sizes) - sum(floors):
        raise ValueError(
            f"amount={amount!r} removes {n_removed} of the {sum(sizes)} hidden neurons; at most "
            f"{sum(sizes) - sum(floors)} can go, as at least {_neurons(minimum)} per hidden layer "
            "stays."
        )
    # The best `floor` neurons of every layer are protected; all the others are ranked together.
    protected = [np.argsort(s, kind="stable")[len(s) - floor :] for s, floor in zip(scores, floors)]
    layer_of, index_of, candidate_scores = [], [], []
    for layer, layer_scores in enumerate(scores):
        others = np.setdiff1d(np.arange(len(layer_scores)), protected[layer])
        layer_of.append(np.full(len(others), layer))
        index_of.append(others)
        candidate_scores.append(layer_scores[others])
    layer_of = np.concatenate(layer_of) if layer_of else np.empty(0, dtype=int)
    index_of = np.concatenate(index_of) if index_of else np.empty(0, dtype=int)
    candidate_scores = np.concatenate(candidate_scores) if candidate_scores else np.empty(0)
    removed = np.argsort(candidate_scores, kind="stable")[:n_removed]
    keep_masks = [np.ones(size, dtype=bool) for size in sizes]
    for position in removed:
        keep_masks[layer_of[position]][index_of[position]] = False
    return [np.flatnonzero(mask) for mask in keep_masks]


def _check_schedule(amount, n_steps) -> None:
    """Refuse a list schedule that is not an increasing sequence of amounts of the kind of
    ``amount`` (neuron counts or fractions) ending at ``amount``."""
    if isinstance(n_steps, Integral):
        return
    try:
        steps = np.asarray(n_steps, dtype=object)
    except ValueError:  # ragged
        steps = None
    steps = list(steps.reshape(-1)) if steps is not None and steps.ndim <= 1 else None
    counts = isinstance(amount, Integral)
    kind = "neuron counts (ints)" if counts else "fractions (floats in (0, 1))"

    def good(step) -> bool:
        return (
            isinstance(step, Integral if counts else RealNotInt)
            and not isinstance(step, bool)
            and bool(np.isfinite(step))
            and 0 < step
            and (counts or step < 1)
        )

    bad = None if not steps else next((i for i, step in enumerate(steps) if not good(step)), None)
    if not steps or bad is not None:
        element = "" if bad is None else f" (its element {bad} is {steps[bad]!r})"
        raise ValueError(
            f"n_steps={n_steps!r}: a schedule must be a non-empty 1-D sequence of positive "
            f"{kind}, the kind of amount={amount!r}: the cumulative amount removed after each "
            f"step{element}."
        )
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        raise ValueError(
            f"n_steps={n_steps!r}: the cumulative amounts of a schedule must increase strictly."
        )
    if steps[-1] != amount:
        raise ValueError(
            f"n_steps={n_steps!r}: the schedule must end at amount={amount!r} (its last entry is "
            "the total amount removed)."
        )


def _removal_schedule(sizes: list[int], amount, scope: str, n_steps) -> list:
    """How many neurons each step removes. An int ``n_steps`` spreads the total (``amount`` of
    the unpruned ``sizes``) evenly over that many steps, cumulative counts rounded; a sequence
    gives the cumulative amount (of the unpruned ``sizes``) removed after each step. With
    ``scope="layer"`` every step's entry is a list of per-layer counts."""

    def spread(size: int) -> list[int]:
        if isinstance(n_steps, Integral):
            total = _n_removed(amount, size)
            cumulative = [round(total * step / n_steps) for step in range(n_steps + 1)]
        else:
            cumulative = [0, *(_n_removed(step, size) for step in n_steps)]
        return [int(b - a) for a, b in itertools.pairwise(cumulative)]

    if scope == "layer":
        per_layer = [spread(size) for size in sizes]
        return [list(counts) for counts in zip(*per_layer, strict=True)]
    return spread(sum(sizes))


def _check_fitted_estimator(estimator) -> None:
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise NotFittedError(
            "The estimator to prune must be fitted (or use NeuronPruner with prefit=False)."
        ) from exc


# --------------------------------------------------------------------------------- public
def prune(
    estimator,
    amount: float | int = 0.3,
    *,
    criterion: str | Callable = "mean_squared_weight",
    scope: str = "global",
    n_steps: int | Sequence[float | int] = 1,
    min_neurons_per_layer: int = 1,
):
    """Return a pruned copy of a fitted estimator, with its hidden neurons physically removed.

    Parameters
    ----------
    estimator : PositionalMLPClassifier or ParticleNetworkClassifier
        A fitted estimator; it is not modified.
    amount : float in [0, 1) or int, default=0.3
        A float is the fraction of hidden neurons to remove (rounded to the nearest integer),
        an int how many. With ``scope="layer"`` it applies to every hidden layer.
    criterion : {"mean_squared_weight", "effective"} or callable, default="mean_squared_weight"
        See :class:`NeuronPruner`; "taylor", which needs data, is refused here.
    scope : {"global", "layer"}, default="global"
        See :class:`NeuronPruner`.
    n_steps : int or sequence of float or int, default=1
        Remove ``amount`` in this many steps, or in steps that bring the amount removed to each
        entry of a sequence in turn (see :class:`NeuronPruner`), the neurons re-scored before
        each (without fine-tuning, which needs data: use :class:`NeuronPruner` with
        ``fine_tune_epochs``).
    min_neurons_per_layer : int, default=1
        See :class:`NeuronPruner`.

    Returns
    -------
    pruned : estimator
        A deep copy of ``estimator`` with fewer hidden neurons, ``hidden_layer_sizes`` set to
        the new sizes and a fresh optimizer, ready to predict, pickle or train further.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.pruning import prune
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier((32, 16), max_iter=20, random_state=0).fit(X / 16, y)
    >>> sum(prune(clf, 0.5).hidden_layer_sizes)  # half of the 48 hidden neurons are left
    24
    """
    _check_fitted_estimator(estimator)
    if isinstance(criterion, str) and criterion == "taylor":
        raise ValueError(
            "criterion='taylor' needs data and the loss, which prune() does not take: use "
            "NeuronPruner(estimator, criterion='taylor', prefit=True).fit(X, y)."
        )
    pruned = NeuronPruner(
        estimator,
        amount=amount,
        criterion=criterion,
        scope=scope,
        prefit=True,
        n_steps=n_steps,
        min_neurons_per_layer=min_neurons_per_layer,
    )
    return pruned.fit(None).estimator_


def pruning_curve(
    estimator,
    X,
    y,
    amounts: Sequence[float | int],
    *,
    criterion: str | Callable = "mean_squared_weight",
    scope: str = "global",
    scoring=None,
    fine_tune_epochs: int = 0,
    fine_tune_data: tuple | None = None,
) -> Bunch:
    """Score a fitted estimator pruned by each of several amounts (like validation_curve).

    Every amount prunes the original fitted ``estimator`` (not the previous pruned copy) and
    nothing is retrained unless ``fine_tune_epochs > 0``.

    Parameters
    ----------
    estimator : PositionalMLPClassifier or ParticleNetworkClassifier
        A fitted estimator; it is not modified.
    X : array-like of shape (n_samples, n_features)
        The data to score on (held-out data, typically).
    y : array-like of shape (n_samples,)
        Its labels.
    amounts : sequence of float or int
        The amounts to prune, each as ``amount`` in :func:`prune`.
    criterion : {"mean_squared_weight", "effective", "taylor"} or callable, \
            default="mean_squared_weight"
        See :class:`NeuronPruner`; "taylor" scores on ``fine_tune_data``, which it requires.
    scope : {"global", "layer"}, default="global"
        See :class:`NeuronPruner`.
    scoring : str or callable, default=None
        A scikit-learn scorer; None uses the estimator's ``score`` (accuracy, or R^2 for a
        regressor).
    fine_tune_epochs : int, default=0
        Epochs of further training of every pruned copy (with a fresh optimizer).
    fine_tune_data : tuple (X_train, y_train), default=None
        The data to fine-tune on; required when ``fine_tune_epochs > 0``.

    Returns
    -------
    result : Bunch
        ``amounts`` (as given), ``scores``, ``n_neurons_removed`` and ``n_parameters`` (of each
        pruned network), arrays of shape (n_amounts,).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.pruning import pruning_curve
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PositionalMLPClassifier((32,), max_iter=20, random_state=0).fit(X / 16, y)
    >>> pruning_curve(clf, X / 16, y, [0.0, 0.5]).n_neurons_removed
    array([ 0, 16])
    """
    _check_fitted_estimator(estimator)
    if fine_tune_epochs and fine_tune_data is None:
        raise ValueError("fine_tune_data=(X_train, y_train) is required when fine_tune_epochs > 0.")
    scorer = check_scoring(estimator, scoring=scoring)
    fine_tune_data = (None, None) if fine_tune_data is None else fine_tune_data
    scores, n_removed, n_parameters = [], [], []
    for amount in amounts:
        pruner = NeuronPruner(
            estimator,
            amount=amount,
            criterion=criterion,
            scope=scope,
            prefit=True,
            fine_tune_epochs=fine_tune_epochs,
        ).fit(*fine_tune_data)
        scores.append(scorer(pruner.estimator_, X, y))
        n_removed.append(sum(len(s) for s in pruner.scores_) - sum(map(len, pruner.kept_neurons_)))
        n_parameters.append(pruner.estimator_.n_parameters_)
    return Bunch(
        amounts=np.asarray(amounts),
        scores=np.asarray(scores, dtype=np.float64),
        n_neurons_removed=np.asarray(n_removed),
        n_parameters=np.asarray(n_parameters),
    )


def _estimator_has(name: str):
    """For ``available_if``: whether the pruner's estimator (fitted or not) has ``name``."""

    def check(pruner) -> bool:
        estimator = getattr(pruner, "estimator_", pruner.estimator)
        getattr(estimator, name)  # raises the AttributeError that hides the method
        return True

    return check


class NeuronPruner(
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Meta-estimator that removes the least important hidden neurons of a positional network.

    Modelled on :class:`~sklearn.feature_selection.SelectFromModel`: it fits a clone of
    ``estimator`` (or takes it as fitted with ``prefit=True``), scores every hidden neuron,
    and physically removes the lowest-scoring ones from a copy: their weight rows and columns
    (or dipoles), biases and positions, so the pruned network is smaller and faster. Input and
    output neurons are never removed, and every hidden layer keeps at least
    ``min_neurons_per_layer`` neurons (its best ones). With ``n_steps > 1`` it prunes
    iteratively, fine-tuning between the steps. The pruned estimator is ``estimator_``;
    ``predict``, ``predict_proba`` and ``score`` delegate to it, so the pruner can end a
    :class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV`
    can search ``amount`` together with ``estimator__*`` parameters. ``transform`` returns the
    activations of the last hidden layer of the pruned network, so it also works as a feature
    step.

    Parameters
    ----------
    estimator : PositionalMLPClassifier or ParticleNetworkClassifier
        The network to prune.
    amount : float in [0, 1) or int, default=0.3
        A float is the fraction of hidden neurons to remove (rounded to the nearest integer),
        an int how many. With ``scope="layer"`` it applies to every hidden layer.
    criterion : {"mean_squared_weight", "effective", "taylor"} or callable, \
            default="mean_squared_weight"
        How important a hidden neuron is: the mean of its squared incoming and outgoing weights
        (all of them together), on raw weights ("mean_squared_weight", the positional-neurons
        paper's) or effective weights, falloff applied ("effective"). For a particle network,
        whose weights are implied, the "raw" weight is the dipole alignment ``v_i . v_j`` and
        the effective one the implied weight ``(v_i . v_j) * falloff(d_ij)``. "taylor" is the
        first-order Taylor estimate of the change of the loss on the data given to ``fit``
        when the neuron is removed, the mean over the samples of ``|a * dloss/da|`` for its
        activation ``a`` (Molchanov et al., 2017; see the estimator's
        ``hidden_neuron_sensitivity``): it needs ``fit(X, y)`` even with ``prefit=True``, and
        a forward and backward pass over ``X`` per step. A callable gets the fitted estimator
        and returns one array of scores per hidden layer. Low scores go.
    scope : {"global", "layer"}, default="global"
        "global" ranks the hidden neurons of all layers together (the paper's); "layer" removes
        the same amount from each hidden layer.
    prefit : bool, default=False
        Whether ``estimator`` is already fitted. If True, ``fit`` prunes a deep copy of it and
        needs data only to fine-tune.
    fine_tune_epochs : int, default=0
        Epochs of further training of the pruned network on the data given to ``fit`` (one
        ``partial_fit`` call each) after every pruning step, with an optimizer rebuilt on the
        pruned parameters.
    n_steps : int or sequence of float or int, default=1
        Prune iteratively: remove ``amount`` in this many steps of (nearly) equal size, each
        ranking the neurons of the network the previous step left (scores are recomputed) and
        followed by ``fine_tune_epochs`` epochs of fine-tuning, the schedule of iterative
        structured pruning. ``1`` prunes in one shot. A sequence is the schedule itself: the
        cumulative amount removed after each step, of the kind of ``amount`` (fractions or
        neuron counts of the unpruned network), strictly increasing and ending at ``amount``;
        e.g. ``amount=0.5, n_steps=[0.3, 0.45, 0.5]`` removes most neurons first and fewer as
        the network gets small.
    min_neurons_per_layer : int, default=1
        Every hidden layer keeps at least this many neurons (all of them if it has fewer): its
        best ones are never ranked against the others. An amount that leaves fewer raises.

    Attributes
    ----------
    estimator_ : estimator
        The pruned estimator, of the class of ``estimator``: it predicts, pickles and trains on
        its own, with ``hidden_layer_sizes`` set to the pruned sizes.
    kept_neurons_ : list of ndarray of int
        Per hidden layer, the indices (in the unpruned network) of the neurons kept, ascending.
    scores_ : list of ndarray of float
        Per hidden layer, the criterion's score of every neuron of the unpruned network.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X has string column names.
    module_ : torch.nn.Module
        The pruned network: ``estimator_.module_``.

    See Also
    --------
    prune : The pruned copy of a fitted estimator, as a function.
    pruning_curve : Scores over several amounts.
    sklearn.feature_selection.SelectFromModel : The meta-transformer this one is modelled on.

    Notes
    -----
    The criterion for hidden neuron ``i`` of neuron layer ``k`` is
    ``(sum_j W_{k-1,ij}**2 + sum_m W_{k,mi}**2) / (n_{k-1} + n_{k+1})``. With
    ``scope="global"`` the best ``min_neurons_per_layer`` neurons of each layer are set aside
    and all other hidden neurons are ranked together; ties go in layer order, then neuron
    order. With ``n_steps > 1``, step ``s`` removes the neurons that bring the count removed so
    far to ``round(total * s / n_steps)``, ``total`` being what ``amount`` removes from the
    unpruned network (per layer with ``scope="layer"``); with a sequence, to what its ``s``-th
    entry removes from the unpruned network, rounded the same way (a step whose rounded count
    does not grow removes nothing and only fine-tunes).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> from sklearn_posnet.pruning import NeuronPruner
    >>> X, y = load_digits(return_X_y=True)
    >>> pruner = NeuronPruner(
    ...     PositionalMLPClassifier((32, 16), max_iter=50, random_state=0), amount=0.25
    ... ).fit(X / 16, y)
    >>> sum(len(kept) for kept in pruner.kept_neurons_)  # 3/4 of the 48 hidden neurons
    36
    >>> pruner.transform(X[:3] / 16).shape == (3, len(pruner.kept_neurons_[-1]))
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "amount": [
            Interval(RealNotInt, 0, 1, closed="left"),
            Interval(Integral, 0, None, closed="left"),
        ],
        "criterion": [StrOptions({*CRITERIA, "taylor"}), callable],
        "scope": [StrOptions({"global", "layer"})],
        "prefit": ["boolean"],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "min_neurons_per_layer": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        *,
        amount=0.3,
        criterion="mean_squared_weight",
        scope="global",
        prefit=False,
        fine_tune_epochs=0,
        n_steps=1,
        min_neurons_per_layer=1,
    ):
        self.estimator = estimator
        self.amount = amount
        self.criterion = criterion
        self.scope = scope
        self.prefit = prefit
        self.fine_tune_epochs = fine_tune_epochs
        self.n_steps = n_steps
        self.min_neurons_per_layer = min_neurons_per_layer

    @_fit_context(prefer_skip_nested_validation=False)  # the estimator is validated by its fit
    def fit(self, X, y=None, sample_weight=None):
        """Fit the estimator (unless ``prefit``), prune it, and fine-tune it if asked.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data; ignored when ``prefit=True``, ``fine_tune_epochs=0`` and the
            criterion is not "taylor".
        y : array-like of shape (n_samples,)
            The targets: class labels, or values for a regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed on to the estimator's ``fit`` and to fine-tuning.

        Returns
        -------
        self : object
            The fitted pruner.
        """
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        _check_schedule(self.amount, self.n_steps)
        taylor = isinstance(self.criterion, str) and self.criterion == "taylor"
        if taylor and (X is None or y is None):
            raise ValueError(
                "criterion='taylor' scores the neurons on the data given to fit: call "
                "fit(X, y) (with prefit=True too)."
            )
        data = (X, y, sample_weight)
        if self.prefit:
            _check_fitted_estimator(self.estimator)
            estimator = copy.deepcopy(self.estimator)
        else:
            estimator = clone(self.estimator).fit(X, y, **weights)
        scores = _neuron_scores(estimator, self.criterion, data)
        minimum = self.min_neurons_per_layer
        _kept_neurons(scores, self.amount, self.scope, minimum)  # refuses too large an amount
        kept = [np.arange(len(layer_scores)) for layer_scores in scores]
        schedule = _removal_schedule([len(k) for k in kept], self.amount, self.scope, self.n_steps)
        for step, step_amount in enumerate(schedule):
            # Every step ranks the neurons of the network as the previous step left it.
            step_scores = scores if step == 0 else _neuron_scores(estimator, self.criterion, data)
            step_kept = _kept_neurons(step_scores, step_amount, self.scope, minimum)
            estimator.select_hidden_neurons(step_kept)
            kept = [before[now] for before, now in zip(kept, step_kept, strict=True)]
            for _ in range(self.fine_tune_epochs):
                estimator.partial_fit(X, y, **weights)
        self.estimator_ = estimator
        self.scores_ = scores
        self.kept_neurons_ = kept
        return self

    def predict(self, X):
        """Predict with the pruned estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted classes, or values for a regressor.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def score(self, X, y, sample_weight=None):
        """The pruned estimator's score: accuracy for a classifier, R^2 for a regressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or values for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            ``estimator_.score(X, y, sample_weight)``.
        """
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the pruned estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the pruned estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    def transform(self, X):
        """Activations of the last hidden layer of the pruned network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        features : ndarray of shape (n_samples, n_kept)
            One column per neuron kept in the last hidden layer (``kept_neurons_[-1]``), in
            float64; the input itself for a network without hidden layers.
        """
        check_is_fitted(self)
        return self.estimator_.hidden_activations(X)

    @property
    def classes_(self) -> np.ndarray:
        """The class labels of the pruned estimator (a classifier's)."""
        check_is_fitted(self)
        return self.estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        """Number of features seen during fit."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from exc
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Names of the features seen during fit, when X has string column names."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no feature_names_in_ attribute."
            ) from exc
        return self.estimator_.feature_names_in_

    @property
    def module_(self) -> torch.nn.Module:
        """The pruned network's fitted torch module, which
        :func:`~sklearn_posnet.plotting.plot_network` and :mod:`sklearn_posnet.spatial` read."""
        check_is_fitted(self)
        return self.estimator_.module_

    @property
    def _n_features_out(self) -> int:
        """Number of columns ``transform`` returns (used by ``get_feature_names_out``)."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError("_n_features_out") from exc
        return self.estimator_.module_.layer_sizes[-2]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = get_tags(self.estimator)
        # A classifier's pruner is a classifier, a regressor's a regressor (cross-validation
        # splits and default scoring follow the type).
        tags.estimator_type = estimator_tags.estimator_type
        tags.classifier_tags = estimator_tags.classifier_tags
        tags.regressor_tags = estimator_tags.regressor_tags
        tags.target_tags = estimator_tags.target_tags
        tags.input_tags.sparse = estimator_tags.input_tags.sparse
        tags.input_tags.allow_nan = estimator_tags.input_tags.allow_nan
        tags.non_deterministic = estimator_tags.non_deterministic
        return tags
