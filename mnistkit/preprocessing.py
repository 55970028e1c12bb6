"""Transformers that prepare pixels for the classifiers.

`PixelNormalizer` scales raw pixel intensities into [0, 1]; `ImageReshaper` turns
flat rows of pixels into images and back, for pipeline steps that need images.
"""

import math
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._validation import as_array, check_pixels


class PixelNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale pixel intensities from ``[0, max_value]`` to float32 in ``[0, 1]``.

    The transformer is stateless: it divides by a fixed ``max_value`` instead of
    learning a range from the training data, so a batch of dark test images is
    scaled exactly like the training images. Values above ``max_value`` are not
    clipped.

    Parameters
    ----------
    max_value : float, default=255.0
        The intensity that maps to 1.0. 255 for 8-bit images, 16 for
        scikit-learn's 8x8 digits.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.preprocessing.MinMaxScaler : Learns the range from the data instead.
    ImageReshaper : Turns flat rows into images.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit import PixelNormalizer
    >>> X = np.array([[0, 51, 255]], dtype=np.uint8)
    >>> PixelNormalizer().fit_transform(X)
    array([[0. , 0.2, 1. ]], dtype=float32)
    """

    _parameter_constraints = {
        "max_value": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, max_value=255.0):
        self.max_value = max_value

    def fit(self, X, y=None):
        """Check `X` and record its number of features; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Pixel intensities.
        y : None
            Ignored.

        Returns
        -------
        self : PixelNormalizer
            The fitted transformer.
        """
        self._validate_params()
        check_pixels(self, X, reset=True, allow_nd=True)
        return self

    def transform(self, X):
        """Divide `X` by `max_value`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, \
                width[, channels])
            Pixel intensities.

        Returns
        -------
        X_scaled : ndarray of the same shape as `X`, dtype float32
            The scaled intensities.
        """
        self._validate_params()
        X = check_pixels(self, X, reset=False, allow_nd=True)
        # One allocation, straight to float32, even for uint8 or float64 input.
        with np.errstate(over="raise"):
            try:
                return np.divide(X, self.max_value, dtype=np.float32)
            except FloatingPointError:
                raise ValueError(
                    f"X holds values up to {np.max(X):.3g}, too large for float32 "
                    f"pixels once divided by max_value={self.max_value}. Pass "
                    "pixel intensities, or set max_value to their maximum."
                ) from None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class ImageReshaper(TransformerMixin, BaseEstimator):
    """Reshape flat rows of pixels into images, and images back into rows.

    `transform` turns ``(n_samples, height * width * channels)`` into
    ``(n_samples, height, width, channels)``, the layout Keras convolutions
    expect; `inverse_transform` flattens images again.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)``. One dimension may
        be -1, to be inferred from the number of features as in
        :func:`numpy.reshape`. None infers a square, single-channel image
        (784 features -> 28x28x1, 64 -> 8x8x1).

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    PixelNormalizer : Scales intensities into [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit import ImageReshaper
    >>> X = np.arange(2 * 784).reshape(2, 784)
    >>> reshaper = ImageReshaper().fit(X)
    >>> reshaper.transform(X).shape
    (2, 28, 28, 1)
    >>> reshaper.image_shape_
    (28, 28, 1)
    >>> reshaper.inverse_transform(reshaper.transform(X)).shape
    (2, 784)
    """

    def __init__(self, image_shape=None):
        self.image_shape = image_shape

    def fit(self, X, y=None):
        """Work out the image shape from the number of features in `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flat rows of pixels.
        y : None
            Ignored.

        Returns
        -------
        self : ImageReshaper
            The fitted transformer.
        """
        X = self._check_rows(X, reset=True)
        self.image_shape_ = resolve_image_shape(
            self.n_features_in_, self.image_shape, estimator_name="ImageReshaper"
        )
        return self

    def transform(self, X):
        """Reshape flat rows into images.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flat rows of pixels.

        Returns
        -------
        images : ndarray of shape (n_samples, height, width, channels)
            A view of `X` where possible, not a copy.
        """
        check_is_fitted(self)
        X = self._check_rows(X, reset=False)
        return X.reshape(-1, *self.image_shape_)

    def _check_rows(self, X, reset):
        X = as_array(X, self)
        if getattr(X, "ndim", 2) > 2:
            raise ValueError(
                f"ImageReshaper takes flat rows of pixels, (n_samples, n_pixels), "
                f"but X has shape {X.shape}. Flatten images first with "
                "X.reshape(len(X), -1), or use inverse_transform."
            )
        return check_pixels(self, X, reset=reset)

    def inverse_transform(self, X):
        """Flatten images into rows of pixels.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Images of the fitted shape.

        Returns
        -------
        X_flat : ndarray of shape (n_samples, n_features)
            The pixels of each image in row-major order.
        """
        check_is_fitted(self)
        X = np.asarray(X)
        height, width, channels = self.image_shape_
        allowed = [(height, width, channels)] + ([(height, width)] * (channels == 1))
        if X.shape[1:] not in allowed:
            raise ValueError(
                f"ImageReshaper.inverse_transform expects images of shape "
                f"(n_samples, {height}, {width}, {channels}), got an array of "
                f"shape {X.shape}."
            )
        return X.reshape(len(X), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def resolve_image_shape(n_features, image_shape=None, *, estimator_name="estimator"):
    """Return the ``(height, width, channels)`` that holds `n_features` pixels.

    Parameters
    ----------
    n_features : int
        Number of pixel values in one flat row.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)``, with at most one
        -1 to infer. None asks for a square single-channel image.
    estimator_name : str, default="estimator"
        Name used in error messages.

    Returns
    -------
    image_shape : tuple of (int, int, int)
        Height, width and number of channels.

    Raises
    ------
    ValueError
        If no image of that shape holds exactly `n_features` values.

    Examples
    --------
    >>> from mnistkit.preprocessing import resolve_image_shape
    >>> resolve_image_shape(784)
    (28, 28, 1)
    >>> resolve_image_shape(12, (1, -1))
    (1, 12, 1)
    """
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"{estimator_name} cannot read {n_features} features as a square "
                f"image: {n_features} is not a square number. Pass "
                "image_shape=(height, width) or (height, width, channels), or "
                "pass images of shape (n_samples, height, width)."
            )
        return (side, side, 1)

    shape = tuple(int(size) for size in image_shape)
    if (
        len(shape) not in (2, 3)
        or shape.count(-1) > 1
        or any(size == 0 or size < -1 for size in shape)
    ):
        raise ValueError(
            f"image_shape must be (height, width) or (height, width, channels) "
            f"of positive sizes with at most one -1, got {image_shape!r}."
        )
    if len(shape) == 2:
        shape += (1,)
    known = math.prod(size for size in shape if size != -1)
    if -1 in shape and n_features % known == 0:
        shape = tuple(n_features // known if size == -1 else size for size in shape)
    if math.prod(shape) != n_features:
        raise ValueError(
            f"{estimator_name} got {n_features} features per sample, which do not "
            f"fill an image of shape {tuple(image_shape)}. Pass an image_shape "
            f"whose sizes multiply to {n_features}."
        )
    return shape
