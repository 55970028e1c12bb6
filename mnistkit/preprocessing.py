"""Transformers that prepare pixels for the classifiers.

`PixelNormalizer` scales raw pixel intensities into [0, 1]; `ImageReshaper` turns
flat rows of pixels into images and back, for pipeline steps that need images;
`DigitCenterer` brings a user's digit images of any size into MNIST's format.
"""

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

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

    def __init__(self, max_value: float = 255.0) -> None:
        self.max_value = max_value

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> Self:
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

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
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

    def __init__(self, image_shape: Sequence[int] | None = None) -> None:
        self.image_shape = image_shape

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> Self:
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

    def transform(self, X: ArrayLike) -> np.ndarray:
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

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
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


def resolve_image_shape(
    n_features: int,
    image_shape: Sequence[int] | None = None,
    *,
    estimator_name: str = "estimator",
) -> tuple[int, int, int]:
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
    height, width, channels = shape
    return height, width, channels


class DigitCenterer(TransformerMixin, BaseEstimator):
    """Bring digit images of any size into MNIST's format.

    MNIST's digits were cropped to their ink, scaled into a 20x20 box keeping
    their aspect ratio and centred by their centre of mass in a 28x28 frame,
    white on black. A photo, a scan or a drawing is none of these, and a
    network trained on MNIST misreads digits that are off-centre, larger or
    dark on light. This transformer applies :func:`center_digit` to each image,
    so that it can go in a Pipeline before the classifier. It is stateless.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of the input images, to read flat rows; -1 infers
        one dimension. None reads a flat row as a square image. Ignored for
        3-D input ``(n_samples, height, width)``.
    output_size : int, default=28
        Side of the square output image.
    box_size : int, default=20
        Side of the box that the digit's longer side is scaled to.
    invert : {"auto", True, False}, default="auto"
        Whether the input is dark ink on a light background. "auto" decides
        per image from the border pixels.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    center_digit : The same, for one image.
    PixelNormalizer : Scales the 0-255 output into [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit import DigitCenterer
    >>> page = np.full((2, 60, 90), 255, dtype=np.uint8)  # white paper
    >>> page[:, 5:25, 60:64] = 0  # a black stroke, off-centre
    >>> X = DigitCenterer().fit_transform(page)
    >>> X.shape, X.dtype, float(X.max())
    ((2, 784), dtype('float32'), 255.0)
    """

    _parameter_constraints = {
        "image_shape": [tuple, list, None],
        "output_size": [Interval(Integral, 1, None, closed="left")],
        "box_size": [Interval(Integral, 1, None, closed="left")],
        "invert": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(
        self,
        image_shape: Sequence[int] | None = None,
        *,
        output_size: int = 28,
        box_size: int = 20,
        invert: bool | Literal["auto"] = "auto",
    ) -> None:
        self.image_shape = image_shape
        self.output_size = output_size
        self.box_size = box_size
        self.invert = invert

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> Self:
        """Check `X` and record its number of features; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, \
                height, width[, 1])
            Grayscale images, or flat rows of them.
        y : None
            Ignored.

        Returns
        -------
        self : DigitCenterer
            The fitted transformer.
        """
        self._images(X, reset=True)
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
        """Crop, scale and centre each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, \
                height, width[, 1])
            Grayscale images, or flat rows of them.

        Returns
        -------
        X_centered : ndarray of shape (n_samples, output_size ** 2), dtype float32
            One flat row of 0-255 intensities per image, white on black.
        """
        images = self._images(X, reset=False)
        rows = np.zeros((len(images), self.output_size**2), dtype=np.float32)
        for row, image in zip(rows, images, strict=True):
            row[:] = center_digit(
                image,
                output_size=self.output_size,
                box_size=self.box_size,
                invert=self.invert,
            ).reshape(-1)
        return rows

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> NDArray[np.object_]:
        """Get the output pixels' names, ``pixel0`` to ``pixel{output_size**2-1}``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the names seen in `fit`, if any; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Kaggle's names for the pixels of the output images.
        """
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray(
            [f"pixel{index}" for index in range(self.output_size**2)], dtype=object
        )

    def _images(self, X, reset):
        self._validate_params()
        if self.box_size > self.output_size:
            raise ValueError(
                f"box_size={self.box_size} does not fit in an image of "
                f"output_size={self.output_size}. Pass a box_size of at most "
                f"{self.output_size}."
            )
        X = as_array(X, self)
        shape: tuple[int, ...] = getattr(X, "shape", ())
        if len(shape) > 4 or (len(shape) == 4 and shape[-1] != 1):
            raise ValueError(
                f"DigitCenterer takes grayscale images, (n_samples, height, "
                f"width[, 1]) or flat rows, but X has shape {shape}. Convert "
                "colour images to grayscale first."
            )
        X = check_pixels(self, X, reset=reset, allow_nd=True)
        if X.ndim > 2:
            return X.reshape(X.shape[:3])
        height, width, channels = resolve_image_shape(
            X.shape[1], self.image_shape, estimator_name="DigitCenterer"
        )
        if channels != 1:
            raise ValueError(
                f"DigitCenterer takes grayscale images, but image_shape "
                f"{self.image_shape!r} has {channels} channels. Pass "
                "(height, width) of grayscale images."
            )
        return X.reshape(-1, height, width)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def mnist_box_size(output_size: int) -> int:
    """The side of the box a digit fills in a frame of `output_size`, as in MNIST.

    MNIST scales each digit into a 20x20 box inside its 28x28 frame; this is
    the same proportion for other frames, the `box_size` that `center_digit`
    takes with `output_size`.

    Parameters
    ----------
    output_size : int
        Side of the square frame.

    Returns
    -------
    box_size : int
        ``round(output_size * 20 / 28)``, at least 1.

    Examples
    --------
    >>> from mnistkit.preprocessing import mnist_box_size
    >>> mnist_box_size(28), mnist_box_size(8), mnist_box_size(56)
    (20, 6, 40)
    """
    return max(1, round(output_size * 20 / 28))


# Ink fainter than this fraction of the image's strongest is background noise
# when cropping: paper texture, JPEG artefacts, a scanner's shadow.
_INK_THRESHOLD = 0.2


def center_digit(
    image: ArrayLike,
    *,
    output_size: int = 28,
    box_size: int = 20,
    invert: bool | Literal["auto"] = "auto",
) -> NDArray[np.float32]:
    """Bring one grayscale digit image of any size into MNIST's format.

    The steps are MNIST's own: take the ink as what differs from the
    background (inverting dark ink on light paper), crop to it, scale it so
    that its longer side fills a ``box_size`` box keeping the aspect ratio
    (with anti-aliasing), and place it in an ``output_size`` frame so that its
    centre of mass lies at the frame's centre, as far as the frame allows.
    Intensities are stretched so that the strongest ink is 255.

    Parameters
    ----------
    image : array-like of shape (height, width)
        Grayscale intensities, in any range.
    output_size : int, default=28
        Side of the square output image.
    box_size : int, default=20
        Side of the box that the digit's longer side is scaled to; at most
        `output_size`.
    invert : {"auto", True, False}, default="auto"
        Whether the ink is darker than the background. "auto" takes the
        median of the border pixels as the background and decides from it.

    Returns
    -------
    digit : ndarray of shape (output_size, output_size), dtype float32
        0-255 intensities, white ink on black; all zeros if the image has no
        ink.

    See Also
    --------
    DigitCenterer : The same, as a transformer for a Pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> from mnistkit.preprocessing import center_digit
    >>> image = np.zeros((100, 100))
    >>> image[10:50, 70:80] = 1.0  # a bar in the top right corner
    >>> digit = center_digit(image)
    >>> digit.shape
    (28, 28)
    >>> [abs(float(c) - 14) <= 0.5 for c in ndimage.center_of_mass(digit)]
    [True, True]
    """
    from PIL import Image
    from scipy import ndimage

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(
            f"center_digit takes one grayscale image of shape (height, width), "
            f"got an array of shape {image.shape}."
        )
    digit = np.zeros((output_size, output_size), dtype=np.float32)
    if image.size == 0 or not np.isfinite(image).all():
        return digit
    # Into [-1, 1] first: differences of huge intensities stay finite.
    image = image / max(np.abs(image).max(), np.finfo(np.float64).tiny)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    background = np.median(border)
    if invert == "auto":
        invert = background > (image.min() + image.max()) / 2
    ink = background - image if invert else image - background
    ink = np.clip(ink, 0, None)
    strongest = ink.max()
    if not strongest > 0:
        return digit
    rows, cols = np.nonzero(ink > _INK_THRESHOLD * strongest)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]

    scale = box_size / max(ink.shape)
    height, width = (max(1, round(side * scale)) for side in ink.shape)
    box = np.asarray(
        Image.fromarray(ink.astype(np.float32), mode="F").resize(
            (width, height), Image.Resampling.LANCZOS
        )
    )
    if not box.max() > 0:
        return digit
    box = np.clip(box * (255 / box.max()), 0, 255)  # 255 at most after rounding

    # Shift so that the centre of mass lands on pixel (size/2, size/2), where
    # MNIST's digits have theirs (to within half a pixel: the shift is whole
    # pixels, as MNIST's was), but keep all of the box inside the frame.
    center_row, center_col = ndimage.center_of_mass(box)
    top = min(max(round(output_size / 2 - center_row), 0), output_size - height)
    left = min(max(round(output_size / 2 - center_col), 0), output_size - width)
    digit[top : top + height, left : left + width] = box
    return digit
