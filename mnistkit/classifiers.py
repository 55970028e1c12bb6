"""`CNNClassifier` and `MLPClassifier`: parameters and a network builder each.

All the scikit-learn behaviour (validation, seeding, early stopping, pickling)
lives in :class:`mnistkit._keras_base.BaseKerasClassifier`. Each default lives
in the signature of ``__init__``; the docstrings state them too, and a test
keeps the two the same.
"""

import os
from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._keras_base import BaseKerasClassifier
from ._runtime import keras
from ._validation import as_array
from .architectures import (
    AUGMENT_DEFAULTS,
    CNN_ARCHITECTURES,
    DTYPE_POLICIES,
    build_cnn,
    build_mlp,
)
from .preprocessing import resolve_image_shape

# Parameters shared by both classifiers, checked at fit.
_TRAINING_CONSTRAINTS = {
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "augment": ["boolean", dict],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
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


def _augment_options(estimator):
    """The estimator's `augment` as a dict of non-zero options, or None."""
    augment = estimator.augment
    if augment is False:
        return None
    if augment is True:
        return dict(AUGMENT_DEFAULTS)
    unknown = set(augment) - set(AUGMENT_DEFAULTS)
    if unknown or not all(
        isinstance(value, Real) and value >= 0 for value in augment.values()
    ):
        raise ValueError(
            f"{type(estimator).__name__}'s augment must be True, False or a dict "
            f"of non-negative numbers with keys among {sorted(AUGMENT_DEFAULTS)}; "
            f"got {augment!r}."
        )
    return dict(augment) or None


class CNNClassifier(BaseKerasClassifier):
    """Convolutional neural network classifier for images, on Keras.

    A scikit-learn classifier: it works in Pipelines, grid searches,
    cross-validation, ensembles and calibration like `LogisticRegression`.
    It takes flat rows of pixels (``(n_samples, height * width)``, e.g. the
    Kaggle ``pixel0..pixel783`` columns), or images ``(n_samples, height,
    width[, channels])``. Scale pixels to [0, 1] first, e.g. with
    `PixelNormalizer`.

    The defaults are tuned for speed on a CPU. For the most accuracy, take
    ``architecture="deep"`` with ``augment=True`` and more epochs, or the
    "cnn-accurate" preset of `make_preset`; the documentation's benchmarks
    page gives the measured accuracy and fit time of each.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` of the images, with
        at most one -1 to infer. None takes the shape of image input, or reads
        flat rows as square single-channel images (784 -> 28x28, 64 -> 8x8); any
        other number of features is an error.
    architecture : {"fast", "simple", "lenet5", "deep"}, default="fast"
        The network, from :mod:`mnistkit.architectures`. "fast": a strided
        5x5 convolution, then a narrow 3x3 convolution and pooling, with batch
        normalisation after each, then a dense layer. "simple": the official
        Keras "simple MNIST convnet" example. "lenet5": LeNet-5 with tanh and
        average pooling. "deep": two convolutions per block, then pooling and
        batch normalisation.
    filters : tuple of int or None, default=None
        Filters of each convolution block, in order. None takes the
        architecture's: (16, 32) fast, (32, 64) simple, (6, 16) lenet5 and
        (24, 48) deep.
    dense_units : int, tuple of int or None, default=None
        Units of each dense layer between the convolutions and the output; 0
        for none. None takes the architecture's: 256 fast, 128 deep, none
        simple, (120, 84) lenet5.
    dropout : float or None, default=None
        Dropout rate before each dense layer, the output included; 0 for none.
        None takes the architecture's: 0.25 fast, 0.5 simple, 0 lenet5 and
        0.4 deep.
    augment : bool or dict, default=False
        Randomly rotate, shift and zoom each training image, anew every epoch,
        to learn from more varied digits than the data holds. True uses
        ``{'rotation': 10.0, 'shift': 0.1, 'zoom': 0.1}``:
        degrees of rotation, and shift and zoom as fractions of the image
        size, each up to that much either way. A dict
        gives some of these keys; the others are 0. Only training images are
        changed, never those predicted, and a fixed `random_state` changes them
        the same way on every fit.
    epochs : int, default=5
        Passes over the training data (an upper bound with early stopping).
    batch_size : int, default=256
        Samples per gradient step, and per prediction batch.
    learning_rate : float, default=0.01
        Step size of the optimizer; the peak of the one-cycle schedule.
    learning_rate_schedule : {"one-cycle", "constant"}, default="one-cycle"
        "one-cycle" warms the step size up from ``learning_rate / 25`` over the
        first 30% of the training steps, then anneals it along a cosine to
        ``learning_rate / 2500`` (Smith and Topin, 2019): fewer epochs reach
        the same accuracy. The cycle spans `epochs` passes over the training
        data, across `partial_fit` calls too; a warm-started `fit` keeps the
        schedule of the first. "constant" keeps `learning_rate` throughout.
    steps_per_execution : int, default=8
        Training steps that Keras runs per call into TensorFlow. Small networks
        on a CPU spend much of each step in Python, which running several
        steps per call saves. Callbacks see the batches in groups of this
        many.
    dtype_policy : {"float32", "mixed_bfloat16", "auto"}, default="float32"
        What the layers compute in; the weights stay float32 either way.
        "mixed_bfloat16" computes in bfloat16, which trains faster on CPUs with
        bfloat16 instructions (AVX-512 BF16 or AMX) and slower on others.
        "auto" takes "mixed_bfloat16" on such a CPU, when TensorFlow sees no
        GPU, and "float32" elsewhere. The output layer computes in float32.
    optimizer : str, keras.optimizers.Optimizer class or instance, default="adam"
        Any name ``keras.optimizers.get`` knows. Extra options go in routed
        parameters, e.g. ``optimizer="sgd", optimizer__momentum=0.9``. An instance
        is copied at each fit, never trained in place.
    early_stopping : bool, default=False
        Stop when the loss on a held-out validation set has not improved for
        `n_iter_no_change` epochs, and keep the weights of the best epoch.
    validation_fraction : float or None, default=None
        Fraction of the training data held out, stratified and seeded, to report
        ``val_loss`` and ``val_accuracy`` in `history_` and for early stopping.
        None holds out 0.1 when `early_stopping` is True, and nothing otherwise.
    n_iter_no_change : int, default=5
        Epochs without improvement of the validation loss before stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    warm_start : bool, default=False
        Keep training the fitted network on the next `fit` instead of building
        a new one.
    init_model : estimator, str or path-like, default=None
        Fine-tune: start each new network from a copy of this fitted
        ``CNNClassifier`` or ``MLPClassifier`` (or a Pipeline ending in one,
        or a file written by :func:`~mnistkit.save_model`) instead of new
        weights. Its architecture replaces this classifier's architecture
        parameters; its output layer is kept if the classes are the same and
        replaced by a new one otherwise. The images must have as many pixels
        as those it was fitted on. To save the fine-tuned classifier with
        `save_model`, pass a path here, or set it to None after fitting.
    feature_lr_scale : float, default=1.0
        With `init_model`: the learning rate of the layers before the output
        layer, as a fraction of `learning_rate`. 0 freezes them (training only
        the output layer), 0.1 trains them ten times slower, 1.0 trains every
        layer alike.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: initial weights, dropout,
        augmentation, the batches' order and the validation split. A fit
        reads and changes no global random state (Python's, NumPy's,
        TensorFlow's), so fits in threads are reproducible too. An int gives
        identical results on every fit on the same machine with the same
        TensorFlow thread settings.
    verbose : int, default=0
        0 is silent; 1 shows Keras's progress bar and 2 one line per epoch.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Extra Keras callbacks for fit and predict; routed parameters
        (``callbacks__...``) configure them as in scikeras.
    **kwargs : dict
        Routed parameters for scikeras: ``optimizer__*``, ``fit__*``,
        ``predict__*`` and ``callbacks__*``.

    Attributes
    ----------
    image_shape_ : tuple of (int, int, int)
        ``(height, width, channels)`` of the images the network sees.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features (pixels per sample) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.
    model_ : keras.Model
        The trained network.
    history_ : dict of str to list of float
        Per-epoch ``loss`` and ``accuracy``, and ``val_loss`` and
        ``val_accuracy`` when a validation fraction is held out.
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    MLPClassifier : A fully connected network.
    PixelNormalizer : Scales pixel intensities into [0, 1].

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from mnistkit import CNNClassifier, PixelNormalizer
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(
    ...     PixelNormalizer(max_value=16),
    ...     CNNClassifier(epochs=30, random_state=0),
    ... )
    >>> model.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.85
    True
    >>> model[-1].image_shape_
    (8, 8, 1)
    """

    _parameter_constraints = {
        "image_shape": [tuple, list, None],
        "architecture": [StrOptions(set(CNN_ARCHITECTURES))],
        "filters": [tuple, list, None],
        "dense_units": [Interval(Integral, 0, None, closed="left"), tuple, list, None],
        **_TRAINING_CONSTRAINTS,
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
    }

    def __init__(
        self,
        image_shape=None,
        *,
        architecture="fast",
        filters=None,
        dense_units=None,
        dropout=None,
        augment=False,
        epochs=5,
        batch_size=256,
        learning_rate=0.01,
        learning_rate_schedule="one-cycle",
        steps_per_execution=8,
        dtype_policy="float32",
        optimizer="adam",
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        init_model=None,
        feature_lr_scale=1.0,
        random_state=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        self.image_shape = image_shape
        self.architecture = architecture
        self.filters = filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.augment = augment
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.steps_per_execution = steps_per_execution
        self.dtype_policy = dtype_policy
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.init_model = init_model
        self.feature_lr_scale = feature_lr_scale
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        vars(self).update(kwargs)

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        X = as_array(X, self)
        input_shape = tuple(getattr(X, "shape", ())[1:])
        if len(input_shape) > 3:
            raise ValueError(
                f"{type(self).__name__} takes flat rows (n_samples, n_pixels) or "
                "images (n_samples, height, width[, channels]), but X has shape "
                f"{X.shape}. Reshape it to one of these."
            )
        X, y = super()._validate_data(X, y, reset=reset)
        is_image = len(input_shape) > 1
        if reset:
            self.image_shape_ = resolve_image_shape(
                self.n_features_in_,
                self.image_shape if self.image_shape or not is_image else input_shape,
                estimator_name=type(self).__name__,
            )
        elif (
            is_image
            and resolve_image_shape(self.n_features_in_, input_shape)
            != self.image_shape_
        ):
            raise ValueError(
                f"X has images of shape {input_shape}, but {type(self).__name__} "
                f"was fitted on images of shape {self.image_shape_}."
            )
        return X, y

    def _build_network(self):
        return build_cnn(
            self.n_features_in_,
            self.n_classes_,
            image_shape=self.image_shape_,
            architecture=self.architecture,
            filters=None if self.filters is None else tuple(self.filters),
            dense_units=(
                self.dense_units
                if self.dense_units is None or isinstance(self.dense_units, int)
                else tuple(self.dense_units)
            ),
            dropout=self.dropout,
            augment=_augment_options(self),
            seed=self._network_seed(),
            dtype_policy=self._resolved_dtype_policy(),
        )


class MLPClassifier(BaseKerasClassifier):
    """Fully connected neural network classifier, on Keras.

    A scikit-learn classifier like `sklearn.neural_network.MLPClassifier`, trained
    with Keras: mini-batches, dropout, the Adam optimizer and a one-cycle
    learning-rate schedule by default. It takes flat rows of pixels or images,
    which it flattens. Scale pixels to [0, 1] first, e.g. with
    `PixelNormalizer`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(512, 256)
        Units of each hidden ReLU layer, in order.
    dropout : float, default=0.3
        Dropout rate after each hidden layer; 0 for none.
    augment : bool or dict, default=False
        Randomly rotate, shift and zoom each training image, anew every epoch,
        to learn from more varied digits than the data holds. True uses
        ``{'rotation': 10.0, 'shift': 0.1, 'zoom': 0.1}``:
        degrees of rotation, and shift and zoom as fractions of the image
        size, each up to that much either way. A dict
        gives some of these keys; the others are 0. Only training images are
        changed, never those predicted, and a fixed `random_state` changes them
        the same way on every fit.
        The rows must be square single-channel images (e.g. 784 pixels).
    epochs : int, default=15
        Passes over the training data (an upper bound with early stopping).
    batch_size : int, default=256
        Samples per gradient step, and per prediction batch.
    learning_rate : float, default=0.002
        Step size of the optimizer; the peak of the one-cycle schedule.
    learning_rate_schedule : {"one-cycle", "constant"}, default="one-cycle"
        "one-cycle" warms the step size up from ``learning_rate / 25`` over the
        first 30% of the training steps, then anneals it along a cosine to
        ``learning_rate / 2500`` (Smith and Topin, 2019): fewer epochs reach
        the same accuracy. The cycle spans `epochs` passes over the training
        data, across `partial_fit` calls too; a warm-started `fit` keeps the
        schedule of the first. "constant" keeps `learning_rate` throughout.
    steps_per_execution : int, default=8
        Training steps that Keras runs per call into TensorFlow. Small networks
        on a CPU spend much of each step in Python, which running several
        steps per call saves. Callbacks see the batches in groups of this
        many.
    dtype_policy : {"float32", "mixed_bfloat16", "auto"}, default="auto"
        What the layers compute in; the weights stay float32 either way.
        "mixed_bfloat16" computes in bfloat16, which trains faster on CPUs with
        bfloat16 instructions (AVX-512 BF16 or AMX) and slower on others.
        "auto" takes "mixed_bfloat16" on such a CPU, when TensorFlow sees no
        GPU, and "float32" elsewhere. The output layer computes in float32.
    optimizer : str, keras.optimizers.Optimizer class or instance, default="adam"
        Any name ``keras.optimizers.get`` knows. Extra options go in routed
        parameters, e.g. ``optimizer="sgd", optimizer__momentum=0.9``. An instance
        is copied at each fit, never trained in place.
    early_stopping : bool, default=False
        Stop when the loss on a held-out validation set has not improved for
        `n_iter_no_change` epochs, and keep the weights of the best epoch.
    validation_fraction : float or None, default=None
        Fraction of the training data held out, stratified and seeded, to report
        ``val_loss`` and ``val_accuracy`` in `history_` and for early stopping.
        None holds out 0.1 when `early_stopping` is True, and nothing otherwise.
    n_iter_no_change : int, default=5
        Epochs without improvement of the validation loss before stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    warm_start : bool, default=False
        Keep training the fitted network on the next `fit` instead of building
        a new one.
    init_model : estimator, str or path-like, default=None
        Fine-tune: start each new network from a copy of this fitted
        ``CNNClassifier`` or ``MLPClassifier`` (or a Pipeline ending in one,
        or a file written by :func:`~mnistkit.save_model`) instead of new
        weights. Its architecture replaces this classifier's architecture
        parameters; its output layer is kept if the classes are the same and
        replaced by a new one otherwise. The images must have as many pixels
        as those it was fitted on. To save the fine-tuned classifier with
        `save_model`, pass a path here, or set it to None after fitting.
    feature_lr_scale : float, default=1.0
        With `init_model`: the learning rate of the layers before the output
        layer, as a fraction of `learning_rate`. 0 freezes them (training only
        the output layer), 0.1 trains them ten times slower, 1.0 trains every
        layer alike.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: initial weights, dropout,
        augmentation, the batches' order and the validation split. A fit
        reads and changes no global random state (Python's, NumPy's,
        TensorFlow's), so fits in threads are reproducible too. An int gives
        identical results on every fit on the same machine with the same
        TensorFlow thread settings.
    verbose : int, default=0
        0 is silent; 1 shows Keras's progress bar and 2 one line per epoch.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Extra Keras callbacks for fit and predict; routed parameters
        (``callbacks__...``) configure them as in scikeras.
    **kwargs : dict
        Routed parameters for scikeras: ``optimizer__*``, ``fit__*``,
        ``predict__*`` and ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features (pixels per sample) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.
    model_ : keras.Model
        The trained network.
    history_ : dict of str to list of float
        Per-epoch ``loss`` and ``accuracy``, and ``val_loss`` and
        ``val_accuracy`` when a validation fraction is held out.
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    CNNClassifier : A convolutional network, more accurate on images.
    sklearn.neural_network.MLPClassifier : scikit-learn's own, on NumPy.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from mnistkit import MLPClassifier, PixelNormalizer
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(
    ...     PixelNormalizer(max_value=16),
    ...     MLPClassifier(epochs=10, random_state=0),
    ... )
    >>> model.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.85
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [tuple, list],
        **_TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(512, 256),
        *,
        dropout=0.3,
        augment=False,
        epochs=15,
        batch_size=256,
        learning_rate=0.002,
        learning_rate_schedule="one-cycle",
        steps_per_execution=8,
        dtype_policy="auto",
        optimizer="adam",
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        init_model=None,
        feature_lr_scale=1.0,
        random_state=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.augment = augment
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.steps_per_execution = steps_per_execution
        self.dtype_policy = dtype_policy
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.init_model = init_model
        self.feature_lr_scale = feature_lr_scale
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        vars(self).update(kwargs)

    def _build_network(self):
        augment = _augment_options(self)
        return build_mlp(
            self.n_features_in_,
            self.n_classes_,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            dropout=self.dropout,
            augment=augment,
            image_shape=(
                resolve_image_shape(
                    self.n_features_in_, None, estimator_name=type(self).__name__
                )
                if augment
                else None
            ),
            seed=self._network_seed(),
            dtype_policy=self._resolved_dtype_policy(),
        )
