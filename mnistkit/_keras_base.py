"""The one module that knows scikeras, Keras and TensorFlow.

scikeras's ``KerasClassifier`` gives us parameter routing (``optimizer__...``,
``fit__...``, ``callbacks__...``), label encoding and the training loop. On its
own it is not yet a well-behaved scikit-learn classifier, and this module corrects
that in one place:

- tags: scikeras puts ``ClassifierMixin`` after ``BaseEstimator``, so
  ``is_classifier`` is False on scikit-learn >= 1.7 and cross-validation stops
  stratifying. We declare the classifier tags ourselves.
- input checks: scikit-learn's ``validate_data`` (sparse, NaN, empty input,
  feature counts and names), image arrays flattened to rows.
- seeding: scikeras leaves TensorFlow's op determinism switched on, so a later
  unseeded fit crashes. We seed each fit and restore the caller's random state.
- logs: TensorFlow's C++ and retracing messages kept off the terminal.
- pickling: scikeras replaces Keras's pickling hooks at import time; we put
  Keras's own back, which pickle models natively since Keras 3.
- early stopping on a stratified, seeded validation split, as scikit-learn's
  ``MLPClassifier`` does.
"""

import contextlib
import logging
import math
import os
import random
import secrets
import sys

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

# C++ logs below ERROR are noise for users; an explicit setting wins. Errors that
# matter reach Python as exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null, for C++ code that ignores log levels."""
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(devnull)


# TensorFlow prints oneDNN and CUDA notices while it loads, before its logging is
# initialised and whatever TF_CPP_MIN_LOG_LEVEL says (tensorflow#100442).
if "tensorflow" not in sys.modules:
    with _stderr_silenced():
        import tensorflow  # noqa: F401
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# TensorFlow has no public getter for its global seed, which _seeded restores.
from tensorflow.python.eager import context as tf_context  # noqa: E402

# Where tf.custom_gradient registers its gradient functions; see
# _custom_gradients_released.
from tensorflow.python.framework import ops as tf_ops  # noqa: E402

# scikeras assigns these at import; Keras 3 already pickles models itself.
_KERAS_HOOKS = [
    (keras.Model, "__reduce__"),
    (keras.Model, "__deepcopy__"),
    (keras.losses.Loss, "__reduce__"),
    (keras.metrics.Metric, "__reduce__"),
    (keras.optimizers.Optimizer, "__reduce__"),
]
_keras_own_hooks = [(cls, name, vars(cls).get(name)) for cls, name in _KERAS_HOOKS]
from scikeras.utils.transformers import ClassifierLabelEncoder  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402

for _cls, _name, _own in _keras_own_hooks:
    if _own is not None:
        setattr(_cls, _name, _own)
    elif _name in vars(_cls):
        delattr(_cls, _name)

__all__ = ["BaseKerasClassifier", "keras"]

# Routed parameters (``prefix__name``) that reach a destination in our classes.
_ROUTING_PREFIXES = ("optimizer", "fit", "predict", "callbacks")


@contextlib.contextmanager
def _seeded(seed):
    """Seed Python, NumPy and TensorFlow for one fit, then restore their state.

    Keras draws unseeded layer seeds from Python's `random`, and shuffles batches
    with TensorFlow's global seed. Restoring both (and NumPy's) afterwards means a
    fit never changes random state the caller set.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    tensorflow_seed = tf_context.global_seed()
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        tf.random.set_seed(tensorflow_seed)


@contextlib.contextmanager
def _tensorflow_quiet(verbose):
    """Hide TensorFlow's Python warnings (tf.function retracing) unless verbose."""
    logger = tf.get_logger()
    level = logger.level
    if not verbose:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _custom_gradients_released():
    """Unregister the custom gradients that tracing a training step adds.

    Keras's TensorFlow optimizer sums gradients across replicas with
    ``tf.distribute``'s ``all_reduce`` even on one device, which defines a
    ``tf.custom_gradient``. TensorFlow registers each one in a process-wide
    registry and never removes it, and the registered closure keeps the whole
    traced training graph alive: about 13 MiB per fit, for good
    (tensorflow#97697, tensorflow#80895). Nothing differentiates through that
    all-reduce, so the entries that a fit added can go when it ends.
    """
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):  # TensorFlow moved it: leak, but work
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for name in list(registry):
            if name not in before and name.startswith("CustomGradient-"):
                registry.pop(name, None)


def _fit_seed(random_state):
    """An int seed for one fit: fresh entropy for None, no global state used."""
    if random_state is None:
        return secrets.randbelow(2**31 - 1)
    return int(check_random_state(random_state).randint(2**31 - 1))


class BaseKerasClassifier(KerasClassifier):
    """scikit-learn classifier around a Keras network built by a subclass.

    Subclasses store their parameters in ``__init__`` (plus routed
    ``prefix__name`` keyword arguments) and implement ``_build_network()``,
    returning an uncompiled ``keras.Model`` from flat rows of
    ``n_features_in_`` pixels to ``n_classes_`` softmax outputs.
    """

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
        if sample_weight is not None:
            # A fresh float array: scikeras multiplies class weights into it in
            # place, which must not reach the caller's array.
            sample_weight = _check_sample_weight(
                np.array(sample_weight, dtype=np.float64), X
            )
        with self._fit_context():
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
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
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                np.array(sample_weight, dtype=np.float64), X
            )
        with self._fit_context():
            super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )
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
        with _tensorflow_quiet(self.verbose):
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

        scikit-learn's ``ClassifierMixin.score``, which scikeras's own `score`
        would replace with its loss-based one.

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
        model = self._build_network()
        model.compile(**compile_kwargs)
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
        X = self._images_as_rows(X)
        checks = dict(dtype=np.float32, accept_sparse=False, reset=reset)
        if y is None and not reset:
            return validate_data(self, X, **checks), None
        # With y=None, validate_data itself says that y is required.
        X, y = validate_data(self, X, y, **checks)
        check_classification_targets(y)
        if reset:
            # The learning-rate schedule, built with the network, needs this.
            self._n_fit_samples = X.shape[0]
        if reset and np.unique(y).size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but y "
                f"has 1 class: {y[0]}."
            )
        return X, y

    def _initialize_callbacks(self):
        super()._initialize_callbacks()
        if self.early_stopping:
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=self.n_iter_no_change,
                restore_best_weights=True,
            )
            self._fit_callbacks = [*self._fit_callbacks, stopper]

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, **kwargs):
        fraction = self._validation_fraction()
        if fraction:
            # Stratified like scikit-learn's MLPClassifier, and seeded by the fit's
            # seed, so the split is reproducible.
            arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
            split_seed = np.random.RandomState(self._seed_of_this_fit).randint(
                2**31 - 1
            )
            parts = train_test_split(
                *arrays, test_size=fraction, stratify=y, random_state=split_seed
            )
            X, X_val, y, y_val = parts[:4]
            sample_weight = None if sample_weight is None else parts[4]
            kwargs["validation_data"] = (X_val, y_val, *parts[5:])
        super()._fit_keras_model(X, y, sample_weight, warm_start, epochs, **kwargs)
        self.history_ = dict(self.history_)
        self.n_iter_ = len(self.history_["loss"])

    # -- Pickling ----------------------------------------------------------------

    def __getstate__(self):
        # Callbacks hold the trained model, and early stopping a copy of its
        # weights; they are rebuilt from the parameters when loaded. (The state
        # from object.__getstate__ is our live __dict__: filter, never pop.)
        return {
            key: value
            for key, value in super().__getstate__().items()
            if key not in ("_fit_callbacks", "_predict_callbacks")
        }

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            self._initialize_callbacks()

    # -- Helpers -------------------------------------------------------------------

    @contextlib.contextmanager
    def _fit_context(self):
        seed = _fit_seed(self.random_state)
        # The network's layers and the validation split draw from this seed
        # directly: other threads of the process (a Dask worker's event loop)
        # also draw from the global generators that _seeded seeds.
        self._seed_of_this_fit = seed
        try:
            with _seeded(seed):
                with _tensorflow_quiet(self.verbose), _custom_gradients_released():
                    yield
        finally:
            del self._seed_of_this_fit

    def _network_seed(self):
        """The seed for `_build_network`: this fit's, or None outside a fit."""
        return getattr(self, "_seed_of_this_fit", None)

    def _images_as_rows(self, X):
        """Flatten (n, height, width[, channels]) arrays into rows of pixels."""
        if getattr(X, "ndim", 2) <= 2 or issparse(X):
            return X
        X = np.asarray(X)
        return X.reshape(len(X), -1)

    def _validation_fraction(self):
        if self.validation_fraction is not None:
            return self.validation_fraction
        return 0.1 if self.early_stopping else 0.0

    def _make_optimizer(self):
        """A new optimizer from `optimizer`, `learning_rate` and ``optimizer__*``."""
        options = {
            key.removeprefix("optimizer__"): value
            for key, value in self.get_params().items()
            if key.startswith("optimizer__")
        }
        options.setdefault("learning_rate", self._learning_rate_schedule())
        optimizer = self.optimizer
        if isinstance(optimizer, keras.optimizers.Optimizer):
            # Never train with the caller's instance: it would carry state from
            # one fit (and one clone) to the next.
            config = {**optimizer.get_config(), **options}
            return type(optimizer).from_config(config)
        if isinstance(optimizer, type):
            return optimizer(**options)
        return keras.optimizers.get({"class_name": optimizer, "config": options})

    def _learning_rate_schedule(self):
        """`learning_rate`, or the one-cycle schedule peaking at it."""
        if self.learning_rate_schedule == "constant":
            return self.learning_rate
        # One cycle over `epochs` passes over what _fit_keras_model trains on:
        # train_test_split holds out ceil(fraction * n) samples, then Keras's
        # own validation_split, if routed, keeps the first ceil((1 - split) * n).
        n_samples = self._n_fit_samples
        n_train = n_samples - math.ceil(n_samples * self._validation_fraction())
        keras_split = getattr(self, "fit__validation_split", 0.0)
        n_train = math.ceil(n_train * (1 - keras_split))
        total_steps = self.epochs * math.ceil(n_train / self.batch_size)
        warmup_steps = int(0.3 * total_steps)
        # Keras's warm-up then cosine decay is the one-cycle shape: from
        # learning_rate / 25 up to learning_rate, then down to learning_rate / 2500.
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=self.learning_rate / 25,
            warmup_target=self.learning_rate,
            warmup_steps=warmup_steps,
            decay_steps=max(total_steps - warmup_steps, 1),
            alpha=1 / 2500,
        )

    def _check_params(self):
        """Check parameters at fit, as scikit-learn does, naming the bad value."""
        self._validate_params()
        name = type(self).__name__
        for key in self.get_params(deep=False):
            if key in self._parameter_constraints:
                continue
            prefix = key.split("__", 1)[0]
            if "__" not in key or prefix not in _ROUTING_PREFIXES:
                prefixes = ", ".join(f"{prefix}__" for prefix in _ROUTING_PREFIXES)
                raise ValueError(
                    f"{name} got an unknown parameter {key!r}. Routed parameters "
                    f"start with one of {prefixes}; see get_params() for the others."
                )
