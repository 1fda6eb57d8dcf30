"""Uploaded pictures (product pictures, the shop's logo): checked, re-encoded, stored by content.

An upload is opened with Pillow and only a real PNG, JPEG, WebP or GIF is accepted; SVG is
refused (it can carry scripts). What is stored is never the uploaded file: it is re-encoded as
a square WebP of at most 256 px, named by the hash of its bytes, under <instance>/media/. The
stored path ("media/<name>") goes into the database; `image_url` in templates serves it.

A big picture is made smaller, never refused for its size in pixels alone: only one that needs
more than DECODE_BUDGET pixels decoded (a decompression bomb, or a giant PNG) is refused.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import warnings

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 256                                  # the stored square's side, px
# Pixels decoded at most: ~160 MB as RGBA, the most one upload may cost. A JPEG is decoded at
# 1/2, 1/4 or 1/8 of its size (draft), so a photo of up to 64 times this opens within it.
DECODE_BUDGET = 40_000_000
# Pillow's own guard, read from the header before anything is decoded: anything bigger can
# never come within the budget, so it is refused as a decompression bomb right there.
Image.MAX_IMAGE_PIXELS = DECODE_BUDGET * 64
FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
ACCEPT = "image/png,image/jpeg,image/webp,image/gif"   # the file picker's filter
PREFIX = "media/"
NAME = re.compile(r"[0-9a-f]{32}\.webp")


class MediaError(ValueError):
    """The upload is not a picture we can use. The message says why, for the operator."""


def folder() -> str:
    """Where stored pictures live: <instance>/media."""
    return os.path.join(current_app.instance_path, "media")


def save_image(file_storage) -> str:
    """Check and store an uploaded picture; returns its path for the database ("media/<name>").

    :raise MediaError: not a PNG, JPEG, WebP or GIF picture, an SVG, too large, or too many
        pixels.
    """
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise MediaError(_("Choose a picture to upload: the file is empty."))
    if len(data) > limit:
        raise MediaError(_("The picture is larger than %(size)s: make it smaller, or upload a "
                           "PNG, JPEG or WebP of 256 x 256 px.", size=_size(limit)))
    if _looks_like_svg(data):
        raise MediaError(_("SVG pictures are not accepted (they can carry scripts): upload a "
                           "PNG, JPEG or WebP."))
    encoded = _square_webp(data)
    name = hashlib.sha256(encoded).hexdigest()[:32] + ".webp"
    os.makedirs(folder(), exist_ok=True)
    path = os.path.join(folder(), name)
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as out:
            out.write(encoded)
        os.replace(temporary, path)
    return PREFIX + name


def _square_webp(data: bytes) -> bytes:
    image = _decoded(data)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")              # palette and 1-bit pictures cannot reduce
    # A cheap integer reduce first, so the careful resampling below works on a small picture.
    factor = min(image.size) // SIZE
    if factor > 1:
        image = image.reduce(factor)
    image = ImageOps.exif_transpose(image).convert("RGBA")
    side = min(SIZE, *image.size)
    square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    """The upload decoded, at a reduced scale when the format allows, within DECODE_BUDGET."""
    refused = MediaError(_("That file is not a picture: upload a PNG, JPEG or WebP."))
    try:
        with warnings.catch_warnings():
            # Pillow warns, then errors, on a header over MAX_IMAGE_PIXELS: both refuse it here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise refused from None
    if image.format not in FORMATS:
        raise refused
    nominal = image.size
    image.draft("RGB", (SIZE, SIZE))               # JPEG: decode at the smallest scale >= SIZE
    if image.width * image.height > DECODE_BUDGET:
        raise _too_many_pixels(nominal)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        raise refused from None
    return image


def _too_many_pixels(size: tuple[int, int] | None) -> MediaError:
    if size is None:
        return MediaError(_("The picture has too many pixels to open safely: save it smaller "
                            "(for example 1000 x 1000 px) and upload it again."))
    return MediaError(_("The picture has too many pixels to open safely (%(width)s x %(height)s "
                        "px): save it smaller (for example 1000 x 1000 px) and upload it again.",
                        width=size[0], height=size[1]))


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def size_limit() -> str:
    """The largest upload, for forms: "2 MB"."""
    return _size(int(current_app.config["UPLOAD_MAX_BYTES"]))


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def is_stored(path: str) -> bool:
    """True for a path save_image returned (served from /media), False for one under static/."""
    return path.startswith(PREFIX)
