"""Receipt rows: one per order event and channel, moved only by conditional updates.

    pending --claim--> sending --(email) data started--> data_started --250--> sent
    sending --refused before any data / Fonnte said no--> pending (sent again later) or failed
    data_started --connection lost, or its worker died--> in_doubt (never resent by itself)
    sending --(whatsapp) answer lost--> pending once (one resend accepted), then in_doubt

A claim is a random token plus a lease. Only the token's holder moves the row on, and the
moves that start a send also require the lease to be live, so a worker that stalled past its
lease cannot send after another one took over. A lease that ran out means its worker died
(or stalled): for email that was before DATA, safe to take over; for WhatsApp the request may
have reached Fonnte, so the takeover counts as a lost answer.
"""
from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Receipt, utcnow
from merchant.core.transactions import write_unit

PENDING = "pending"
SENDING = "sending"
DATA_STARTED = "data_started"
SENT = "sent"
IN_DOUBT = "in_doubt"
FAILED = "failed"

# Answers lost (or workers lost mid-request) after which a WhatsApp receipt is not resent:
# one lost answer allows one resend, so a customer gets at most one duplicate.
LOST_ANSWERS_LIMIT = 2


def open_row(event_id: int, order_id: int, kind: str, channel: str, recipient: str) -> Receipt:
    """The receipt row of this event and channel, created on the first call (races: one wins)."""
    row = _find(event_id, channel)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(Receipt(event_id=event_id, order_id=order_id, kind=kind,
                                   channel=channel, recipient=recipient))
    except sa.exc.IntegrityError:
        pass
    db.session.commit()
    return _find(event_id, channel)


def _find(event_id: int, channel: str) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(Receipt.event_id == event_id,
                                                      Receipt.channel == channel))


def claim(receipt_id: int, lease_seconds: float, *, lost_on_takeover: bool,
          now: dt.datetime | None = None) -> str | None:
    """Take the row for one send: the claim's token, or None when it is not ours to send.

    A pending row is taken; so is one still `sending` under a lease that ran out. With
    `lost_on_takeover` (WhatsApp) that takeover counts as a lost answer, and a row already at
    the limit of lost answers goes to in_doubt instead.
    """
    now = now or utcnow()
    token = secrets.token_hex(16)
    expired = sa.and_(Receipt.state == SENDING, Receipt.claimed_until < now)
    with write_unit():
        if lost_on_takeover:
            db.session.execute(
                sa.update(Receipt)
                .where(Receipt.id == receipt_id, expired,
                       Receipt.lost_answers + 1 >= LOST_ANSWERS_LIMIT)
                .values(state=IN_DOUBT, claim=None, lost_answers=Receipt.lost_answers + 1,
                        error="the worker stopped while waiting for the answer", updated_at=now)
            )
        lost = sa.case((expired, Receipt.lost_answers + 1), else_=Receipt.lost_answers) \
            if lost_on_takeover else Receipt.lost_answers
        won = db.session.execute(
            sa.update(Receipt)
            .where(Receipt.id == receipt_id, sa.or_(Receipt.state == PENDING, expired))
            .values(state=SENDING, claim=token, attempts=Receipt.attempts + 1,
                    lost_answers=lost, claimed_until=now + dt.timedelta(seconds=lease_seconds),
                    updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
    return token if won else None


def move(receipt: Receipt, token: str, from_state: str, to_state: str, *, live: bool = False,
         note: str | None = None, now: dt.datetime | None = None, **values) -> bool:
    """Move the row we hold from `from_state` to `to_state`, committed; False if not ours.

    `live`: only while our lease runs (the move that starts a send). `note`: a line for the
    order's history, written in the same transaction.
    """
    now = now or utcnow()
    where = [Receipt.id == receipt.id, Receipt.claim == token, Receipt.state == from_state]
    if live:
        where.append(Receipt.claimed_until > now)
    if to_state in (SENT, FAILED, IN_DOUBT, PENDING):
        values.setdefault("claim", None)
    if to_state == SENT:
        values.setdefault("sent_at", now)
    with write_unit():
        won = db.session.execute(
            sa.update(Receipt).where(*where).values(state=to_state, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if won and note:
            orders.record(receipt.order_id, "worker", note)
    return won


def record_body(receipt: Receipt, body: str) -> None:
    """Keep the text to send, once: a resend sends what the first attempt recorded."""
    with write_unit():
        db.session.execute(
            sa.update(Receipt).where(Receipt.id == receipt.id, Receipt.body.is_(None))
            .values(body=body).execution_options(synchronize_session=False))


def cut_off(now: dt.datetime | None = None):
    """SQL: rows at data_started whose worker's lease ran out (it died mid-transfer)."""
    return sa.and_(Receipt.state == DATA_STARTED, Receipt.claimed_until < (now or utcnow()))


def settle_doubt(receipt: Receipt, note: str) -> bool:
    """A row left at data_started by a worker that died: in_doubt, with a note in the order's
    history, once (the conditional update decides who writes the note). False while the
    transfer may still be going on (its lease runs) or when another call settled it."""
    with write_unit():
        won = db.session.execute(
            sa.update(Receipt).where(Receipt.id == receipt.id, cut_off())
            .values(state=IN_DOUBT, claim=None, updated_at=utcnow(),
                    error="the worker stopped during the data transfer")
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if won:
            orders.record(receipt.order_id, "worker", note)
    return won


def of_order(order_id: int) -> list[Receipt]:
    """The order's receipts, oldest first (the admin order page)."""
    return list(db.session.scalars(
        sa.select(Receipt).where(Receipt.order_id == order_id).order_by(Receipt.id)))


def get(receipt_id: int) -> Receipt:
    db.session.expire_all()
    return db.session.get(Receipt, receipt_id)
