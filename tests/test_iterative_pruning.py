"""Iterative pruning: NeuronPruner's n_steps and min_neurons_per_layer, and prune's."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner, prune

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN = (12, 8)


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return {
        "positional": PositionalMLPClassifier(HIDDEN, max_iter=10, random_state=0).fit(X, y),
        "particle": ParticleNetworkClassifier(HIDDEN, max_iter=10, random_state=0).fit(X, y),
    }


class RecordingCriterion:
    """The paper's criterion on the raw weights, remembering the hidden sizes it was asked for."""

    def __init__(self):
        self.sizes = []

    def __call__(self, estimator):
        module = estimator.module_
        self.sizes.append(tuple(module.layer_sizes[1:-1]))
        return [s.numpy() for s in module.neuron_scores("mean_squared_weight")]


@pytest.mark.parametrize("name", ["positional", "particle"])
def test_steps_rescore_the_shrinking_network_and_keep_original_indices(fitted, name):
    estimator = fitted[name]
    criterion = RecordingCriterion()
    pruner = NeuronPruner(estimator, amount=0.5, criterion=criterion, prefit=True, n_steps=3).fit(
        None
    )
    # 10 of 20 neurons in steps of 3, 4 and 3 (cumulative 3, 7, 10: round(10 * s / 3)).
    assert [sum(sizes) for sizes in criterion.sizes] == [20, 17, 13]
    assert sum(pruner.estimator_.hidden_layer_sizes) == 10
    assert [len(kept) for kept in pruner.kept_neurons_] == list(
        pruner.estimator_.hidden_layer_sizes
    )
    # Without fine-tuning the pruned tensors are slices of the original ones at kept_neurons_.
    original, pruned = estimator.module_, pruner.estimator_.module_
    for hidden, kept in enumerate(pruner.kept_neurons_, start=1):
        assert np.all(np.diff(kept) > 0)
        assert_array_equal(
            pruned.positions[hidden].detach(), original.positions[hidden][kept].detach()
        )
        assert_array_equal(
            pruned.biases[hidden - 1].detach(), original.biases[hidden - 1][kept].detach()
        )
    # scores_ are those of the unpruned network.
    assert [len(s) for s in pruner.scores_] == list(HIDDEN)


def test_one_step_is_the_one_shot_pruning(fitted):
    estimator = fitted["positional"]
    one_shot = NeuronPruner(estimator, amount=0.4, prefit=True).fit(None)
    one_step = NeuronPruner(estimator, amount=0.4, prefit=True, n_steps=1).fit(None)
    for a, b in zip(one_shot.kept_neurons_, one_step.kept_neurons_, strict=True):
        assert_array_equal(a, b)
    iterative = prune(estimator, 0.4, n_steps=4)
    assert sum(iterative.hidden_layer_sizes) == sum(one_shot.estimator_.hidden_layer_sizes) == 12


def test_fine_tuning_runs_after_every_step(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    pruner = NeuronPruner(estimator, amount=6, prefit=True, n_steps=3, fine_tune_epochs=2).fit(X, y)
    assert len(pruner.estimator_.loss_curve_) == len(estimator.loss_curve_) + 3 * 2
    assert sum(pruner.estimator_.hidden_layer_sizes) == 14
    # Fine-tuning moved the kept neurons' parameters away from the original ones.
    original, tuned = estimator.module_, pruner.estimator_.module_
    kept = pruner.kept_neurons_[0]
    assert not torch.equal(tuned.weights[0].detach(), original.weights[0][kept].detach())


def test_layer_scope_spreads_each_layers_amount_over_the_steps(fitted):
    criterion = RecordingCriterion()
    pruner = NeuronPruner(
        fitted["positional"], amount=0.5, scope="layer", criterion=criterion, prefit=True,
        n_steps=2,
    ).fit(None)  # fmt: skip
    # 6 of 12 and 4 of 8, half in each step.
    assert criterion.sizes == [(12, 8), (9, 6)]
    assert pruner.estimator_.hidden_layer_sizes == (6, 4)


def test_min_neurons_per_layer(fitted):
    estimator = fitted["positional"]
    assert prune(estimator, 14, min_neurons_per_layer=3, n_steps=2).hidden_layer_sizes == (3, 3)
    scores = NeuronPruner(estimator, prefit=True).fit(None).scores_
    kept = NeuronPruner(estimator, amount=14, min_neurons_per_layer=3, prefit=True)
    kept = kept.fit(None).kept_neurons_
    for layer_scores, layer_kept in zip(scores, kept, strict=True):
        best_three = np.argsort(layer_scores, kind="stable")[-3:]
        assert set(best_three) <= set(layer_kept)  # the best ones are protected
    with pytest.raises(ValueError, match="at least 3"):
        prune(estimator, 15, min_neurons_per_layer=3, n_steps=3)
    with pytest.raises(ValueError, match="at least 5 neuron"):
        prune(estimator, 0.5, scope="layer", min_neurons_per_layer=5)
    # A layer smaller than the minimum keeps all of its neurons.
    assert prune(estimator, 3, min_neurons_per_layer=9).hidden_layer_sizes == (9, 8)
    with pytest.raises(ValueError, match="at most 3 can go"):
        prune(estimator, 4, min_neurons_per_layer=9)


@pytest.mark.parametrize("params", [{"n_steps": 0}, {"n_steps": 1.5}, {"min_neurons_per_layer": 0}])
def test_bad_schedules_are_refused(fitted, params):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError):
        NeuronPruner(fitted["positional"], prefit=True, **params).fit(None)


def test_steps_give_the_same_network_as_the_modules_own_selection(fitted):
    # Two steps of selection compose: selecting kept_neurons_ at once gives the same module.
    estimator = fitted["particle"]
    pruner = NeuronPruner(estimator, amount=7, prefit=True, n_steps=2).fit(None)
    module = type(estimator.module_)(estimator.module_.layer_sizes)
    module.load_state_dict(estimator.module_.state_dict())
    module.select_hidden_neurons([torch.as_tensor(k) for k in pruner.kept_neurons_])
    for a, b in zip(module.state_dict().values(), pruner.estimator_.module_.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("amount", "schedule", "scored_sizes"),
    [
        # Fractions of the 20 unpruned neurons: cumulative 6, 9, 10 removed.
        (0.5, [0.3, 0.45, 0.5], [20, 14, 11]),
        (0.5, np.array([0.3, 0.45, 0.5]), [20, 14, 11]),
        # Neuron counts: 4, then 3 more.
        (7, [4, 7], [20, 16]),
        (7, (7,), [20]),
    ],
)
def test_a_schedule_gives_the_cumulative_amount_after_each_step(
    fitted, amount, schedule, scored_sizes
):
    criterion = RecordingCriterion()
    pruner = NeuronPruner(
        fitted["positional"], amount=amount, criterion=criterion, prefit=True, n_steps=schedule
    ).fit(None)
    assert [sum(sizes) for sizes in criterion.sizes] == scored_sizes
    total = amount if isinstance(amount, int) else round(amount * 20)
    assert sum(pruner.estimator_.hidden_layer_sizes) == 20 - total
    assert pruner.n_steps is schedule  # the parameter stays as given


def test_a_schedule_of_the_even_steps_is_the_int_schedule(fitted):
    # n_steps=3 removes cumulative 3, 7 and 10 of the 20 neurons.
    estimator = fitted["particle"]
    even = NeuronPruner(estimator, amount=10, prefit=True, n_steps=3).fit(None)
    listed = NeuronPruner(estimator, amount=10, prefit=True, n_steps=[3, 7, 10]).fit(None)
    uneven = NeuronPruner(estimator, amount=10, prefit=True, n_steps=[8, 10]).fit(None)
    for a, b in zip(even.kept_neurons_, listed.kept_neurons_, strict=True):
        assert_array_equal(a, b)
    assert sum(map(len, uneven.kept_neurons_)) == sum(map(len, even.kept_neurons_)) == 10
    # prune takes the same schedule.
    assert prune(estimator, 0.5, n_steps=[0.1, 0.5]).hidden_layer_sizes == tuple(
        NeuronPruner(estimator, amount=0.5, prefit=True, n_steps=[0.1, 0.5])
        .fit(None)
        .estimator_.hidden_layer_sizes
    )


def test_a_schedule_with_layer_scope_and_fine_tuning(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    criterion = RecordingCriterion()
    pruner = NeuronPruner(
        estimator, amount=0.5, scope="layer", criterion=criterion, prefit=True,
        n_steps=[0.25, 0.5], fine_tune_epochs=1,
    ).fit(X, y)  # fmt: skip
    # Layer 1: 3 then 6 of 12 removed; layer 2: 2 then 4 of 8.
    assert criterion.sizes == [(12, 8), (9, 6)]
    assert pruner.estimator_.hidden_layer_sizes == (6, 4)
    assert len(pruner.estimator_.loss_curve_) == len(estimator.loss_curve_) + 2


@pytest.mark.parametrize(
    ("amount", "schedule", "message"),
    [
        (0.5, [0.45, 0.3, 0.5], "increase strictly"),
        (0.5, [0.3, 0.3, 0.5], "increase strictly"),
        (0.5, [0.2, 0.4], "end at amount=0.5"),
        (0.5, [0.2, 0.6], "end at amount=0.5"),
        (0.5, [2, 5], r"fractions \(floats in \(0, 1\)\)"),
        (5, [0.1, 5], r"neuron counts \(ints\)"),
        (5, [True, 5], r"neuron counts \(ints\)"),
        (0.5, [0.0, 0.5], "positive"),
        (0.5, [-0.1, 0.5], "positive"),
        (0.5, [float("nan"), 0.5], "positive"),
        (0.5, [], "non-empty 1-D"),
        (0.5, [[0.2], [0.5]], "non-empty 1-D"),
        (0, [0], "positive"),
    ],
)
def test_bad_schedule_lists_are_refused(fitted, amount, schedule, message):
    estimator = fitted["positional"]
    with pytest.raises(ValueError, match=message):
        NeuronPruner(estimator, amount=amount, prefit=True, n_steps=schedule).fit(None)
    with pytest.raises(ValueError, match=message):
        prune(estimator, amount, n_steps=schedule)


def test_a_schedule_that_is_not_array_like_is_refused(fitted):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="n_steps"):
        NeuronPruner(fitted["positional"], prefit=True, n_steps="0.3").fit(None)
