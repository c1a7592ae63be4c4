"""ParticleNetworkClassifier and ParticleNetworkRegressor: networks whose weights are implied by
particles."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BasePositionalClassifier, BasePositionalRegressor
from ._docstrings import regressor_docstring
from ._training import RemoveMeanPositionGradient
from ._validation import CallableFalloff, check_callable_falloff
from .falloff import FALLOFFS
from .nn.particle import ParticleNetwork

__all__ = ["ParticleNetworkClassifier", "ParticleNetworkRegressor"]


class _ParticleNetwork:
    """What the ParticleNetwork estimators share: their parameters, their module, its penalty."""

    _module_constraints: dict = {
        "particle_dim": [Interval(Integral, 1, None, closed="left")],
        "falloff": [StrOptions(set(FALLOFFS)), CallableFalloff],
        "remove_translation": ["boolean"],
        "weight_mode": [StrOptions({"auto", "materialized", "tiled"})],
        "tile_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    _module_params = (
        "hidden_layer_sizes",
        "particle_dim",
        "falloff",
        "remove_translation",
        "weight_mode",
        "tile_size",
        "activation",
    )

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

    def __init__(
        self,
        hidden_layer_sizes=(128,),
        activation="relu",
        *,
        particle_dim=2,
        falloff="gaussian",
        remove_translation=True,
        weight_mode="auto",
        tile_size=None,
        alpha=0.0,
        solver="rmsprop",
        batch_size=100,
        learning_rate="constant",
        power_t=0.5,
        learning_rate_init=0.01,
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
        self.particle_dim = particle_dim
        self.falloff = falloff
        self.remove_translation = remove_translation
        self.weight_mode = weight_mode
        self.tile_size = tile_size
        self.alpha = alpha
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


class ParticleNetworkClassifier(_ParticleNetwork, BasePositionalClassifier):
    """Classifier whose weights are implied by particles (A. W. Lange).

    There is no weight matrix. Every neuron is a particle with a position ``r`` and a dipole
    ``v`` in ``particle_dim`` dimensions, shared by the two weight layers it touches, and the
    weight between neurons ``i`` and ``j`` of adjacent layers is
    ``w_ij = (v_i . v_j) * exp(-|r_i - r_j|**2)``. The number of parameters grows with the number
    of neurons, not connections: a 784-128-10 network with 2-D particles has 3,826.

    Read more in the :ref:`User Guide <particle>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(128,)
        The ith element is the number of neurons in the ith hidden layer (the paper's MNIST
        network is 784-128-10).
    activation : {"relu", "tanh", "logistic", "identity", "swish"}, default="relu"
        Activation function of the hidden layers.
    particle_dim : int, default=2
        Dimension of positions and dipoles (the paper uses 2 and 3). With 1 the dipoles are
        scalars and every implied weight has the sign of ``v_i * v_j``: all the neurons of a
        layer weigh their inputs with one sign pattern, a loss of capacity that no falloff
        makes up for (``benchmarks/falloff_panel.py``).
    falloff : {"gaussian", "inverse_square", "exponential", "none"} or callable, \
            default="gaussian"
        How the implied weight falls with distance; the paper's is ``exp(-d**2)``. The
        initial positions, N(0, 0.5) per component, keep every named falloff well above zero
        in dimensions 1 to 4. With "none" each weight matrix is ``V_out @ V_in.T``, of rank at
        most ``particle_dim``.
    remove_translation : bool, default=True
        Whether to remove the mean of the position gradients at every step, the paper's trick:
        outputs do not change when all particles move together, so that component only drifts.
    weight_mode : {"auto", "materialized", "tiled"}, default="auto"
        How each layer's implied weights are formed. "materialized" builds the
        ``(n_out, n_in)`` matrix once per batch; "tiled" builds it a tile of ``tile_size``
        output neurons at a time and rebuilds it in the backward pass, so memory grows with the
        number of neurons rather than connections, for the same values and gradients at some
        extra time. "auto" tiles the layers of at least ``2**24`` connections.
    tile_size : int, default=None
        Output neurons per tile of a tiled layer; None picks about 4 Mi weights per tile.
    alpha : float, default=0.0
        Strength of the L2 penalty on the implied weight matrices, scaled as in
        :class:`~sklearn.neural_network.MLPClassifier`: ``0.5 * alpha * sum(w**2)`` divided by
        the batch size. The paper uses none.
    solver : {"rmsprop", "adam", "sgd", "lbfgs"}, default="rmsprop"
        The optimizer; the paper's is RMSProp with a decay of 0.99. "lbfgs" is full-batch
        L-BFGS (see ``max_fun``), as for MLPClassifier.
    batch_size : int or "auto", default=100
        Size of the minibatches (the paper's 100); "auto" is ``min(200, n_samples)``. Implied
        weights learn from many small steps: on scikit-learn's digits, "auto" leaves 7 steps per
        epoch and about 1 point of accuracy.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of the "sgd" solver, as MLPClassifier's: "constant" keeps
        ``learning_rate_init``; "invscaling" sets it to ``learning_rate_init / (t + 1) **
        power_t`` after every epoch, ``t`` the number of samples seen (``t_``); "adaptive"
        divides it by 5 whenever ``n_iter_no_change`` epochs in a row fail to improve by
        ``tol``, and stops once it is at most 1e-6.
    power_t : float, default=0.5
        The exponent of "invscaling".
    learning_rate_init : float, default=0.01
        The learning rate. The paper's 0.005 over 50 MNIST epochs is many more steps than
        200 epochs of a small data set such as digits take.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialization, shuffling and the validation split. An int makes a CPU fit
        bitwise reproducible; the global random states of NumPy and torch are never used.
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
    module_ : ParticleNetwork
        The fitted torch module: positions, dipoles and implied weights.
    n_parameters_ : int
        Number of trainable parameters: ``2 * particle_dim * sum(N_l) + sum(N_l for l > 0)``.
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
    positions_history_ : list of list of ndarray or None
        With ``record_positions``: one entry per recorded frame, the first before training, each
        a list with the positions of every neuron layer (arrays of shape ``(n_neurons, dim)``).
        None without ``record_positions``.
    dipoles_history_ : list of list of ndarray or None
        The same for the dipoles, one array per layer of particles.
    positions_history_epochs_ : ndarray of shape (n_frames,) or None
        The training epochs completed at each frame of ``positions_history_``.

    See Also
    --------
    PositionalMLPClassifier : Positional neurons with a weight per connection.
    sklearn.neural_network.MLPClassifier : The plain multilayer perceptron.

    Notes
    -----
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
    A. W. Lange, "Particle networks" (particle-based neural networks with implied weights).

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

    _parameter_constraints: dict = {
        **BasePositionalClassifier._parameter_constraints,
        **_ParticleNetwork._module_constraints,
    }


class ParticleNetworkRegressor(_ParticleNetwork, BasePositionalRegressor):
    _parameter_constraints: dict = {
        **BasePositionalRegressor._parameter_constraints,
        **_ParticleNetwork._module_constraints,
    }
    _module_params = (*_ParticleNetwork._module_params, "loss")

    def __init__(
        self,
        hidden_layer_sizes=(128,),
        activation="relu",
        *,
        loss="squared_error",
        particle_dim=2,
        falloff="gaussian",
        remove_translation=True,
        weight_mode="auto",
        tile_size=None,
        alpha=0.0,
        solver="rmsprop",
        batch_size=100,
        learning_rate="constant",
        power_t=0.5,
        learning_rate_init=0.01,
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
            particle_dim=particle_dim,
            falloff=falloff,
            remove_translation=remove_translation,
            weight_mode=weight_mode,
            tile_size=tile_size,
            alpha=alpha,
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


ParticleNetworkRegressor.__doc__ = regressor_docstring(
    ParticleNetworkClassifier.__doc__,
    summary="""Regressor whose weights are implied by particles (A. W. Lange).

    The network of :class:`ParticleNetworkClassifier` (every neuron is a particle with a
    position ``r`` and a dipole ``v``; ``w_ij = (v_i . v_j) * exp(-|r_i - r_j|**2)``) with one
    output particle per target and MLPRegressor's losses.

    Read more in the :ref:`User Guide <regression>`.""",
    see_also="""\
    ParticleNetworkClassifier : The same network for classification.
    PositionalMLPRegressor : Positional neurons with a weight per connection.
    sklearn.neural_network.MLPRegressor : The plain multilayer perceptron.""",
    references="""\
    A. W. Lange, "Particle networks" (particle-based neural networks with implied weights).""",
    examples="""\
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_posnet import ParticleNetworkRegressor
    >>> X, y = make_regression(n_samples=500, n_features=8, noise=5, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y / y.std(), random_state=0)
    >>> reg = ParticleNetworkRegressor(hidden_layer_sizes=(32,), random_state=0)
    >>> reg.fit(X_train, y_train).predict(X_test[:3]).shape
    (3,)
    >>> reg.score(X_test, y_test) > 0.8
    True""",
)
