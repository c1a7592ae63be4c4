"""Neuron growth: grow_hidden on the modules and grow_hidden_neurons on the estimators."""

import copy
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from sklearn_posnet import ParticleNetworkClassifier, PositionalMLPClassifier
from sklearn_posnet.nn import ParticleNetwork, PositionalMLP

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN = (10, 6)


def positional(**params):
    return PositionalMLPClassifier(HIDDEN, **{"max_iter": 10, "random_state": 0, **params})


def particle(**params):
    return ParticleNetworkClassifier(HIDDEN, **{"max_iter": 10, "random_state": 0, **params})


MAKERS = {"positional": positional, "particle": particle}


@pytest.fixture(scope="module")
def fitted(digits):
    """One fitted estimator per kind; tests grow deep copies of them."""
    X, y = digits
    return {name: make().fit(X, y) for name, make in MAKERS.items()}


def _modules():
    generator = torch.Generator().manual_seed(0)
    return [
        PositionalMLP([6, 5, 4, 3], generator=generator).double(),
        ParticleNetwork([6, 5, 4, 3], generator=generator).double(),
    ]


# --------------------------------------------------------------------------------- modules
@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_grow_hidden_keeps_the_function_and_appends_neurons(module):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(30, 6, generator=generator, dtype=torch.float64)
    before = module(x)
    old = {name: p.detach().clone() for name, p in module.named_parameters()}
    n_before = module.n_parameters
    module.grow_hidden(0, 3, generator=generator)
    module.grow_hidden(1, 2, positions=[[9.0, 9.0], [-9.0, 9.0]], generator=generator)
    assert module.layer_sizes == (6, 8, 6, 3)
    assert_allclose(module(x).detach(), before.detach(), rtol=0, atol=1e-12)
    for position, size in zip(module.positions, module.layer_sizes, strict=True):
        assert position.shape == (size, 2) and position.dtype == torch.float64
    assert_array_equal(module.positions[2][-2:].detach(), [[9.0, 9.0], [-9.0, 9.0]])
    # The old neurons keep their parameters, the new ones come last.
    for name, value in module.named_parameters():
        kept = tuple(slice(0, n) for n in old[name].shape)
        assert_array_equal(value.detach()[kept], old[name])
    if isinstance(module, PositionalMLP):  # incoming and outgoing weights, bias, position
        expected = 3 * (6 + 4 + 1 + 2) + 2 * (8 + 3 + 1 + 2)
    else:  # position, dipole, bias
        expected = 5 * (2 + 2 + 1)
    assert module.n_parameters == n_before + expected


def test_new_positional_neurons_start_with_zero_outgoing_and_drawn_incoming_weights():
    module = _modules()[0]
    module.grow_hidden(0, 4, generator=torch.Generator().manual_seed(0))
    assert torch.all(module.weights[1][:, -4:] == 0)
    assert torch.all(module.biases[0][-4:] == 0)
    incoming = module.weights[0][-4:]
    assert torch.all(incoming != 0)
    # Glorot-uniform over fan-in 6 and fan-out 9, divided by the new rows' mean falloff.
    distances = torch.cdist(module.positions[1][-4:], module.positions[0]) ** 2
    mean_falloff = (1 / (1 + distances)).mean()
    assert incoming.abs().max() <= np.sqrt(6 / 15) / mean_falloff + 1e-12


def test_new_particles_have_zero_dipoles_positive_biases_and_a_dipole_gradient():
    module = _modules()[1]
    module.grow_hidden(0, 3, generator=torch.Generator().manual_seed(0))
    assert torch.all(module.dipoles[1][-3:] == 0)
    assert torch.all(module.biases[0][-3:] > 0)
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(40, 6, generator=generator, dtype=torch.float64)
    target = torch.randint(3, (40,), generator=generator)
    torch.nn.functional.cross_entropy(module(x), target).backward()
    # The position gradient is zero at insertion (every weight to the particle is zero), the
    # dipole gradient is not: it is what lets the particle join the network.
    assert torch.all(module.positions[1].grad[-3:] == 0)
    assert torch.all(module.dipoles[1].grad[-3:].norm(dim=1) > 0)


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_default_positions_are_near_the_layer_and_follow_the_generator(module):
    twin = copy.deepcopy(module)
    module.grow_hidden(0, 50, generator=torch.Generator().manual_seed(3))
    twin.grow_hidden(0, 50, generator=torch.Generator().manual_seed(3))
    assert_array_equal(module.positions[1].detach(), twin.positions[1].detach())
    old, new = module.positions[1][:5].detach(), module.positions[1][5:].detach()
    nearest = torch.cdist(old, old).fill_diagonal_(float("inf")).min(dim=1).values.median()
    distance_to_old = torch.cdist(new, old).min(dim=1).values
    # Normal offsets of standard deviation `nearest` in 2-d: the distance to the parent is
    # Rayleigh distributed, beyond 5 scales with probability exp(-12.5) per neuron.
    assert torch.all(distance_to_old < 5 * nearest)
    unseeded = copy.deepcopy(twin)
    unseeded.grow_hidden(0, 2)
    twin.grow_hidden(0, 2)
    assert not torch.equal(unseeded.positions[1][-2:], twin.positions[1][-2:])


@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_grow_hidden_refuses_bad_arguments(module):
    with pytest.raises(ValueError, match="hidden_layer"):
        module.grow_hidden(2, 1)
    with pytest.raises(ValueError, match="hidden_layer"):
        module.grow_hidden(-1, 1)
    with pytest.raises(TypeError, match="hidden_layer"):
        module.grow_hidden(True, 1)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="n_new"):
            module.grow_hidden(0, bad)
    with pytest.raises(ValueError, match="shape"):
        module.grow_hidden(0, 2, positions=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        module.grow_hidden(0, 1, positions=[[np.nan, 0.0]])
    assert module.layer_sizes == (6, 5, 4, 3)


# ------------------------------------------------------------------------------ estimators
@pytest.mark.parametrize("name", MAKERS)
def test_growth_keeps_predictions_then_training_uses_the_new_neurons(fitted, digits, name):
    X, y = digits
    estimator = copy.deepcopy(fitted[name])
    proba = estimator.predict_proba(X)
    assert estimator.grow_hidden_neurons(0, 4) is estimator
    estimator.grow_hidden_neurons(1, 3, random_state=0)
    assert estimator.hidden_layer_sizes == (14, 9)
    assert estimator.module_.layer_sizes == (64, 14, 9, 10)
    assert_allclose(estimator.predict_proba(X), proba, rtol=0, atol=1e-12)

    module = estimator.module_
    if name == "positional":
        born = {
            "incoming": module.weights[0][-4:],
            "outgoing": module.weights[1][:, -4:].T,
            "outgoing2": module.weights[2][:, -3:].T,
        }
    else:
        born = {"dipoles": module.dipoles[1][-4:], "dipoles2": module.dipoles[2][-3:]}
    born["positions"] = module.positions[1][-4:]
    born = {key: value.detach().clone() for key, value in born.items()}
    for _ in range(2):  # the first step moves the outgoing weights, then the positions follow
        estimator.partial_fit(X, y)
    module = estimator.module_
    if name == "positional":
        now = {
            "incoming": module.weights[0][-4:],
            "outgoing": module.weights[1][:, -4:].T,
            "outgoing2": module.weights[2][:, -3:].T,
        }
    else:
        now = {"dipoles": module.dipoles[1][-4:], "dipoles2": module.dipoles[2][-3:]}
    now["positions"] = module.positions[1][-4:]
    for key, value in born.items():
        moved = (now[key].detach() - value).abs().amax(dim=-1)
        assert torch.all(moved > 0), key  # every new neuron's parameters changed


@pytest.mark.parametrize("name", MAKERS)
def test_grown_estimator_pickles_and_trains_after_the_round_trip(fitted, digits, name):
    X, y = digits
    estimator = copy.deepcopy(fitted[name])
    estimator.grow_hidden_neurons(1, 2, random_state=1)
    estimator.partial_fit(X, y)
    restored = pickle.loads(pickle.dumps(estimator))
    assert restored.hidden_layer_sizes == (10, 8)
    assert restored.n_parameters_ == estimator.n_parameters_
    assert_array_equal(restored.predict_proba(X), estimator.predict_proba(X))
    restored.partial_fit(X, y)
    estimator.partial_fit(X, y)
    assert_allclose(restored.predict_proba(X), estimator.predict_proba(X), rtol=0, atol=1e-12)


def test_growth_is_reproducible_and_keeps_the_recorded_history(digits):
    X, y = digits
    estimator = positional(record_positions=True, max_iter=3).fit(X, y)
    twin = copy.deepcopy(estimator)
    for grown in (estimator, twin):
        grown.grow_hidden_neurons(0, 2)  # from the estimator's own generator
    assert_array_equal(estimator.module_.positions[1].detach(), twin.module_.positions[1].detach())
    born = estimator.module_.positions[1][-2:].detach().numpy()
    assert len(estimator.positions_history_) == 4
    for frame in estimator.positions_history_:
        assert [len(layer) for layer in frame] == [64, 12, 6, 10]
        assert_array_equal(frame[1][-2:], born.astype(frame[1].dtype))
    estimator.partial_fit(X, y)
    assert len(estimator.positions_history_) == 5
    assert estimator.positions_history_[-1][1].shape == (12, 2)

    particles = particle(record_positions=True, max_iter=2).fit(X, y)
    particles.grow_hidden_neurons(1, 1, positions=[[0.5, -0.5]])
    for positions, dipoles in zip(
        particles.positions_history_, particles.dipoles_history_, strict=True
    ):
        assert_array_equal(positions[2][-1], [0.5, -0.5])
        assert_array_equal(dipoles[2][-1], [0.0, 0.0])


def test_warm_start_fit_keeps_the_grown_sizes_and_errors(digits):
    X, y = digits
    estimator = positional(warm_start=True, max_iter=2).fit(X, y)
    estimator.grow_hidden_neurons(0, 5)
    estimator.fit(X, y)
    assert estimator.module_.layer_sizes == (64, 15, 6, 10)
    with pytest.raises(ValueError, match="hidden_layer"):
        estimator.grow_hidden_neurons(2, 1)
    with pytest.raises(NotFittedError):
        positional().grow_hidden_neurons(0, 1)


# -------------------------------------------------------------------- gradient-guided growth
@pytest.mark.parametrize("module", _modules(), ids=["positional", "particle"])
def test_neuron_gradient_norms_gather_each_neurons_gradients(module):
    assert all(torch.all(n == 0) for n in module.neuron_gradient_norms())  # no backward yet
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(25, 6, generator=generator, dtype=torch.float64)
    target = torch.randint(3, (25,), generator=generator)
    torch.nn.functional.cross_entropy(module(x), target).backward()
    norms = module.neuron_gradient_norms()
    for hidden in (1, 2):
        neuron = 1
        squares = module.positions[hidden].grad[neuron].square().sum()
        squares += module.biases[hidden - 1].grad[neuron].square()
        if isinstance(module, PositionalMLP):
            squares += module.weights[hidden - 1].grad[neuron].square().sum()
            squares += module.weights[hidden].grad[:, neuron].square().sum()
        else:
            squares += module.dipoles[hidden].grad[neuron].square().sum()
        assert norms[hidden - 1][neuron] == pytest.approx(squares.sqrt().item(), rel=1e-12)
        assert norms[hidden - 1].shape == (module.layer_sizes[hidden],)


@pytest.mark.parametrize("name", MAKERS)
def test_gradient_guided_growth_keeps_the_candidates_with_the_largest_gradient(
    fitted, digits, name
):
    X, y = digits
    guided = copy.deepcopy(fitted[name])
    proba = guided.predict_proba(X)
    guided.grow_hidden_neurons(1, 3, X=X, y=y, n_candidates=5, random_state=7)
    assert guided.hidden_layer_sizes == (10, 9)
    assert_allclose(guided.predict_proba(X), proba, rtol=0, atol=1e-12)
    # The same 15 candidates (same seed), all kept: rank them by hand.
    every = copy.deepcopy(fitted[name])
    every.grow_hidden_neurons(1, 15, random_state=7)
    module = every.module_
    module.zero_grad()
    logits = module(torch.as_tensor(X, dtype=torch.float32))
    torch.nn.functional.cross_entropy(logits, torch.as_tensor(y)).backward()
    if name == "positional":
        gradients = module.weights[2].grad[:, -15:].T
    else:
        gradients = module.dipoles[2].grad[-15:]
    best = torch.argsort(gradients.norm(dim=1), descending=True)[:3].sort().values
    assert_array_equal(
        guided.module_.positions[2][-3:].detach(), module.positions[2][-15:][best].detach()
    )
    assert torch.all(gradients.norm(dim=1)[best] > 0)


def test_gradient_guided_growth_refuses_bad_arguments(fitted, digits):
    X, y = digits
    estimator = copy.deepcopy(fitted["positional"])
    with pytest.raises(ValueError, match="together"):
        estimator.grow_hidden_neurons(0, 1, X=X)
    with pytest.raises(ValueError, match="not both"):
        estimator.grow_hidden_neurons(0, 1, X=X, y=y, positions=[[0.0, 0.0]])
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_candidates"):
            estimator.grow_hidden_neurons(0, 1, X=X, y=y, n_candidates=bad)
    with pytest.raises(ValueError, match="features"):
        estimator.grow_hidden_neurons(0, 1, X=X[:, :10], y=y)
    assert estimator.hidden_layer_sizes == HIDDEN
