"""The kept storefront pages (the catalog, a product) answered in front of Flask.

page_cache already renders these pages once per catalog version and language, yet a view still
cost about 850 us of CPU, nearly all of it Flask's request machinery and the extensions' hooks
(session, limiter, Babel, CSRF, compression); answered here, about 170 us. So when Flask serves
a kept page, this WSGI layer remembers its answer: the page with
its holes (page_cache), the headers Flask gave, under everything in the request that Flask's
answer could depend on. The next request with the same inputs is answered here: the holes
filled with this visitor's CSRF token (signed from their session, as Flask-WTF signs it) and a
fresh idempotency key, compressed as Flask compressed it.

Only for a visitor Flask would not change anything for: a signed session that already holds
what the pages put in it, nobody signed in, no remembered account (its cookie fills the
form). The key holds the path, the query string, the scheme, htmx's header, Accept-Language
and Accept-Encoding, the language cookie, the names of the cookies sent and of the session's
keys. Anything else, or a catalog edit since the answer was learned (catalog_cache's version),
goes on to Flask, which answers and teaches this layer again. An answer that set a cookie is
never learned.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.http import parse_cookie

from merchant.core import i18n, versioned_cache
from merchant.web import compression, page_cache, remembered
from merchant.web.session_cookie import SessionCookies

SLOT = "merchant.kept_page"        # environ key: Flask's side puts the page it served here
MAX_ENTRIES = 256                  # answers kept; all dropped when full (odd headers vary)
NOT_REPLAYED = frozenset({"set-cookie", "date", "content-length", "content-encoding", "etag"})


def init_app(app: Flask) -> None:
    if isinstance(app.session_interface, SecureCookieSessionInterface):
        app.wsgi_app = app.extensions["kept_pages"] = KeptPages(app, app.wsgi_app)


def offer(page: str, version: int) -> None:
    """From page_cache.render: this request's answer is the kept `page` (with its holes), at
    catalog `version`, and nothing else of the visitor's."""
    slot = request.environ.get(SLOT)
    if slot is not None:
        slot.update(page=page, version=version)
    else:
        layer = current_app.extensions.get("kept_pages")
        if layer is not None:
            layer.paths.add(request.path)       # learnt from the next request on


@dataclass(frozen=True)
class _Answer:
    page: str
    version: int
    status: str
    headers: list[tuple[str, str]]
    encoding: str | None


class KeptPages:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.answers: dict[tuple, _Answer] = {}
        self.paths: set[str] = set()        # where Flask has served a kept page
        self.lock = threading.Lock()
        self._sessions = SessionCookies(app)
        self._csrf_field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self._csrf = URLSafeTimedSerializer(
            app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token")

    def __call__(self, environ, start_response):
        visitor = self._visitor(environ)
        if visitor is None:
            return self.wsgi_app(environ, start_response)
        key, csrf_raw = visitor
        answer = self.answers.get(key)
        if answer is not None and answer.version == versioned_cache.current_version(self.app):
            return self._answer(answer, csrf_raw, start_response)
        slot = environ[SLOT] = {}
        return self.wsgi_app(environ, self._learning(key, slot, start_response))

    def _visitor(self, environ) -> tuple[tuple, str] | None:
        """(the request's key, the session's raw CSRF token) when this layer may answer."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or path not in self.paths:
            return None
        cookies = parse_cookie(environ)
        if remembered.COOKIE in cookies:
            return None
        session = self._sessions.read(cookies)
        if session is None or not isinstance(session.get(self._csrf_field), str) \
                or any(name.startswith("_") for name in session):     # Flask-Login's keys
            return None
        key = (path, environ.get("QUERY_STRING", ""), environ.get("wsgi.url_scheme"),
               environ.get("HTTP_HX_REQUEST"), environ.get("HTTP_ACCEPT_LANGUAGE"),
               environ.get("HTTP_ACCEPT_ENCODING"), cookies.get(i18n.COOKIE),
               tuple(sorted(cookies)), tuple(sorted(session)))
        return key, session[self._csrf_field]

    def _answer(self, answer: _Answer, csrf_raw: str, start_response):
        page = answer.page.replace(page_cache.CSRF_HOLE, self._csrf.dumps(csrf_raw)) \
            .replace(page_cache.KEY_HOLE, secrets.token_hex(16))
        body = compression.encode(self.app, page.encode(), answer.encoding)
        headers = [*answer.headers, ("Content-Length", str(len(body)))]
        if answer.encoding:
            headers.append(("Content-Encoding", answer.encoding))
        start_response(answer.status, headers)
        return [body]

    def _learning(self, key: tuple, slot: dict, start_response):
        """start_response that keeps Flask's answer when it served a kept page and set no
        cookie."""
        def start(status, headers, exc_info=None):
            names = {name.lower(): value for name, value in headers}
            encoding = names.get("content-encoding")
            if "page" in slot and status.startswith("200") and "set-cookie" not in names \
                    and encoding in compression.ENCODINGS:
                kept = [(n, v) for n, v in headers if n.lower() not in NOT_REPLAYED]
                with self.lock:
                    if len(self.answers) >= MAX_ENTRIES:
                        self.answers.clear()
                    self.answers[key] = _Answer(slot["page"], slot["version"], status, kept,
                                                encoding)
            return start_response(status, headers, exc_info)
        return start
