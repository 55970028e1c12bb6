"""PixelNormalizer, ImageReshaper and DigitCenterer."""

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage
from sklearn.pipeline import make_pipeline

from mnistkit import DigitCenterer, ImageReshaper, PixelNormalizer, center_digit
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


# -- DigitCenterer and center_digit ------------------------------------------------


def mnist_like_digit():
    """A 28x28 white-on-black "7", cropped to 20x20 and centred like MNIST's."""
    digit = np.zeros((28, 28), np.float32)
    digit[4:7, 6:22] = 255  # the bar
    for row in range(7, 24):  # the stem, leaning left
        col = 21 - (row - 7) // 2
        digit[row, col - 2 : col + 1] = 255
    return center_digit(digit)


def test_center_digit_undoes_a_users_distortions():
    digit = mnist_like_digit()
    # Twice as large, dark on light paper, in a corner of a 90x130 page.
    page = np.full((90, 130), 230.0)
    large = np.kron(digit, np.ones((2, 2)))
    page[3:59, 70:126] = 230 - large * (230 / 255)
    restored = center_digit(page)
    assert np.corrcoef(restored.ravel(), digit.ravel())[0, 1] > 0.95
    np.testing.assert_allclose(ndimage.center_of_mass(restored), (14, 14), atol=0.5)


def test_center_digit_fits_the_ink_in_the_box():
    image = np.zeros((200, 50))
    image[20:180, 10:30] = 1.0  # a tall bar: its height becomes 20
    digit = center_digit(image)
    rows, cols = np.nonzero(digit)
    assert rows.max() - rows.min() + 1 == 20
    assert cols.max() - cols.min() + 1 <= 4
    assert digit.max() == 255
    assert digit.dtype == np.float32


def test_center_digit_of_an_mnist_digit_is_nearly_itself():
    digit = mnist_like_digit()
    np.testing.assert_allclose(center_digit(digit), digit, atol=1)


@pytest.mark.parametrize("blank", [np.zeros((5, 5)), np.full((9, 4), 7.0)])
def test_center_digit_of_a_blank_image_is_black(blank):
    assert not center_digit(blank).any()


def test_center_digit_invert_overrides_auto():
    paper = np.full((30, 30), 255.0)
    paper[10:20, 12:16] = 0  # dark ink
    np.testing.assert_array_equal(center_digit(paper, invert=True), center_digit(paper))
    assert center_digit(paper).any()
    # Read as light ink, nothing is brighter than the paper.
    assert not center_digit(paper, invert=False).any()


def test_center_digit_rejects_more_than_one_image():
    with pytest.raises(ValueError, match=r"one grayscale image .* shape \(2, 3, 3\)"):
        center_digit(np.zeros((2, 3, 3)))


def test_digit_centerer_takes_images_and_rows():
    images = np.stack([mnist_like_digit(), np.roll(mnist_like_digit(), 3, axis=1)])
    from_images = DigitCenterer().fit_transform(images)
    from_rows = DigitCenterer().fit_transform(images.reshape(2, -1))
    np.testing.assert_array_equal(from_images, from_rows)
    assert from_images.shape == (2, 784)
    # The shifted copy comes back centred, like the original.
    np.testing.assert_allclose(from_images[0], from_images[1], atol=1)


def test_digit_centerer_reads_rows_of_any_image_shape():
    page = np.zeros((1, 40, 60))
    page[0, 5:25, 40:45] = 200
    centerer = DigitCenterer(image_shape=(40, 60), output_size=16, box_size=12)
    out = centerer.fit_transform(page.reshape(1, -1))
    assert out.shape == (1, 256)
    np.testing.assert_array_equal(out, centerer.transform(page.reshape(1, -1)))


def test_digit_centerer_pandas_output_names_pixels_as_kaggle_does():
    X = pd.DataFrame(np.zeros((2, 64)), columns=[f"p{i}" for i in range(64)])
    out = DigitCenterer(output_size=4, box_size=3).set_output(transform="pandas")
    frame = out.fit_transform(X)
    assert list(frame.columns) == [f"pixel{i}" for i in range(16)]


def test_digit_centerer_in_a_pipeline_before_a_classifier(digits):
    from sklearn.linear_model import LogisticRegression

    X, y = digits
    model = make_pipeline(
        DigitCenterer(output_size=8, box_size=6),
        PixelNormalizer(),
        LogisticRegression(),
    )
    assert model.fit(X, y).score(X, y) > 0.9


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(box_size=30), "box_size=30 does not fit"),
        (dict(image_shape=(14, 14, 4)), "has 4 channels"),
        (dict(invert="yes"), "invert"),
    ],
)
def test_digit_centerer_errors(params, match):
    with pytest.raises(ValueError, match=match):
        DigitCenterer(**params).fit(np.zeros((2, 784)))


def test_digit_centerer_refuses_colour_images():
    with pytest.raises(ValueError, match="grayscale"):
        DigitCenterer().fit(np.zeros((2, 28, 28, 3)))
    # A channels axis of size 1, as Keras has it, is fine.
    assert DigitCenterer().fit_transform(np.zeros((2, 28, 28, 1))).shape == (2, 784)
