"""Alert episodes: raise opens one (once: a second raise while it is open does nothing) and
queues its messages; clear closes it and queues the "recovered" message where the kind has one.

The deduplication is the unique open_key ("<kind>:<key>", NULL once closed): two workers that
raise the same alert at once insert one row, the other gets an IntegrityError and does nothing.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from merchant.alerts import kinds, queue
from merchant.alerts.texts import CLEARED, RAISED
from merchant.core.extensions import db
from merchant.core.models import AlertEpisode, utcnow
from merchant.core.transactions import write_unit

log = logging.getLogger(__name__)


def open_key(kind: str, key: str) -> str:
    return f"{kind}:{key}"[:160]


def is_open(kind: str, key: str) -> bool:
    return db.session.scalar(sa.select(AlertEpisode.id).where(
        AlertEpisode.open_key == open_key(kind, str(key)))) is not None


def raise_alert(kind: str, key: str, **params) -> bool:
    """Open the alert `kind` about `key` (a supplier, a package id ...) and queue its messages,
    unless it is open already. True if this call opened it.

    `params` are the message's facts (JSON values: amounts as integer minor units)."""
    kinds.get(kind)
    key = str(key)[:120]
    if is_open(kind, key):
        db.session.commit()
        return False
    try:
        with write_unit():
            opened = open_in_transaction(kind, key, params)
    except sa.exc.IntegrityError:
        return False                        # another process opened it just now
    return opened


def open_in_transaction(kind: str, key: str, params: dict) -> bool:
    """Inside the caller's transaction: the episode and its messages.
    :raise IntegrityError: it is open already (the caller's transaction is then spoilt)."""
    episode_id = db.session.scalar(
        sa.insert(AlertEpisode).values(kind=kind, key=key, open_key=open_key(kind, key),
                                       params=params, opened_at=utcnow())
        .returning(AlertEpisode.id))
    queued = queue.add(episode_id, RAISED, kind, params)
    log.warning("alert raised: %s %s (%s messages)", kind, key, queued)
    return True


def clear_alert(kind: str, key: str, **params) -> bool:
    """Close the alert `kind` about `key` if it is open, and queue its "recovered" message
    (`params` add to or update the raise's). True if this call closed it."""
    kind_ = kinds.get(kind)
    key = str(key)[:120]
    if not is_open(kind, key):
        db.session.commit()
        return False
    with write_unit():
        closed = db.session.execute(
            sa.update(AlertEpisode).where(AlertEpisode.open_key == open_key(kind, key))
            .values(open_key=None, closed_at=utcnow())
            .returning(AlertEpisode.id, AlertEpisode.params)
            .execution_options(synchronize_session=False)).first()
        if closed is not None and kind_.cleared is not None:
            queue.add(closed.id, CLEARED, kind, {**(closed.params or {}), **params})
    if closed is not None:
        log.info("alert cleared: %s %s", kind, key)
    return closed is not None


def open_episodes(kind: str) -> list[AlertEpisode]:
    return list(db.session.scalars(sa.select(AlertEpisode).where(
        AlertEpisode.kind == kind, AlertEpisode.open_key.is_not(None))))
