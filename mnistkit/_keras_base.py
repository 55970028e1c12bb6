"""The estimator base of mnistkit's classifiers: one fit, read top to bottom.

`BaseKerasClassifier` is a scikit-learn classifier of its own, as
scikit-learn's ``MLPClassifier`` and skorch's ``NeuralNet`` own theirs:
``ClassifierMixin`` first, then ``BaseEstimator``. `fit` and `partial_fit`
both call `_fit`, which goes through five stages, each a method that works
on its arguments:

1. ``_check_data``: the pixels and labels, with messages that name the fix;
2. ``_encode_labels`` and ``_training_weights``: labels as class indices,
   sample and class weights as one array, samples of zero weight dropped;
3. ``_new_network``, or the fitted network kept (`warm_start`, `partial_fit`);
4. ``_train``: ``keras.Model.fit`` on batches drawn from the fit's own seed,
   a new network through a kept trainer of its structure (`mnistkit._trainers`);
5. ``_record``: `model_`, `history_`, `n_iter_` and `batch_size_`.

The seed of a fit and whether its network is new are arguments of these
stages, never state left on the estimator. A subclass declares its
parameters in ``__init__`` (the ones every classifier shares are documented
once, in `SHARED_PARAMETERS_DOC`) and builds its network in
``_build_network(seed, n_samples)``.

The training policy (optimizer, schedule, held-out data, seeded batches) is
in `mnistkit._training`; TensorFlow's process settings in `mnistkit.runtime`.
"""

import contextlib
import inspect
import math
import os
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._fine_tuning import freeze_features, slow_down_features, starting_network
from ._model_file import (
    network_from_bytes,
    network_to_bytes,
    read_fine_tuning_source,
)
from ._trainers import lent_trainer
from ._training import (
    AUTO_BATCH_SIZE_RANGE,
    AUTO_MAX_EPOCHS,
    AUTO_STEPS_PER_EPOCH,
    AUTO_TRAINING_STEPS,
    StopOnDivergence,
    auto_batch_size,
    auto_epochs,
    fit_seed,
    hold_out,
    make_optimizer,
    one_cycle_schedule,
    seeded_batches,
    split_off_last,
)
from ._validation import as_array, check_labels, check_no_missing_labels, check_pixels
from .architectures import DTYPE_POLICIES
from .runtime import custom_gradients_released, keras, quiet, tf

if TYPE_CHECKING:
    from keras import Model

__all__ = ["BaseKerasClassifier", "SHARED_PARAMETERS_DOC", "document_parameters"]

# Rows per call of the forward pass when `predict__batch_size` is not set:
# large enough to keep the CPU's cores busy, small enough that a CNN's
# activations stay within a few hundred MB.
PREDICT_BATCH_SIZE = 1024

# Routed parameters, ``prefix__name``, by prefix: where each goes.
ROUTING_PREFIXES = {
    "optimizer": "options of the optimizer",
    "fit": "arguments of keras.Model.fit",
    "predict": "predict__batch_size, the rows of each prediction call",
    "callbacks": "arguments of the callback classes in `callbacks`",
}

# The documentation of the parameters every classifier shares, in numpydoc
# form; `document_parameters` fills in each class's own defaults.
SHARED_PARAMETERS_DOC = """\
epochs : int or "auto", default={epochs}
    Passes over the training data (an upper bound with early stopping).
    "auto" takes enough epochs for {auto_steps} gradient steps, at least
    {large_data_epochs} (what a set as large as MNIST needs) and at most
    {auto_max_epochs}: {auto_epochs_500} on 500 samples, {auto_epochs_10000} on
    10,000, {auto_epochs_60000} on 60,000. `n_iter_` says how many ran.
batch_size : int or "auto", default={batch_size}
    Samples per gradient step. "auto" takes 1/{auto_steps_per_epoch} of
    the training samples, at least {auto_min_batch} and at most {auto_max_batch}:
    {auto_min_batch} up to {auto_min_batch_up_to} samples, {auto_max_batch} from
    {auto_max_batch_from} on. `batch_size_` says what a fit took.
    Predictions go in calls of ``predict__batch_size`` rows, 1024 unless set.
learning_rate : float, default={learning_rate}
    Step size of the optimizer; the peak of the one-cycle schedule.
learning_rate_schedule : {{"one-cycle", "constant"}}, \
default={learning_rate_schedule}
    "one-cycle" warms the step size up from ``learning_rate / 25`` over the
    first 30% of the training steps, then anneals it along a cosine to
    ``learning_rate / 2500`` (Smith and Topin, 2019): fewer epochs reach
    the same accuracy. The cycle spans `epochs` passes over the training
    data, across `partial_fit` calls too; a warm-started `fit` keeps the
    schedule of the first. "constant" keeps `learning_rate` throughout.
steps_per_execution : int, default={steps_per_execution}
    Training steps that Keras runs per call into TensorFlow. Small networks
    on a CPU spend much of each step in Python, which running several
    steps per call saves. Callbacks see the batches in groups of this
    many.
dtype_policy : {{"float32", "mixed_bfloat16", "auto"}}, default={dtype_policy}
    What the layers compute in; the weights stay float32 either way.
    "mixed_bfloat16" computes in bfloat16, which trains faster on CPUs with
    bfloat16 instructions (AVX-512 BF16 or AMX) and slower on others.
    "auto" takes "mixed_bfloat16" on such a CPU, when TensorFlow sees no
    GPU, and "float32" elsewhere. The output layer computes in float32.
optimizer : str, keras.optimizers.Optimizer class or instance, \
default={optimizer}
    Any name ``keras.optimizers.get`` knows. Extra options go in routed
    parameters, e.g. ``optimizer="sgd", optimizer__momentum=0.9``. An instance
    is copied at each fit, never trained in place.
early_stopping : bool, default={early_stopping}
    Stop when the loss on a held-out validation set has not improved for
    `n_iter_no_change` epochs, and keep the weights of the best epoch.
validation_fraction : float or None, default={validation_fraction}
    Fraction of the training data held out, stratified and seeded, to report
    ``val_loss`` and ``val_accuracy`` in `history_` and for early stopping.
    None holds out 0.1 when `early_stopping` is True, and nothing otherwise.
n_iter_no_change : int, default={n_iter_no_change}
    Epochs without improvement of the validation loss before stopping.
class_weight : dict, "balanced" or None, default={class_weight}
    Weights of the classes in the loss, as in scikit-learn.
warm_start : bool, default={warm_start}
    Keep training the fitted network on the next `fit` instead of building
    a new one.
init_model : estimator, str or path-like, default={init_model}
    Fine-tune: start each new network from a copy of this fitted
    ``CNNClassifier`` or ``MLPClassifier`` (or a Pipeline ending in one,
    or a file written by :func:`~mnistkit.save_model`) instead of new
    weights. Its architecture replaces this classifier's architecture
    parameters; its output layer is kept if the classes are the same and
    replaced by a new one otherwise. The images must have as many pixels
    as those it was fitted on. To save the fine-tuned classifier with
    `save_model`, pass a path here, or set it to None after fitting.
feature_lr_scale : float, default={feature_lr_scale}
    With `init_model`: the learning rate of the layers before the output
    layer, as a fraction of `learning_rate`. 0 freezes them (training only
    the output layer), 0.1 trains them ten times slower, 1.0 trains every
    layer alike.
random_state : int, RandomState instance or None, default={random_state}
    Seeds every random draw of a fit: initial weights, dropout,
    augmentation, the batches' order and the validation split. A fit
    reads and changes no global random state (Python's, NumPy's,
    TensorFlow's), so fits in threads are reproducible too. An int gives
    identical results on every fit on the same machine with the same
    TensorFlow thread settings.
verbose : int, default={verbose}
    0 is silent; 1 shows Keras's progress bar and 2 one line per epoch.
callbacks : list of keras.callbacks.Callback or None, default={callbacks}
    Extra Keras callbacks for `fit` and `partial_fit`, as instances or as
    classes, which each fit builds with the routed ``callbacks__name``
    arguments (``callbacks__0__name`` for the first class alone).
**kwargs : dict
    Routed parameters, set in the constructor, `set_params` or a grid
    search like any other: ``optimizer__*`` (options of the optimizer),
    ``fit__*`` (arguments of ``keras.Model.fit``, e.g. ``fit__shuffle``),
    ``predict__batch_size`` and ``callbacks__*``.
"""


def _default_text(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def document_parameters(cls):
    """Put `SHARED_PARAMETERS_DOC`, with `cls`'s defaults, into its docstring.

    The docstring holds the line ``{shared_parameters}`` where the shared
    parameters go; the defaults come from the signature of ``cls.__init__``,
    the one place each of them is written.

    Parameters
    ----------
    cls : type
        A subclass of `BaseKerasClassifier`.

    Returns
    -------
    cls : type
        The same class, documented.
    """
    defaults = {
        name: _default_text(parameter.default)
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    # The marker's indentation is the docstring's: none from Python 3.13 on,
    # which strips docstrings' common indentation.
    indent, marker, _ = cls.__doc__.partition("{shared_parameters}\n")
    indent = indent[indent.rindex("\n") + 1 :]
    lines = SHARED_PARAMETERS_DOC.format(
        **defaults, **_auto_training_facts(cls)
    ).splitlines(keepends=True)
    text = "".join(indent + line if line.strip() else line for line in lines)
    cls.__doc__ = cls.__doc__.replace(indent + marker, text, 1)
    return cls


def _auto_training_facts(cls):
    """The numbers behind "auto" epochs and batch sizes, for the docstrings."""
    low, high = AUTO_BATCH_SIZE_RANGE

    def epochs_on(n_train):
        return auto_epochs(n_train, auto_batch_size(n_train), cls._large_data_epochs)

    return dict(
        auto_steps=AUTO_TRAINING_STEPS,
        auto_max_epochs=AUTO_MAX_EPOCHS,
        large_data_epochs=cls._large_data_epochs,
        auto_epochs_500=epochs_on(500),
        auto_epochs_10000=epochs_on(10_000),
        auto_epochs_60000=epochs_on(60_000),
        auto_steps_per_epoch=AUTO_STEPS_PER_EPOCH,
        auto_min_batch=low,
        auto_max_batch=high,
        auto_min_batch_up_to=f"{(low + 1) * AUTO_STEPS_PER_EPOCH - 1:,}",
        auto_max_batch_from=f"{high * AUTO_STEPS_PER_EPOCH:,}",
    )


class BaseKerasClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn classifier around a Keras network built by a subclass.

    Subclasses store their parameters in ``__init__`` with
    `_set_parameters`, and implement ``_build_network(seed, n_samples)``,
    returning an uncompiled ``keras.Model`` from flat rows of
    ``n_features_in_`` pixels to ``n_classes_`` softmax outputs, for a fit
    on `n_samples` samples.
    """

    # The fewest epochs that epochs="auto" takes: what the network needs on a
    # data set as large as MNIST's 60,000 images. Subclasses set their own.
    _large_data_epochs = 5

    # Set by a fit (`_record`); declared for type checkers only: no value
    # here, so an unfitted classifier has none of them.
    model_: "Model"
    history_: dict[str, list[float]]
    n_iter_: int

    # The parameters every classifier shares, checked at fit; subclasses add
    # their own.
    _parameter_constraints = {
        "augment": ["boolean", dict],
        "epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"one-cycle", "constant"})],
        "steps_per_execution": [Interval(Integral, 1, None, closed="left")],
        "dtype_policy": [StrOptions({"auto", *DTYPE_POLICIES})],
        "optimizer": [str, type, keras.optimizers.Optimizer],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
        "init_model": [HasMethods(["predict_proba"]), str, os.PathLike, None],
        "feature_lr_scale": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, keras.callbacks.Callback, None],
    }

    def _set_parameters(self, parameters):
        """Store ``__init__``'s arguments, and the routed ones in ``kwargs``."""
        routed = parameters.pop("kwargs")
        for name, value in parameters.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)
        self.__dict__.update(routed)

    # -- scikit-learn protocol -------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get the parameters of this classifier, the routed ones included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of estimators among the parameters
            (an `init_model`).

        Returns
        -------
        params : dict
            Parameter names mapped to their values; routed parameters
            (``optimizer__momentum``...) under their full names.
        """
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params: Any) -> Self:
        """Set the parameters of this classifier, routed ones included.

        Parameters
        ----------
        **params : dict
            Parameters by name, e.g. ``epochs=10`` or
            ``optimizer__momentum=0.9``.

        Returns
        -------
        self : object
            The classifier.
        """
        own = {}
        for key, value in params.items():
            if key.partition("__")[0] in ROUTING_PREFIXES:
                setattr(self, key, value)
            else:
                own[key] = value
        if own:
            super().set_params(**own)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # images (n, height, width)
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        **fit_params: Any,
    ) -> Self:
        """Train a new network on `X`, `y`; with `warm_start`, the fitted one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Training images, as flat rows of pixels or as images.
        y : array-like of shape (n_samples,)
            Class labels (ints or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; multiplied by the weights that
            `class_weight` gives. Samples of zero weight are left out.
        **fit_params : dict
            Passed on to ``keras.Model.fit``. Prefer ``fit__name`` parameters.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(
            X, y, sample_weight=sample_weight, fit_params=fit_params, incremental=False
        )

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        **fit_params: Any,
    ) -> Self:
        """Train for one more epoch, keeping the weights learned so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Training images.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes, needed on the first call if `y` lacks some.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.
        **fit_params : dict
            Passed on to ``keras.Model.fit``.

        Returns
        -------
        self : object
            The updated classifier.
        """
        for name in ("epochs", "initial_epoch"):
            if name in fit_params:
                raise TypeError(
                    f"partial_fit trains one epoch from where the last ended; "
                    f"it takes no {name!r}. Call fit for more epochs."
                )
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            classes=classes,
            fit_params=fit_params,
            incremental=True,
        )

    def _fit(self, X, y, *, sample_weight, fit_params, incremental, classes=None):
        """The one fit behind `fit` and `partial_fit`, stage by stage."""
        self._check_params()
        keep_network = (incremental or self.warm_start) and hasattr(self, "model_")
        fit_args = self._keras_fit_arguments(fit_params)
        if incremental:
            # One epoch, numbered after those the kept network has trained;
            # the schedule of a new network spans `epochs` such calls.
            epochs, initial_epoch = 1, self.n_iter_ if keep_network else 0
            schedule_epochs = self.epochs
            fit_args.pop("epochs", None)
            fit_args.pop("initial_epoch", None)
        else:
            epochs = schedule_epochs = fit_args.pop("epochs", self.epochs)
            initial_epoch = fit_args.pop("initial_epoch", 0)
        seed = fit_seed(self.random_state)
        with (
            self._unchanged_on_failure(),
            quiet(self.verbose),
            custom_gradients_released(),
        ):
            X, y = self._check_data(X, y, reset=not keep_network)
            if not keep_network:
                self.classes_ = self._class_labels(y, classes)
                self.n_classes_ = len(self.classes_)
            codes = self._encode_labels(y)
            X, codes, weights = self._training_weights(X, y, codes, sample_weight)
            network = self.model_ if keep_network else self._new_network(seed, len(X))
            history, batch_size = self._train(
                network,
                X,
                codes,
                weights,
                seed=seed,
                epochs=epochs,
                schedule_epochs=schedule_epochs,
                initial_epoch=initial_epoch,
                new_network=not keep_network,
                fit_args=fit_args,
            )
            self._record(
                network,
                history,
                batch_size=batch_size,
                go_on=keep_network and initial_epoch > 0,
            )
        return self

    # -- 1. Checking the data ------------------------------------------------------

    def _check_data(self, X, y="no_validation", *, reset):
        """`X` as float32 rows of pixels, and `y` checked, if given.

        With `reset`, sets ``n_features_in_`` and ``feature_names_in_`` (and
        what `_check_sample_shape` sets); otherwise checks `X` against them.
        Returns ``(X, y)``.
        """
        X = as_array(X, self)
        X_shape = tuple(getattr(X, "shape", ()))
        X = _images_as_rows(X)
        checks = dict(dtype=np.float32, accept_sparse=False, reset=reset)
        if isinstance(y, str) and y == "no_validation":
            X = check_pixels(self, X, **checks)
        else:
            if y is not None:  # before scikit-learn's checks, whose words vary
                check_no_missing_labels(y)
            # With y=None, validate_data itself says that y is required.
            X, y = check_pixels(self, X, y, **checks)
            y = check_labels(self, y)
        self._check_sample_shape(X_shape, reset=reset)
        return X, y

    def _check_sample_shape(self, X_shape, *, reset):
        """Check `X`'s shape as given, before flattening; subclasses that care do."""

    # -- 2. Labels and weights -----------------------------------------------------

    def _class_labels(self, y, classes):
        """The sorted classes of a new network: `classes` if given, else `y`'s."""
        if classes is None:
            return np.unique(y)
        classes = np.unique(np.asarray(classes))
        missing = np.setdiff1d(np.unique(y), classes)
        if missing.size:
            raise ValueError(
                f"y has labels that are not in classes: {missing.tolist()[:10]}. "
                "Pass every class that any partial_fit call will see."
            )
        return classes

    def _encode_labels(self, y):
        """Each label of `y` as its index in `classes_`."""
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        codes = np.array([index.get(label, -1) for label in y.tolist()])
        if (codes < 0).any():
            unknown = sorted({str(label) for label in y[codes < 0].tolist()})
            raise ValueError(
                f"y has labels that {type(self).__name__} was not fitted with: "
                f"{', '.join(unknown[:10])}. The classes are fixed when a network "
                "is built: fit a new one (warm_start=False), or pass every class "
                "to the first partial_fit call."
            )
        return codes.astype(np.int64)

    def _training_weights(self, X, y, codes, sample_weight):
        """``(X, codes, weights)``: weights from `sample_weight` and `class_weight`.

        The weights are None when neither is set. Samples of zero weight are
        dropped, as scikit-learn's estimators ignore them; the caller's
        `sample_weight` is never changed.
        """
        if sample_weight is None and self.class_weight is None:
            return X, codes, None
        weights = np.array(
            _check_sample_weight(sample_weight, X, dtype=np.float64), copy=True
        )
        if self.class_weight is not None:
            weights *= compute_sample_weight(self.class_weight, y)
        if not weights.any():
            raise ValueError(
                "Every sample has a weight of zero: there is nothing to train on. "
                "Give some samples a positive sample_weight."
            )
        kept = weights != 0
        if kept.all():
            return X, codes, weights.astype(np.float32)
        return X[kept], codes[kept], weights[kept].astype(np.float32)

    # -- 3. The network ------------------------------------------------------------

    def _new_network(self, seed, n_samples):
        """A new compiled network: built for `n_samples`, or copied from init_model."""
        if self.init_model is None:
            network = self._build_network(seed, n_samples)
        else:
            source, source_classes = self._fine_tuning_source()
            network = starting_network(source, source_classes, self.classes_, seed)
            if self.feature_lr_scale == 0:
                freeze_features(network)
        options = {"learning_rate": self.learning_rate, **self._routed("optimizer")}
        network.compile(
            optimizer=make_optimizer(self.optimizer, options),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=self.steps_per_execution,
        )
        if self.init_model is not None and 0 < self.feature_lr_scale < 1:
            slow_down_features(network, self.feature_lr_scale)
        return network

    def _fine_tuning_source(self):
        """`init_model`'s fitted network and classes, checked against `X`'s size."""
        name = type(self).__name__
        model = self.init_model
        if isinstance(model, (str, os.PathLike)):
            network, classes, n_features = read_fine_tuning_source(model)
        else:
            if isinstance(model, FrozenEstimator):
                model = model.estimator
            if hasattr(model, "steps"):
                model = model.steps[-1][1]
            if not isinstance(model, BaseKerasClassifier):
                raise ValueError(
                    f"{name}'s init_model must be a fitted CNNClassifier or "
                    "MLPClassifier, a Pipeline ending in one, or the path of a file "
                    f"written by mnistkit.save_model; got {type(model).__name__}."
                )
            if not hasattr(model, "model_"):
                # What GridSearchCV and cross_val_score pass on: clone()
                # unfits every estimator among the parameters.
                raise ValueError(
                    f"{name}'s init_model is an unfitted {type(model).__name__}. "
                    "Fit it first; in a grid search or cross-validation, which "
                    "clone it, wrap it in sklearn.frozen.FrozenEstimator or pass "
                    "the path of a file written by mnistkit.save_model."
                )
            network, classes, n_features = (
                model.model_,
                model.classes_,
                model.n_features_in_,
            )
        if n_features != self.n_features_in_:
            raise ValueError(
                f"{name}'s init_model was fitted on {n_features} pixels per "
                f"image, but X has {self.n_features_in_}. Bring the images to the "
                "same size first, e.g. with DigitCenterer(output_size=...)."
            )
        return network, classes

    # -- 4. Training ---------------------------------------------------------------

    def _train(
        self,
        network,
        X,
        y,
        weights,
        *,
        seed,
        epochs,
        schedule_epochs,
        initial_epoch,
        new_network,
        fit_args,
    ):
        """Run ``keras.Model.fit`` on batches drawn from `seed`.

        `epochs`, `schedule_epochs` (those the learning-rate schedule of a
        new network spans) and the ``batch_size`` of `fit_args` may be
        "auto", decided here from the rows left to train on. Returns the
        history and the batch size.
        """
        batch_size = fit_args.pop("batch_size")
        shuffle = fit_args.pop("shuffle", True)
        split = fit_args.pop("validation_split", 0.0)
        callbacks = [*self._callbacks(), *(fit_args.pop("callbacks", None) or [])]
        arrays = (X, y) if weights is None else (X, y, weights)
        fraction = self._validation_fraction()
        if fraction:
            arrays, fit_args["validation_data"] = hold_out(arrays, fraction, seed)
        elif split and fit_args.get("validation_data") is None:
            arrays, fit_args["validation_data"] = split_off_last(arrays, split)
        n_train = len(arrays[0])
        if batch_size == "auto":
            batch_size = auto_batch_size(n_train)
        decided = auto_epochs(n_train, batch_size, self._large_data_epochs)
        if epochs == "auto":
            epochs = decided
        if schedule_epochs == "auto":
            schedule_epochs = decided
        fit_args.setdefault("validation_batch_size", batch_size)
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=self.n_iter_no_change,
                    restore_best_weights=True,
                )
            )
        if new_network:
            self._start_learning_rate_schedule(
                network, math.ceil(n_train / batch_size) * schedule_epochs
            )
        # Keras would shuffle with TensorFlow's process-wide seed; these
        # batches come from the fit's own (see mnistkit._training).
        batches, epoch_counter = seeded_batches(
            arrays, batch_size, seed, shuffle=bool(shuffle)
        )
        callbacks += [epoch_counter, StopOnDivergence(type(self).__name__)]
        with self._trainer_of(network, new_network, seed, len(X)) as trainer:
            history = trainer.fit(
                batches,
                epochs=initial_epoch + epochs,
                initial_epoch=initial_epoch,
                shuffle=False,  # the batches come shuffled
                callbacks=callbacks,
                **fit_args,
            )
        for callback in callbacks:
            # Keras leaves each callback holding the network it trained. The
            # user's callbacks are parameters, which a fit leaves as it found
            # them: holding no network, they clone, pickle and store with
            # skops without a copy of it (skops cannot walk one).
            callback.set_model(None)
        return history.history, batch_size

    def _trainer_of(self, network, new_network, seed, n_samples):
        """What trains `network`: a kept trainer of its structure, or itself.

        A new network borrows a trainer whose training step is traced
        already (see `mnistkit._trainers`); a kept network (`warm_start`,
        `partial_fit`) or one fine-tuned from `init_model` trains itself.
        """
        if not new_network or self.init_model is not None:
            return contextlib.nullcontext(network)
        return lent_trainer(network, lambda: self._new_network(seed, n_samples))

    def _keras_fit_arguments(self, fit_params):
        """Arguments for ``keras.Model.fit``: ours, routed ``fit__*``, `fit_params`."""
        arguments = {"batch_size": self.batch_size, "verbose": self.verbose}
        arguments.update(self._routed("fit"))
        arguments.update(fit_params)
        return {
            key: value
            for key, value in arguments.items()
            if value is not None and key != "sample_weight"
        }

    def _callbacks(self):
        """`callbacks` as instances: classes built with ``callbacks__*`` options."""
        callbacks = self.callbacks
        if callbacks is None:
            return []
        if isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        options = self._routed("callbacks")
        shared = {key: value for key, value in options.items() if "__" not in key}
        built = []
        for index, callback in enumerate(callbacks):
            own = {
                key.partition("__")[2]: value
                for key, value in options.items()
                if key.partition("__")[0] == str(index)
            }
            if isinstance(callback, type):
                callback = callback(**{**shared, **own})
            elif own:
                raise ValueError(
                    f"callbacks[{index}] is an instance, but routed parameters "
                    f"callbacks__{index}__... set arguments of a class; give the "
                    "class, or set the instance's arguments yourself."
                )
            built.append(callback)
        return built

    def _validation_fraction(self):
        if self.validation_fraction is not None:
            return self.validation_fraction
        return 0.1 if self.early_stopping else 0.0

    def _start_learning_rate_schedule(self, network, total_steps):
        """Give a new network's optimizer the one-cycle schedule.

        The cycle spans `total_steps`: the epochs planned, over the rows left
        after the validation split and the dropping of zero-weight samples.
        """
        if (
            self.learning_rate_schedule != "one-cycle"
            or "learning_rate" in self._routed("optimizer")
        ):
            return
        network.optimizer.learning_rate = one_cycle_schedule(
            self.learning_rate, total_steps
        )

    # -- 5. Recording ----------------------------------------------------------------

    def _record(self, network, history, *, batch_size, go_on):
        """Set `model_`, `history_`, `n_iter_` and `batch_size_` after a fit.

        `history_` goes on after the previous epochs if `go_on`.
        `history_` is a new dict: the previous one stays as it was, for
        `_unchanged_on_failure`.
        """
        merged = dict(self.history_) if go_on else {}
        for key, values in history.items():
            merged[key] = [*merged.get(key, []), *values]
        self.model_ = network
        self.history_ = merged
        self.n_iter_ = len(merged["loss"])
        self.batch_size_ = batch_size
        self._forward = (network, _traced_forward_pass(network, self.n_features_in_))

    # -- Prediction ------------------------------------------------------------------

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predict the probability of each class for each sample of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Images to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of `classes_`; each row sums to 1.
        """
        check_is_fitted(self)
        X, _ = self._check_data(X, reset=False)
        forward = self._forward_pass()
        # Routed parameters are attributes; get_params would cost more than
        # predicting one image.
        batch_size = vars(self).get("predict__batch_size") or PREDICT_BATCH_SIZE
        with quiet(self.verbose):
            proba = np.concatenate(
                [
                    forward(X[start : start + batch_size]).numpy()
                    for start in range(0, len(X), batch_size)
                ]
            )
        # The softmax is float32; rows then sum to 1 only to about 1e-7.
        proba = proba.astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predict the class of each sample of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Images to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample, from `classes_`.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _forward_pass(self):
        """The network's inference pass, traced once for inputs of any size.

        Made by each fit; made here only for a network set from outside (a
        loaded or unpickled classifier, or a replaced ``model_``).
        """
        model, forward = self.__dict__.get("_forward", (None, None))
        if model is not self.model_:
            forward = _traced_forward_pass(self.model_, self.n_features_in_)
            self._forward = (self.model_, forward)
        return forward

    # -- Pickling and skops ----------------------------------------------------------

    def __getstate__(self):
        # The network travels as the bytes of its .keras file, as save_model
        # stores it: skops, which cannot walk a Keras model, stores bytes, and
        # __setstate__ loads them in Keras's safe mode whoever wrote them. The
        # traced forward pass is rebuilt at the first prediction. (The state
        # from object.__getstate__ is our live __dict__: filter, never pop.)
        state = {
            key: value
            for key, value in super().__getstate__().items()
            if key != "_forward"
        }
        if "model_" in state:
            state["model_"] = network_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            source = f"The state of this {type(self).__name__}"
            state = {**state, "model_": network_from_bytes(state["model_"], source)}
        super().__setstate__(state)

    # -- Parameters ------------------------------------------------------------------

    def _routed_params(self):
        """The parameters set through ``**kwargs``, by name: ``prefix__name``.

        Any other name given there is kept too, as scikit-learn's checks
        expect of the constructor and `set_params`, and refused at fit.
        """
        own = self._get_param_names()
        return {
            key: value
            for key, value in vars(self).items()
            if key not in own and not key.startswith("_") and not key.endswith("_")
        }

    def _routed(self, prefix):
        """The routed parameters of `prefix`, by the name after ``prefix__``."""
        start = f"{prefix}__"
        return {
            key.removeprefix(start): value
            for key, value in self._routed_params().items()
            if key.startswith(start)
        }

    def _check_params(self):
        """Check parameters at fit, as scikit-learn does, naming the bad value."""
        name = type(self).__name__
        if isinstance(self.learning_rate, str):
            # scikit-learn's MLPClassifier names its schedule learning_rate.
            raise ValueError(
                f"{name}'s learning_rate is the step size, a positive float; got "
                f"{self.learning_rate!r}. The schedule is learning_rate_schedule: "
                "'one-cycle' or 'constant', e.g. "
                f"{name}(learning_rate=0.001, learning_rate_schedule='constant')."
            )
        self._validate_params()
        for key in self._routed_params():
            if key.partition("__")[0] not in ROUTING_PREFIXES:
                prefixes = ", ".join(f"{prefix}__" for prefix in ROUTING_PREFIXES)
                raise ValueError(
                    f"{name} got an unknown parameter {key!r}. Routed parameters "
                    f"start with one of {prefixes}; see get_params() for the others."
                )

    # -- Failure ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _unchanged_on_failure(self):
        """Leave the classifier as it was if the fit fails or is interrupted.

        A fit that raises, or that Ctrl-C (``KeyboardInterrupt``) stops, gives
        back the attributes of the previous fit, or none: a new network is
        simply dropped, and a network trained in place (`warm_start`,
        `partial_fit`) gets its weights and optimizer state back.
        """
        saved = dict(vars(self))
        network = saved.get("model_")
        if network is not None:
            weights = network.get_weights()
            optimizer = getattr(network, "optimizer", None)
            optimizer_state = [
                variable.numpy() for variable in getattr(optimizer, "variables", [])
            ]
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if network is not None:
                network.set_weights(weights)
                variables = getattr(optimizer, "variables", [])
                if len(variables) == len(optimizer_state):
                    for variable, value in zip(variables, optimizer_state, strict=True):
                        variable.assign(value)
            raise


def _images_as_rows(X):
    """Flatten (n, height, width[, channels]) arrays into rows of pixels."""
    if getattr(X, "ndim", 2) <= 2:  # sparse matrices too: always 2-D
        return X
    X = np.asarray(X)
    return X.reshape(len(X), math.prod(X.shape[1:]))


def _traced_forward_pass(model, n_features):
    """`model`'s inference pass as one graph for any number of rows.

    One input signature with any number of rows: calls of every batch size
    reuse one graph (no retracing, flat memory). It reads the network's
    variables, so later training is seen.
    """
    spec = tf.TensorSpec([None, n_features], tf.float32)

    @tf.function(input_signature=[spec], autograph=False)
    def forward(rows):
        return tf.cast(model(rows, training=False), tf.float32)

    return forward
