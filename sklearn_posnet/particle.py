"""ParticleNetworkClassifier and ParticleNetworkRegressor: networks whose weights are implied by
particles."""

from __future__ import annotations

from ._base import BasePositionalClassifier, BasePositionalRegressor
from ._parameters import assemble_estimator
from ._training import RemoveMeanPositionGradient
from ._validation import check_callable_falloff
from .nn.particle import ParticleNetwork

__all__ = ["ParticleNetworkClassifier", "ParticleNetworkRegressor"]


class _ParticleNetwork:
    """What the ParticleNetwork estimators share: their module and its callbacks (their
    parameters are entries of the table in :mod:`sklearn_posnet._parameters`)."""

    def _build_module(self, n_features, n_outputs, generator, params=None):
        params = self.get_params() if params is None else params
        check_callable_falloff(params["falloff"])
        return ParticleNetwork(
            self._layer_sizes(n_features, n_outputs, params["hidden_layer_sizes"]),
            particle_dim=params["particle_dim"],
            falloff=params["falloff"],
            activation=params["activation"],
            generator=generator,
            weight_mode=params["weight_mode"],
            tile_size=params["tile_size"],
        )

    def _module_callbacks(self, params):
        if not params["remove_translation"]:
            return []
        return [("remove_translation", RemoveMeanPositionGradient())]


@assemble_estimator("particle", "classifier")
class ParticleNetworkClassifier(_ParticleNetwork, BasePositionalClassifier):
    """Classifier whose weights are implied by particles (A. W. Lange).

    There is no weight matrix. Every neuron is a particle with a position ``r`` and a dipole
    ``v`` in ``particle_dim`` dimensions, shared by the two weight layers it touches, and the
    weight between neurons ``i`` and ``j`` of adjacent layers is
    ``w_ij = (v_i . v_j) * exp(-|r_i - r_j|**2)``. The number of parameters grows with the number
    of neurons, not connections: a 784-128-10 network with 2-D particles has 3,826.

    Read more in the :ref:`User Guide <particle>`.

    See Also
    --------
    PositionalMLPClassifier : Positional neurons with a weight per connection.
    sklearn.neural_network.MLPClassifier : The plain multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_posnet import ParticleNetworkClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ParticleNetworkClassifier(random_state=0).fit(X_train, y_train)
    >>> clf.n_parameters_
    946
    >>> clf.score(X_test, y_test) > 0.85  # 0.88-0.95 over random_state 0-15 (see benchmarks)
    True
    """


@assemble_estimator("particle", "regressor")
class ParticleNetworkRegressor(_ParticleNetwork, BasePositionalRegressor):
    """Regressor whose weights are implied by particles (A. W. Lange).

    The network of :class:`ParticleNetworkClassifier` (every neuron is a particle with a
    position ``r`` and a dipole ``v``; ``w_ij = (v_i . v_j) * exp(-|r_i - r_j|**2)``) with one
    output particle per target and MLPRegressor's losses.

    Read more in the :ref:`User Guide <regression>`.

    See Also
    --------
    ParticleNetworkClassifier : The same network for classification.
    PositionalMLPRegressor : Positional neurons with a weight per connection.
    sklearn.neural_network.MLPRegressor : The plain multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_posnet import ParticleNetworkRegressor
    >>> X, y = make_regression(n_samples=500, n_features=8, noise=5, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y / y.std(), random_state=0)
    >>> reg = ParticleNetworkRegressor(hidden_layer_sizes=(32,), random_state=0)
    >>> reg.fit(X_train, y_train).predict(X_test[:3]).shape
    (3,)
    >>> reg.score(X_test, y_test) > 0.8
    True
    """
