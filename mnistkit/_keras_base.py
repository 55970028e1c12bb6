"""The estimator base: a scikeras ``KerasClassifier`` that behaves as scikit-learn's.

scikeras's ``KerasClassifier`` gives us parameter routing (``optimizer__...``,
``fit__...``, ``callbacks__...``), label encoding and the training loop. On its
own it is not yet a well-behaved scikit-learn classifier, and this module corrects
that in one place:

- tags: scikeras puts ``ClassifierMixin`` after ``BaseEstimator``, so
  ``is_classifier`` is False on scikit-learn >= 1.7 and cross-validation stops
  stratifying. We declare the classifier tags ourselves.
- input checks: scikit-learn's ``validate_data`` (sparse, NaN, empty input,
  feature counts and names), image arrays flattened to rows.
- seeding: scikeras seeds through TensorFlow's process-wide state, and leaves
  its op determinism switched on, so a later unseeded fit crashes. Every
  random draw of our fits comes from the fit's own seed, the batches' order
  included: fits in threads of one process are reproducible, and the
  caller's random state is never read or changed.
- parameters: checked at fit, naming the bad value; routed ``prefix__name``
  parameters work in ``set_params`` as in the constructor.
- pickling: scikeras replaces Keras's pickling hooks at import time; we put
  Keras's own back, which pickle models natively since Keras 3.
- early stopping on a stratified, seeded validation split, as scikit-learn's
  ``MLPClassifier`` does, and a learning-rate schedule that spans the rows
  really trained on.
- prediction: ``keras.Model.predict`` builds a data pipeline on every call;
  we call one traced forward pass instead, so that predicting one image costs
  little more than the network's own arithmetic.

TensorFlow's process settings are in `mnistkit._runtime`, the training policy
(optimizer, schedule, held-out data) in `mnistkit._training`.
"""

import contextlib
import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._fine_tuning import freeze_features, slow_down_features, starting_network
from ._hardware import native_bfloat16
from ._runtime import custom_gradients_released, keras, quiet, tf
from ._training import (
    StopOnDivergence,
    fit_seed,
    hold_out,
    make_optimizer,
    one_cycle_schedule,
    seeded_batches,
    split_off_last,
)
from ._validation import (
    as_array,
    check_labels,
    check_no_missing_labels,
    check_pixels,
)

# scikeras assigns these at import; Keras 3 already pickles models itself.
_KERAS_HOOKS = [
    (keras.Model, "__reduce__"),
    (keras.Model, "__deepcopy__"),
    (keras.losses.Loss, "__reduce__"),
    (keras.metrics.Metric, "__reduce__"),
    (keras.optimizers.Optimizer, "__reduce__"),
]
_keras_own_hooks = [(cls, name, vars(cls).get(name)) for cls, name in _KERAS_HOOKS]
from scikeras._utils import route_params  # noqa: E402
from scikeras.utils import metric_name  # noqa: E402
from scikeras.utils.transformers import ClassifierLabelEncoder  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402

for _cls, _name, _own in _keras_own_hooks:
    if _own is not None:
        setattr(_cls, _name, _own)
    elif _name in vars(_cls):
        delattr(_cls, _name)

__all__ = ["BaseKerasClassifier"]

# Rows per call of the forward pass when `predict__batch_size` is not set:
# large enough to keep the CPU's cores busy, small enough that a CNN's
# activations stay within a few hundred MB.
PREDICT_BATCH_SIZE = 1024


def _own_sample_weight(sample_weight, X):
    """`sample_weight` checked against `X`, as a fresh float array (or None).

    Fresh because scikeras multiplies class weights into it in place, which
    must not reach the caller's array.
    """
    if sample_weight is None:
        return None
    return _check_sample_weight(np.array(sample_weight, dtype=np.float64), X)


class BaseKerasClassifier(KerasClassifier):
    """scikit-learn classifier around a Keras network built by a subclass.

    Subclasses store their parameters in ``__init__`` (plus routed
    ``prefix__name`` keyword arguments) and implement ``_build_network()``,
    returning an uncompiled ``keras.Model`` from flat rows of
    ``n_features_in_`` pixels to ``n_classes_`` softmax outputs.
    """

    # Routed parameters (``prefix__name``) that reach a destination in our
    # classes; scikeras's own list also names destinations we do not have.
    _routing_prefixes = frozenset({"optimizer", "fit", "predict", "callbacks"})

    # -- scikit-learn protocol -------------------------------------------------

    def __sklearn_tags__(self):
        # BaseEstimator's tags come first in scikeras's MRO and do not chain to
        # ClassifierMixin's, so we set what ClassifierMixin would have.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # scikeras's __repr__ prints one parameter a line with tabs.
    __repr__ = BaseEstimator.__repr__

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new network and train it on `X`, `y`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Training images, as flat rows of pixels or as images.
        y : array-like of shape (n_samples,)
            Class labels (ints or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; multiplied by the weights that
            `class_weight` gives.
        **kwargs : dict
            Passed on to ``keras.Model.fit``. Prefer ``fit__name`` parameters.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._check_params()
        sample_weight = _own_sample_weight(sample_weight, X)
        with self._unchanged_on_failure(), self._fit_context():
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
            self._new_forward_pass()
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
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
        **kwargs : dict
            Passed on to ``keras.Model.fit``.

        Returns
        -------
        self : object
            The updated classifier.
        """
        self._check_params()
        sample_weight = _own_sample_weight(sample_weight, X)
        with self._unchanged_on_failure(), self._fit_context():
            super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )
            self._new_forward_pass()
        return self

    def predict_proba(self, X):
        """Class probabilities for each sample of `X`.

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
        with quiet(self.verbose):
            proba = self._predict_raw(X)
        # The softmax is float32; rows then sum to 1 only to about 1e-7.
        proba = np.asarray(proba, dtype=np.float64).reshape(len(proba), -1)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
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

    def score(self, X, y, sample_weight=None):
        """Return the mean accuracy of `predict` on `X` against `y`.

        scikit-learn's ``ClassifierMixin.score``. scikeras's own `score`
        computes the same accuracy, but first checks `y` as training labels
        and drops the samples of zero weight from `X` itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Test images.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            The fraction of samples whose class `predict` gets right.
        """
        return ClassifierMixin.score(self, X, y, sample_weight=sample_weight)

    # -- Hooks that scikeras calls ----------------------------------------------

    def _predict_raw(self, X, **kwargs):
        # scikeras's own checks, then our forward pass for its model_.predict.
        X, _ = self._validate_data(X=X, y=None)
        X = self.feature_encoder_.transform(X)
        forward = self._forward_pass()
        batch_size = kwargs.get("batch_size") or self._prediction_batch_size()
        if batch_size == -1:  # scikeras's "all rows at once"
            batch_size = len(X)
        outputs = [
            forward(X[start : start + batch_size]).numpy()
            for start in range(0, len(X), batch_size)
        ]
        return np.concatenate(outputs)

    @property
    def _random_state(self):
        # scikeras seeds through a context that leaves TensorFlow's op determinism
        # switched on for the rest of the process. We seed in `fit` (see
        # `_fit_context`), so scikeras must never see a seed.
        return None

    @_random_state.setter
    def _random_state(self, value):
        pass

    def _check_model_param(self):
        return self._keras_build_fn

    def _keras_build_fn(self, compile_kwargs):
        if self.init_model is None:
            model = self._build_network()
        else:
            model = starting_network(self.init_model, self, self._network_seed())
            if self.feature_lr_scale == 0:
                freeze_features(model)
        model.compile(**compile_kwargs)
        if self.init_model is not None and 0 < self.feature_lr_scale < 1:
            slow_down_features(model, self.feature_lr_scale)
        # A new network: its one-cycle schedule starts at its first fit.
        self._new_network = True
        return model

    def _get_compile_kwargs(self):
        return {
            "optimizer": self._make_optimizer(),
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
            "steps_per_execution": self.steps_per_execution,
        }

    @property
    def target_encoder(self):
        categories = "auto" if self.classes_ is None else [self.classes_]
        return ClassifierLabelEncoder(
            loss="sparse_categorical_crossentropy", categories=categories
        )

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        X = self._images_as_rows(as_array(X, self))
        checks = dict(dtype=np.float32, accept_sparse=False, reset=reset)
        if y is None and not reset:
            return check_pixels(self, X, **checks), None
        if y is not None:  # before scikit-learn's checks, whose words vary
            check_no_missing_labels(y)
        # With y=None, validate_data itself says that y is required.
        X, y = check_pixels(self, X, y, **checks)
        return X, check_labels(self, y)

    def _initialize_callbacks(self):
        super()._initialize_callbacks()
        if self.early_stopping:
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=self.n_iter_no_change,
                restore_best_weights=True,
            )
            self._fit_callbacks = [*self._fit_callbacks, stopper]

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        # scikeras's own version passes the arrays to keras.Model.fit, which
        # shuffles them with TensorFlow's process-wide seed; here the batches
        # come from the fit's own seed (see mnistkit._training.seeded_batches).
        fit_args = self._keras_fit_arguments(kwargs)
        batch_size = fit_args.pop("batch_size", None) or self.batch_size
        if batch_size == -1:  # scikeras's "all rows at once"
            batch_size = len(X)
        shuffle = fit_args.pop("shuffle", True)
        split = fit_args.pop("validation_split", 0.0)
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        fraction = self._validation_fraction()
        if fraction:
            arrays, fit_args["validation_data"] = hold_out(
                arrays, fraction, self._seed_of_this_fit
            )
        elif split and fit_args.get("validation_data") is None:
            arrays, fit_args["validation_data"] = split_off_last(arrays, split)
        fit_args.setdefault("validation_batch_size", batch_size)
        if self.__dict__.pop("_new_network", False):
            self._start_learning_rate_schedule(len(arrays[0]), batch_size)
        batches, epoch_counter = seeded_batches(
            arrays, batch_size, self._seed_of_this_fit, shuffle=bool(shuffle)
        )
        history = self.model_.fit(
            batches,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the batches come shuffled
            callbacks=[
                *self._fit_callbacks,
                epoch_counter,
                StopOnDivergence(type(self).__name__),
            ],
            **fit_args,
        )
        go_on = warm_start and initial_epoch > 0 and hasattr(self, "history_")
        self._record_history(history.history, go_on)

    def _keras_fit_arguments(self, kwargs):
        """The arguments for ``keras.Model.fit``: routed ``fit__*``, then `kwargs`.

        As scikeras gathers them, but the epochs and callbacks, which
        `_fit_keras_model` sets itself.
        """
        fit_args = route_params(
            self.get_params(), destination="fit", pass_filter=self._fit_kwargs
        )
        fit_args.update(kwargs)
        return {
            key: value
            for key, value in fit_args.items()
            if not key.startswith("callbacks")
            and key not in ("epochs", "initial_epoch", "sample_weight")
            and value is not None
        }

    def _record_history(self, history, go_on):
        """Set `history_`: this fit's epochs, after the previous ones if `go_on`.

        As scikeras keeps it (across `partial_fit` calls, epochs add up), but
        in a new dict: the previous one stays as it was, for
        `_unchanged_on_failure`.
        """
        history_ = dict(self.history_) if go_on else {}
        for key, values in history.items():
            if not (key == "loss" or key.startswith("val_")):
                with contextlib.suppress(ValueError):  # a custom metric's name
                    key = metric_name(key)
            history_[key] = [*history_.get(key, []), *values]
        self.history_ = history_
        self.n_iter_ = len(history_["loss"])

    # -- Pickling ----------------------------------------------------------------

    def __getstate__(self):
        # Callbacks hold the trained model, and early stopping a copy of its
        # weights; they are rebuilt from the parameters when loaded. (The state
        # from object.__getstate__ is our live __dict__: filter, never pop.)
        return {
            key: value
            for key, value in super().__getstate__().items()
            if key not in ("_fit_callbacks", "_predict_callbacks", "_forward")
        }

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            self._initialize_callbacks()
            self._new_forward_pass()

    # -- Saving without pickle (see mnistkit.persistence) ---------------------------

    # Fitted attributes rebuilt on loading rather than stored (private ones,
    # the callbacks and the forward pass, are never stored).
    _rebuilt_attributes = frozenset({"model_", "target_encoder_", "feature_encoder_"})

    def _saved_state(self):
        """This classifier's parameters, and its fitted attributes but the network.

        Returns ``(params, fitted)``; `fitted` is None when unfitted.
        """
        params = self.get_params(deep=False)
        if not hasattr(self, "model_"):
            return params, None
        fitted = {
            key: value
            for key, value in vars(self).items()
            if key not in params
            and key not in self._rebuilt_attributes
            and not key.startswith("_")
        }
        return params, fitted

    @classmethod
    def _from_saved_state(cls, params, fitted, network):
        """The classifier `_saved_state` described, with its Keras `network`."""
        clf = cls(**params)
        if fitted is None:
            return clf
        vars(clf).update(fitted)
        # As scikeras's fit sets them up, from the classes and pixel count.
        clf.target_encoder_ = clf.target_encoder.fit(np.asarray(clf.classes_))
        rows = np.zeros((1, clf.n_features_in_), dtype=np.float32)
        clf.feature_encoder_ = clf.feature_encoder.fit(rows)
        clf.model_ = network
        clf._initialize_callbacks()
        clf._new_forward_pass()
        return clf

    # -- Helpers -------------------------------------------------------------------

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
            vars(self).clear()
            vars(self).update(saved)
            if network is not None:
                network.set_weights(weights)
                variables = getattr(optimizer, "variables", [])
                if len(variables) == len(optimizer_state):
                    for variable, value in zip(variables, optimizer_state, strict=True):
                        variable.assign(value)
            raise

    @contextlib.contextmanager
    def _fit_context(self):
        # Every random draw of the fit comes from this seed: the network's
        # layers, the batches' order and the validation split. None of it
        # reads or changes the process-wide generators.
        self._seed_of_this_fit = fit_seed(self.random_state)
        try:
            with quiet(self.verbose), custom_gradients_released():
                yield
        finally:
            del self._seed_of_this_fit
            self.__dict__.pop("_new_network", None)

    def _forward_pass(self):
        """The network's inference pass, traced once for inputs of any size.

        Made when the network is (`_new_forward_pass`), so that predicting
        changes nothing in the estimator; made here only if ``model_`` was
        replaced from outside.
        """
        model, forward = self.__dict__.get("_forward", (None, None))
        if model is not self.model_:
            self._new_forward_pass()
            model, forward = self._forward
        return forward

    def _new_forward_pass(self):
        # One input signature with any number of rows: calls of every batch
        # size reuse one graph (no retracing, flat memory). It reads the
        # network's variables, so later training is seen.
        model = self.model_
        spec = tf.TensorSpec([None, self.n_features_in_], tf.float32)

        @tf.function(input_signature=[spec], autograph=False)
        def forward(rows):
            return tf.cast(model(rows, training=False), tf.float32)

        self._forward = (model, forward)

    def _prediction_batch_size(self):
        # Routed parameters are attributes; get_params would cost more than
        # predicting one image.
        return vars(self).get("predict__batch_size") or PREDICT_BATCH_SIZE

    def _network_seed(self):
        """The seed for `_build_network`: this fit's, or None outside a fit."""
        return getattr(self, "_seed_of_this_fit", None)

    def _resolved_dtype_policy(self):
        """`dtype_policy`, with "auto" decided for this machine."""
        if self.dtype_policy != "auto":
            return self.dtype_policy
        on_gpu = bool(tf.config.list_physical_devices("GPU"))
        return "mixed_bfloat16" if native_bfloat16() and not on_gpu else "float32"

    def _images_as_rows(self, X):
        """Flatten (n, height, width[, channels]) arrays into rows of pixels."""
        if getattr(X, "ndim", 2) <= 2:  # sparse matrices too: always 2-D
            return X
        X = np.asarray(X)
        return X.reshape(len(X), math.prod(X.shape[1:]))

    def _validation_fraction(self):
        if self.validation_fraction is not None:
            return self.validation_fraction
        return 0.1 if self.early_stopping else 0.0

    def _optimizer_options(self):
        return {
            key.removeprefix("optimizer__"): value
            for key, value in self.get_params().items()
            if key.startswith("optimizer__")
        }

    def _make_optimizer(self):
        """A new optimizer from `optimizer`, `learning_rate` and ``optimizer__*``."""
        options = {"learning_rate": self.learning_rate, **self._optimizer_options()}
        return make_optimizer(self.optimizer, options)

    def _start_learning_rate_schedule(self, n_train, batch_size):
        """Give a new network's optimizer the one-cycle schedule.

        The cycle spans `epochs` passes over the `n_train` rows trained on:
        those left after the validation split and the dropping of zero-weight
        samples.
        """
        if (
            self.learning_rate_schedule != "one-cycle"
            or "learning_rate" in self._optimizer_options()
        ):
            return
        total_steps = self.epochs * math.ceil(n_train / batch_size)
        self.model_.optimizer.learning_rate = one_cycle_schedule(
            self.learning_rate, total_steps
        )

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
        for key in self.get_params(deep=False):
            if key in self._parameter_constraints:
                continue
            prefix = key.split("__", 1)[0]
            if "__" not in key or prefix not in self._routing_prefixes:
                prefixes = ", ".join(
                    f"{prefix}__" for prefix in sorted(self._routing_prefixes)
                )
                raise ValueError(
                    f"{name} got an unknown parameter {key!r}. Routed parameters "
                    f"start with one of {prefixes}; see get_params() for the others."
                )
