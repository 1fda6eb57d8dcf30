"""The supplier failure spike: N failed attempts (final or transient) at one supplier within M
minutes (the owner's numbers, else 5 in 15) raise one alert for that supplier; it clears once
the window holds fewer than N again.

Fulfillment calls failed() for every failed supplier attempt; `attempt` names it (ref_id and
attempt number), unique per supplier, so a callback and a worker reporting the same failure
count once.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from merchant.alerts import episodes, kinds, preferences
from merchant.core.extensions import db
from merchant.core.models import SupplierFailure, utcnow
from merchant.core.transactions import write_unit

KEEP = dt.timedelta(days=1)       # older failures are deleted with each new one


def failed(supplier: str, attempt: str, final: bool, now: dt.datetime | None = None) -> bool:
    """Count one failed attempt; raise the spike alert when it tips the window over. True
    when this call raised it."""
    now = now or utcnow()
    try:
        with write_unit():
            db.session.execute(sa.delete(SupplierFailure).where(
                SupplierFailure.supplier == supplier, SupplierFailure.at < now - KEEP))
            db.session.add(SupplierFailure(supplier=supplier, attempt=attempt[:80], final=final,
                                           at=now))
    except sa.exc.IntegrityError:
        return False                              # this failure was counted already
    prefs = preferences.current()
    count = _count(supplier, prefs.spike_minutes, now)
    db.session.commit()
    if count < prefs.spike_failures:
        return False
    return episodes.raise_alert(kinds.SUPPLIER_FAILURES, supplier, supplier=supplier,
                                failures=count, minutes=prefs.spike_minutes)


def _count(supplier: str, minutes: int, now: dt.datetime) -> int:
    return int(db.session.scalar(
        sa.select(sa.func.count()).select_from(SupplierFailure)
        .where(SupplierFailure.supplier == supplier,
               SupplierFailure.at > now - dt.timedelta(minutes=minutes))))


def settle(now: dt.datetime | None = None) -> int:
    """Clear the spikes whose window has calmed down. Returns how many cleared."""
    now = now or utcnow()
    prefs = preferences.current()
    cleared = 0
    for episode in episodes.open_episodes(kinds.SUPPLIER_FAILURES):
        if _count(episode.key, prefs.spike_minutes, now) < prefs.spike_failures:
            cleared += episodes.clear_alert(kinds.SUPPLIER_FAILURES, episode.key)
    db.session.commit()
    return cleared
