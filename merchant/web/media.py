"""Serves uploaded pictures at /media/<name>, and `image_url` for templates."""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory, url_for

from merchant.core import media

bp = Blueprint("media", __name__)

YEAR = 365 * 24 * 3600


@bp.get("/media/<name>")
def file(name: str):
    """A stored picture. Its name is the hash of its bytes, so it never changes: cache it."""
    if not media.NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(media.folder(), name, max_age=YEAR, mimetype="image/webp")
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.app_template_global()
def image_url(path: str | None) -> str:
    """The URL of a picture from the database: an upload ("media/...") or a file in static/."""
    if path and media.is_stored(path):
        return url_for("media.file", name=path[len(media.PREFIX):])
    return url_for("static", filename=path or "icons/logo.svg")


@bp.app_template_global()
def upload_limit() -> str:
    """The largest picture the panel takes, for its forms: "2 MB"."""
    return media.size_limit()
