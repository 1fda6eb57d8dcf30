"""Storefront pages rendered once per catalog version and language, each visitor's own parts
filled in per request.

The catalog and a product page are the same for every visitor but for two strings: the CSRF
token (the session's) and the purchase form's idempotency key (new on every page view). So they
are rendered with a placeholder for each, kept with the catalog cache (any catalog edit drops
them), and every request gets the page with its own token and key. Only plain requests are
kept: no search, no values typed in, no account remembered on the device, and only parameters
from a short list of known values (so odd query strings cannot fill the memory).
"""
from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping

from flask import g, render_template, request
from flask_wtf.csrf import generate_csrf

from merchant.core import i18n, versioned_cache
from merchant.web import kept_pages
from merchant.web.htmx import is_htmx

_HOLE = secrets.token_hex(12)       # per process, so no page content matches it by chance
CSRF_HOLE = f"csrf-{_HOLE}"
KEY_HOLE = f"key-{_HOLE}"


def plain_request(allowed: Mapping[str, Collection[str]] | None = None) -> bool:
    """A GET whose parameters are only `allowed` ones with known values (and ?lang=)."""
    allowed = {i18n.COOKIE: i18n.LANGUAGES, **(allowed or {})}
    return request.method == "GET" and all(
        name in allowed and all(value in allowed[name] for value in request.args.getlist(name))
        for name in request.args)


def render(template: str, **context) -> str:
    """render_template(template, **context) for a plain request (see plain_request), from the
    cache. `context` must not depend on the visitor; an idempotency key in it is KEY_HOLE."""
    key = ("page", template, request.path, tuple(sorted(request.args.items(multi=True))),
           i18n.language(), is_htmx())
    page, version = versioned_cache.cached_at(key, lambda: _with_holes(template, context))
    if page is None:
        return render_template(template, **context)
    kept_pages.offer(page, version)
    return page.replace(CSRF_HOLE, generate_csrf()).replace(KEY_HOLE, secrets.token_hex(16))


def _with_holes(template: str, context: dict) -> str | None:
    """The page with placeholders; None when it holds this session's real token anyway (a
    template that reached Flask-WTF's csrf_token without the context): never kept."""
    page = render_template(template, **context, csrf_token=lambda: CSRF_HOLE)
    token = g.get("csrf_token")
    return None if token and token in page else page
