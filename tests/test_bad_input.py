"""Bad input, tried systematically: a right answer, or an error that says what to do.

Hypothesis draws arrays of many shapes and dtypes (NaN, inf, huge and negative
values, strings, complex numbers), Python lists, pandas frames with missing
values or categorical columns, and labels of mixed types, and hands them to
every exported estimator and transformer and to the Kaggle CSV loader. Each
either gives a correct result, or raises ``ValueError`` or ``TypeError``:

- raised before TensorFlow or Keras is reached, so the user never reads a
  traceback from inside them;
- with a message that names the problem and the fix: it must match one of
  `UNDERSTOOD`, each of which does. A new kind of message fails the test
  until it is reviewed and listed here.

The examples are drawn from a fixed profile (``derandomize=True``, see
conftest.py): every run tries the same ones.
"""

import io
import re
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import fast_cnn, fast_mlp
from mnistkit import DigitCenterer, ImageReshaper, PixelNormalizer, load_kaggle_digits

# Messages that name the problem and say what to do about it.
UNDERSTOOD = [
    # scikit-learn's input checks, whose messages say what to do
    r"Found array with 0 (sample|feature)\(s\) .* while a minimum of 1 is required",
    r"Input X contains NaN\..*[Ii]mputer",
    r"Expected 2D array, got (1D array|scalar array) instead.*Reshape your data",
    r"X has \d+ features, but \w+ is expecting \d+ features as input",
    r"Found input variables with inconsistent numbers of samples",
    r"y should be a 1d array, got an array of shape .* instead",
    r"Unknown label type: continuous\. Maybe you are trying to fit a classifier",
    r"The feature names should match those that were passed during fit",
    # mnistkit's checks, and the fixes they add to scikit-learn's
    r"needs pixels that are numbers, .* Convert X to numbers first",
    r"Complex data not supported: .* pass numpy\.abs\(X\) or X\.real",
    r"contains infinity or a value too large .* Pixels must be finite numbers",
    r"too large for float32 pixels .* set max_value",
    r"got rows of different lengths .* Give every sample the same number",
    r"takes flat rows of pixels, .* Flatten images first",
    r"takes grayscale images, .* Convert colour images to grayscale first",
    r"expects images of shape \(n_samples, \d+, \d+, \d+\)",
    r"y has missing labels .* Drop those samples or give them a label",
    r"Input y contains .* Every sample needs a class label",
    r"Labels in y must all be of one type, .* Convert them to one type",
    r"needs samples of at least 2 classes, but y has 1 class",
    r"training diverged: .* Scale the pixels into \[0, 1\]",
    r"cannot read \d+ features as a square image: .* Pass image_shape",
    r"which do not fill an image of shape .* Pass an image_shape",
    r"X has images of shape .* was fitted on images of shape",
    r"takes flat rows .* or images .* but X has shape .* Reshape it",
    # the Kaggle loader
    r"'label' must be the first column",
    r"expected column 'pixel\d+' but found .* pixel0, pixel1, \.\.\. in order",
    r"has no pixel columns \(pixel0, pixel1, \.\.\.\)",
    r"column '.+' must hold whole numbers.*; row \d+ has",
    r"is empty\. A Kaggle digits CSV starts with a header row",
    r"is not a well-formed CSV: .* needs one value per column",
]

# Where a traceback must not end: the user would read TensorFlow's or Keras's
# internals instead of what was wrong with their data.
FRAMEWORKS = re.compile(r"[/\\](tensorflow|keras|scikeras)[/\\]")


def assert_clear_error(error):
    """`error` is a ValueError or TypeError, raised outside the frameworks."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    frames = traceback.extract_tb(error.__traceback__)
    assert not FRAMEWORKS.search(frames[-1].filename), "".join(
        traceback.format_exception(error)
    )
    message = str(error)
    assert any(re.search(pattern, message, re.DOTALL) for pattern in UNDERSTOOD), (
        f"an error message no test has reviewed: {message!r}"
    )


def outcome(function, *args):
    """`function(*args)`, or None after checking that it raised clearly."""
    try:
        with warnings.catch_warnings():
            # Feature-name warnings are fine; they name the mismatch.
            warnings.simplefilter("ignore", UserWarning)
            return function(*args)
    except Exception as error:
        assert_clear_error(error)
        return None


# -- What the tests are given ----------------------------------------------------

DTYPES = [
    np.bool_,
    np.uint8,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
    np.complex128,
    np.str_,
    np.object_,
]


@st.composite
def arrays(draw, min_dims=1, max_dims=5, max_side=5):
    """Arrays of 1 to 5 dimensions, 0 to 5 long each, of any of `DTYPES`."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(
        hnp.array_shapes(
            min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side
        )
    )
    if dtype == np.object_:
        # Object arrays as pandas and csv readers make them: numbers,
        # strings, None.
        elements = st.one_of(
            st.integers(-300, 300), st.floats(), st.text(max_size=3), st.none()
        )
        values = draw(
            st.lists(
                elements, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
            )
        )
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    if dtype.kind == "U":
        return draw(hnp.arrays(np.dtype("U3"), shape))
    # Every value the dtype holds: NaN, inf, huge and negative ones included.
    return draw(hnp.arrays(dtype, shape))


@st.composite
def frames(draw, n_rows):
    """DataFrames of numbers with missing values, strings or categorical columns."""
    n_columns = draw(st.integers(1, 5))
    columns = {}
    for i in range(n_columns):
        kind = draw(st.sampled_from(["int", "float", "missing", "category", "text"]))
        if kind == "int":
            values = draw(
                st.lists(st.integers(0, 255), min_size=n_rows, max_size=n_rows)
            )
        elif kind in ("float", "missing"):
            element = (
                st.floats(0, 1) if kind == "float" else st.sampled_from([0.5, None])
            )
            values = draw(st.lists(element, min_size=n_rows, max_size=n_rows))
        else:
            values = draw(
                st.lists(st.sampled_from(["a", "b"]), min_size=n_rows, max_size=n_rows)
            )
        columns[f"pixel{i}"] = pd.Series(
            values, dtype="category" if kind == "category" else None
        )
    return pd.DataFrame(columns)


@st.composite
def pixels(draw):
    """Plausible pixels, as rows or images, some with one bad value."""
    n_rows = draw(st.integers(2, 8))
    side = draw(st.integers(1, 4))
    dtype = np.dtype(draw(st.sampled_from(DTYPES[:6])))  # bool .. float64
    values = hnp.from_dtype(
        dtype, min_value=0, max_value=1 if dtype.kind == "b" else 255
    )
    if dtype.kind == "b":
        values = hnp.from_dtype(dtype)
    X = draw(hnp.arrays(dtype, (n_rows, side * side), elements=values))
    if dtype.kind == "f" and draw(st.booleans()):
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 1e30, 1e300]))
        with np.errstate(over="ignore"):  # 1e300 is inf in float32
            X[draw(st.integers(0, n_rows - 1)), 0] = bad
    layout = draw(st.sampled_from(["rows", "images", "channels", "5-d", "list"]))
    if layout == "images":
        return X.reshape(n_rows, side, side)
    if layout == "channels":
        return X.reshape(n_rows, side, side, 1)
    if layout == "5-d":
        return X.reshape(n_rows, side, side, 1, 1)
    return X.tolist() if layout == "list" else X


def inputs(n_rows=None):
    """What a user might pass as X: arrays, nested lists and frames."""
    rows = st.integers(0, 6) if n_rows is None else st.just(n_rows)
    return st.one_of(
        pixels(),
        pixels(),  # twice as likely: most of what users pass is nearly right
        arrays(),
        arrays().map(lambda array: array.tolist()),
        rows.flatmap(frames),
    )


LABELS = st.one_of(
    st.integers(0, 2),
    st.sampled_from(["three", "four"]),
    st.booleans(),
    st.floats(),
    st.none(),
)


@st.composite
def labels(draw, n_rows):
    """Labels for `n_rows` samples: mostly of one type, some mixed or missing."""
    n = draw(st.sampled_from([n_rows, n_rows, n_rows, n_rows + 1, max(n_rows - 1, 0)]))
    of_one_type = st.sampled_from(
        [st.integers(0, 2), st.sampled_from(["three", "four"]), st.booleans()]
    ).flatmap(lambda label: st.lists(label, min_size=n, max_size=n))
    values = draw(st.one_of(of_one_type, st.lists(LABELS, min_size=n, max_size=n)))
    if draw(st.booleans()):
        values = np.asarray(values, dtype=object)
    return values


def n_rows_of(X):
    return len(X) if hasattr(X, "__len__") else 0


# -- Classifiers: fit, then predict --------------------------------------------


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def fitted(request):
    """A classifier fitted on six 2x2 images."""
    X, y = np.random.default_rng(0).random((6, 4)), np.array([0, 1, 2] * 2)
    make = {"cnn": fast_cnn, "mlp": fast_mlp}[request.param]
    return make(epochs=1).fit(X, y)


@settings(max_examples=100)
@given(X=inputs())
def test_predict_on_anything(fitted, X):
    proba = outcome(fitted.predict_proba, X)
    event("predicted" if proba is not None else "refused")
    if proba is not None:
        assert proba.shape == (n_rows_of(X), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
        assert set(outcome(fitted.predict, X)) <= {0, 1, 2}


@pytest.mark.parametrize("make", [fast_cnn, fast_mlp], ids=["cnn", "mlp"])
@settings(max_examples=25)
@given(data=st.data())
def test_fit_on_anything(make, data):
    X = data.draw(inputs(), label="X")
    # Labels of every kind are tried below; here, mostly right ones.
    n_labels = n_rows_of(X) + data.draw(st.sampled_from([0, 0, 0, 1]), label="extra")
    y = np.arange(n_labels) % 3
    # One epoch of one step per few rows: the battery checks what comes in,
    # not how well it learns.
    fitted = outcome(make(epochs=1).fit, X, y)
    event("fitted" if fitted is not None else "refused")
    if fitted is not None:
        proba = outcome(fitted.predict_proba, X)
        assert proba is not None, "predict failed on the data fitted"
        assert proba.shape == (n_rows_of(X), len(fitted.classes_))
        assert np.isfinite(proba).all()


@pytest.mark.parametrize("make", [fast_cnn, fast_mlp], ids=["cnn", "mlp"])
@settings(max_examples=15)
@given(y=labels(6))
def test_labels_of_any_type(make, y):
    X = np.random.default_rng(0).random((6, 16))
    fitted = outcome(make(epochs=1).fit, X, y)
    event("fitted" if fitted is not None else "refused")
    if fitted is not None:
        assert set(fitted.predict(X)) <= set(fitted.classes_)


# -- Transformers ----------------------------------------------------------------


@settings(max_examples=100)
@given(X=inputs())
def test_pixel_normalizer_on_anything(X):
    scaled = outcome(PixelNormalizer(max_value=255).fit_transform, X)
    if scaled is not None:
        assert scaled.dtype == np.float32
        assert scaled.shape == np.shape(X)


@settings(max_examples=100)
@given(X=inputs())
def test_image_reshaper_on_anything(X):
    reshaper = ImageReshaper()
    images = outcome(reshaper.fit_transform, X)
    if images is not None:
        assert images.shape == (n_rows_of(X), *reshaper.image_shape_)
        flat = reshaper.inverse_transform(images)
        assert flat.shape == (n_rows_of(X), reshaper.n_features_in_)


@settings(max_examples=100)
@given(X=inputs())
def test_digit_centerer_on_anything(X):
    centered = outcome(DigitCenterer(output_size=8, box_size=6).fit_transform, X)
    if centered is not None:
        assert centered.shape == (n_rows_of(X), 64)
        assert centered.dtype == np.float32
        assert np.all((centered >= 0) & (centered <= 255))


# -- The Kaggle CSV loader -------------------------------------------------------


@st.composite
def kaggle_csvs(draw):
    """CSV text close to Kaggle's: right, or wrong in one or a few ways."""
    n_rows = draw(st.integers(0, 4))
    n_pixels = draw(st.integers(0, 4))
    cell = st.one_of(
        st.integers(0, 255),
        st.integers(-5, 300),
        st.floats(allow_nan=True, allow_infinity=True),
        st.just(""),
        st.text(alphabet='ab ,"\n', max_size=3),
    )
    names = [f"pixel{i}" for i in range(n_pixels)]
    if draw(st.booleans()):
        names.insert(draw(st.integers(0, len(names))), "label")
    if names and draw(st.booleans()):
        names[draw(st.integers(0, len(names) - 1))] = draw(st.text(max_size=4))
    rows = [[draw(cell) for _ in names] for _ in range(n_rows)]
    frame = pd.DataFrame(rows, columns=names)
    return frame.to_csv(index=False) if names else ""


@settings(max_examples=100)
@given(csv=kaggle_csvs())
def test_kaggle_loader_on_anything(csv, tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("kaggle")) / "train.csv"
    path.write_text(csv)
    loaded = outcome(load_kaggle_digits, path)
    if loaded is not None:
        X, y = loaded
        assert (X.dtypes == np.uint8).all()
        assert list(X.columns) == [f"pixel{i}" for i in range(X.shape[1])]
        assert y is None or len(y) == len(X)
        # What the file said, read back exactly.
        frame = pd.read_csv(io.StringIO(csv))
        np.testing.assert_array_equal(X.to_numpy(), frame[list(X.columns)].to_numpy())
