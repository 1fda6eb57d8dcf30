"""The storefront's shared pages: the catalog and the product pages, the same bytes for every
visitor, so browsers and proxies can keep them.

Nothing of the visitor's is on them: no CSRF token (cross-site posts are refused from the
browser's Sec-Fetch-Site and Origin headers instead, web/cross_origin.py) and no idempotency key
(the purchase form gets one when it is sent, checkout.py). So a page is
- rendered once per catalog version, language and address, and compressed once per encoding;
- tagged with an ETag of everything its bytes depend on: the release (templates, translations,
  static files, settings), the catalog version, the language, htmx's header, the address and
  the encoding. A browser that sends it back in If-None-Match gets a 304 before anything is
  read or rendered;
- sent with `Cache-Control: public, max-age=0, must-revalidate, s-maxage=<PAGE_PROXY_SECONDS>`:
  a browser asks again every time (a 304 is a few hundred bytes), a proxy may answer from its
  copy for a few seconds (deploy/nginx.conf, deploy/Caddyfile) and then revalidates.
- `Vary: HX-Request, Accept-Encoding, Accept-Language, Cookie`: the language comes from ?lang=,
  the `lang` cookie or Accept-Language, and a product page is the visitor's own when the
  remembered-account cookie fills it in (then it is not a shared page at all).
- A signed-in customer's browser never gets or fills a shared copy (their level's prices and
  their account link are on the page): their pages are rendered for them and sent
  `Cache-Control: private, no-store` (`signed_in`, `_personal`).

Only plain requests are shared: no search, no values typed in, only parameters from a short
list of known values (so odd query strings cannot fill the memory). As a last guard, an answer
that sets a cookie or changes the session is never marked public (`_personal`). (Reading it is
no sign: Flask-Login's template context reads it on every render, for a `current_user` the
storefront's templates never use.)
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import os
from collections.abc import Callable, Collection, Mapping

import brotli
from flask import Flask, Response, current_app, render_template, request, session

from merchant import version
from merchant.core import clock, i18n, versioned_cache
from merchant.web import customer_session
from merchant.web.htmx import is_htmx

ENCODINGS = ("br", "gzip")          # compressed once per page, at these levels
BROTLI_QUALITY = 6
GZIP_LEVEL = 6
VARY = "HX-Request, Accept-Encoding, Accept-Language, Cookie"
# Written as strings: werkzeug's cache_control and vary objects parse and write the header
# again on every change, which was a fifth of a 304's time.
PUBLIC = "public, max-age=0, must-revalidate, s-maxage={seconds}"
STABLE_TYPES = (str, int, float, bool, type(None), dt.timedelta)


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_PROXY_SECONDS", 5)
    # Runs last of the app's after_request functions (Flask runs them in reverse order), so
    # it sees every cookie the others set.
    app.after_request_funcs.setdefault(None, []).insert(0, _personal)


def plain_request(allowed: Mapping[str, Collection[str]] | None = None) -> bool:
    """A GET whose parameters are only `allowed` ones with known values (and ?lang=)."""
    allowed = {i18n.COOKIE: i18n.LANGUAGES, **(allowed or {})}
    return request.method in ("GET", "HEAD") \
        and "HX-History-Restore-Request" not in request.headers \
        and all(name in allowed and all(value in allowed[name]
                                        for value in request.args.getlist(name))
                for name in request.args)


def shared(template: str, context: Callable[[], dict],
           allowed: Mapping[str, Collection[str]] | None = None, state: tuple = (),
           until: dt.datetime | None = None) -> Response | None:
    """The page every visitor gets for this address, or None when the request is not a plain
    one (see plain_request) or comes from a signed-in customer's browser, and the caller
    renders it for this visitor. `context()` must not depend on the visitor; it is called only
    when the page is not kept yet.

    `state`: what the page shows that the catalog version does not tell and the clock changes
    (the flash sales on now), part of its key and ETag; `until` (naive UTC): when that state
    next changes, past which no proxy may keep the page."""
    if not plain_request(allowed) or signed_in():
        return None
    encoding = request.accept_encodings.best_match(ENCODINGS)
    key = ("page", template, request.path, tuple(sorted(request.args.items(multi=True))),
           i18n.language(), is_htmx(), state)
    tag = _etag(key, encoding)
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        page = versioned_cache.cached(key, lambda: _Page(render_template(template, **context())))
        response = Response(page.body(encoding), mimetype="text/html")
        if encoding:
            response.headers["Content-Encoding"] = encoding
    response.headers["ETag"] = f'"{tag}"'
    seconds = int(current_app.config["PAGE_PROXY_SECONDS"])
    if until is not None:
        seconds = max(0, min(seconds, int((until - clock.now()).total_seconds())))
    response.headers["Cache-Control"] = PUBLIC.format(seconds=seconds)
    response.headers["Vary"] = VARY
    return response


class _Page:
    """A rendered page and its compressed copies, made on first use."""

    def __init__(self, html: str):
        self.encoded: dict[str | None, bytes] = {None: html.encode()}

    def body(self, encoding: str | None) -> bytes:
        body = self.encoded.get(encoding)
        if body is None:
            plain = self.encoded[None]
            body = brotli.compress(plain, quality=BROTLI_QUALITY) if encoding == "br" \
                else gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)
            self.encoded[encoding] = body
        return body


def _etag(key: tuple, encoding: str | None) -> str:
    version = versioned_cache.current_version(current_app)
    text = repr((release(current_app), version, key, encoding))
    return hashlib.sha256(text.encode()).hexdigest()[:24] + (f"-{encoding}" if encoding else "")


def release(app: Flask) -> str:
    """A digest of what a page's bytes depend on besides the catalog: this code's version,
    the templates, the translations, the static files' fingerprinted names and the settings.
    The same in every process of one deployment (so any of them answers a 304), new after an
    upgrade or a settings change. Keyed with SECRET_KEY: the settings hold passwords."""
    digest = app.extensions.get("page_release")
    if digest is None:
        seen = hmac.new(str(app.secret_key).encode(), version.__version__.encode(), "sha256")
        for folder in (app.template_folder, i18n.TRANSLATIONS):
            folder = os.path.join(app.root_path, folder)
            for root, dirs, files in os.walk(folder):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith((".html", ".txt", ".mo")):
                        with open(os.path.join(root, name), "rb") as file:
                            seen.update(name.encode() + file.read())
        seen.update(repr(sorted(app.extensions.get("static_manifest", {}).items())).encode())
        seen.update(repr(sorted((name, value) for name, value in app.config.items()
                                if isinstance(value, STABLE_TYPES))).encode())
        digest = app.extensions["page_release"] = seen.hexdigest()
    return digest


def signed_in() -> bool:
    """A browser that carries a customer's session (even one since ended): its pages are its
    own (their prices, their header), so it never reads or fills the shared copies."""
    return customer_session.SESSION_KEY in session


def _personal(response: Response) -> Response:
    """Never public: an answer that sets a cookie (or will: a changed session). A signed-in
    customer's storefront pages are kept by nobody but may be stored by no cache at all."""
    if signed_in() and not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    if response.headers.get("Cache-Control", "").startswith("public") and (
            "Set-Cookie" in response.headers or session.modified):
        response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response
