"""Loaders for MNIST, Fashion-MNIST, the bundled digits and Kaggle CSVs.

Real files come from ../shared/data; downloads are served from 127.0.0.1.
"""

import gzip
import hashlib
import shutil
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from conftest import fast_mlp
from mnistkit import (
    PixelNormalizer,
    load_digits_images,
    load_fashion_mnist,
    load_images,
    load_kaggle_digits,
    load_mnist,
    load_train_test,
    write_kaggle_submission,
)

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(autouse=True)
def no_user_caches(monkeypatch, tmp_path):
    """Keep the user's environment and Keras cache out of every test."""
    monkeypatch.delenv("MNISTKIT_DATA", raising=False)
    monkeypatch.delenv("MNISTKIT_MIRRORS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


# -- Reading local files -------------------------------------------------------


def test_mnist_from_environment_variable(shared_data, monkeypatch):
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    train = load_mnist(download_if_missing=False)
    assert train.data.shape == (60000, 784) and train.data.dtype == np.uint8
    assert train.target.shape == (60000,) and train.target.dtype == np.int64
    assert train.images.shape == (60000, 28, 28)
    np.testing.assert_array_equal(train.images[0].ravel(), train.data[0])
    assert "LeCun" in train.DESCR and "Share Alike" in train.DESCR
    test = load_mnist("test", download_if_missing=False)
    assert np.bincount(test.target).tolist() == MNIST_TEST_COUNTS
    assert load_mnist("all", return_X_y=True)[0].shape == (70000, 784)


def test_fashion_mnist_from_data_home(shared_data):
    test = load_fashion_mnist("test", data_home=shared_data, download_if_missing=False)
    assert test.data.shape == (10000, 784) and test.data.dtype == np.uint8
    assert np.bincount(test.target).tolist() == [1000] * 10
    assert test.target_names[9] == "Ankle boot"
    assert "Zalando" in test.DESCR and "MIT" in test.DESCR
    train_X, train_y = load_fashion_mnist(data_home=shared_data, return_X_y=True)
    assert train_X.shape == (60000, 784) and np.bincount(train_y).min() == 6000


def test_as_frame(shared_data):
    test = load_mnist("test", data_home=shared_data, as_frame=True)
    assert list(test.data.columns[:2]) == ["pixel0", "pixel1"]
    assert test.target.name == "label"
    assert test.frame.shape == (10000, 785)
    assert test.frame.columns[0] == "label"


def test_uncompressed_idx_files(shared_data, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in TEST_FILES:
        (folder / name.removesuffix(".gz")).write_bytes(
            gzip.decompress((shared_data / "mnist" / name).read_bytes())
        )
    test = load_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert np.bincount(test.target).tolist() == MNIST_TEST_COUNTS


def test_keras_npz_equals_idx_files(shared_data, tmp_path, monkeypatch):
    keras_datasets = tmp_path / "keras" / "datasets"
    keras_datasets.mkdir(parents=True)
    shutil.copy(shared_data / "mnist" / "mnist.npz", keras_datasets)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    empty = tmp_path / "empty"
    for subset in ("train", "test"):
        from_npz = load_mnist(subset, data_home=empty, download_if_missing=False)
        from_idx = load_mnist(subset, data_home=shared_data)
        np.testing.assert_array_equal(from_npz.data, from_idx.data)
        np.testing.assert_array_equal(from_npz.target, from_idx.target)
    assert not empty.exists()  # nothing was downloaded


def test_missing_files_without_download(tmp_path):
    with pytest.raises(OSError, match="Put train-images-idx3-ubyte.gz.*in .*mnist"):
        load_mnist(data_home=tmp_path, download_if_missing=False)


def test_corrupt_cached_file(shared_data, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(shared_data / "mnist" / TEST_FILES[0], folder)
    (folder / TEST_FILES[1]).write_bytes(b"not a gzip file")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
        load_mnist("test", data_home=tmp_path, download_if_missing=False)


def test_truncated_cached_file(shared_data, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(shared_data / "mnist" / TEST_FILES[1], folder)
    images = gzip.decompress((shared_data / "mnist" / TEST_FILES[0]).read_bytes())
    (folder / TEST_FILES[0]).write_bytes(gzip.compress(images[:-100]))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_mnist("test", data_home=tmp_path, download_if_missing=False)


def test_bad_subset():
    with pytest.raises(ValueError, match="subset must be 'train', 'test' or 'all'"):
        load_mnist("validation")


# -- Downloading from a server on 127.0.0.1 --------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Serves a folder; records requests; can cut a file short mid-transfer."""

    def do_GET(self):
        self.server.requests.append(self.path)
        name = self.path.lstrip("/")
        if name in self.server.interrupted:
            body = (Path(self.directory) / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """serve(folder, interrupted=()) -> base URL of a server for that folder."""
    servers = []

    def start(folder, interrupted=()):
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(_Handler, directory=str(folder))
        )
        server.requests, server.interrupted = [], set(interrupted)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _dead_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def _mirror_with(tmp_path, shared_data, damage=None):
    """A folder with the MNIST test files, one of them damaged by `damage`."""
    folder = tmp_path / "mirror"
    folder.mkdir(parents=True)
    for name in TEST_FILES:
        shutil.copy(shared_data / "mnist" / name, folder)
    if damage:
        path = folder / TEST_FILES[1]
        path.write_bytes(damage(path.read_bytes()))
    return folder


def _cache_files(tmp_path):
    folder = tmp_path / "cache" / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_lands_verified_then_cache_is_used(shared_data, tmp_path, serve):
    url, server = serve(_mirror_with(tmp_path, shared_data))
    cache = tmp_path / "cache"
    test = load_mnist("test", data_home=cache, mirrors=[url])
    assert np.bincount(test.target).tolist() == MNIST_TEST_COUNTS
    assert sorted(server.requests) == sorted(f"/{name}" for name in TEST_FILES)
    assert _cache_files(tmp_path) == TEST_FILES  # nothing else, no .part file
    for name in TEST_FILES:
        cached = (cache / "mnist" / name).read_bytes()
        original = (shared_data / "mnist" / name).read_bytes()
        assert hashlib.md5(cached).digest() == hashlib.md5(original).digest()
    server.requests.clear()
    again = load_mnist("test", data_home=cache, mirrors=[_dead_url()])
    np.testing.assert_array_equal(again.data, test.data)
    assert server.requests == []


def test_mirrors_from_environment_variable(shared_data, tmp_path, serve, monkeypatch):
    url, server = serve(_mirror_with(tmp_path, shared_data))
    monkeypatch.setenv("MNISTKIT_MIRRORS", f"{_dead_url()} {url}")
    load_mnist("test", data_home=tmp_path / "cache")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:], "checksum"),
        (lambda data: data[: len(data) // 2], "checksum"),
    ],
    ids=["corrupted", "truncated"],
)
def test_bad_download_raises_and_leaves_nothing(
    shared_data, tmp_path, serve, damage, match
):
    url, _ = serve(_mirror_with(tmp_path, shared_data, damage))
    with pytest.raises(OSError, match=f"(?s)Could not download t10k-labels.*{match}"):
        load_mnist("test", data_home=tmp_path / "cache", mirrors=[url])
    # The good images file stays; the bad labels file left no trace.
    assert _cache_files(tmp_path) == [TEST_FILES[0]]


def test_interrupted_download_raises_and_leaves_nothing(shared_data, tmp_path, serve):
    url, _ = serve(_mirror_with(tmp_path, shared_data), interrupted=TEST_FILES[1:])
    with pytest.raises(OSError, match="truncated: got 2271 of 4542 bytes"):
        load_mnist("test", data_home=tmp_path / "cache", mirrors=[url])
    assert _cache_files(tmp_path) == [TEST_FILES[0]]


def test_bad_mirror_falls_through_to_the_next(shared_data, tmp_path, serve):
    bad_url, _ = serve(_mirror_with(tmp_path / "bad", shared_data, lambda d: d[:9]))
    good_url, good = serve(_mirror_with(tmp_path, shared_data))
    mirrors = [_dead_url(), bad_url, good_url]
    test = load_mnist("test", data_home=tmp_path / "cache", mirrors=mirrors)
    assert np.bincount(test.target).tolist() == MNIST_TEST_COUNTS
    # The bad mirror served the images intact; only its labels file was bad.
    assert good.requests == [f"/{TEST_FILES[1]}"]


def test_no_network_says_where_to_put_the_files(tmp_path):
    with pytest.raises(OSError) as error:
        load_mnist(data_home=tmp_path, mirrors=[_dead_url(), _dead_url()])
    message = str(error.value)
    assert f"in {tmp_path / 'mnist'}" in message and "MNISTKIT_DATA" in message
    assert message.count("127.0.0.1") == 2
    assert not any((tmp_path / "mnist").iterdir())


# -- Bundled digits ------------------------------------------------------------------


def test_digits_images():
    digits = load_digits_images()
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.uint8
    assert digits.data.max() == 255 and digits.images.shape == (1797, 8, 8)
    train, test = load_digits_images("train"), load_digits_images("test")
    assert (len(train.target), len(test.target)) == (1347, 450)
    # Stratified: each class keeps its share of the 1,797 images, to one image.
    expected = np.bincount(digits.target) * 450 / 1797
    assert np.abs(np.bincount(test.target) - expected).max() <= 1
    X, y = load_digits_images("test", return_X_y=True, as_frame=True)
    assert list(X.columns[:2]) == ["pixel0", "pixel1"] and y.name == "label"


# -- Kaggle CSVs ---------------------------------------------------------------------


def test_kaggle_csv_round_trip(shared_data, tmp_path):
    X, y = load_mnist("test", data_home=shared_data, return_X_y=True, as_frame=True)
    train = pd.concat([y, X], axis=1).iloc[:1000]
    train.to_csv(tmp_path / "train.csv", index=False)
    X.iloc[1000:1300].to_csv(tmp_path / "test.csv", index=False)

    X_train, y_train = load_kaggle_digits(tmp_path / "train.csv")
    X_test, y_none = load_kaggle_digits(tmp_path / "test.csv")
    assert y_none is None
    assert X_train.shape == (1000, 784) and X_test.shape == (300, 784)
    assert X_train.dtypes.unique().tolist() == [np.uint8]
    pd.testing.assert_frame_equal(X_train, X.iloc[:1000])

    model = make_pipeline(PixelNormalizer(), fast_mlp()).fit(X_train, y_train)
    assert list(model.feature_names_in_) == list(X_train.columns)
    path = write_kaggle_submission(model.predict(X_test), tmp_path / "sub.csv")
    submission = pd.read_csv(path)
    assert list(submission.columns) == ["ImageId", "Label"]
    assert submission["ImageId"].tolist() == list(range(1, 301))
    assert (submission["Label"] == y.iloc[1000:1300].to_numpy()).mean() > 0.8


def _pixels_csv(tmp_path, header, rows):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([",".join(header), *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    "header, rows, match",
    [
        (
            ["label", "pixel0", "pixel2"],
            ["1,0,0"],
            "expected column 'pixel1'.*'pixel2'",
        ),
        (["pixel0", "label"], ["0,1"], "'label' must be the first column"),
        (["label", "pixel0"], ["1,dark"], "column 'pixel0' .*row 1 has 'dark'"),
        (["label", "pixel0"], ["1,0", "2,300"], "'pixel0' .*0..255; row 2"),
        (["label", "pixel0"], ["one,0"], "column 'label' must hold whole numbers"),
        (["label"], ["1"], "no pixel columns"),
    ],
)
def test_malformed_kaggle_csv(tmp_path, header, rows, match):
    with pytest.raises(ValueError, match=match):
        load_kaggle_digits(_pixels_csv(tmp_path, header, rows))


def test_submission_is_never_half_written(tmp_path, monkeypatch):
    path = tmp_path / "submission.csv"
    with pytest.raises(ValueError, match="one label per test image"):
        write_kaggle_submission(np.zeros((3, 2)), path)

    def fail_midway(self, target, **kwargs):
        Path(target).write_text("ImageId,Label\n1,")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        write_kaggle_submission([1, 2, 3], path)
    assert list(tmp_path.iterdir()) == []


def test_load_images_brings_any_digit_image_into_mnists_format(tmp_path):
    from PIL import Image

    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1", centred as MNIST's are
    # The same digit, three times larger, dark on light, in an RGB photo corner.
    page = np.full((120, 150), 240, np.uint8)
    page[10:70, 90:102] = 20
    Image.fromarray(digit).save(tmp_path / "digit.png")
    Image.fromarray(page).convert("RGB").save(tmp_path / "photo.jpg", quality=95)
    paths = [tmp_path / "digit.png", tmp_path / "photo.jpg"]
    X = load_images(paths, (28, 28))
    assert X.shape == (2, 784) and X.dtype == np.uint8
    np.testing.assert_allclose(X[1], X[0], atol=40)
    # Without centering, the photo's digit stays in its corner.
    plain = load_images(paths, (28, 28), center=False)
    assert plain[1].reshape(28, 28)[:, :14].max() < 50


def test_load_images_names_a_file_that_is_no_image(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.png is not a readable image"):
        load_images([tmp_path / "notes.png"], (28, 28))


def test_load_train_test_samples_each_part_by_class():
    full = load_train_test("digits")
    data = load_train_test("digits", n_train=500, n_test=90, random_state=1)
    assert (len(data.y_train), len(data.y_test)) == (500, 90)
    assert data.description == "digits: 500 training / 90 test images of 64 pixels"
    # Stratified: each of the ten classes in proportion, 9 of the 90 test rows.
    assert np.bincount(data.y_test).tolist() == [9] * 10
    assert np.ptp(np.bincount(data.y_train)) <= 2
    # Rows of the parts they came from, never of the other part.
    train_rows = {row.tobytes() for row in full.X_train}
    test_rows = {row.tobytes() for row in full.X_test}
    assert {row.tobytes() for row in data.X_test} <= test_rows
    assert {row.tobytes() for row in data.X_train} <= train_rows
    # Seeded: the same sample again; and sizes past the set's keep it whole.
    again = load_train_test("digits", n_train=500, n_test=90, random_state=1)
    np.testing.assert_array_equal(again.X_test, data.X_test)
    assert len(load_train_test("digits", n_test=10**6).y_test) == len(full.y_test)


def _no_ink_images(folder):
    """Files with nothing to read, as a stranger might hand them over."""
    from PIL import Image

    images = {
        "white.png": Image.new("L", (40, 30), 255),
        "black.png": Image.new("L", (40, 30), 0),
        "transparent.png": Image.new("RGBA", (40, 40), (0, 0, 0, 0)),
        "pixel.png": Image.new("L", (1, 1), 0),
        "flat16.png": Image.fromarray(np.full((40, 40), 30000, np.uint16)),
    }
    for name, image in images.items():
        image.save(folder / name)
    return [folder / name for name in images]


def _inked_images(folder):
    """Drawn strokes: on a transparent canvas, and in a 16-bit scan."""
    from PIL import Image

    canvas = np.zeros((60, 60, 4), np.uint8)  # black, fully transparent
    canvas[10:50, 28:33, 3] = 255  # an opaque black stroke
    Image.fromarray(canvas).save(folder / "stroke.png")
    scan = np.full((60, 60), 60000, np.uint16)  # 16-bit white paper
    scan[10:50, 28:33] = 2000
    Image.fromarray(scan).save(folder / "stroke16.png")
    return [folder / "stroke.png", folder / "stroke16.png"]


@pytest.mark.parametrize("center", [True, False], ids=["centred", "resized"])
def test_load_images_finds_images_with_no_ink(tmp_path, center):
    blank = _no_ink_images(tmp_path)
    inked = _inked_images(tmp_path)
    with pytest.warns(UserWarning, match="no ink found in") as caught:
        X = load_images([*blank, *inked], (28, 28), center=center)
    (warning,) = caught
    assert all(str(path) in str(warning.message) for path in blank)
    assert not any(str(path) in str(warning.message) for path in inked)
    assert not X[: len(blank)].any()
    assert (X[len(blank) :].max(axis=1) > 200).all()


def test_load_images_reads_drawn_strokes_without_a_warning(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X = load_images(_inked_images(tmp_path), (28, 28))
    # The same stroke, white on black and centred, from the canvas and the
    # 16-bit scan alike: scaled to 8 bits, not clipped to white.
    assert X.max() == 255
    np.testing.assert_allclose(X[0], X[1], atol=2)


@pytest.mark.parametrize("side", [40, 50], ids=["pillow-warns", "pillow-refuses"])
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_load_images_refuses_images_over_pillows_limit(tmp_path, monkeypatch, side):
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("L", (side, side), 0).save(path)
    # 1,000 pixels stand for Pillow's 89 million: 40 x 40 is where Pillow
    # would only warn, 50 x 50 past twice the limit, where it refuses.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ValueError) as raised:
        load_images([path], (28, 28))
    message = str(raised.value)
    assert f"{path} is too large to be a digit: " in message
    assert f"{side * side:,} pixels" in message and "limit of 1,000" in message
    assert "Resize it first" in message
