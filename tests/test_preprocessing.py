"""PixelNormalizer and ImageReshaper."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from mnistkit import ImageReshaper, PixelNormalizer
from mnistkit.preprocessing import resolve_image_shape


def test_pixel_normalizer_scales_uint8_to_float32():
    X = np.array([[0, 51, 102, 255]], dtype=np.uint8)
    out = PixelNormalizer().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 0.2, 0.4, 1.0]], rtol=1e-6)


def test_pixel_normalizer_is_stateless(digits):
    X, _ = digits
    normalizer = PixelNormalizer(max_value=16)
    # Usable without fit, and fitting on dark images learns nothing from them.
    np.testing.assert_array_equal(normalizer.transform(X), X / np.float32(16))
    dark = normalizer.fit(X / 4).transform(X)
    np.testing.assert_array_equal(dark, X / np.float32(16))


def test_pixel_normalizer_keeps_images_shape():
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    out = PixelNormalizer().fit_transform(images)
    assert out.shape == (2, 28, 28)
    assert out.max() == 1.0


def test_pixel_normalizer_pandas_output():
    columns = [f"pixel{i}" for i in range(4)]
    frame = pd.DataFrame([[0, 255, 51, 0]], columns=columns)
    normalizer = PixelNormalizer().set_output(transform="pandas")
    out = normalizer.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == columns
    assert list(normalizer.get_feature_names_out()) == columns
    assert out["pixel1"].iloc[0] == 1.0


def test_pixel_normalizer_rejects_bad_max_value():
    with pytest.raises(ValueError, match="'max_value' parameter"):
        PixelNormalizer(max_value=0).fit(np.ones((2, 2)))


def test_image_reshaper_round_trip(digits):
    X, _ = digits
    reshaper = ImageReshaper().fit(X)
    images = reshaper.transform(X)
    assert images.shape == (len(X), 8, 8, 1)
    np.testing.assert_array_equal(images[5, :, :, 0], X[5].reshape(8, 8))
    np.testing.assert_array_equal(reshaper.inverse_transform(images), X)
    np.testing.assert_array_equal(reshaper.inverse_transform(images[..., 0]), X)


def test_image_reshaper_in_a_pipeline(digits):
    X, _ = digits
    pipe = make_pipeline(PixelNormalizer(max_value=16), ImageReshaper((4, -1)))
    assert pipe.fit_transform(X).shape == (len(X), 4, 16, 1)


def test_image_reshaper_errors(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="64 is not|cannot read 10 features"):
        ImageReshaper().fit(X[:, :10])
    with pytest.raises(ValueError, match="expects images of shape"):
        ImageReshaper().fit(X).inverse_transform(np.zeros((2, 4, 16)))


@pytest.mark.parametrize(
    "n_features, image_shape, expected",
    [
        (784, None, (28, 28, 1)),
        (64, None, (8, 8, 1)),
        (1, None, (1, 1, 1)),
        (3072, (32, 32, 3), (32, 32, 3)),
        (3072, (32, -1, 3), (32, 32, 3)),
        (12, (-1, 4), (3, 4, 1)),
    ],
)
def test_resolve_image_shape(n_features, image_shape, expected):
    assert resolve_image_shape(n_features, image_shape) == expected


@pytest.mark.parametrize(
    "image_shape, match",
    [
        ((5,), "must be \\(height, width\\)"),
        ((-1, -1), "at most one -1"),
        ((0, 12), "positive sizes"),
        ((5, -1), "do not fill"),
        ((3, 3), "do not fill"),
    ],
)
def test_resolve_image_shape_errors(image_shape, match):
    with pytest.raises(ValueError, match=match):
        resolve_image_shape(12, image_shape)
