"""A drawing pad in the browser: draw a digit, see what a fitted model reads.

`serve_demo` serves a page on this machine, built with gradio (the
``mnistkit[demo]`` extra), where one draws a digit with the mouse or a finger,
or drops in a PNG or JPEG, and sees the predicted digit and its three most
probable classes, updated after every stroke. Every image goes through
`drawing_to_digit`, MNIST's own preparation, before the model sees it. The
page sends nothing anywhere but to the machine that serves it: gradio's usage
statistics and its share links are off.
"""

import errno
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._images import has_ink, lay_on_paper, read_image
from .benchmark import final_estimator
from .preprocessing import center_digit, mnist_box_size, resolve_image_shape

if TYPE_CHECKING:
    import gradio

INSTALL_HINT = "pip install 'mnistkit[demo]'"

# Side of the square canvas, in screen pixels, and the brush's radius on it:
# strokes about a tenth of a digit's height wide, as MNIST's pen strokes are.
CANVAS_SIZE = 420
BRUSH_RADIUS = 14

# The image the model is given (28x28 for MNIST) is shown enlarged this much.
PREVIEW_SCALE = 6

# The pad opens, and clears, with no tool chosen, so a first stroke would draw
# nothing: the page chooses the brush once the pad has rendered its buttons.
CHOOSE_BRUSH = """() => {
    const choose = (tries) => {
        const brush = document.querySelector(
            '#drawing-pad button[aria-label="Brush"], #drawing-pad button.quite-round'
        );
        if (brush) {
            brush.click();
        } else if (tries > 0) {
            setTimeout(() => choose(tries - 1), 100);
        }
    };
    choose(100);
}"""


def drawing_to_digit(
    image: "ArrayLike | str | os.PathLike[str]", size: int = 28
) -> np.ndarray:
    """Bring a drawing or a photo of one digit into a model's input format.

    Transparent pixels are laid on paper that contrasts with the ink (white
    under dark ink, black under light ink), so a drawing on a transparent
    canvas reads as it looks. The result is converted to grayscale and
    brought into MNIST's format by :func:`~mnistkit.center_digit`: cropped to
    the ink, scaled into a box of 20/28 of `size`, centred by its centre of
    mass and made white ink on black. An image file is read as
    :func:`~mnistkit.load_images` reads it.

    Parameters
    ----------
    image : array-like of shape (height, width), (height, width, 3) or \
(height, width, 4), or str or path-like
        Grayscale, RGB or RGBA intensities 0-255, as a canvas gives them, or
        an image file.
    size : int, default=28
        Side of the square image the model expects.

    Returns
    -------
    digit : ndarray of shape (size, size), dtype float32
        0-255 intensities, white ink on black; all zeros if there is no ink,
        as :func:`~mnistkit.load_images` defines it (intensities that span
        fewer than 8 of 255 levels).

    Raises
    ------
    ValueError
        If `image` is not a grayscale, RGB or RGBA image, or is a file that
        is not an image or has more pixels than ``PIL.Image.MAX_IMAGE_PIXELS``.

    See Also
    --------
    center_digit : The centering of a grayscale image.

    Examples
    --------
    Black strokes on a transparent canvas, as a drawing pad gives them:

    >>> import numpy as np
    >>> from mnistkit.demo import drawing_to_digit
    >>> canvas = np.zeros((200, 200, 4), np.uint8)  # black, fully transparent
    >>> canvas[40:160, 95:105, 3] = 255  # an opaque black bar: a "1"
    >>> digit = drawing_to_digit(canvas)
    >>> digit.shape, float(digit.max()), float(digit[14, 14]), float(digit[14, 4])
    ((28, 28), 255.0, 255.0, 0.0)
    """
    from PIL import Image

    if isinstance(image, str | os.PathLike):
        gray = read_image(image)
        return _centered(gray, size)
    pixels = np.asarray(image)
    if pixels.ndim not in (2, 3) or (
        pixels.ndim == 3 and pixels.shape[2] not in (3, 4)
    ):
        raise ValueError(
            f"drawing_to_digit takes a grayscale, RGB or RGBA image of shape "
            f"(height, width[, 3 or 4]), got an array of shape {pixels.shape}."
        )
    pixels = np.clip(np.nan_to_num(pixels.astype(np.float64)), 0, 255).astype(np.uint8)
    rgba = Image.fromarray(pixels).convert("RGBA")
    # Grayscale as Pillow's "L", which `mnistkit predict` reads files with.
    gray = np.asarray(rgba.convert("L"), dtype=np.float64)
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255
    return _centered(lay_on_paper(gray, alpha), size)


def _centered(gray: np.ndarray, size: int) -> np.ndarray:
    """`center_digit` of a 0-255 grayscale image; all zeros if it has no ink."""
    if not has_ink(gray):
        return np.zeros((size, size), np.float32)
    return center_digit(gray, output_size=size, box_size=mnist_box_size(size))


def predict_drawing(
    model: Any, image: "ArrayLike | str | os.PathLike[str] | None"
) -> tuple[dict[str, float] | None, np.ndarray | None]:
    """Predict the digit in a drawing, and show what the model was given.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Takes rows of raw 0-255 pixels and has ``predict_proba``, as the
        models that `mnistkit.load_model` returns do.
    image : array-like, str, path-like or None
        A drawing or photo, or an image file, as `drawing_to_digit` takes it.

    Returns
    -------
    probabilities : dict or None
        Each class (as a string) and its probability; None when the image is
        None or has no ink.
    digit : ndarray of shape (height, width), dtype uint8, or None
        The image the model was given, 0-255.

    Raises
    ------
    ValueError
        If the model does not take square single-channel images, or the
        image is refused by `drawing_to_digit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from mnistkit import DigitCenterer, make_logistic_baseline
    >>> from mnistkit.demo import predict_drawing
    >>> X, y = load_digits(return_X_y=True)
    >>> X28 = DigitCenterer().fit_transform(X * 16)  # 28x28 rows, 0-255
    >>> model = make_logistic_baseline().fit(X28, y)
    >>> probabilities, digit = predict_drawing(model, X28[0].reshape(28, 28))
    >>> max(probabilities, key=probabilities.get), int(y[0]), digit.shape
    ('0', 0, (28, 28))
    >>> predict_drawing(model, np.zeros((50, 50)))
    (None, None)
    """
    if image is None:
        return None, None
    size = _image_size(model)
    digit = drawing_to_digit(image, size)
    if not digit.any():
        return None, None
    row = digit.reshape(1, -1)
    if hasattr(model, "feature_names_in_"):  # fitted on a DataFrame
        import pandas as pd

        row = pd.DataFrame(row, columns=model.feature_names_in_)
    (probabilities,) = model.predict_proba(row)
    classes = (str(label) for label in model.classes_)
    return (
        {label: float(p) for label, p in zip(classes, probabilities, strict=True)},
        np.round(digit).astype(np.uint8),
    )


def build_demo(model: Any) -> "gradio.Blocks":
    """Build the drawing-pad page for a fitted model, without serving it.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        As `predict_drawing` takes it.

    Returns
    -------
    demo : gradio.Blocks
        The page: a drawing pad, a drop zone for an image file, the predicted
        digit with its three most probable classes, and the 28x28 image the
        model was given. ``demo.launch()`` serves it.

    Raises
    ------
    ImportError
        If gradio, the ``mnistkit[demo]`` extra, is not installed.
    ValueError
        If the model does not take square single-channel images.

    See Also
    --------
    serve_demo : Build and serve it, until interrupted.

    Examples
    --------
    >>> from mnistkit import load_model
    >>> from mnistkit.demo import build_demo
    >>> demo = build_demo(load_model("cnn.mnistkit"))  # doctest: +SKIP
    >>> demo.launch()  # serves it on http://127.0.0.1:7860  # doctest: +SKIP
    """
    gr = _import_gradio()
    size = _image_size(model)

    def predict(image: Any) -> tuple[dict[str, float] | None, np.ndarray | None, str]:
        return _page_answer(model, image)

    # Every prediction's picture is a file in gradio's cache: an hour is kept.
    with gr.Blocks(
        analytics_enabled=False,
        title="mnistkit drawing pad",
        delete_cache=(3600, 3600),
    ) as demo:
        gr.Markdown(
            "## Draw a digit\n"
            "Draw one digit, 0 to 9, with the mouse or a finger, or drop a PNG "
            "or JPEG of one. The prediction follows every stroke."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                pad = gr.Sketchpad(
                    label="Drawing pad",
                    type="numpy",
                    image_mode="RGBA",
                    format="png",
                    canvas_size=(CANVAS_SIZE, CANVAS_SIZE),
                    fixed_canvas=True,
                    height=CANVAS_SIZE + 100,
                    brush=gr.Brush(
                        default_size=BRUSH_RADIUS,
                        colors=["#000000"],
                        color_mode="fixed",
                    ),
                    layers=False,
                    transforms=(),
                    elem_id="drawing-pad",
                )
            with gr.Column(scale=2):
                # A file's path, not its pixels: gradio then reads only its
                # header, and `drawing_to_digit` refuses one too large to
                # decode, as `mnistkit predict` does.
                upload = gr.Image(
                    label="Or drop an image",
                    type="filepath",
                    image_mode=None,
                    sources=["upload", "clipboard"],
                    buttons=[],
                    height=CANVAS_SIZE // 2 + 100,
                    elem_id="image-upload",
                )
            with gr.Column(scale=2):
                prediction = gr.Label(
                    num_top_classes=3, label="Prediction", elem_id="prediction"
                )
                status = gr.Markdown(elem_id="status")
                seen = gr.Image(
                    label=f"What the model sees ({size}x{size})",
                    interactive=False,
                    buttons=[],
                    height=size * PREVIEW_SCALE + 60,
                    elem_id="model-input",
                )
        demo.load(None, js=CHOOSE_BRUSH)
        pad.clear(None, js=CHOOSE_BRUSH)
        # One prediction at a time: the model is shared by both inputs.
        for source in (pad, upload):
            source.change(
                predict,
                inputs=source,
                outputs=[prediction, seen, status],
                trigger_mode="always_last",
                show_progress="hidden",
                concurrency_id="model",
                concurrency_limit=1,
            )
    return demo


# What the page says where there is nothing to predict.
NO_INK_MESSAGE = "No ink found: draw a digit, or drop an image of one."


def _page_answer(
    model: Any, image: Any
) -> tuple[dict[str, float] | None, np.ndarray | None, str]:
    """The page's prediction, enlarged picture and message for a pad or a file.

    An image with no ink gets no prediction and `NO_INK_MESSAGE`; a file that
    is refused (not an image, too large) gets the reason, naming the file.
    """
    if isinstance(image, dict):  # the pad's value: layers and their composite
        image = image.get("composite")
    try:
        probabilities, digit = predict_drawing(model, image)
    except ValueError as error:
        if not isinstance(image, str | os.PathLike):
            raise
        # Named as it was dropped, not by its copy in gradio's cache.
        return None, None, str(error).replace(str(image), Path(image).name)
    if digit is None:
        return None, None, "" if image is None else NO_INK_MESSAGE
    digit = np.kron(digit, np.ones((PREVIEW_SCALE, PREVIEW_SCALE), np.uint8))
    return probabilities, digit, ""


def serve_demo(
    model: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    ready: Callable[[str], object] | None = None,
) -> None:
    """Serve the drawing-pad page until interrupted (Ctrl-C).

    Parameters
    ----------
    model : fitted classifier or Pipeline
        As `predict_drawing` takes it.
    host : str, default="127.0.0.1"
        The address to listen on; the default answers this machine only.
    port : int, default=7860
        The port to listen on.
    ready : callable, default=None
        Called with the page's address, e.g. ``"http://127.0.0.1:7860/"``,
        once the page is served.

    Returns
    -------
    None
        Only if the server stops by other means than Ctrl-C.

    Raises
    ------
    OSError
        If the port is taken or the address is not this machine's.
    ImportError
        If gradio, the ``mnistkit[demo]`` extra, is not installed.
    KeyboardInterrupt
        On Ctrl-C, once the server has stopped.

    See Also
    --------
    build_demo : The page, without serving it.

    Examples
    --------
    >>> from mnistkit import load_model
    >>> from mnistkit.demo import serve_demo
    >>> serve_demo(load_model("cnn.mnistkit"), port=7861)  # doctest: +SKIP
    """
    _check_port_free(host, port)
    demo = build_demo(model)
    # The first prediction builds the network's graph: done now, the first
    # stroke on the page answers as fast as the others.
    predict_drawing(model, np.pad(np.ones((8, 2)), 10))
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        mcp_server=False,
        footer_links=[],
        quiet=True,
        prevent_thread_lock=True,
    )
    if ready is not None:
        address = f"[{host}]" if ":" in host else host  # an IPv6 address
        ready(f"http://{address}:{port}/")
    try:
        while demo.is_running:
            time.sleep(0.2)
    finally:
        demo.close(verbose=False)


def check_can_serve(
    host: str = "127.0.0.1", port: int = 7860, *, fix: str = "choose another port"
) -> None:
    """Raise now the errors that would stop `serve_demo` from starting.

    `serve_demo` needs gradio and a port to listen on, and finds out late,
    after the model has loaded; a caller that has a model to load first (the
    ``mnistkit demo`` command) checks here before it does.

    Parameters
    ----------
    host : str, default="127.0.0.1"
        The address `serve_demo` would listen on.
    port : int, default=7860
        The port it would listen on.
    fix : str, default="choose another port"
        What the error message tells the user to do when the port is taken.

    Returns
    -------
    None
        When `serve_demo` could start.

    Raises
    ------
    OSError
        Nothing can listen on `port` of `host`: the port is taken, out of
        range, or `host` is no address of this machine.
    ImportError
        gradio is not installed.

    Examples
    --------
    >>> import socket
    >>> from mnistkit.demo import check_can_serve
    >>> with socket.create_server(("127.0.0.1", 0)) as taken:
    ...     check_can_serve("127.0.0.1", taken.getsockname()[1])
    Traceback (most recent call last):
    ...
    OSError: port ... on 127.0.0.1 is already in use; choose another port
    """
    _check_port_free(host, port, fix)
    _import_gradio()


def _check_port_free(host, port, fix="choose another port"):
    """Raise OSError, naming the port and `fix`, if nothing can listen on it."""
    # A bind of our own, before loading the model and gradio: gradio's own
    # error comes late and reads "Cannot find empty port in range".
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            pass
    except OverflowError:
        raise OSError(f"port {port} is not a port number (0-65535)") from None
    except socket.gaierror:
        raise OSError(
            f"cannot listen on {host}: no such address; pass an address of this "
            f"machine, e.g. 127.0.0.1"
        ) from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise OSError(f"port {port} on {host} is already in use; {fix}") from None
        raise OSError(
            f"cannot listen on port {port} of {host}: {error.strerror}; {fix}"
        ) from None


def _image_size(model):
    """Side of the square single-channel images that `model` takes."""
    shape = getattr(final_estimator(model), "image_shape_", None)
    shape = tuple(shape or resolve_image_shape(model.n_features_in_))
    height, width, *channels = shape
    if height != width or channels not in ([], [1]):
        raise ValueError(
            f"the drawing pad needs a model of square grayscale images, this one "
            f"takes images of shape {shape}."
        )
    return height


def _import_gradio():
    try:
        import gradio
    except ImportError:
        raise ImportError(
            f"the drawing-pad demo needs gradio: {INSTALL_HINT}"
        ) from None
    return gradio
