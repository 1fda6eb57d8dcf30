"""Cross-site form posts refused from what the browser says about them, not from a token.

The rule of Go 1.25's net/http CrossOriginProtection, for every POST, PUT, PATCH and DELETE:
- `Sec-Fetch-Site: same-origin` (the shop's own page sent it) or `none` (the person typed or
  bookmarked it): allowed. Every browser since 2023 sends this header, and a page cannot forge
  it: it is a forbidden header name for fetch() and forms.
- No Sec-Fetch-Site: an older browser or a program. Allowed when there is no Origin either (a
  program such as curl or the tests' client; such a request carries no cookie it did not set
  itself, and an old browser's cross-site form post carries no SameSite=Lax cookie), or when
  Origin names this host (the Host header, or the host of PUBLIC_URL for a proxy that passes
  another Host on).
- Anything else, including `same-site` (another subdomain may be someone else's) and
  `Origin: null`: 403 with a sentence for the customer.

So the storefront's pages need no per-visitor token and are the same bytes for everyone (and so
cacheable, web/page_cache.py). Callbacks from vendors (the webhook blueprints) are exempt:
servers post them, signed. The panel keeps Flask-WTF's token as well: its pages are per user
anyway, and a second guard costs nothing there.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ALLOWED_SITES = frozenset({"same-origin", "none"})

_exempt: set[str] = set()       # blueprint names


class CrossOriginRefused(Forbidden):
    description = _l("This form was sent from another website, so nothing was done. Open "
                     "the shop's own page and try again there.")


def exempt(blueprint: Blueprint) -> Blueprint:
    """No check for this blueprint's routes (callbacks that servers send, signed)."""
    _exempt.add(blueprint.name)
    return blueprint


def allowed(method: str, headers, host: str, public_url: str) -> bool:
    """Whether a request with these `headers`, sent to `host`, may change anything."""
    if method in SAFE_METHODS:
        return True
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ALLOWED_SITES
    origin = headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.netloc and parts.netloc.lower() == host.lower():
        return True
    public = urlsplit(public_url)
    return bool(public.netloc) and (parts.scheme, parts.netloc.lower()) == \
        (public.scheme, public.netloc.lower())


def refuse_cross_origin() -> None:
    """before_request: :raise CrossOriginRefused: for a cross-site write."""
    if request.method in SAFE_METHODS or request.blueprint in _exempt:
        return      # (a read changes nothing: no blueprint or host to look up for it)
    if not allowed(request.method, request.headers, request.host,
                   str(current_app.config.get("PUBLIC_URL") or "")):
        raise CrossOriginRefused()


def install(app: Flask) -> None:
    """Check every request before any other hook reads its form (CSRF, limits, views).

    There is no setting to turn it off: tests that turn Flask-WTF's token off still run it.
    """
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_cross_origin)
