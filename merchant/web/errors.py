"""Error pages, and the same messages as fragments for htmx requests."""
from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from .htmx import is_htmx, vary

log = logging.getLogger(__name__)


def _answer(status: int, title: str, message: str):
    if is_htmx():
        return vary(render_template("errors/_message.html", message=message), status)
    return vary(render_template("errors/page.html", title=title, message=message), status)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _answer(400, "Please try again",
                       "This page was open too long or your session changed. "
                       "Reload the page and try again.")

    @app.errorhandler(404)
    def not_found(error):
        return _answer(404, "Not found",
                       "We could not find that page. If you were looking for an order, "
                       "use Track order with its reference.")

    @app.errorhandler(500)
    def server_error(error):
        return _answer(500, "Something went wrong",
                       "Something went wrong on our side. If you already paid, your order is safe; "
                       "please try again in a minute.")
