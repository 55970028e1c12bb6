"""Reading one image file as a digit: its grayscale pixels, and whether it has ink.

Shared by `mnistkit.load_images` (and so ``mnistkit predict``) and the drawing
pad of `mnistkit.demo`, so that a file reads the same in both.
"""

import os
import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

# An image whose grayscale intensities span fewer levels than this, of 255,
# has no ink: blank paper, an empty canvas, a flat grey. Below it,
# `center_digit` would stretch compression noise into a "digit".
MIN_INK_CONTRAST = 8


def has_ink(gray: np.ndarray) -> bool:
    """Whether a grayscale image (0-255) holds ink: see `MIN_INK_CONTRAST`."""
    return gray.size > 0 and float(np.ptp(gray)) >= MIN_INK_CONTRAST


def read_image(path: "str | os.PathLike[str]") -> np.ndarray:
    """An image file's grayscale pixels, 0-255 floats, as `load_images` reads them.

    Refuses, from the header and before decoding, an image with more pixels
    than ``PIL.Image.MAX_IMAGE_PIXELS``, and one that Pillow refuses itself.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    # Pillow's own limit, so that a program that sets it sets ours; Pillow
    # only warns below twice it, but no digit needs that many pixels.
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            width, height = image.size
            if limit is not None and width * height > limit:
                size = f"{width} x {height} = {width * height:,} pixels"
                raise ValueError(_too_large_message(path, size, limit))
            return grayscale(ImageOps.exif_transpose(image))
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not a readable image file.") from None
    except Image.DecompressionBombError as error:
        # Raised by Image.open beyond twice the limit, before the check above.
        found = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(found[1]):,} pixels" if found else "too many pixels"
        raise ValueError(_too_large_message(path, size, limit)) from None


def _too_large_message(
    path: "str | os.PathLike[str]", size: str, limit: int | None
) -> str:
    return (
        f"{path} is too large to be a digit: {size}, more than the limit of "
        f"{limit or 0:,} (PIL.Image.MAX_IMAGE_PIXELS). Resize it first, e.g. "
        "to 280 x 280 pixels."
    )


def grayscale(image: "Image.Image") -> np.ndarray:
    """The pixels of a Pillow image as 0-255 grayscale floats."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit: scaled to 8 bits; Pillow's convert("L") clips instead, and
        # turns all but the darkest of 65,536 levels white.
        return np.clip(np.asarray(image, dtype=np.float64), 0, 65535) * (255 / 65535)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in (
        image.info
    ):
        rgba = image.convert("RGBA")
        gray = np.asarray(rgba.convert("L"), dtype=np.float64)
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255
        return lay_on_paper(gray, alpha)
    return np.asarray(image.convert("L"), dtype=np.float64)


def lay_on_paper(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`gray` (0-255) with transparent pixels (`alpha` 0 to 1) laid on paper.

    The paper is white under dark ink and black under light ink, so that a
    drawing on a transparent canvas reads as it looks; a fully transparent
    image becomes blank paper, with no ink.
    """
    gray = np.asarray(gray, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.size == 0 or alpha.min() >= 1:
        return gray
    # A canvas's transparent pixels are black underneath: taken as they are,
    # black ink on them would not show at all.
    opaque = alpha.sum()
    ink_is_dark = opaque > 0 and (gray * alpha).sum() / opaque < 128
    paper = 255.0 if ink_is_dark else 0.0
    return gray * alpha + paper * (1 - alpha)
