"""The daily summary: once a shop day, at the owner's hour (the shop's time zone), for the 24
hours up to that hour.

Sent once even with two workers or a restart: the summary is queued in the same transaction as
the claim, a conditional UPDATE that moves AlertSettings.summary_day forward to the day. One
claimer wins; a crash before the commit leaves the day unclaimed for the next pass, and a
second claim for the same day matches no row. The episode's key is the day too (a second,
independent guard: the unique open_key).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from merchant.alerts import episodes, kinds, preferences
from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import AlertSettings, utcnow
from merchant.core.transactions import write_unit


@dataclass(frozen=True)
class Due:
    day: dt.date                  # the shop's day the summary is for
    start: dt.datetime            # naive UTC: the owner's hour the day before
    end: dt.datetime              # naive UTC: the owner's hour that day


def due(now: dt.datetime | None = None) -> Due | None:
    """The summary to send now, or None (off, before the hour, or sent already today)."""
    now = now or utcnow()
    row = db.session.get(AlertSettings, 1)
    hour = preferences.DEFAULT_SUMMARY_HOUR if row is None else row.summary_hour
    db.session.commit()
    if hour is None:
        return None
    zone = shop_settings.zone()
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    if local.hour < hour:
        return None
    day = local.date()
    if row is not None and row.summary_day is not None and row.summary_day >= day:
        return None

    def at_hour(date: dt.date) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(hour), tzinfo=zone) \
            .astimezone(dt.UTC).replace(tzinfo=None)
    return Due(day, at_hour(day - dt.timedelta(days=1)), at_hour(day))


def send(day: dt.date, **figures) -> bool:
    """Claim `day` and queue its summary, in one transaction. True for the one caller that did.

    `figures`: orders, delivered, revenue, margin, failed, refunded, currency."""
    with write_unit():
        preferences.row_for_update()
        claimed = db.session.execute(
            sa.update(AlertSettings)
            .where(AlertSettings.id == 1,
                   sa.or_(AlertSettings.summary_day.is_(None), AlertSettings.summary_day < day))
            .values(summary_day=day).execution_options(synchronize_session=False)
        ).rowcount == 1
        if claimed:
            episodes.open_in_transaction(kinds.DAILY_SUMMARY, day.isoformat(),
                                         {"day": day.isoformat(), **figures})
    return claimed
