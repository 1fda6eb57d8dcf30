"""Uploaded pictures (product pictures, the shop's logo): checked, re-encoded, stored by content.

An upload is opened with Pillow and only a real PNG, JPEG, WebP or GIF is accepted; SVG is
refused (it can carry scripts). What is stored is never the uploaded file: it is re-encoded as
a square WebP of at most 256 px, named by the hash of its bytes, under <instance>/media/. The
stored path ("media/<name>") goes into the database; `image_url` in templates serves it.
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
MAX_PIXELS = 40_000_000                     # refuse bigger images before decoding them
FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
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
    refused = MediaError(_("That file is not a picture: upload a PNG, JPEG or WebP."))
    try:
        with warnings.catch_warnings():
            # A decompression bomb warns before it errors: both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise refused
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise MediaError(_("The picture has too many pixels (%(width)s x %(height)s): "
                                       "upload one of at most a few thousand pixels a side.",
                                       width=width, height=height))
                # JPEG decodes at a reduced scale still >= SIZE: a photo costs ms, not seconds.
                image.draft("RGB", (SIZE, SIZE))
                image = ImageOps.exif_transpose(image)
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, MediaError):
            raise
        raise refused from None
    image = image.convert("RGBA")
    side = min(SIZE, *image.size)
    square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def is_stored(path: str) -> bool:
    """True for a path save_image returned (served from /media), False for one under static/."""
    return path.startswith(PREFIX)
