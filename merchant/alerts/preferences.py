"""The owner's alert preferences (the one AlertSettings row, id 1): which channels each kind of
alert goes to, the recipients (the linked Telegram chat, a WhatsApp number, an email address),
the deposit threshold, the failure-spike limits and the daily summary's hour.

A channel takes part only when the shop can send on it (a bot token, a Fonnte token, an SMTP
server) and the owner gave it a recipient.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from merchant.alerts import kinds
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AlertSettings, utcnow

TELEGRAM, WHATSAPP, EMAIL = "telegram", "whatsapp", "email"
CHANNELS = {TELEGRAM: _l("Telegram"), WHATSAPP: _l("WhatsApp"), EMAIL: _l("Email")}
# What the owner edits on the Alerts page besides the channels.
FIELDS = ("whatsapp", "email", "deposit_threshold", "spike_failures", "spike_minutes",
          "summary_hour")
DEFAULT_SPIKE_FAILURES = 5
DEFAULT_SPIKE_MINUTES = 15
DEFAULT_SUMMARY_HOUR = 21


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, tuple[str, ...]]      # kind -> channels chosen
    telegram_chat_id: int | None
    telegram_name: str
    whatsapp: str
    email: str
    deposit_threshold: int | None
    spike_failures: int
    spike_minutes: int
    summary_hour: int | None


def current() -> Preferences:
    row = db.session.get(AlertSettings, 1)
    chosen = dict(row.channels or {}) if row else {}
    channels = {name: tuple(c for c in chosen.get(name, tuple(CHANNELS)) if c in CHANNELS)
                for name in kinds.KINDS}
    if row is None:
        return Preferences(channels, None, "", "", "", None, DEFAULT_SPIKE_FAILURES,
                           DEFAULT_SPIKE_MINUTES, DEFAULT_SUMMARY_HOUR)
    return Preferences(channels, row.telegram_chat_id, row.telegram_name, row.whatsapp,
                       row.email, row.deposit_threshold, row.spike_failures, row.spike_minutes,
                       row.summary_hour)


def usable(config=None) -> dict[str, bool]:
    """Which channels the shop can send on at all (its settings)."""
    config = config or current_app.config
    return {TELEGRAM: bool(config.get("TELEGRAM_BOT_TOKEN")),
            WHATSAPP: bool(config.get("FONNTE_TOKEN")),
            EMAIL: bool(config.get("SMTP_HOST"))}


def recipients(kind: str, prefs: Preferences | None = None) -> list[tuple[str, str]]:
    """(channel, recipient) for each channel `kind` goes to that can be sent on now."""
    prefs = prefs or current()
    can = usable()
    address = {TELEGRAM: str(prefs.telegram_chat_id or ""), WHATSAPP: prefs.whatsapp,
               EMAIL: prefs.email}
    return [(channel, address[channel]) for channel in prefs.channels.get(kind, ())
            if can[channel] and address[channel]]


def row_for_update() -> AlertSettings:
    """The settings row, created on first use (two first uses at once: one creates it)."""
    row = db.session.get(AlertSettings, 1)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = AlertSettings(id=1, channels={}, telegram_name="", telegram_bot="",
                                telegram_offset=0, whatsapp="", email="",
                                spike_failures=DEFAULT_SPIKE_FAILURES,
                                spike_minutes=DEFAULT_SPIKE_MINUTES,
                                summary_hour=DEFAULT_SUMMARY_HOUR)
            db.session.add(row)
    except sa.exc.IntegrityError:
        row = db.session.get(AlertSettings, 1)
    return row


def update(channels: dict[str, list[str]], values: dict, actor: audit.Actor) -> None:
    """Store the owner's choices (already checked by the form), audited, committed."""
    row = row_for_update()
    before = _values(row)
    row.channels = {name: [c for c in CHANNELS if c in channels.get(name, ())]
                    for name in kinds.KINDS}
    for name in FIELDS:
        setattr(row, name, values[name])
    after = _values(row)
    old, new = audit.changes(before, after)
    if old or new:
        row.updated_at = utcnow()
        audit.record(actor, "alerts.update", "alerts", 1,
                     "Changed the alerts: " + ", ".join(sorted(new)), before=old, after=new)
    db.session.commit()


def _values(row: AlertSettings) -> dict:
    values = {name: getattr(row, name) for name in FIELDS}
    for name in kinds.KINDS:
        values[f"channels_{name}"] = ",".join((row.channels or {}).get(name, CHANNELS))
    return values
