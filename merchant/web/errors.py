"""Error pages, and the same messages as fragments for htmx requests or JSON for callbacks."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from merchant.core.extensions import db
from merchant.web.cross_origin import CrossOriginRefused
from merchant.web.htmx import is_htmx, vary

log = logging.getLogger(__name__)

def _in_panel() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def _answer(status: int, title: str, message: str, panel_message: str | None = None):
    """The error as the asker reads it: JSON for callbacks, a fragment for htmx, else a page
    in the shop's layout, or in the panel's (with `panel_message`, if given) under /admin."""
    if request.path.startswith("/webhooks/"):
        return jsonify(error=message), status
    if _in_panel():
        message = panel_message or message
    if is_htmx():
        return vary(render_template("errors/_message.html", message=message), status)
    page = "errors/admin_page.html" if _in_panel() else "errors/page.html"
    return vary(render_template(page, title=title, message=message), status)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _answer(400, _("Please try again"),
                       _("This page was open too long or your session changed. "
                         "Reload the page and try again."))

    @app.errorhandler(CrossOriginRefused)
    def cross_origin_refused(error):
        sender = request.headers.get("Origin") or request.headers.get("Sec-Fetch-Site", "")
        log.info("refused %s %s: sent from %r", request.method, request.path[:200],
                 sender[:200])
        return _answer(403, _("Sent from another website"), str(error.description))

    @app.errorhandler(400)
    def bad_request(error):
        # Our own refusals carry a sentence for the customer; werkzeug's stock one does not.
        message = error.description
        if not message or message == type(error).description:
            message = _("We could not read what you sent. Reload the page and try again.")
        log.info("refused %s %s: %s", request.method, request.path[:200], message)
        return _answer(400, _("Please check what you sent"), message)

    @app.errorhandler(404)
    def not_found(error):
        return _answer(404, _("Not found"),
                       _("We could not find that page. If you were looking for an order, "
                         "use Track order with its reference."),
                       _("There is no such page in the panel: it may have been deleted, or "
                         "the link is wrong. Use the menu to find it."))

    @app.errorhandler(429)
    def too_many_requests(error):
        return _answer(429, _("Too many tries"),
                       _("Too many tries from your connection. Wait a minute and try again."))

    @app.errorhandler(405)
    def wrong_method(error):
        return _answer(405, _("Please try again"),
                       _("This page cannot be opened that way. Go back and use its buttons."))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # A dropped connection, a restarting server, a locked file: the transaction was rolled
        # back whole, so the customer can simply send the same request again.
        log.error("database unavailable: %s", error.orig)
        db.session.rollback()
        title = _("Please try again")
        message = _("The shop is busy for a moment: try again in a moment.")
        try:
            response = _answer(503, title, message)
        except SQLAlchemyError:       # the page itself needs the database (the shop's name)
            db.session.rollback()
            response = (f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>",
                        503)
        response = app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(413)
    def too_large(error):
        log.info("refused %s %s: body over %s bytes", request.method, request.path[:200],
                 request.max_content_length)
        return _answer(413, _("Too large"),
                       _("What you sent is too large. Send less (a smaller picture, shorter "
                         "text)."),
                       _("What you sent is too large, so nothing was saved. Go back and "
                         "choose a smaller picture (at most %(size)s MB) or send less text.",
                         size=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)))

    @app.errorhandler(500)
    def server_error(error):
        return _answer(500, _("Something went wrong"),
                       _("Something went wrong on our side. If you already paid, your order is "
                         "safe; please try again in a minute."),
                       _("Something went wrong in the panel. Try again in a minute; if it "
                         "keeps happening, the server's log says what failed."))
