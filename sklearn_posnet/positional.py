"""PositionalMLPClassifier and PositionalMLPRegressor: multilayer perceptrons whose neurons have
positions in space."""

from __future__ import annotations

from ._base import BasePositionalClassifier, BasePositionalRegressor
from ._parameters import assemble_estimator
from ._training import Penalty
from ._validation import check_callable_falloff
from .falloff import get_falloff
from .nn.positional import PositionalMLP

__all__ = ["PositionalMLPClassifier", "PositionalMLPRegressor"]


class _PositionalNetwork:
    """What the PositionalMLP estimators share: their module, its penalty (their parameters are
    entries of the table in :mod:`sklearn_posnet._parameters`)."""

    def _build_module(self, n_features, n_outputs, generator, params=None):
        params = self.get_params() if params is None else params
        check_callable_falloff(params["falloff"])
        return PositionalMLP(
            self._layer_sizes(n_features, n_outputs, params["hidden_layer_sizes"]),
            position_dim=params["position_dim"],
            falloff=params["falloff"],
            length_scale=params["length_scale"],
            activation=params["activation"],
            input_layout=params["input_layout"],
            input_shape=params["input_shape"],
            output_layout=params["output_layout"],
            hidden_spread=params["hidden_spread"],
            trainable_positions=params["trainable_positions"],
            # Networks saved before distance_reduction existed were trained with the layer mean
            # (see _upgrade_saved_state).
            distance_reduction=params.get("distance_reduction", "layer_mean"),
            generator=generator,
        )

    def _upgrade_saved_state(self, state, built_with):
        # Saved before distance_reduction existed, so trained with the layer mean: say so in the
        # parameter and in the record of what the network was built with.
        state.setdefault("distance_reduction", "layer_mean")
        if isinstance(built_with, dict):
            built_with.setdefault("distance_reduction", "layer_mean")

    @property
    def length_scale_(self) -> float:
        """The length scale the fitted network uses (``"auto"`` resolved)."""
        return self.module_.length_scale

    def _penalty(self):
        if not (self.alpha or self.distance_alpha):
            return None
        # Plain layers (the constant falloff) take the L2 in closed form, outside autograd; the
        # other falloffs' fused layers form it with the effective weight, in one pass.
        closed_form = get_falloff(self.falloff).is_constant
        return Penalty(
            alpha=self.alpha, distance_alpha=self.distance_alpha, closed_form=closed_form
        )


@assemble_estimator("positional", "classifier")
class PositionalMLPClassifier(_PositionalNetwork, BasePositionalClassifier):
    """Classifier with positional neuron layers (J. Shader).

    Every neuron has a position in space; a connection's effective weight is its raw weight
    times a falloff of the distance between the two neurons it joins,
    ``w_eff = falloff(d / length_scale) * w``, with ``falloff(d) = 1 / (1 + d**2)`` by default.
    A distance-weighted penalty, ``distance_alpha * sum(d**2 * w**2)``, makes moving two neurons
    closer the cheapest route to a strong connection, so the network grows spatial structure.
    Input neurons sit on the image's pixel grid (or evenly on a sphere for other data), outputs
    on a circle (a sphere in 3-D), both fixed; hidden neurons move. The length scale is fitted to
    the falloff and this geometry unless given. With ``falloff="none"`` and ``distance_alpha=0``
    it is a plain MLP (the paper's "vanilla" baseline) through the same code path.

    Read more in the :ref:`User Guide <positional>`.

    See Also
    --------
    ParticleNetworkClassifier : Weights implied by particles, far fewer parameters.
    sklearn.neural_network.MLPClassifier : The plain multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_posnet import PositionalMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = PositionalMLPClassifier(random_state=0).fit(X_train, y_train)
    >>> clf.predict(X_test[:5])
    array([2, 8, 2, 6, 6])
    >>> round(clf.score(X_test, y_test), 2) > 0.95
    True
    """


@assemble_estimator("positional", "regressor")
class PositionalMLPRegressor(_PositionalNetwork, BasePositionalRegressor):
    """Regressor with positional neuron layers (J. Shader).

    The network of :class:`PositionalMLPClassifier` (every neuron has a position, a
    connection's effective weight is ``falloff(d / length_scale) * w``, a distance-weighted
    penalty makes short connections cheap) with one output neuron per target and
    MLPRegressor's losses. The output neurons sit on the ``output_layout``, fixed, as a
    classifier's classes do; with ``falloff="none"`` and ``distance_alpha=0`` it is a plain
    :class:`~sklearn.neural_network.MLPRegressor` through the same code path.

    Read more in the :ref:`User Guide <regression>`.

    See Also
    --------
    PositionalMLPClassifier : The same network for classification.
    ParticleNetworkRegressor : Weights implied by particles, far fewer parameters.
    sklearn.neural_network.MLPRegressor : The plain multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_posnet import PositionalMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y / 100, random_state=0)
    >>> reg = make_pipeline(
    ...     StandardScaler(), PositionalMLPRegressor(solver="lbfgs", alpha=10.0, random_state=0)
    ... ).fit(X_train, y_train)
    >>> reg.predict(X_test[:2]).shape
    (2,)
    >>> round(reg.score(X_test, y_test), 2)
    0.38
    """
