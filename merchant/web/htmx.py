"""Small helpers for pages that answer both full-page requests and htmx partials."""
from __future__ import annotations

from flask import Response, make_response, request


def is_htmx() -> bool:
    # A history-restore request wants the full page, not the fragment.
    return request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-History-Restore-Request") != "true"


def vary(response_or_body, status: int = 200) -> Response:
    """A response whose content depends on HX-Request, so caches keep both versions apart."""
    response = make_response(response_or_body, status)
    response.vary.add("HX-Request")
    return response
