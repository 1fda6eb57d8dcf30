"""The shop's languages: which one a request is served in, and the footer's switch.

A customer's explicit choice (`?lang=id` on any page, then remembered in the `lang` cookie)
wins; else the browser's Accept-Language; else the shop's default language (its settings).
Numbers and dates follow the language as spoken in the shop's country, which its time zone
names: Asia/Jakarta gives id_ID and en_ID, so both read "Rp 15.000".
"""
from __future__ import annotations

import functools
import os
from urllib.parse import urlencode

from babel import localedata, support
from babel.core import get_global
from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import get_locale, gettext
from werkzeug.exceptions import HTTPException

from merchant.core import shop_settings
from merchant.core.extensions import babel

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE = "lang"
COOKIE_DAYS = 365
TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "translations")


def N_(text: str) -> str:
    """Marks `text` for `make messages` where it is defined; it is translated where it is
    shown (gettext then), so the English stays at hand for logs and history."""
    return text


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=locale, timezone_selector=timezone)
    app.after_request(_remember_choice)
    app.before_request(_form_messages)
    app.add_template_filter(translated)

    @app.context_processor
    def language_globals():
        return {"language": language, "language_links": language_links}


def language() -> str:
    """This request's language code ("id" or "en"); outside a request, the shop's default."""
    if not has_request_context():
        return shop_language()
    chosen = g.get("language")
    if chosen is None:
        chosen = g.language = _requested() or shop_language()
    return chosen


def _requested() -> str | None:
    explicit = request.args.get(COOKIE)
    if explicit in LANGUAGES:
        return explicit
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    default = shop_language()
    # The default first: a browser that accepts anything ("*") gets the shop's language.
    return request.accept_languages.best_match([default, *(c for c in LANGUAGES if c != default)])


def shop_language() -> str:
    return shop_settings.current().default_locale


def locale() -> str:
    """Flask-Babel's locale: the language, in the shop's country where Babel knows that pair."""
    return regional(language(), shop_settings.current().timezone)


def timezone() -> str:
    return shop_settings.current().timezone


@functools.lru_cache(maxsize=64)
def regional(language_code: str, zone: str) -> str:
    """("en", "Asia/Jakarta") -> "en_ID"; ("id", "Europe/Berlin") -> "id" (no id_DE)."""
    territory = get_global("zone_territories").get(zone)
    candidate = f"{language_code}_{territory}"
    return candidate if territory and localedata.exists(candidate) else language_code


def translated(text: str | None) -> str:
    """Stored text in the page's language when the catalog has it (the account presets' English
    labels and hints); the operator's own words as typed."""
    return gettext(text) if text else ""


def language_links() -> list[dict]:
    """The footer's switch: each language with a link to this page in it."""
    current = language()
    return [{"code": code, "name": name, "current": code == current, "url": _page_in(code)}
            for code, name in LANGUAGES.items()]


def _page_in(code: str) -> str:
    """This page's URL with lang=code; after a form post (no such page to GET), the home page."""
    if request.method != "GET":
        try:
            current_app.url_map.bind_to_environ(request.environ).match(request.path, "GET")
        except HTTPException:
            return url_for("shop.index", lang=code)
        return f"{request.path}?{urlencode({COOKIE: code})}"
    args = [(key, value) for key, value in request.args.items(multi=True) if key != COOKIE]
    return f"{request.path}?{urlencode([*args, (COOKIE, code)])}"


class FormMessages:
    """WTForms' own messages ("This field is required.") in the page's language.

    WTForms ships no Indonesian catalog, so ours (translations/<lang>/LC_MESSAGES/wtforms.po,
    made from WTForms' wtforms.pot) stands in. Flask-WTF takes a request's form translations
    from request.wtforms_translations when it is set; loaded on first use only.
    """

    def __init__(self):
        self._catalog = None

    def _load(self):
        if self._catalog is None:
            self._catalog = support.Translations.load(TRANSLATIONS, [get_locale()], "wtforms")
        return self._catalog

    def ugettext(self, string):
        return self._load().ugettext(string)

    def ungettext(self, singular, plural, n):
        return self._load().ungettext(singular, plural, n)


def _form_messages():
    request.wtforms_translations = FormMessages()


def _remember_choice(response):
    """An explicit ?lang= is kept in a cookie; a page whose language was chosen varies by it."""
    if "language" in g:
        vary = response.headers.get("Vary", "")
        if "Accept-Language" not in vary or "Cookie" not in vary:
            # Parsed and written once (the shared pages name both already): a tenth of a
            # catalog page's time went to adding them one by one.
            response.vary.update(("Accept-Language", "Cookie"))
        explicit = request.args.get(COOKIE)
        if explicit in LANGUAGES and request.cookies.get(COOKIE) != explicit:
            response.set_cookie(COOKIE, explicit, max_age=COOKIE_DAYS * 86400, httponly=True,
                                samesite="Lax", secure=request.is_secure)
    return response
