"""Who sells: the shop's registered identity as the footer, the contact page and the receipts
show it (Indonesia: the PSE registration at Komdigi, the NIB, the registered business name)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from merchant.core import shop_settings


@dataclass(frozen=True)
class Registration:
    label: str
    value: str


def seller_name() -> str:
    """The registered business name, else the shop's name."""
    settings = shop_settings.current()
    return settings.legal_name or settings.shop_name


def registrations() -> list[Registration]:
    """The registration numbers the owner has set, in the reader's language."""
    settings = shop_settings.current()
    found = []
    if settings.nib:
        found.append(Registration(_("NIB"), settings.nib))
    if settings.pse_number:
        found.append(Registration(_("PSE registration (Komdigi)"), settings.pse_number))
    return found
