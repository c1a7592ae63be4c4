"""PositionalMLPClassifier and PositionalMLPRegressor: multilayer perceptrons whose neurons have
positions in space."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BasePositionalClassifier, BasePositionalRegressor
from ._docstrings import regressor_docstring
from ._training import Penalty
from ._validation import (
    HIDDEN_SPREADS,
    IMAGE_SHAPES,
    LAYOUT_ARRAYS,
    CallableFalloff,
    check_callable_falloff,
)
from .falloff import FALLOFFS
from .nn.positional import DISTANCE_REDUCTIONS, REFERENCE_HIDDEN_SPREAD, PositionalMLP

__all__ = ["PositionalMLPClassifier", "PositionalMLPRegressor"]


class _PositionalNetwork:
    """What the PositionalMLP estimators share: their parameters, their module, its penalty."""

    _module_constraints: dict = {
        "falloff": [StrOptions(set(FALLOFFS)), CallableFalloff],
        "length_scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "distance_alpha": [Interval(Real, 0, None, closed="left")],
        "distance_reduction": [StrOptions(set(DISTANCE_REDUCTIONS))],
        "position_dim": [Interval(Integral, 1, None, closed="left")],
        "input_layout": [
            StrOptions({"even", "auto", "grid", "line", "sphere", "random"}),
            LAYOUT_ARRAYS["input_layout"],
        ],
        "input_shape": [IMAGE_SHAPES, None],
        "output_layout": [
            StrOptions({"sphere", "circle", "line", "random"}),
            LAYOUT_ARRAYS["output_layout"],
        ],
        "hidden_spread": [HIDDEN_SPREADS],
        "trainable_positions": [StrOptions({"hidden", "all", "none"})],
    }

    _module_params = (
        "hidden_layer_sizes",
        "falloff",
        "length_scale",
        "position_dim",
        "input_layout",
        "input_shape",
        "output_layout",
        "hidden_spread",
        "trainable_positions",
        "activation",
        "distance_reduction",
    )

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
        return Penalty(alpha=self.alpha, distance_alpha=self.distance_alpha, closed_form=True)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        falloff="inverse_square",
        length_scale="auto",
        alpha=1e-4,
        distance_alpha=1e-4,
        distance_reduction="sum",
        position_dim=2,
        input_layout="even",
        input_shape=None,
        output_layout="sphere",
        hidden_spread=REFERENCE_HIDDEN_SPREAD,
        trainable_positions="hidden",
        solver="adam",
        batch_size="auto",
        learning_rate="constant",
        power_t=0.5,
        learning_rate_init=0.003,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        device="cpu",
        record_positions=False,
        callbacks=None,
        n_threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.falloff = falloff
        self.length_scale = length_scale
        self.alpha = alpha
        self.distance_alpha = distance_alpha
        self.distance_reduction = distance_reduction
        self.position_dim = position_dim
        self.input_layout = input_layout
        self.input_shape = input_shape
        self.output_layout = output_layout
        self.hidden_spread = hidden_spread
        self.trainable_positions = trainable_positions
        self.activation = activation
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.device = device
        self.record_positions = record_positions
        self.callbacks = callbacks
        self.n_threads = n_threads


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

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {"relu", "tanh", "logistic", "identity", "swish"}, default="relu"
        Activation function of the hidden layers (the paper uses "swish").
    falloff : {"inverse_square", "gaussian", "exponential", "none"} or callable, \
            default="inverse_square"
        How a connection's strength falls with distance: ``1 / (1 + d**2)``, ``exp(-d**2)``,
        ``exp(-d)`` or ``1``. A callable gets a tensor of distances and returns a tensor of the
        same shape.
    length_scale : float or "auto", default="auto"
        Distances are divided by this before the falloff is applied. "auto" fits it to the
        falloff and the geometry: the falloff falls to half its strength at the typical
        (root-mean-square) initial length of the connections of the layer whose connections are
        longest, so that every named falloff, and a callable one, starts with effective weights
        and position gradients of a usable size (see the :ref:`User Guide <positional>`). The
        value used is ``length_scale_``. The reference implementation's geometry is
        ``length_scale=1.0, input_layout="auto", output_layout="circle"``.
    alpha : float, default=1e-4
        Strength of the plain L2 penalty on the raw weights, as in
        :class:`~sklearn.neural_network.MLPClassifier`: ``0.5 * alpha * sum(w**2)`` divided by
        the batch size (the paper's "unweighted regularization").
    distance_alpha : float, default=1e-4
        Strength of the distance-weighted penalty on the raw weights, ``distance_alpha *
        sum(d**2 * w**2)`` over every connection with the default ``distance_reduction``:
        the knob that trades accuracy for short wiring. On MNIST (784-128-10, 30,000 images,
        10 epochs) the wiring cost falls at every step from 0 to 1e-3, to half the plain
        network's at 1e-4, where the accuracy is 0.23 points below it; see
        :ref:`choosing-distance-alpha`. Lower it (1e-5 to 3e-5) where accuracy matters more than
        short wiring: on a non-image problem the default cost 1.7 points.
    distance_reduction : {"sum", "layer_mean"}, default="sum"
        How the penalty adds up ``d**2 * w**2`` over the connections. "sum" counts every
        connection once. "layer_mean" is the reference implementation's: the mean over layers
        of each layer's mean, which weighs one connection of the 10-output layer of a
        784-128-10 network as much as 78 input connections, so that the penalty barely
        touches the input layer (91% of the wiring) and mostly shrinks the output weights; with
        it, ``distance_alpha=0.25`` is the paper's loss on MNIST. Until
        ``distance_reduction`` existed the penalty was "layer_mean" with a default
        ``distance_alpha=0.01``: pass both to get the old behaviour exactly.
    position_dim : int, default=2
        Dimension of the space the neurons live in.
    input_layout : {"even", "auto", "grid", "line", "sphere", "random"} or array-like of shape \
            (n_features, position_dim), default="even"
        Where the input neurons sit. "grid" puts one per pixel of ``input_shape`` on a grid
        spanning [-2, 2]; "sphere" spreads them evenly on a sphere of radius 2 (a circle in
        2-D, a Fibonacci spiral in 3-D, a line in 1-D), every input equally far from the hidden
        neurons; "even" is a grid when ``input_shape`` is given or ``n_features`` is a perfect
        square (8x8 digits, 28x28 MNIST), else a sphere; "auto" (the reference's) is the same
        grid, else a line.
    input_shape : tuple of int, default=None
        Shape of the input images, e.g. ``(28, 28)``, for the grid layout.
    output_layout : {"sphere", "circle", "line", "random"} or array-like of shape \
            (n_classes, position_dim), default="sphere"
        Where the output neurons sit: "circle" spreads them evenly on a circle of radius 5 in
        the first two axes; "sphere" on a sphere of radius 5 (the same circle in 2-D, a
        Fibonacci spiral in 3-D, so that many classes stay apart, a line in 1-D).
    hidden_spread : float or tuple of float, default=(1.0, 1.5, 2.0)
        Standard deviation of the hidden positions at initialization, per hidden layer; the
        last value repeats for deeper layers. The default is the reference implementation's.
    trainable_positions : {"hidden", "all", "none"}, default="hidden"
        Which positions are learned; input and output neurons stay in place with "hidden".
    solver : {"adam", "rmsprop", "sgd", "lbfgs"}, default="adam"
        The optimizer; "lbfgs" is full-batch L-BFGS (see ``max_fun``), which can converge
        faster on small data, as for MLPClassifier.
    batch_size : int or "auto", default="auto"
        Size of the minibatches; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of the "sgd" solver, as MLPClassifier's: "constant" keeps
        ``learning_rate_init``; "invscaling" sets it to ``learning_rate_init / (t + 1) **
        power_t`` after every epoch, ``t`` the number of samples seen (``t_``); "adaptive"
        divides it by 5 whenever ``n_iter_no_change`` epochs in a row fail to improve by
        ``tol``, and stops once it is at most 1e-6.
    power_t : float, default=0.5
        The exponent of "invscaling".
    learning_rate_init : float, default=0.003
        The learning rate. Hidden positions move at most about this far per step with Adam, so
        it is higher than MLPClassifier's 0.001.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight and position initialization, shuffling and the validation split. An int
        makes a CPU fit bitwise reproducible; the global random states of NumPy and torch are
        never used.
    tol : float, default=1e-4
        Tolerance for the optimization: training stops when the loss (or the validation score
        with ``early_stopping``) does not improve by at least ``tol`` for ``n_iter_no_change``
        consecutive epochs.
    verbose : bool or int, default=False
        ``True`` (or 1) prints one line per epoch (training loss, validation loss and accuracy
        with ``early_stopping``, duration), without colour codes unless the output is a
        terminal; 2 also shows a progress bar over each epoch's batches.
    warm_start : bool, default=False
        When True, ``fit`` continues from the previous solution.
    momentum : float, default=0.9
        Momentum of the "sgd" solver.
    nesterovs_momentum : bool, default=True
        Whether the "sgd" solver uses Nesterov's momentum.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the data, stop when its accuracy stops
        improving, and keep the parameters of the best epoch.
    validation_fraction : float, default=0.1
        The share of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Numerical stability term of "adam" and "rmsprop".
    n_iter_no_change : int, default=10
        Number of epochs without an improvement of ``tol`` before training stops.
    max_fun : int, default=15000
        With ``solver="lbfgs"``: the most loss evaluations the fit may use. Every epoch is
        then one L-BFGS iteration over the whole data (``batch_size``, ``shuffle`` and
        ``early_stopping`` do not apply, ``max_iter`` counts iterations); it stops when the
        largest gradient component is at most ``tol`` or the loss stops decreasing.
    device : str or torch.device, default="cpu"
        Where to train: "cpu", "cuda" or "cuda:N".
    record_positions : bool or int, default=False
        Whether to record where the neurons are during training, for
        :func:`~sklearn_posnet.plotting.animate_training`: True records after every epoch, an int
        ``k`` after every ``k`` training steps (batches), False nothing. Read when the network is
        built (every ``fit`` without ``warm_start``); frames accumulate over ``partial_fit`` calls.
    callbacks : list of skorch callbacks, default=None
        Extra :mod:`skorch.callbacks` run during training, e.g. ``ProgressBar()``,
        ``LRScheduler(...)``, ``Checkpoint(...)`` or your own ``Callback`` subclass, each as an
        instance or a ``(name, callback)`` pair. They are copied when the network is built (every
        ``fit`` without ``warm_start``), so the parameter itself stays as given and is cloned
        like any other; they see the estimator's skorch net (``net_``). A callback that raises
        ``KeyboardInterrupt`` to stop (skorch's ``EarlyStopping``) ends training quietly; a real
        Ctrl-C propagates.
    n_threads : int, default=None
        CPU threads of each ``fit``, ``partial_fit`` and prediction (torch's intra-op threads and
        the fused kernels'). None lets the package decide from the size of the network and of a
        batch: one thread for small problems, such as the defaults on the digits or a 784-128-10
        network with batches of 200, since idle threads spin on cores another process could
        use; -1 uses every thread allowed. Never more than the calling thread is allowed:
        :func:`torch.get_num_threads`, which follows ``OMP_NUM_THREADS`` (set by joblib's
        workers and Dask's) and :func:`threadpoolctl.threadpool_limits`. torch's own setting is
        put back after each call. See :ref:`threads`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X has string column names.
    loss_curve_ : list of float
        Training loss (cross-entropy plus penalties) after each epoch; with
        ``solver="lbfgs"``, at the start of each iteration.
    loss_ : float
        The last training loss.
    best_loss_ : float or None
        The lowest training loss; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Accuracy on the held-out data after each epoch, with ``early_stopping``.
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Number of epochs the last call to ``fit`` or ``partial_fit`` ran.
    fit_time_ : float
        Seconds the last training loop took.
    net_ : skorch.NeuralNet
        The skorch net that trained the module.
    module_ : PositionalMLP
        The fitted torch module: positions, raw and effective weights.
    n_parameters_ : int
        Number of trainable parameters (weights, biases and hidden positions).
    n_layers_ : int
        Number of layers, the input and output layers included.
    n_outputs_ : int
        Number of output neurons: one per class (two for a binary problem, where
        MLPClassifier has one), or one per label.
    out_activation_ : {'softmax', 'logistic'}
        The output activation: 'logistic' for multilabel targets (an indicator matrix).
    t_ : int
        Number of training samples seen by the solver, over every call.
    coefs_ : list of ndarray of shape (n_in, n_out)
        The effective weight matrices in scikit-learn's layout (float64): with ``intercepts_``
        and the activation they are the plain MLP this network is.
    intercepts_ : list of ndarray of shape (n_out,)
        The biases of every layer (float64).
    length_scale_ : float
        The length scale the network was built with: ``length_scale``, or the value "auto"
        chose.
    positions_history_ : list of list of ndarray or None
        With ``record_positions``: one entry per recorded frame, the first before training, each
        a list with the positions of every neuron layer (arrays of shape ``(n_neurons, dim)``).
        None without ``record_positions``.
    dipoles_history_ : list of list of ndarray or None
        Always None: positional neurons have no dipoles.
    positions_history_epochs_ : ndarray of shape (n_frames,) or None
        The training epochs completed at each frame of ``positions_history_``.

    See Also
    --------
    ParticleNetworkClassifier : Weights implied by particles, far fewer parameters.
    sklearn.neural_network.MLPClassifier : The plain multilayer perceptron.

    Notes
    -----
    The effective weight of the connection from neuron ``j`` at ``p_j`` to neuron ``i`` at
    ``p_i`` is ``falloff(|p_i - p_j| / length_scale) * w_ij``; biases are not scaled. Raw weights
    start Glorot-uniform divided by the mean falloff of their layer, so the effective weights
    start at the usual scale.

    A fit whose loss becomes NaN or infinite (too high a ``learning_rate_init``, unscaled ``X``)
    stops at the first such training batch, puts back the parameters from the end of the last
    epoch with a finite loss (the initial ones when there is none), resets the optimizer and
    raises a ``ValueError`` that says so; ``loss_curve_`` and ``n_iter_`` describe the epochs
    kept. The estimator left behind predicts finite probabilities and can train further.
    Checking every batch adds no device synchronization: skorch already copies each batch's
    loss to the host.

    A fitted estimator saves (with :mod:`pickle`, :mod:`joblib` or :mod:`skops.io`) its module,
    optimizer and random generator as numpy arrays, without any torch object: a model fitted
    with ``device="cuda"`` loads and predicts on a machine without a GPU (on the CPU, with a
    warning). With :func:`skops.io.load`, the only types to trust are this package's
    estimator classes, as :func:`skops.io.get_untrusted_types` lists them.

    References
    ----------
    J. Shader, "Positional neurons: neural networks whose neurons have positions in space".

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

    _parameter_constraints: dict = {
        **BasePositionalClassifier._parameter_constraints,
        **_PositionalNetwork._module_constraints,
    }


class PositionalMLPRegressor(_PositionalNetwork, BasePositionalRegressor):
    _parameter_constraints: dict = {
        **BasePositionalRegressor._parameter_constraints,
        **_PositionalNetwork._module_constraints,
    }
    _module_params = (*_PositionalNetwork._module_params, "loss")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        falloff="inverse_square",
        length_scale="auto",
        alpha=1e-4,
        distance_alpha=1e-4,
        distance_reduction="sum",
        position_dim=2,
        input_layout="even",
        input_shape=None,
        output_layout="sphere",
        hidden_spread=REFERENCE_HIDDEN_SPREAD,
        trainable_positions="hidden",
        solver="adam",
        batch_size="auto",
        learning_rate="constant",
        power_t=0.5,
        learning_rate_init=0.003,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        device="cpu",
        record_positions=False,
        callbacks=None,
        n_threads=None,
    ):
        self.loss = loss
        super().__init__(
            hidden_layer_sizes,
            falloff=falloff,
            length_scale=length_scale,
            alpha=alpha,
            distance_alpha=distance_alpha,
            distance_reduction=distance_reduction,
            position_dim=position_dim,
            input_layout=input_layout,
            input_shape=input_shape,
            output_layout=output_layout,
            hidden_spread=hidden_spread,
            trainable_positions=trainable_positions,
            activation=activation,
            solver=solver,
            batch_size=batch_size,
            learning_rate=learning_rate,
            power_t=power_t,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            device=device,
            record_positions=record_positions,
            callbacks=callbacks,
            n_threads=n_threads,
        )


PositionalMLPRegressor.__doc__ = regressor_docstring(
    PositionalMLPClassifier.__doc__,
    summary="""Regressor with positional neuron layers (J. Shader).

    The network of :class:`PositionalMLPClassifier` (every neuron has a position, a
    connection's effective weight is ``falloff(d / length_scale) * w``, a distance-weighted
    penalty makes short connections cheap) with one output neuron per target and
    MLPRegressor's losses. The output neurons sit on the ``output_layout``, fixed, as a
    classifier's classes do; with ``falloff="none"`` and ``distance_alpha=0`` it is a plain
    :class:`~sklearn.neural_network.MLPRegressor` through the same code path.

    Read more in the :ref:`User Guide <regression>`.""",
    see_also="""\
    PositionalMLPClassifier : The same network for classification.
    ParticleNetworkRegressor : Weights implied by particles, far fewer parameters.
    sklearn.neural_network.MLPRegressor : The plain multilayer perceptron.""",
    references="""\
    J. Shader, "Positional neurons: neural networks whose neurons have positions in space".""",
    examples="""\
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
    0.38""",
)
