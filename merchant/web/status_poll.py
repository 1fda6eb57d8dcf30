"""The order page's status poll, answered in front of Flask while nothing has changed.

Every open order page asks /o/<ref>/status?since=<status> every 2 s, and almost every answer is
an empty 204. This WSGI layer gives that answer without Flask's request machinery (session
object, extensions' hooks): it reads the session cookie as Flask does (session_cookie.py),
runs order_pages.POLL (one indexed SELECT) and applies order_pages.may_see and .unchanged, the
same access rule and the same test as the view. Anything else (a link token, no cookie, a
changed or final status, a gateway question that is due, a database error) goes on to Flask,
which answers as always. The 204 carries the headers Flask itself gave the last unchanged poll
it answered, so the two answers cannot drift apart (security headers, Vary ...).
"""
from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qs

import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_cookie

from ..extensions import db
from . import order_pages
from .session_cookie import SessionCookies

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
        self._engine = None
        self._engine_made = threading.Lock()
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
        try:
            with self.engine.connect() as connection:
                row = connection.execute(order_pages.POLL, {"ref": ref.upper()}).first()
        except SQLAlchemyError:
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
    def engine(self):
        """A database server gets the poll its own small pool in autocommit without the pre-ping:
        one round trip per poll instead of five (ping, BEGIN, SELECT, ROLLBACK and the ping's
        own). A lost connection fails the SELECT, the poll goes to Flask (whose pool pings) and
        the pool drops it. SQLite has no round trips to save and shares the app's pool."""
        if self._engine is None:
            with self._engine_made:
                if self._engine is None:
                    with self.app.app_context():
                        engine = db.engine
                    if engine.dialect.name != "sqlite":
                        engine = sa.create_engine(engine.url, pool_size=2, max_overflow=6,
                                                  isolation_level="AUTOCOMMIT")
                    self._engine = engine
        return self._engine

    def close(self) -> None:
        """Gives back the poll's own connections (the app's pool is the app's to dispose)."""
        engine, self._engine = self._engine, None
        if engine is not None and engine.dialect.name != "sqlite":
            engine.dispose()

    def _learning(self, start_response):
        """start_response that keeps the headers of an unchanged poll Flask answered without
        touching the cookie."""
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            if status.startswith("204") and "set-cookie" not in names:
                self.headers = [(n, v) for n, v in headers if n.lower() not in NOT_REPLAYED]
            return start_response(status, headers, exc_info)
        return start

