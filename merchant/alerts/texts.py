"""An alert's message in the shop's default language: a line saying what happened, and the
panel page to open."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import force_locale
from flask_babel import gettext as _

from merchant.alerts import kinds
from merchant.core import i18n, shop_settings

RAISED, CLEARED = "raised", "cleared"


@contextmanager
def in_shop_language() -> Iterator[None]:
    settings = shop_settings.current()
    with force_locale(i18n.regional(settings.default_locale, settings.timezone)):
        yield


def render(kind_name: str, event: str, params: dict) -> tuple[str, str]:
    """(subject, body) of the message, in the current locale."""
    kind = kinds.get(kind_name)
    text = kind.raised(params) if event == RAISED else kind.cleared(params)
    shop = shop_settings.current().shop_name
    subject = f"{shop}: {text.splitlines()[0]}"[:200]
    body = f"{text}\n\n{_('Open')}: {kinds.link(kind, params)}"
    return subject, body
