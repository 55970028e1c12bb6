"""`CNNClassifier` and `MLPClassifier`: parameters and a network builder each.

All the scikit-learn behaviour (validation, seeding, early stopping, pickling)
lives in :class:`mnistkit._keras_base.BaseKerasClassifier`.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._keras_base import BaseKerasClassifier, keras
from .architectures import build_cnn, build_mlp
from .preprocessing import resolve_image_shape

# Parameters shared by both classifiers, checked at fit.
_TRAINING_CONSTRAINTS = {
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [str, type, keras.optimizers.Optimizer],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, keras.callbacks.Callback, None],
}

_TRAINING_PARAMETERS_DOC = """\
    dropout : float, default={dropout}
        Dropout rate before each dense layer; 0 for none.
    epochs : int, default={epochs}
        Passes over the training data (an upper bound with early stopping).
    batch_size : int, default=128
        Samples per gradient step, and per prediction batch.
    learning_rate : float, default=1e-3
        Step size of the optimizer.
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
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. An int gives identical results on every fit on the same machine.
        Fitting never changes Python's, NumPy's or TensorFlow's global random
        state.
    verbose : int, default=0
        0 is silent; 1 shows Keras's progress bar and 2 one line per epoch.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Extra Keras callbacks for fit and predict; routed parameters
        (``callbacks__...``) configure them as in scikeras.
    **kwargs : dict
        Routed parameters for scikeras: ``optimizer__*``, ``fit__*``,
        ``predict__*`` and ``callbacks__*``.
"""

_FITTED_ATTRIBUTES_DOC = """\
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during :term:`fit`.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of features (pixels per sample) seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.
    model_ : keras.Model
        The trained network.
    history_ : dict of str to list of float
        Per-epoch ``loss`` and ``accuracy``, and ``val_loss`` and
        ``val_accuracy`` when a validation fraction is held out.
    n_iter_ : int
        Number of epochs run.
"""


def _doc(template, **defaults):
    """Fill a class docstring with the shared parameter and attribute texts."""

    def decorate(cls):
        cls.__doc__ = template.format(
            training=_TRAINING_PARAMETERS_DOC.format(**defaults),
            fitted=_FITTED_ATTRIBUTES_DOC,
        )
        return cls

    return decorate


@_doc(
    """Convolutional neural network classifier for images, on Keras.

    A scikit-learn classifier: it works in Pipelines, grid searches,
    cross-validation, ensembles and calibration like `LogisticRegression`.
    It takes flat rows of pixels (``(n_samples, height * width)``, e.g. the
    Kaggle ``pixel0..pixel783`` columns), or images ``(n_samples, height,
    width[, channels])``. Scale pixels to [0, 1] first, e.g. with
    `PixelNormalizer`.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` of the images, with
        at most one -1 to infer. None takes the shape of image input, or reads
        flat rows as square single-channel images (784 -> 28x28, 64 -> 8x8); any
        other number of features is an error.
    filters : tuple of int, default=(32, 64)
        Filters of each 'same'-padded convolution, each followed by 2x2
        max-pooling.
    kernel_size : int, default=3
        Height and width of the convolution kernels.
    dense_units : int, default=128
        Units of the dense ReLU layer before the output; 0 for none.
{training}
    Attributes
    ----------
    image_shape_ : tuple of (int, int, int)
        ``(height, width, channels)`` of the images the network sees.
{fitted}
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
    >>> model.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.85
    True
    >>> model[-1].image_shape_
    (8, 8, 1)
    """,
    dropout=0.25,
    epochs=10,
)
class CNNClassifier(BaseKerasClassifier):
    _parameter_constraints = {
        "image_shape": [tuple, list, None],
        "filters": [tuple, list],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dense_units": [Interval(Integral, 0, None, closed="left")],
        **_TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        image_shape=None,
        *,
        filters=(32, 64),
        kernel_size=3,
        dense_units=128,
        dropout=0.25,
        epochs=10,
        batch_size=128,
        learning_rate=1e-3,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        self.image_shape = image_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        vars(self).update(kwargs)

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        input_shape = tuple(getattr(X, "shape", ())[1:])
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
            filters=tuple(self.filters),
            kernel_size=self.kernel_size,
            dense_units=self.dense_units,
            dropout=self.dropout,
        )


@_doc(
    """Fully connected neural network classifier, on Keras.

    A scikit-learn classifier like `sklearn.neural_network.MLPClassifier`, trained
    with Keras: mini-batches, dropout and the Adam optimizer by default. It takes
    flat rows of pixels or images, which it flattens. Scale pixels to [0, 1]
    first, e.g. with `PixelNormalizer`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Units of each hidden ReLU layer, in order.
{training}
    Attributes
    ----------
{fitted}
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
    """,
    dropout=0.2,
    epochs=20,
)
class MLPClassifier(BaseKerasClassifier):
    _parameter_constraints = {
        "hidden_layer_sizes": [tuple, list],
        **_TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        dropout=0.2,
        epochs=20,
        batch_size=128,
        learning_rate=1e-3,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        vars(self).update(kwargs)

    def _build_network(self):
        return build_mlp(
            self.n_features_in_,
            self.n_classes_,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            dropout=self.dropout,
        )
