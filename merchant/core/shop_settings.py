"""The shop's own settings, kept in the database and edited in the panel.

The one ShopSettings row (id 1) holds what the owner chose; an empty value there means "the
default": the config's SHOP_NAME, SHOP_TIMEZONE and DEFAULT_LOCALE, IDR, the stylesheet's
accent colour. current() gives the effective values, kept in process until they change
(core/versioned_cache.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g

from merchant.core import audit, versioned_cache
from merchant.core.extensions import db
from merchant.core.models import ShopSettings, utcnow

log = logging.getLogger(__name__)

DEFAULT_CURRENCY = "IDR"
DEFAULT_ACCENT = "#0f766e"        # --brand in static/app.css
COLOR = re.compile(r"#[0-9a-f]{6}")
# The row's columns the owner edits, in the order the settings page shows them.
FIELDS = ("shop_name", "logo", "accent_color", "support_whatsapp", "support_email", "currency",
          "timezone", "default_locale", "terms", "refund_policy", "offer_rule",
          "privacy_policy", "legal_name", "nib", "pse_number")
# The row's yes/no columns the owner edits; they have no "default" state, only False.
FLAGS = ("staff_may_refund", "refund_to_saldo")
# The row's whole-number columns the owner edits (amounts in minor units); None means the
# default (the dataclass's).
NUMBERS = ("cost_tolerance", "claim_window_days")
DEFAULT_CLAIM_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Settings:
    """The effective settings: the owner's values over the configured defaults."""
    shop_name: str
    logo: str                 # a path under static/, or "" for the bundled logo
    accent_color: str         # "#rrggbb", or "" for the stylesheet's own colour
    support_whatsapp: str     # "+6281234567890", or ""
    support_email: str
    currency: str             # the default for new packages and payment methods
    timezone: str
    default_locale: str       # the language of customers whose browser asks for neither
    terms: str
    refund_policy: str
    staff_may_refund: bool = False    # the owner always may refund; staff only when this says so
    offer_rule: str = ""      # how packages that leave it to the shop pick an offer (supply/)
    cost_tolerance: int = 0   # what a supplier may charge above an offer's cost (max_price)
    privacy_policy: str = ""
    legal_name: str = ""              # the registered business behind the shop
    nib: str = ""                     # Nomor Induk Berusaha
    pse_number: str = ""              # the PSE registration at Komdigi, in every page's foot
    claim_window_days: int = DEFAULT_CLAIM_WINDOW_DAYS   # problem reports, after delivery
    # A signed-in customer's failed gateway order goes back to their saldo at once.
    refund_to_saldo: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def whatsapp_link(self) -> str:
        """https://wa.me/<digits>, or "" when no support number is set."""
        digits = self.support_whatsapp.lstrip("+")
        return f"https://wa.me/{digits}" if digits else ""

    @property
    def accent_ink(self) -> str:
        """Text colour that stays readable on the accent colour (WCAG relative luminance)."""
        return readable_ink(self.accent_color or DEFAULT_ACCENT)


def defaults() -> Settings:
    """The settings of a shop whose owner has changed nothing."""
    config = current_app.config
    return Settings(shop_name=config["SHOP_NAME"], logo="", accent_color="",
                    support_whatsapp="", support_email="",
                    currency=config.get("SHOP_CURRENCY") or DEFAULT_CURRENCY,
                    timezone=config["SHOP_TIMEZONE"], default_locale=config["DEFAULT_LOCALE"],
                    terms="", refund_policy="")


def current() -> Settings:
    """The effective settings, kept in process until they change, read once per request."""
    cached = g.get("shop_settings")
    if cached is None:
        try:
            cached = versioned_cache.cached("settings", _load)
        except sa.exc.SQLAlchemyError:
            # Error pages use the shop's name too: they must render while the database is down.
            log.exception("shop settings could not be read; using the defaults")
            db.session.rollback()
            cached = defaults()
        g.shop_settings = cached
    return cached


def _load() -> Settings:
    base = defaults()
    row = db.session.get(ShopSettings, 1)
    if row is None:
        return base
    chosen = {name: getattr(row, name) for name in FIELDS if getattr(row, name)}
    if not COLOR.fullmatch(chosen.get("accent_color", DEFAULT_ACCENT)):
        chosen.pop("accent_color")      # it goes into CSS: only ever a plain colour
    chosen.update({name: bool(getattr(row, name)) for name in FLAGS})
    chosen.update({name: getattr(row, name) for name in NUMBERS if getattr(row, name) is not None})
    return dataclasses.replace(base, **chosen)


def stored() -> dict[str, str | bool | int | None]:
    """The owner's own values (empty where the default applies), for the settings form."""
    row = db.session.get(ShopSettings, 1)
    return {**{name: (getattr(row, name) if row else "") or "" for name in FIELDS},
            **{name: bool(row and getattr(row, name)) for name in FLAGS},
            **{name: getattr(row, name) if row else None for name in NUMBERS}}


def update(values: dict[str, str | bool | int | None], actor: audit.Actor) -> Settings:
    """Store the owner's values (only keys of FIELDS, "" meaning the default, of FLAGS, and of
    NUMBERS, None meaning the default), audited.

    Values must already be valid: the settings form checks them. Returns the new effective
    settings.
    """
    unknown = set(values) - set(FIELDS) - set(FLAGS) - set(NUMBERS)
    if unknown:
        raise KeyError(f"not a shop setting: {', '.join(sorted(unknown))}")
    row = _row_for_update()
    before = _values(row)
    for name, value in values.items():
        if name in FLAGS:
            setattr(row, name, bool(value))
        elif name in NUMBERS:
            setattr(row, name, None if value in (None, "") else int(value))
        else:
            setattr(row, name, (value or "").replace("\r\n", "\n").strip())
    after = _values(row)
    old, new = audit.changes(before, after)
    if old or new:
        row.updated_at = utcnow()
        audit.record(actor, "settings.update", "settings", 1,
                     "Changed the shop settings: " + ", ".join(sorted(new)),
                     before=old, after=new)
    db.session.commit()
    g.pop("shop_settings", None)
    return current()


def _values(row: ShopSettings) -> dict[str, str | bool | int | None]:
    return {**{name: getattr(row, name) or "" for name in FIELDS},
            **{name: bool(getattr(row, name)) for name in FLAGS},
            **{name: getattr(row, name) for name in NUMBERS}}


def _row_for_update() -> ShopSettings:
    """The settings row, created on the first save (two first saves at once: one creates it)."""
    row = db.session.get(ShopSettings, 1)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = ShopSettings(id=1, **{name: "" for name in FIELDS},
                               **{name: False for name in FLAGS},
                               **{name: 0 for name in NUMBERS})
            db.session.add(row)
    except sa.exc.IntegrityError:
        row = db.session.get(ShopSettings, 1)
    return row


def readable_ink(color: str) -> str:
    """"#ffffff" or "#111827", whichever contrasts more with the background `color`."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast against white is 1.05 / (L + 0.05); against #111827 (L about 0.011) it is
    # (L + 0.05) / 0.061: white wins below about L = 0.2.
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.061 else "#111827"


# The shop's time zone: its days and local times, against the database's naive UTC.

def zone() -> ZoneInfo:
    """The shop's time zone (its settings, else SHOP_TIMEZONE)."""
    return current().zone


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The start of the shop's `day`, as naive UTC."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC).replace(tzinfo=None)


def in_shop_zone(moment: dt.datetime, shop_zone: ZoneInfo | None = None) -> dt.datetime:
    """A naive UTC time from the database as an aware time in the shop's time zone."""
    return moment.replace(tzinfo=dt.UTC).astimezone(shop_zone or zone())


def local_today(now: dt.datetime | None = None) -> dt.date:
    """The shop's date at the naive UTC instant `now`."""
    return in_shop_zone(now or utcnow()).date()


def to_local(moment: dt.datetime | None) -> dt.datetime | None:
    """A naive UTC time as a naive time in the shop's time zone (what the owner typed)."""
    if moment is None:
        return None
    return in_shop_zone(moment).replace(tzinfo=None)


def to_utc(local: dt.datetime | None) -> dt.datetime | None:
    """A naive time typed in the shop's time zone, as the database keeps it (naive UTC)."""
    if local is None:
        return None
    return local.replace(tzinfo=zone()).astimezone(dt.UTC).replace(tzinfo=None)
