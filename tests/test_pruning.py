"""NeuronPruner, prune and pruning_curve: structured pruning that really shrinks the network."""

import itertools
import pickle
import time

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.pruning import NeuronPruner, plot_pruning_curve, prune, pruning_curve

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN = (12, 8)


def positional(**params):
    return PositionalMLPClassifier(HIDDEN, max_iter=30, random_state=0, **params)


def vanilla(**params):
    return PositionalMLPClassifier(
        HIDDEN, falloff="none", distance_alpha=0.0, max_iter=30, random_state=0, **params
    )


def particle(**params):
    return ParticleNetworkClassifier(HIDDEN, max_iter=30, random_state=0, **params)


MAKERS = {"positional": positional, "vanilla": vanilla, "particle": particle}


@pytest.fixture(scope="module")
def fitted(digits):
    """One fitted estimator per kind; tests must not modify them (prune copies)."""
    X, y = digits
    return {name: make().fit(X, y) for name, make in MAKERS.items()}


def expected_n_parameters(name, n_in, hidden, n_out):
    sizes = [n_in, *hidden, n_out]
    if name == "particle":  # positions and dipoles of every layer (dim 2), biases of non-inputs
        return 2 * 2 * sum(sizes) + sum(sizes[1:])
    weights = sum(n_in * n_out for n_in, n_out in itertools.pairwise(sizes))
    biases = sum(sizes[1:])
    hidden_positions = 2 * sum(hidden)  # input and output positions are frozen
    return weights + biases + hidden_positions


# ----------------------------------------------------------------------- independent numpy
def numpy_weights(estimator, criterion):
    """Raw or effective weight matrices recomputed in numpy from the module's tensors."""
    module = estimator.module_
    positions = [p.detach().double().numpy() for p in module.positions]
    d2 = [
        ((positions[k + 1][:, None, :] - positions[k][None, :, :]) ** 2).sum(-1)
        for k in range(len(positions) - 1)
    ]
    if isinstance(estimator, ParticleNetworkClassifier):
        dipoles = [v.detach().double().numpy() for v in module.dipoles]
        raw = [dipoles[k + 1] @ dipoles[k].T for k in range(len(dipoles) - 1)]
        falloff = [np.exp(-d) for d in d2]
    else:
        raw = [w.detach().double().numpy() for w in module.weights]
        falloff = [1.0 / (1.0 + d / module.length_scale**2) for d in d2]
        if estimator.falloff == "none":
            falloff = [np.ones_like(d) for d in d2]
    if criterion == "effective":
        return [f * w for f, w in zip(falloff, raw, strict=True)]
    return raw


def numpy_scores(estimator, criterion):
    weights = numpy_weights(estimator, criterion)
    scores = []
    for k in range(1, len(weights)):
        incoming, outgoing = weights[k - 1], weights[k]
        total = (incoming**2).sum(axis=1) + (outgoing**2).sum(axis=0)
        scores.append(total / (incoming.shape[1] + outgoing.shape[0]))
    return scores


def numpy_global_kept(scores, n_removed):
    """Keep each layer's best neuron, then drop the n_removed lowest of all the others."""
    candidates = [
        (score, layer, index)
        for layer, layer_scores in enumerate(scores)
        for index, score in enumerate(layer_scores)
        if index != int(np.argmax(layer_scores))
    ]
    removed = {(layer, index) for _, layer, index in sorted(candidates)[:n_removed]}
    return [
        np.array([i for i in range(len(s)) if (layer, i) not in removed])
        for layer, s in enumerate(scores)
    ]


# ----------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("criterion", ["mean_squared_weight", "effective"])
def test_ranking_matches_numpy(fitted, name, criterion):
    estimator = fitted[name]
    pruner = NeuronPruner(estimator, amount=7, criterion=criterion, prefit=True).fit(None)
    expected_scores = numpy_scores(estimator, criterion)
    for got, expected in zip(pruner.scores_, expected_scores, strict=True):
        assert_allclose(got, expected, rtol=1e-5)
    for got, expected in zip(
        pruner.kept_neurons_, numpy_global_kept(expected_scores, 7), strict=True
    ):
        assert_array_equal(got, expected)


@pytest.mark.parametrize("name", MAKERS)
def test_shapes_and_n_parameters_shrink_exactly(fitted, digits, name):
    estimator = fitted[name]
    pruner = NeuronPruner(estimator, amount=0.5, prefit=True).fit(None)
    kept = [len(k) for k in pruner.kept_neurons_]
    assert sum(kept) == sum(HIDDEN) - round(0.5 * sum(HIDDEN))
    pruned = pruner.estimator_
    assert isinstance(pruned, type(estimator))
    assert pruned.hidden_layer_sizes == tuple(kept)
    module = pruned.module_
    assert module.layer_sizes == (64, *kept, 10)
    for layer, position in enumerate(module.positions):
        assert position.shape == (module.layer_sizes[layer], 2)
    if name == "particle":
        for layer, dipole in enumerate(module.dipoles):
            assert dipole.shape == (module.layer_sizes[layer], 2)
    else:
        for layer, weight in enumerate(module.weights):
            assert weight.shape == (module.layer_sizes[layer + 1], module.layer_sizes[layer])
    for layer, bias in enumerate(module.biases):
        assert bias.shape == (module.layer_sizes[layer + 1],)
    assert estimator.n_parameters_ == expected_n_parameters(name, 64, HIDDEN, 10)
    assert pruned.n_parameters_ == expected_n_parameters(name, 64, kept, 10)
    # The prefit estimator itself is untouched.
    assert estimator.module_.layer_sizes == (64, *HIDDEN, 10)
    X, _ = digits
    assert pruned.predict_proba(X).shape == (len(X), 10)


@pytest.mark.parametrize("name", MAKERS)
def test_pruning_nothing_leaves_predictions_identical(fitted, digits, name):
    X, _ = digits
    estimator = fitted[name]
    pruned = prune(estimator, 0.0)
    assert pruned.module_.layer_sizes == estimator.module_.layer_sizes
    assert_array_equal(pruned.predict_proba(X), estimator.predict_proba(X))
    assert_array_equal(pruned.predict(X), estimator.predict(X))


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("criterion", ["mean_squared_weight", "effective"])
def test_removing_a_disconnected_neuron_leaves_predictions_identical(
    fitted, digits, name, criterion
):
    X, _ = digits
    estimator = prune(fitted[name], 0)  # a copy to modify
    layer, neuron = 1, 3  # second hidden layer (neuron layer 2)
    with torch.no_grad():
        module = estimator.module_
        if name == "particle":
            module.dipoles[layer + 1][neuron] = 0.0  # all its implied weights are zero
        else:
            module.weights[layer][neuron, :] = 0.0
            module.weights[layer + 1][:, neuron] = 0.0
    pruner = NeuronPruner(estimator, amount=1, criterion=criterion, prefit=True).fit(None)
    assert pruner.scores_[layer][neuron] == 0.0
    assert neuron not in pruner.kept_neurons_[layer]
    assert sum(map(len, pruner.kept_neurons_)) == sum(HIDDEN) - 1
    assert_allclose(pruner.predict_proba(X), estimator.predict_proba(X), rtol=1e-12, atol=0)
    assert_array_equal(pruner.predict(X), estimator.predict(X))


def test_global_and_layer_scope(fitted):
    estimator = fitted["positional"]
    layer_pruner = NeuronPruner(estimator, amount=0.5, scope="layer", prefit=True).fit(None)
    assert [len(k) for k in layer_pruner.kept_neurons_] == [6, 4]
    for scores, kept in zip(layer_pruner.scores_, layer_pruner.kept_neurons_, strict=True):
        removed = np.setdiff1d(np.arange(len(scores)), kept)
        assert scores[removed].max() <= scores[kept].min()

    global_pruner = NeuronPruner(estimator, amount=0.5, scope="global", prefit=True).fit(None)
    assert sum(map(len, global_pruner.kept_neurons_)) == 10
    all_scores = np.concatenate(global_pruner.scores_)
    kept_mask = np.concatenate(
        [
            np.isin(np.arange(len(s)), k)
            for s, k in zip(global_pruner.scores_, global_pruner.kept_neurons_, strict=True)
        ]
    )
    assert all_scores[~kept_mask].max() <= all_scores[kept_mask].min()


def test_int_amount(fitted):
    estimator = fitted["positional"]
    assert sum(prune(estimator, 5).hidden_layer_sizes) == sum(HIDDEN) - 5
    assert prune(estimator, 3, scope="layer").hidden_layer_sizes == (9, 5)
    # An int is a count even when it is 1: one neuron, not the whole network.
    assert sum(prune(estimator, 1).hidden_layer_sizes) == sum(HIDDEN) - 1
    assert sum(prune(estimator, sum(HIDDEN) - 2).hidden_layer_sizes) == 2
    with pytest.raises(ValueError, match="at least one neuron per hidden layer"):
        prune(estimator, sum(HIDDEN) - 1)
    with pytest.raises(ValueError, match="at least one neuron per hidden layer must stay"):
        prune(estimator, 8, scope="layer")


def test_every_hidden_layer_keeps_its_best_neuron(fitted):
    """A callable criterion that makes one layer worthless still leaves that layer a neuron."""
    estimator = fitted["positional"]

    def second_layer_worthless(fitted_estimator):
        worthless = np.zeros(HIDDEN[1])
        worthless[5] = 1e-9  # the best of a bad lot
        return [np.full(HIDDEN[0], 10.0), worthless]

    pruner = NeuronPruner(estimator, amount=10, criterion=second_layer_worthless, prefit=True).fit(
        None
    )
    assert_array_equal(pruner.kept_neurons_[1], [5])
    assert len(pruner.kept_neurons_[0]) == HIDDEN[0] - 3


def test_invalid_uses(fitted, digits):
    X, y = digits
    with pytest.raises(NotFittedError):
        NeuronPruner(positional(), prefit=True).fit(X, y)
    with pytest.raises(TypeError, match="cannot be pruned"):
        NeuronPruner(MLPClassifier((4,), max_iter=5)).fit(X, y)
    with pytest.raises(ValueError, match="one score per hidden neuron"):
        NeuronPruner(fitted["positional"], criterion=lambda e: [np.ones(3)], prefit=True).fit(None)
    with pytest.raises(ValueError, match="amount"):
        NeuronPruner(fitted["positional"], amount=1.5, prefit=True).fit(None)
    with pytest.raises(NotFittedError):
        NeuronPruner(positional()).predict(X)


@pytest.mark.parametrize("name", MAKERS)
def test_fine_tuning_trains_the_pruned_parameters_with_a_fresh_optimizer(digits, name):
    """The bug to avoid: an optimizer still holding the removed tensors trains nothing."""
    X, y = digits
    not_tuned = NeuronPruner(MAKERS[name](), amount=0.5).fit(X, y).estimator_
    tuned = NeuronPruner(MAKERS[name](), amount=0.5, fine_tune_epochs=2).fit(X, y).estimator_
    assert tuned.module_.layer_sizes == not_tuned.module_.layer_sizes
    assert len(tuned.loss_curve_) == len(not_tuned.loss_curve_) + 2

    module_params = [p for p in tuned.module_.parameters() if p.requires_grad]
    optimizer_params = [p for group in tuned.net_.optimizer_.param_groups for p in group["params"]]
    assert {id(p) for p in optimizer_params} == {id(p) for p in module_params}
    for param in optimizer_params:
        for value in tuned.net_.optimizer_.state[param].values():
            if isinstance(value, torch.Tensor) and value.ndim:
                assert value.shape == param.shape
    # Every trainable tensor of the pruned network moved during fine-tuning (but the positions
    # of a vanilla network, which no output depends on).
    for (param_name, before), after in zip(
        not_tuned.module_.named_parameters(), tuned.module_.parameters(), strict=True
    ):
        unused = name == "vanilla" and param_name.startswith("positions")
        if before.requires_grad and not unused:
            assert not torch.equal(before, after), param_name

    # The standalone pruned estimator also trains on (partial_fit) without the pruner.
    standalone = prune(not_tuned, 0)
    before = [p.detach().clone() for p in standalone.module_.parameters()]
    standalone.partial_fit(X, y)
    assert any(
        not torch.equal(b, a) for b, a in zip(before, standalone.module_.parameters(), strict=True)
    )


def test_pruned_model_predicts_faster(digits):
    X, y = digits
    estimator = PositionalMLPClassifier((256, 256), max_iter=1, random_state=0).fit(X, y)
    pruned = prune(estimator, 0.75)
    assert sum(pruned.hidden_layer_sizes) == 128
    X_large = np.random.default_rng(0).random((10_000, 64))

    def best_time(model, repeats=5):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.predict(X_large)
            times.append(time.perf_counter() - start)
        return min(times)

    # Compare like with like: the thread policy would give the larger network more threads.
    for model in (estimator, pruned):
        model.set_params(n_threads=1)
    best_time(pruned, 1)  # warm up
    assert best_time(pruned) < 0.6 * best_time(estimator)


@pytest.mark.parametrize("name", MAKERS)
def test_pickled_pruned_estimator_predicts_the_same(fitted, digits, name):
    X, _ = digits
    pruner = NeuronPruner(fitted[name], amount=0.4, prefit=True).fit(None)
    restored = pickle.loads(pickle.dumps(pruner))
    assert_array_equal(restored.predict_proba(X), pruner.predict_proba(X))
    pruned = pickle.loads(pickle.dumps(pruner.estimator_))
    assert pruned.module_.layer_sizes == pruner.estimator_.module_.layer_sizes
    assert_array_equal(pruned.predict_proba(X), pruner.predict_proba(X))


@pytest.mark.parametrize("name", MAKERS)
def test_transform_gives_the_last_hidden_activations(fitted, digits, name):
    X, _ = digits
    pruner = NeuronPruner(fitted[name], amount=0.5, prefit=True).fit(None)
    features = pruner.transform(X)
    n_kept = len(pruner.kept_neurons_[-1])
    assert features.shape == (len(X), n_kept)
    # The same activations as the unpruned network's kept neurons when the earlier layer is
    # left whole: prune only the last hidden layer.
    only_last = NeuronPruner(
        fitted[name],
        amount=3,
        criterion=lambda e: [np.full(HIDDEN[0], 100.0), np.arange(HIDDEN[1], dtype=float)],
        prefit=True,
    ).fit(None)
    full = NeuronPruner(fitted[name], amount=0, prefit=True).fit(None).transform(X)
    assert_allclose(only_last.transform(X), full[:, 3:], rtol=1e-12)
    names = pruner.get_feature_names_out()
    assert_array_equal(names, [f"neuronpruner{i}" for i in range(n_kept)])


def test_pruning_curve_and_plot(fitted, digits):
    X, y = digits
    estimator = fitted["positional"]
    curve = pruning_curve(estimator, X, y, [0.0, 0.25, 0.5, 10])
    assert_array_equal(curve.n_neurons_removed, [0, 5, 10, 10])
    assert curve.scores[0] == estimator.score(X, y)
    assert curve.scores[2] == prune(estimator, 0.5).score(X, y)
    assert curve.n_parameters[0] == estimator.n_parameters_
    assert np.all(np.diff(curve.n_parameters) <= 0)
    # Fine-tuning each pruned copy needs training data.
    with pytest.raises(ValueError, match="fine_tune_data"):
        pruning_curve(estimator, X, y, [0.5], fine_tune_epochs=1)
    tuned = pruning_curve(estimator, X, y, [0.5], fine_tune_epochs=2, fine_tune_data=(X, y))
    assert tuned.scores.shape == (1,)

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = np.column_stack([curve.scores, curve.scores * 0.9])
    ax = plot_pruning_curve([0.0, 0.25, 0.5, 0.6], runs, label="positional")
    line = ax.get_lines()[0]
    assert_allclose(line.get_ydata(), runs.mean(axis=1))
    assert ax.get_legend() is not None
    plt.close(ax.figure)


def test_in_grid_search_and_pipeline(digits):
    X, y = digits
    X = X * 16  # a scaler in the pipeline brings it back
    pipeline = make_pipeline(
        MinMaxScaler(), NeuronPruner(PositionalMLPClassifier((8,), max_iter=15, random_state=0))
    )
    search = GridSearchCV(
        pipeline,
        {
            "neuronpruner__amount": [0.0, 0.5],
            "neuronpruner__estimator__alpha": [1e-4, 1e-2],
        },
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[-1]
    assert best.estimator_.alpha == search.best_params_["neuronpruner__estimator__alpha"]
    assert search.predict(X).shape == (len(X),)

    # As a feature step: the pruned network's last hidden layer feeds another classifier.
    features = make_pipeline(
        MinMaxScaler(),
        NeuronPruner(PositionalMLPClassifier((8,), max_iter=15, random_state=0), amount=2),
        LogisticRegression(max_iter=200),
    ).fit(X, y)
    assert features[1].transform(MinMaxScaler().fit(X).transform(X)).shape == (len(X), 6)
    assert features.score(X, y) > 0.5
