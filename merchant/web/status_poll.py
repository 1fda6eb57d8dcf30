"""The order page's status poll, answered in front of Flask while nothing has changed.

Every open order page asks /o/<ref>/status?since=<status> every 2 s, and almost every answer is
an empty 204. This WSGI layer gives that answer without Flask's request machinery (session
object, extensions' hooks): it reads the session cookie as Flask does (session_cookie.py),
runs order_pages.POLL (one indexed SELECT, read as poll_query.py says) and applies
order_pages.may_see and .unchanged, the same access rule and the same test as the view.
Anything else (a link token, no cookie, a changed or final status, a gateway question that is
due, a database error) goes on to Flask, which answers as always. The 204 carries the headers
Flask itself gave the last unchanged poll it answered, so the two answers cannot drift apart
(security headers, Vary ...).
"""
from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qs

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.http import parse_cookie

from merchant.core.extensions import db
from merchant.web import order_pages, poll_query
from merchant.web.session_cookie import SessionCookies

log = logging.getLogger(__name__)

PATH = re.compile(r"/o/([A-Za-z0-9]{1,16})/status")
NOT_REPLAYED = frozenset({"set-cookie", "date"})


def init_app(app: Flask) -> None:
    if isinstance(app.session_interface, SecureCookieSessionInterface):
        poll = StatusPoll(app, app.wsgi_app)
        app.wsgi_app = poll
        app.extensions["status_poll"] = poll


class StatusPoll:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.headers: list[tuple[str, str]] | None = None   # from Flask's last unchanged poll
        self._query = None
        self._query_made = threading.Lock()
        self._sessions = SessionCookies(app)

    def __call__(self, environ, start_response):
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        headers = self.headers
        if headers is not None and self._unchanged(match.group(1), environ):
            start_response("204 NO CONTENT", list(headers))
            return []
        return self.wsgi_app(environ, self._learning(start_response))

    def _unchanged(self, ref: str, environ) -> bool:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        since = query.get("since", [None])[0]
        if since is None or "t" in query:
            return False
        remembered = self._remembered(environ)
        if not remembered:
            return False
        query = self.query
        try:
            row = query.row(ref.upper())
        except query.errors:
            log.warning("status poll: database error, handing the poll to Flask", exc_info=True)
            return False
        return row is not None and \
            order_pages.may_see(row.ref, row.view_token, "", remembered)[0] and \
            order_pages.unchanged(row, since)

    def _remembered(self, environ) -> list[str]:
        """The refs in the session cookie."""
        session = self._sessions.read(parse_cookie(environ))
        refs = session.get("orders", []) if session else []
        return refs if isinstance(refs, list) else []

    @property
    def query(self):
        if self._query is None:
            with self._query_made:
                if self._query is None:
                    with self.app.app_context():
                        self._query = poll_query.for_engine(db.engine)
        return self._query

    def close(self) -> None:
        """Gives back the poll's own database connections."""
        query, self._query = self._query, None
        if query is not None:
            query.close()

    def _learning(self, start_response):
        """start_response that keeps the headers of an unchanged poll Flask answered without
        touching the cookie."""
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            if status.startswith("204") and "set-cookie" not in names:
                self.headers = [(n, v) for n, v in headers if n.lower() not in NOT_REPLAYED]
            return start_response(status, headers, exc_info)
        return start

