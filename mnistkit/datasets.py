"""Data loaders: MNIST, Fashion-MNIST, the bundled 8x8 digits, Kaggle CSVs, images.

MNIST and Fashion-MNIST are read from a local folder of the four original IDX
files (gzipped or not), from Keras's cache where a user already has it, or
downloaded from public mirrors, verified against the published checksums and
written atomically, so the cache never holds a partial file. `load_train_test`
picks a data set by name, for the benchmark and the command line.
"""

import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.datasets import get_data_home, load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ._files import atomic_file
from ._images import has_ink, read_image

if TYPE_CHECKING:
    from collections.abc import Iterable

_MNIST_DESCR = """\
MNIST handwritten digits
------------------------
70,000 grayscale images of handwritten digits 0-9, 28x28 pixels with intensities
0-255: the official split of 60,000 training and 10,000 test images.

Source: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
handwritten digits". Licence: Creative Commons Attribution-Share Alike 3.0.
"""

_FASHION_DESCR = """\
Fashion-MNIST
-------------
70,000 grayscale images of 10 kinds of clothing, 28x28 pixels with intensities
0-255: the official split of 60,000 training and 10,000 test images. Labels:
0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot.

Source: H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms", Zalando Research, 2017.
Licence: MIT.
"""

_DIGITS_DESCR = """\
scikit-learn's bundled 8x8 digits
---------------------------------
1,797 images of handwritten digits 0-9, 8x8 pixels, shipped with scikit-learn
(UCI ML hand-written digits). Intensities 0-16 are rescaled to 0-255 so that the
same pipeline serves these images and MNIST. There is no official split: "train"
and "test" are a fixed stratified 75/25 split (1,347 / 450 images).
"""

# Published md5 checksums of the gzipped IDX files, as the mirrors serve them.
_DATASETS: dict[str, dict[str, Any]] = {
    "mnist": dict(
        files={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        keras_cache="mnist.npz",
        target_names=[str(digit) for digit in range(10)],
        descr=_MNIST_DESCR,
    ),
    "fashion-mnist": dict(
        files={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ),
        keras_cache="fashion-mnist",
        target_names=[
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],  # fmt: skip
        descr=_FASHION_DESCR,
    ),
}
_SUBSETS = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # images, labels
# Per socket operation (connect, each read), not per file: a dead mirror costs
# at most this long before the next is tried.
_DOWNLOAD_TIMEOUT_S = 20
_DELETE_HINT = "Delete it to download it again, or replace it with the original."


@overload
def load_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: Literal[False] = ...,
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> Bunch: ...


@overload
def load_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: Literal[True],
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> tuple[Any, Any]: ...


def load_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> Bunch | tuple[Any, Any]:
    """Load the MNIST handwritten digits, official train/test split.

    Looks in ``<data_home>/mnist/`` for the four IDX files (gzipped or not),
    then in Keras's cache (``~/.keras/datasets/mnist.npz``), and downloads the
    files into ``<data_home>/mnist/`` when neither has them.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        60,000 training images, 10,000 test images, or both (train first).
    data_home : str or path-like, default=None
        Folder that holds (or will hold) the ``mnist/`` folder. None uses the
        ``MNISTKIT_DATA`` environment variable, else ``mnistkit/`` under
        scikit-learn's data home (``~/scikit_learn_data``).
    download_if_missing : bool, default=True
        Download missing files; if False, raise ``OSError`` instead.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        `data` becomes a DataFrame with columns ``pixel0..pixel783`` (Kaggle's
        names), `target` a Series named ``label``, and `frame` holds both.
    mirrors : list of str, default=None
        Base URLs to download from, tried in order. None uses the
        ``MNISTKIT_MIRRORS`` environment variable (URLs separated by spaces),
        else the public mirrors.

    Returns
    -------
    data : Bunch
        `data` (n, 784) uint8 pixels, `target` (n,) int labels, `images`
        (n, 28, 28), `frame` (when `as_frame`), `feature_names`,
        `target_names` and `DESCR`.
    (data, target) : tuple
        When `return_X_y` is True.

    Raises
    ------
    OSError
        When the files are missing and cannot be downloaded; the message says
        where to put them.
    ValueError
        When a file is corrupt.

    Examples
    --------
    >>> from mnistkit import load_mnist
    >>> mnist = load_mnist("test")  # doctest: +SKIP
    >>> mnist.data.shape, mnist.data.dtype  # doctest: +SKIP
    ((10000, 784), dtype('uint8'))
    """
    return _load_idx_dataset(
        "mnist", subset, data_home, download_if_missing, return_X_y, as_frame, mirrors
    )


@overload
def load_fashion_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: Literal[False] = ...,
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> Bunch: ...


@overload
def load_fashion_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: Literal[True],
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> tuple[Any, Any]: ...


def load_fashion_mnist(
    subset: Literal["train", "test", "all"] = "train",
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
    as_frame: bool = False,
    mirrors: Sequence[str] | None = None,
) -> Bunch | tuple[Any, Any]:
    """Load Fashion-MNIST (Zalando Research), official train/test split.

    The same as :func:`load_mnist`, with the ``fashion-mnist/`` folder and
    Keras's ``~/.keras/datasets/fashion-mnist/`` cache.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        60,000 training images, 10,000 test images, or both (train first).
    data_home : str or path-like, default=None
        Folder that holds (or will hold) the ``fashion-mnist/`` folder; see
        :func:`load_mnist`.
    download_if_missing : bool, default=True
        Download missing files; if False, raise ``OSError`` instead.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return DataFrames as :func:`load_mnist` does.
    mirrors : list of str, default=None
        Base URLs to download from; see :func:`load_mnist`.

    Returns
    -------
    data : Bunch or tuple
        As :func:`load_mnist`; `target_names` are the clothing names.

    Examples
    --------
    >>> from mnistkit import load_fashion_mnist
    >>> fashion = load_fashion_mnist("test")  # doctest: +SKIP
    >>> fashion.target_names[9]  # doctest: +SKIP
    'Ankle boot'
    """
    return _load_idx_dataset(
        "fashion-mnist",
        subset,
        data_home,
        download_if_missing,
        return_X_y,
        as_frame,
        mirrors,
    )


@overload
def load_digits_images(
    subset: Literal["train", "test", "all"] = "all",
    *,
    return_X_y: Literal[False] = ...,
    as_frame: bool = False,
) -> Bunch: ...


@overload
def load_digits_images(
    subset: Literal["train", "test", "all"] = "all",
    *,
    return_X_y: Literal[True],
    as_frame: bool = False,
) -> tuple[Any, Any]: ...


def load_digits_images(
    subset: Literal["train", "test", "all"] = "all",
    *,
    return_X_y: bool = False,
    as_frame: bool = False,
) -> Bunch | tuple[Any, Any]:
    """Load scikit-learn's bundled 8x8 digits as an MNIST-like Bunch.

    Needs no file and no network: the offline default for quick runs. Pixels
    are rescaled from 0-16 to 0-255 uint8, so the pipelines built for MNIST
    (``PixelNormalizer()`` with its default ``max_value=255``) work unchanged.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="all"
        A fixed stratified 75/25 split (1,347 / 450 images), or all 1,797.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return DataFrames with columns ``pixel0..pixel63``.

    Returns
    -------
    data : Bunch or tuple
        `data` (n, 64) uint8, `target` (n,) int, `images` (n, 8, 8) and the
        other fields of :func:`load_mnist`.

    Examples
    --------
    >>> from mnistkit import load_digits_images
    >>> digits = load_digits_images("train")
    >>> digits.data.shape, digits.data.dtype, int(digits.data.max())
    ((1347, 64), dtype('uint8'), 255)
    >>> digits.images.shape
    (1347, 8, 8)
    """
    _check_subset(subset)
    X, y = load_digits(return_X_y=True)
    X = np.rint(X * (255 / 16)).astype(np.uint8)
    if subset != "all":
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=450, stratify=y, random_state=0
        )
        X, y = (X_train, y_train) if subset == "train" else (X_test, y_test)
    names = [str(digit) for digit in range(10)]
    return _as_bunch(X, y, (8, 8), names, _DIGITS_DESCR, return_X_y, as_frame)


def load_kaggle_digits(
    path: str | os.PathLike[str] | IO[str],
) -> "tuple[pd.DataFrame, pd.Series | None]":
    """Read a Kaggle "Digit Recognizer" CSV: train.csv or test.csv.

    Parameters
    ----------
    path : str or path-like
        A CSV whose columns are ``pixel0..pixel783`` (test.csv), optionally
        preceded by ``label`` (train.csv).

    Returns
    -------
    X : DataFrame of shape (n_samples, 784)
        The pixels, uint8, with Kaggle's column names.
    y : Series of shape (n_samples,) or None
        The labels of train.csv; None for test.csv.

    Raises
    ------
    ValueError
        When a column is missing, extra, misnamed or not whole numbers in
        0..255; the message names the column.

    Examples
    --------
    >>> import io
    >>> from mnistkit import load_kaggle_digits
    >>> csv = "label," + ",".join(f"pixel{i}" for i in range(4)) + "\\n3,0,255,8,0\\n"
    >>> X, y = load_kaggle_digits(io.StringIO(csv))
    >>> X.shape, y.tolist()
    ((1, 4), [3])
    """
    name = getattr(path, "name", path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{name} is empty. A Kaggle digits CSV starts with a header row: "
            "an optional 'label', then pixel0, pixel1, ..."
        ) from None
    except pd.errors.ParserError as error:
        raise ValueError(
            f"{name} is not a well-formed CSV: {str(error).strip()}. Each row "
            "needs one value per column of the header."
        ) from None
    y = None
    if "label" in frame.columns:
        if frame.columns[0] != "label":
            raise ValueError(f"{name}: 'label' must be the first column.")
        y = _whole_numbers(frame.pop("label"), name, "label")
    expected = [f"pixel{i}" for i in range(frame.shape[1])]
    for found, wanted in zip(frame.columns, expected, strict=True):
        if found != wanted:
            raise ValueError(
                f"{name}: expected column {wanted!r} but found {found!r}. A "
                "Kaggle digits CSV has an optional 'label' column, then "
                "pixel0, pixel1, ... in order."
            )
    if frame.shape[1] == 0:
        raise ValueError(f"{name} has no pixel columns (pixel0, pixel1, ...).")
    for column in frame.columns:
        frame[column] = _whole_numbers(frame[column], name, column, high=255)
    return frame.astype(np.uint8), y


def write_kaggle_submission(y_pred: ArrayLike, path: str | os.PathLike[str]) -> Path:
    """Write predictions as a Kaggle submission: ``ImageId,Label``, ids from 1.

    The file is written to a temporary name and renamed, so an interrupted
    write never leaves a partial submission.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,)
        Predicted labels, in the order of test.csv.
    path : str or path-like
        Where to write the CSV.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mnistkit import write_kaggle_submission
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = write_kaggle_submission([7, 2, 1], pathlib.Path(folder, "s.csv"))
    ...     print(out.read_text())
    ImageId,Label
    1,7
    2,2
    3,1
    <BLANKLINE>
    """
    y_pred = np.asarray(y_pred)
    if y_pred.ndim != 1:
        raise ValueError(
            f"y_pred must be one label per test image, shape (n_samples,); got "
            f"shape {y_pred.shape}."
        )
    submission = pd.DataFrame(
        {"ImageId": np.arange(1, len(y_pred) + 1), "Label": y_pred}
    )
    path = Path(path)
    with atomic_file(path) as temporary:
        submission.to_csv(temporary, index=False)
    return path


def load_train_test(
    name: Literal["auto", "mnist", "fashion-mnist", "digits"] = "auto",
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    random_state: int = 0,
) -> Bunch:
    """The official training and test split of a data set, by name.

    Parameters
    ----------
    name : {"auto", "mnist", "fashion-mnist", "digits"}, default="auto"
        The data set. "auto" is MNIST where it is on this machine or can be
        downloaded, else scikit-learn's bundled 8x8 digits (the Bunch's
        `note` then says so).
    n_train : int or None, default=None
        Keep a stratified sample of this many training images; None keeps all.
    n_test : int or None, default=None
        Keep a stratified sample of this many test images, for quick trials;
        None keeps all (the official test set, which published figures use).
    random_state : int, default=0
        Seeds the samples of `n_train` and `n_test` images.

    Returns
    -------
    data : Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (raw 0-255 uint8
        pixels, one row per image), ``name`` (the data set used),
        ``description`` (one line: images and pixels) and ``note`` (why
        "auto" fell back to the digits, or None).

    Examples
    --------
    >>> from mnistkit import load_train_test
    >>> digits = load_train_test("digits", n_train=500)
    >>> digits.description
    'digits: 500 training / 450 test images of 64 pixels'
    >>> load_train_test("digits", n_train=500, n_test=100).description
    'digits: 500 training / 100 test images of 64 pixels'
    """
    # Each called with return_X_y=True: a tuple of images and labels.
    loaders: dict[str, Callable[..., tuple[Any, Any]]] = {
        "mnist": load_mnist,
        "fashion-mnist": load_fashion_mnist,
        "digits": load_digits_images,
    }
    note = None
    if name == "auto":
        try:
            load_mnist("test")  # finds, or downloads, the files
            name = "mnist"
        except OSError:
            name = "digits"
            note = (
                "MNIST is not available (no local copy and no download): running "
                "on scikit-learn's bundled 8x8 digits instead."
            )
    if name not in loaders:
        raise ValueError(
            f"Unknown data set {name!r}; choose among auto, {', '.join(loaders)}."
        )
    X_train, y_train = loaders[name]("train", return_X_y=True)
    X_test, y_test = loaders[name]("test", return_X_y=True)
    X_train, y_train = _stratified_sample(X_train, y_train, n_train, random_state)
    X_test, y_test = _stratified_sample(X_test, y_test, n_test, random_state)
    description = (
        f"{name}: {len(y_train)} training / {len(y_test)} test images of "
        f"{X_train.shape[1]} pixels"
    )
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        name=name,
        description=description,
        note=note,
    )


def _stratified_sample(X, y, n_samples, random_state):
    """`n_samples` rows of `X` and `y`, every class in proportion; all if None."""
    if n_samples is None or n_samples >= len(y):
        return X, y
    X, _, y, _ = train_test_split(
        X, y, train_size=n_samples, stratify=y, random_state=random_state
    )
    return X, y


def load_images(
    paths: "Iterable[str | os.PathLike[str]]",
    image_shape: tuple[int, ...],
    *,
    center: bool = True,
) -> np.ndarray:
    """Read image files as rows of pixels in MNIST's format, white on black.

    Each image, of any size, grayscale or colour, is converted to grayscale
    and brought into MNIST's format by :func:`~mnistkit.center_digit`: the
    ink cropped, scaled into a box of 20/28 of the image side, centred by its
    centre of mass, and inverted when it is dark on a light background.
    Transparent pixels are laid on paper that contrasts with the ink (white
    under dark ink), 16-bit images are scaled to 8 bits, and a photo's EXIF
    orientation is applied.

    An image has no ink when its grayscale intensities, so prepared, span
    fewer than 8 of 255 levels: a blank page, an empty or fully transparent
    canvas, a flat grey, a single pixel. Its row is all zeros, and a
    ``UserWarning`` that starts "no ink found in" names the files.

    Parameters
    ----------
    paths : iterable of str or path-like
        PNG, JPEG or any other image file that Pillow reads.
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, 1)`` of the images a model
        expects, e.g. a fitted ``CNNClassifier``'s ``image_shape_``.
    center : bool, default=True
        Bring each digit into MNIST's format. False only resizes each image
        to `image_shape` and inverts it when its mean is light. Images that
        are not square are always only resized.

    Returns
    -------
    X : ndarray of shape (n_images, height * width), dtype uint8
        One row of 0-255 pixels per file; all zeros for a file with no ink.

    Raises
    ------
    ValueError
        When a file is not an image, or has more pixels than Pillow's limit,
        ``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 million): far more than a
        digit needs, and possibly a decompression bomb. It is refused from
        its header, before it is decoded. The message names the file.

    Warns
    -----
    UserWarning
        When files have no ink; the message names them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from mnistkit import load_images
    >>> page = np.full((60, 80), 255, np.uint8)  # white paper
    >>> page[10:40, 50:56] = 0  # a dark stroke, off-centre
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "digit.png")
    ...     Image.fromarray(page).save(path)
    ...     X = load_images([path], (28, 28))
    >>> X.shape, int(X.max()), X.reshape(28, 28)[14].nonzero()[0].tolist()
    ((1, 784), 255, [12, 13, 14, 15])

    A blank page has no ink: its row is all zeros, with a warning.

    >>> import warnings
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "blank.png")
    ...     Image.new("L", (60, 80), 255).save(path)
    ...     with warnings.catch_warnings(record=True) as caught:
    ...         warnings.simplefilter("always")
    ...         X = load_images([path], (28, 28))
    >>> int(X.max()), str(caught[0].message).startswith("no ink found in")
    (0, True)
    """
    from PIL import Image

    from .preprocessing import center_digit, mnist_box_size

    height, width = image_shape[:2]
    rows = []
    blank = []
    for path in paths:
        gray = read_image(path)
        if not has_ink(gray):
            blank.append(str(path))
            rows.append(np.zeros(height * width, np.uint8))
            continue
        if center and height == width:
            pixels = center_digit(
                gray, output_size=height, box_size=mnist_box_size(height)
            )
        else:
            resized = Image.fromarray(gray.astype(np.float32)).resize(
                (width, height), Image.Resampling.LANCZOS
            )
            pixels = np.clip(np.asarray(resized), 0, 255)
            if pixels.mean() > 127:  # a dark digit on a light background
                pixels = 255 - pixels
        rows.append(np.round(pixels).astype(np.uint8).reshape(-1))
    if blank:
        # A row of zeros would otherwise be read silently as whatever digit
        # the model gives an empty image (often a 1).
        warnings.warn(
            f"no ink found in {', '.join(blank)}: no digit to read, so their "
            "rows are all zeros. Check that each file shows a digit.",
            UserWarning,
            stacklevel=2,
        )
    return np.stack(rows) if rows else np.empty((0, height * width), np.uint8)


# -- Loading IDX data sets -------------------------------------------------------


def _load_idx_dataset(
    name, subset, data_home, download_if_missing, return_X_y, as_frame, mirrors
):
    _check_subset(subset)
    spec = _DATASETS[name]
    folder = _data_home(data_home) / name
    parts = [
        _load_part(name, folder, part, download_if_missing, mirrors)
        for part in _SUBSETS[subset]
    ]
    X = np.concatenate([images for images, _ in parts])
    y = np.concatenate([labels for _, labels in parts])
    return _as_bunch(
        X.reshape(len(X), -1),
        y,
        (28, 28),
        spec["target_names"],
        spec["descr"],
        return_X_y,
        as_frame,
    )


def _load_part(name, folder, part, download_if_missing, mirrors):
    """(images, labels) of one part ("train" or "t10k") of a data set."""
    found = _find_idx_pair(folder, part)
    if found:
        return _read_idx_pair(*found)
    # Reuse a download Keras already made: mnist.npz, or Fashion-MNIST's
    # folder of IDX files.
    keras_cache = _keras_cache(name)
    if keras_cache.suffix == ".npz" and keras_cache.is_file():
        return _read_keras_npz(keras_cache, part)
    found = _find_idx_pair(keras_cache, part)
    if found:
        return _read_idx_pair(*found)
    if not download_if_missing:
        raise OSError(_missing_message(name, folder, download=False))
    return _read_idx_pair(
        *(_download(name, folder, f"{stem}.gz", mirrors) for stem in _stems(part))
    )


def _stems(part):
    return (f"{part}-images-idx3-ubyte", f"{part}-labels-idx1-ubyte")


def _find_idx_pair(folder, part):
    """Paths of the images and labels files in `folder`, gzipped or not, or None."""
    found = []
    for stem in _stems(part):
        candidates = [folder / f"{stem}.gz", folder / stem]
        found.append(next((path for path in candidates if path.is_file()), None))
    return found if all(found) else None


def _read_idx_pair(images_path, labels_path):
    images = _read_idx(images_path, ndim=3)
    labels = _read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels; one of them is corrupt or from another set."
        )
    return images, labels.astype(np.int64)


def _read_idx(path, ndim):
    """Read an IDX file (gzipped or not): big-endian header, then uint8 data."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError) as error:  # bad gzip header, truncated stream
        raise ValueError(f"{path} is corrupt ({error}). {_DELETE_HINT}") from None
    header_size = 4 * (ndim + 1)
    if len(raw) < header_size:
        raise ValueError(f"{path} is too short to be an IDX file. {_DELETE_HINT}")
    magic, *shape = np.frombuffer(raw, ">u4", count=ndim + 1)
    if magic != _IDX_MAGIC[ndim]:
        raise ValueError(
            f"{path} is not an IDX file of {ndim} dimension(s) "
            f"(magic number {magic:#010x}). {_DELETE_HINT}"
        )
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"{path} holds {len(raw)} bytes where its header announces "
            f"{expected}: it is truncated or corrupt. {_DELETE_HINT}"
        )
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(shape)


def _read_keras_npz(path, part):
    suffix = "train" if part == "train" else "test"
    try:
        with np.load(path) as arrays:
            images, labels = arrays[f"x_{suffix}"], arrays[f"y_{suffix}"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not Keras's mnist.npz ({error}).") from None
    return images, labels.astype(np.int64)


def _keras_cache(name):
    """Where Keras keeps its copy: a .npz file for MNIST, a folder of IDX files."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return keras_home / "datasets" / _DATASETS[name]["keras_cache"]


def _data_home(data_home):
    if data_home is not None:
        return Path(data_home)
    if os.environ.get("MNISTKIT_DATA"):
        return Path(os.environ["MNISTKIT_DATA"])
    return Path(get_data_home()) / "mnistkit"


def _download(name, folder, filename, mirrors):
    """Download `filename` from the first mirror that serves it intact."""
    if mirrors is None and os.environ.get("MNISTKIT_MIRRORS"):
        mirrors = os.environ["MNISTKIT_MIRRORS"].split()
    mirrors = _DATASETS[name]["mirrors"] if mirrors is None else mirrors
    expected_md5 = _DATASETS[name]["files"][filename]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    failures = []
    for base_url in mirrors:
        url = base_url.rstrip("/") + "/" + filename
        try:
            with atomic_file(target) as temporary:
                _fetch(url, temporary, expected_md5)
            return target
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append(f"  {url}: {error}")
    raise OSError(
        f"Could not download {filename} from any mirror:\n"
        + "\n".join(failures)
        + "\n"
        + _missing_message(name, folder, download=True)
    )


def _fetch(url, path, expected_md5):
    """Stream `url` into `path`, checking its length and md5 checksum."""
    digest = hashlib.md5()
    received = 0
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        announced = response.headers.get("Content-Length")
        with open(path, "wb") as file:
            while chunk := response.read(1 << 20):
                file.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    if announced is not None and received != int(announced):
        raise ValueError(f"truncated: got {received} of {announced} bytes")
    if digest.hexdigest() != expected_md5:
        raise ValueError(
            f"checksum mismatch: md5 {digest.hexdigest()}, expected {expected_md5}"
        )


def _missing_message(name, folder, *, download):
    files = ", ".join(_DATASETS[name]["files"])
    reason = "could not be downloaded" if download else "are not on this machine"
    return (
        f"The {name} files {reason}. Put {files} (gzipped or not) in {folder}, "
        f"or point data_home or the MNISTKIT_DATA environment variable at a "
        f"folder with a '{name}' subfolder holding them."
    )


# -- Shared helpers ---------------------------------------------------------------


def _check_subset(subset):
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")


def _as_bunch(X, y, image_shape, target_names, descr, return_X_y, as_frame):
    feature_names = [f"pixel{i}" for i in range(X.shape[1])]
    frame = None
    data, target = X, y
    if as_frame:
        data = pd.DataFrame(X, columns=feature_names)
        target = pd.Series(y, name="label")
        frame = pd.concat([target, data], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=X.reshape(len(X), *image_shape),
        frame=frame,
        feature_names=feature_names,
        target_names=target_names,
        DESCR=descr,
    )


def _whole_numbers(column, file_name, column_name, high=None):
    """`column` as int64, or a ValueError naming the column and the first bad row."""
    numeric = pd.to_numeric(column, errors="coerce")
    bad = numeric.isna() | (numeric != np.round(numeric))
    if high is not None:
        bad |= (numeric < 0) | (numeric > high)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        limits = f" in 0..{high}" if high is not None else ""
        raise ValueError(
            f"{file_name}: column {column_name!r} must hold whole numbers{limits}; "
            f"row {row + 1} has {column.iloc[row]!r}."
        )
    return numeric.astype(np.int64)
