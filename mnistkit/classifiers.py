"""`CNNClassifier` and `MLPClassifier`: their own parameters and network each.

Everything else, the scikit-learn behaviour and the training, is in
:class:`mnistkit._keras_base.BaseKerasClassifier`, and so is the
documentation of the parameters the two share. Each default lives in the
signature of ``__init__``; the docstrings state them too, and a test keeps
the two the same.
"""

import os
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._keras_base import BaseKerasClassifier, document_parameters
from .architectures import (
    AUGMENT_DEFAULTS,
    CNN_ARCHITECTURES,
    build_cnn,
    build_mlp,
    resolve_dtype_policy,
)
from .preprocessing import resolve_image_shape

if TYPE_CHECKING:
    from keras.callbacks import Callback
    from keras.optimizers import Optimizer
    from sklearn.base import BaseEstimator


def _augment_options(estimator):
    """The estimator's `augment` as a dict of non-zero options, or None."""
    augment = estimator.augment
    if augment is False:
        return None
    if augment is True:
        return dict(AUGMENT_DEFAULTS)
    unknown = set(augment) - set(AUGMENT_DEFAULTS)
    if unknown or not all(
        isinstance(value, Real) and float(value) >= 0 for value in augment.values()
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
        normalisation after each, then a dense layer; on fewer than 20,000
        training samples or images smaller than 16x16, the first convolution
        is a 3x3 one followed by pooling, which learns more from little data.
        "simple": the official Keras "simple MNIST convnet" example.
        "lenet5": LeNet-5 with tanh and average pooling. "deep": two
        convolutions per block, then pooling and batch normalisation.
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
    {shared_parameters}

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
        Number of epochs run, those of earlier warm-started fits and
        `partial_fit` calls included.
    batch_size_ : int
        Samples per gradient step of the last fit: `batch_size`, or what
        "auto" took.

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
    ...     CNNClassifier(random_state=0),
    ... )
    >>> model.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.9
    True
    >>> model[-1].image_shape_
    (8, 8, 1)
    >>> model[-1].n_iter_, model[-1].batch_size_  # what "auto" took
    (16, 46)
    """

    _parameter_constraints = {
        "image_shape": [tuple, list, None],
        "architecture": [StrOptions(set(CNN_ARCHITECTURES))],
        "filters": [tuple, list, None],
        "dense_units": [Interval(Integral, 0, None, closed="left"), tuple, list, None],
        **BaseKerasClassifier._parameter_constraints,
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
    }

    def __init__(
        self,
        image_shape: Sequence[int] | None = None,
        *,
        architecture: Literal["fast", "simple", "lenet5", "deep"] = "fast",
        filters: Sequence[int] | None = None,
        dense_units: int | Sequence[int] | None = None,
        dropout: float | None = None,
        augment: bool | Mapping[str, float] = False,
        epochs: int | Literal["auto"] = "auto",
        batch_size: int | Literal["auto"] = "auto",
        learning_rate: float = 0.01,
        learning_rate_schedule: Literal["one-cycle", "constant"] = "one-cycle",
        steps_per_execution: int = 8,
        dtype_policy: Literal["float32", "mixed_bfloat16", "auto"] = "float32",
        optimizer: "str | type[Optimizer] | Optimizer" = "adam",
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 5,
        class_weight: Mapping[Any, float] | Literal["balanced"] | None = None,
        warm_start: bool = False,
        init_model: "BaseEstimator | str | os.PathLike[str] | None" = None,
        feature_lr_scale: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        callbacks: "Sequence[Callback | type[Callback]] | None" = None,
        **kwargs: Any,
    ) -> None:
        self._set_parameters(locals())

    def _check_sample_shape(self, X_shape, *, reset):
        """Check that `X` holds rows or images, and set `image_shape_` if `reset`."""
        name = type(self).__name__
        sample_shape = X_shape[1:]
        if len(sample_shape) > 3:
            raise ValueError(
                f"{name} takes flat rows (n_samples, n_pixels) or images "
                "(n_samples, height, width[, channels]), but X has shape "
                f"{X_shape}. Reshape it to one of these."
            )
        is_image = len(sample_shape) > 1
        if reset:
            self.image_shape_ = resolve_image_shape(
                self.n_features_in_,
                self.image_shape if self.image_shape or not is_image else sample_shape,
                estimator_name=name,
            )
        elif (
            is_image
            and resolve_image_shape(self.n_features_in_, sample_shape)
            != self.image_shape_
        ):
            raise ValueError(
                f"X has images of shape {sample_shape}, but {name} was fitted on "
                f"images of shape {self.image_shape_}."
            )

    def _build_network(self, seed, n_samples):
        return build_cnn(
            self.n_features_in_,
            self.n_classes_,
            image_shape=self.image_shape_,
            n_train=n_samples,
            architecture=self.architecture,
            filters=None if self.filters is None else tuple(self.filters),
            dense_units=(
                self.dense_units
                if self.dense_units is None or isinstance(self.dense_units, int)
                else tuple(self.dense_units)
            ),
            dropout=self.dropout,
            augment=_augment_options(self),
            seed=seed,
            dtype_policy=resolve_dtype_policy(self.dtype_policy),
        )


document_parameters(CNNClassifier)


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
    {shared_parameters}

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
        Number of epochs run, those of earlier warm-started fits and
        `partial_fit` calls included.
    batch_size_ : int
        Samples per gradient step of the last fit: `batch_size`, or what
        "auto" took.

    See Also
    --------
    CNNClassifier : A convolutional network, more accurate on images.
    sklearn.neural_network.MLPClassifier : Scikit-learn's own, on NumPy.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from mnistkit import MLPClassifier, PixelNormalizer
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(
    ...     PixelNormalizer(max_value=16),
    ...     MLPClassifier(random_state=0),
    ... )
    >>> model.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.9
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **BaseKerasClassifier._parameter_constraints,
    }

    # A fully connected network learns less per epoch than a convolutional
    # one: with "auto", at least 15 epochs, as on MNIST's 60,000 images.
    _large_data_epochs = 15

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (512, 256),
        *,
        dropout: float = 0.3,
        augment: bool | Mapping[str, float] = False,
        epochs: int | Literal["auto"] = "auto",
        batch_size: int | Literal["auto"] = "auto",
        learning_rate: float = 0.002,
        learning_rate_schedule: Literal["one-cycle", "constant"] = "one-cycle",
        steps_per_execution: int = 8,
        dtype_policy: Literal["float32", "mixed_bfloat16", "auto"] = "auto",
        optimizer: "str | type[Optimizer] | Optimizer" = "adam",
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 5,
        class_weight: Mapping[Any, float] | Literal["balanced"] | None = None,
        warm_start: bool = False,
        init_model: "BaseEstimator | str | os.PathLike[str] | None" = None,
        feature_lr_scale: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        callbacks: "Sequence[Callback | type[Callback]] | None" = None,
        **kwargs: Any,
    ) -> None:
        self._set_parameters(locals())

    def _build_network(self, seed, n_samples):
        # The same network on any number of samples.
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
            seed=seed,
            dtype_policy=resolve_dtype_policy(self.dtype_policy),
        )


document_parameters(MLPClassifier)
