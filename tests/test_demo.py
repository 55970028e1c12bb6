"""The drawing-pad demo: its errors and its preprocessing, then a real browser.

The fast tests need neither gradio nor a browser. The slow one serves the page
with ``mnistkit demo`` and draws on it in Debian's headless Chromium through
Selenium; the slow tier installs both (.ci/run), so there it fails rather than
skips when either is missing.
"""

import math
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import interruptible_as_in_a_terminal
from mnistkit import center_digit, make_logistic_baseline
from mnistkit.cli import main
from mnistkit.demo import build_demo, drawing_to_digit, predict_drawing

# Screenshots of the page, to look at; outside the repository.
SHOTS = Path("/tmp/demo-shots")


def _free_port():
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def _ink(size=200):
    """Anti-aliased ink of an off-centre "7", 0..1: a bar and a diagonal."""
    ink = np.zeros((size, size))
    rows, cols = np.mgrid[:size, :size]
    ink[(rows > 30) & (rows < 44) & (cols > 40) & (cols < 150)] = 1
    diagonal = np.abs((cols - 150) + 0.45 * (rows - 37)) < 7
    ink[diagonal & (rows >= 37) & (rows < 180)] = 1
    edges = np.abs(np.diff(ink, axis=1, prepend=0)) > 0
    ink[edges] = 0.5
    return ink


# -- Errors, without gradio or a server ------------------------------------------


def test_missing_gradio_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # `import gradio` fails
    model = tmp_path / "model.mnistkit"
    assert main(["demo", str(model), "--port", str(_free_port())]) == 2
    assert capsys.readouterr().err == (
        "mnistkit demo: error: the drawing-pad demo needs gradio: "
        "pip install 'mnistkit[demo]'\n"
    )
    with pytest.raises(ImportError, match=r"pip install 'mnistkit\[demo\]'"):
        build_demo(None)


def test_taken_port_is_one_line_naming_it(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code = main(["demo", str(tmp_path / "model.mnistkit"), "--port", str(port)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"mnistkit demo: error: port {port} on 127.0.0.1 is already in use; "
        "pass a free one with --port\n"
    )


def test_port_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "model.mnistkit", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "ports go up to 65535, got 70000" in capsys.readouterr().err


def test_pickles_are_refused_unless_allowed(monkeypatch, tmp_path, capsys):
    import joblib

    import mnistkit.demo

    monkeypatch.setattr(mnistkit.demo, "_import_gradio", lambda: None)
    path = tmp_path / "crafted.joblib"
    joblib.dump({"model": None}, path)
    assert main(["demo", str(path), "--port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mnistkit demo: error: {path} is a pickle file")
    assert len(err.splitlines()) == 1 and "--allow-pickle" in err


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "usage: mnistkit demo" in printed and "--port N" in printed


@pytest.mark.slow
@pytest.mark.parametrize(
    "statement",
    [
        "import mnistkit.demo",
        "from mnistkit.cli import main; main(['--help'])",
        "from mnistkit.cli import main; main(['demo', '--help'])",
    ],
)
def test_neither_tensorflow_nor_gradio_loads(statement):
    code = (
        f"import sys\ntry:\n    {statement}\nexcept SystemExit:\n    pass\n"
        "print(sorted({'tensorflow', 'gradio'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


# -- Preprocessing of drawings -------------------------------------------------------


def _as_drawn(ink, kind):
    """The same ink as a canvas or a file gives it."""
    black, white = np.zeros_like(ink), np.full_like(ink, 255)
    level = 255 * ink
    if kind == "dark strokes, transparent canvas":
        return np.dstack([black, black, black, level]).astype(np.uint8)
    if kind == "light strokes, transparent canvas":
        return np.dstack([white, white, white, level]).astype(np.uint8)
    if kind == "dark strokes on opaque white":
        paper = 255 - level
        return np.dstack([paper, paper, paper, white]).astype(np.uint8)
    if kind == "gray scan":
        return (255 - level).astype(np.uint8)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "dark strokes, transparent canvas",
        "light strokes, transparent canvas",
        "dark strokes on opaque white",
        "gray scan",
    ],
)
def test_drawing_becomes_an_mnist_digit(kind):
    ink = _ink()
    expected = center_digit(255 * ink)
    digit = drawing_to_digit(_as_drawn(ink, kind))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    np.testing.assert_allclose(digit, expected, atol=1.5)
    # The 7's bar is near the top of the 20x20 box, its foot near the bottom.
    assert digit[:10].sum() > digit[18:].sum() > 0


def test_transparent_canvas_is_not_read_as_black():
    # Black ink on a canvas whose transparent pixels are black underneath:
    # dropping the alpha channel would leave no ink at all.
    canvas = _as_drawn(_ink(), "dark strokes, transparent canvas")
    assert not center_digit(canvas[..., :3].mean(axis=2)).any()
    assert drawing_to_digit(canvas).max() == 255


def test_drawing_to_digit_for_another_image_size():
    digit = drawing_to_digit(_as_drawn(_ink(), "gray scan"), size=14)
    assert digit.shape == (14, 14)
    np.testing.assert_allclose(
        digit, center_digit(255 * _ink(), output_size=14, box_size=10), atol=1.5
    )


def test_empty_canvas_and_bad_shapes():
    assert not drawing_to_digit(np.zeros((50, 50, 4), np.uint8)).any()
    with pytest.raises(ValueError, match=r"RGB or RGBA image .* shape \(5, 5, 2\)"):
        drawing_to_digit(np.zeros((5, 5, 2)))


def test_predict_drawing_reads_the_canvas(digits):
    X, y = digits
    from mnistkit import DigitCenterer

    X28 = DigitCenterer().fit_transform(X * 16)
    model = make_logistic_baseline().fit(X28, y)
    seven = X28[y == 7][0].reshape(28, 28) / 255
    canvas = _as_drawn(seven, "dark strokes, transparent canvas")
    probabilities, digit = predict_drawing(model, canvas)
    assert max(probabilities, key=probabilities.get) == "7"
    assert sorted(probabilities) == [str(label) for label in range(10)]
    assert digit.dtype == np.uint8 and digit.shape == (28, 28)
    assert predict_drawing(model, None) == (None, None)
    assert predict_drawing(model, np.zeros((40, 40, 4), np.uint8)) == (None, None)


def test_files_read_as_mnistkit_predict_reads_them(tmp_path, monkeypatch):
    from mnistkit import load_images

    scan = tmp_path / "seven.png"
    Image.fromarray(_as_drawn(_ink(), "dark strokes on opaque white")).save(scan)
    np.testing.assert_allclose(
        np.round(drawing_to_digit(scan)).reshape(1, -1),
        load_images([scan], (28, 28)),
        atol=1,
    )
    # A fully transparent upload, and a flat 16-bit one: no ink.
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    Image.fromarray(np.full((9, 9), 30000, np.uint16)).save(tmp_path / "flat.png")
    for name in ["clear.png", "flat.png"]:
        assert not drawing_to_digit(str(tmp_path / name)).any()
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ValueError, match=r"seven\.png is too large to be a digit"):
        drawing_to_digit(scan)


def test_the_page_says_why_there_is_no_prediction(digits, tmp_path, monkeypatch):
    from mnistkit import DigitCenterer
    from mnistkit.demo import NO_INK_MESSAGE, PREVIEW_SCALE, _page_answer

    X, y = digits
    X28 = DigitCenterer().fit_transform(X * 16)
    model = make_logistic_baseline().fit(X28, y)
    seven = _as_drawn(X28[y == 7][0].reshape(28, 28) / 255, "gray scan")
    probabilities, picture, message = _page_answer(model, {"composite": seven})
    assert max(probabilities, key=probabilities.get) == "7" and message == ""
    assert picture.shape == (28 * PREVIEW_SCALE, 28 * PREVIEW_SCALE)
    # A cleared pad, and an upload taken away: no prediction.
    empty = {"composite": np.zeros((420, 420, 4), np.uint8)}
    assert _page_answer(model, empty) == (None, None, NO_INK_MESSAGE)
    assert _page_answer(model, None) == (None, None, "")
    # Uploads arrive as files in gradio's cache, and are named as dropped.
    folder = tmp_path / "gradio-cache"
    folder.mkdir()
    Image.new("L", (60, 60), 255).save(folder / "blank.png")
    assert _page_answer(model, str(folder / "blank.png")) == (
        None,
        None,
        NO_INK_MESSAGE,
    )
    Image.fromarray(seven).save(folder / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    probabilities, picture, message = _page_answer(model, str(folder / "huge.png"))
    assert probabilities is None and picture is None
    assert message.startswith("huge.png is too large to be a digit: ")
    assert str(folder) not in message


def test_model_of_non_square_images_is_refused():
    class Wide:
        image_shape_ = (28, 56, 1)

    with pytest.raises(ValueError, match=r"square grayscale images.*\(28, 56, 1\)"):
        predict_drawing(Wide(), np.ones((5, 5)))


# -- The page in a real browser --------------------------------------------------

# Digits drawn as strokes of points in [-1, 1] (x right, y down), the way a
# hand draws them.
STROKES = {
    "1": [[(0.05, -0.9), (0.0, 0.0), (-0.05, 0.9)]],
    "7": [
        [(-0.55, -0.85), (0.55, -0.85)],
        [(0.55, -0.85), (0.2, -0.1), (-0.1, 0.9)],
    ],
    "0": [
        [
            (0.5 * math.sin(t), -0.85 * math.cos(t))
            for t in np.linspace(-0.2, 2 * math.pi + 0.2, 40)
        ]
    ],
}


@pytest.fixture(scope="module")
def demo_model(shared_data, tmp_path_factory):
    """A CNN fit on 5000 MNIST images in a few seconds, saved; and the model."""
    from sklearn.pipeline import make_pipeline

    from mnistkit import CNNClassifier, PixelNormalizer, load_mnist, save_model

    X, y = load_mnist("train", data_home=shared_data, return_X_y=True)
    model = make_pipeline(PixelNormalizer(), CNNClassifier(epochs=5, random_state=0))
    model.fit(X[:5000], y[:5000])
    path = tmp_path_factory.mktemp("demo") / "cnn.mnistkit"
    save_model(model, path)
    return path, model


@pytest.mark.slow
def test_drawing_pad_in_a_browser(demo_model, browser, shared_data, tmp_path):
    import gradio  # noqa: F401  (the slow tier installs mnistkit[demo])
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mnistkit import load_images, load_mnist

    model_path, model = demo_model
    SHOTS.mkdir(parents=True, exist_ok=True)
    # A scanned "3": dark ink on white paper, larger and off-centre.
    X_test, y_test = load_mnist("test", data_home=shared_data, return_X_y=True)
    three = X_test[y_test == 3][0].reshape(28, 28)
    paper = Image.new("L", (240, 180), 255)
    paper.paste(Image.fromarray(255 - three).resize((112, 112)), (110, 30))
    scan = tmp_path / "three.png"
    paper.save(scan)
    # What `mnistkit predict` says of the file, which the page must agree with.
    assert model.predict(load_images([scan], (28, 28)))[0] == 3

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "mnistkit.cli", "demo", str(model_path)]
            + ["--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=interruptible_as_in_a_terminal,
        )
    try:
        _wait_until_served(server, url, log)
        browser.get(url)
        WebDriverWait(browser, 60).until(lambda _: _brush_chosen(browser))
        predictions = {}
        for digit, strokes in STROKES.items():
            before = _page_state(browser)
            browser.find_element(
                By.CSS_SELECTOR, '#drawing-pad button[aria-label="Clear canvas"]'
            ).click()
            if before[0] is not None:
                assert _settled_state(browser, changed_from=before)[0] is None
            cleared = _page_state(browser)
            # The page chooses the brush once the pad is ready, and cleared.
            WebDriverWait(browser, 30).until(lambda _: _brush_chosen(browser))
            canvas = browser.find_elements(By.CSS_SELECTOR, "#drawing-pad canvas")[-1]
            _draw(browser, canvas, strokes)
            shown, n_classes, _ = _settled_state(browser, changed_from=cleared)
            predictions[digit] = shown
            browser.save_screenshot(SHOTS / f"drawn-{digit}.png")
            assert n_classes == 3
        assert predictions == {digit: digit for digit in STROKES}

        drawn = _page_state(browser)
        upload = browser.find_element(By.CSS_SELECTOR, "#image-upload input[type=file]")
        upload.send_keys(str(scan))
        assert _settled_state(browser, changed_from=drawn)[0] == "3"
        browser.save_screenshot(SHOTS / "dropped-3.png")
        requests = _requested_urls(browser)
    except BaseException:  # pytest.fail's too
        browser.save_screenshot(SHOTS / "failed.png")
        raise
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert requests and all(
        request.startswith((url, "data:", "blob:")) for request in requests
    ), sorted(requests)
    printed = log.read_text()
    assert code == 130, printed
    assert printed.splitlines()[-1] == "mnistkit demo: interrupted"
    assert f"Drawing pad on {url} (Ctrl-C to stop)" in printed.splitlines()
    assert "Traceback" not in printed


def _wait_until_served(server, url, log, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"mnistkit demo exited with {server.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"mnistkit demo did not serve {url} in {timeout} s:\n{log.read_text()}")


def _draw(browser, canvas, strokes):
    """Draw `strokes` with the mouse across the middle of `canvas`."""
    from selenium.webdriver.common.action_chains import ActionChains

    scale = 0.35 * min(canvas.size["width"], canvas.size["height"])
    actions = ActionChains(browser, duration=10)
    for stroke in strokes:
        (x, y), *rest = stroke
        actions.move_to_element_with_offset(canvas, round(x * scale), round(y * scale))
        actions.click_and_hold()
        for x, y in rest:
            # Small steps, as a hand moves: a long jump is drawn as one segment.
            actions.move_to_element_with_offset(
                canvas, round(x * scale), round(y * scale)
            )
        actions.release()
    actions.perform()


def _brush_chosen(browser):
    """Whether the pad shows the brush's own buttons: its tool is the brush."""
    from selenium.webdriver.common.by import By

    selector = '#drawing-pad button[aria-label="Brush Size"]'
    return bool(browser.find_elements(By.CSS_SELECTOR, selector))


# The page's state in one script: the page redraws as it answers, and an
# element found in one call may be gone in the next.
PAGE_STATE = """
const shown = document.querySelector("#prediction [data-testid=label-output-value]");
return [
    shown ? shown.innerText.trim() : null,
    document.querySelectorAll("#prediction [data-testid$=-confidence-set]").length,
    Array.from(document.querySelectorAll("#model-input img"), (image) => image.src),
];
"""


def _page_state(browser):
    """The prediction shown, how many classes are listed, the model's picture."""
    return tuple(
        tuple(value) if isinstance(value, list) else value
        for value in browser.execute_script(PAGE_STATE)
    )


def _settled_state(browser, changed_from=None, quiet_for=2.0, timeout=60):
    """The page's state once it has answered and stopped changing.

    With `changed_from`, a page state: first wait for the page to leave it.
    """
    deadline = time.monotonic() + timeout
    last, since = _page_state(browser), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = _page_state(browser)
        if now != last:
            last, since = now, time.monotonic()
        elif now != changed_from and time.monotonic() - since >= quiet_for:
            return now
    pytest.fail(f"the page did not settle on a new prediction in {timeout} s")


def _requested_urls(browser):
    import json

    urls = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return urls
