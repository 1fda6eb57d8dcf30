"""The app's own responses compressed (brotli or gzip, as the browser accepts): Flask-Compress.

The static files come compressed already (merchant/web/edge/static_files.py), and so do the shared
storefront pages (compressed once per catalog version, web/page_cache.py); the status poll is
left alone (its 204 is empty and its final fragment small, and it is the hottest route).
"""
from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress

UNCOMPRESSED_ENDPOINTS = frozenset({"orders.status"})

compress = Compress()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # The other pages are compressed on every request: the fastest levels, about 15 % bigger
    # than level 4 for a quarter of the time.
    app.config.setdefault("COMPRESS_BR_LEVEL", 1)
    app.config.setdefault("COMPRESS_LEVEL", 1)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)         # bytes: smaller gains nothing
    app.config.setdefault("COMPRESS_STREAMS", False)        # CSV exports stream as they are
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/xml", "application/xml",
        "application/json", "image/svg+xml"])
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)

    @app.after_request
    def compressed(response):
        if request.endpoint in UNCOMPRESSED_ENDPOINTS:
            return response
        return compress.after_request(response)

