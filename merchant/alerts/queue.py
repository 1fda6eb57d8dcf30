"""The alert messages' queue: one row per message and channel, sent by the worker.

    pending --claim--> sending --provider took it--> sent
    sending --refused for now / unreachable / 429--> pending (next_attempt_at: backoff or
            Telegram's retry_after), failed after ALERT_MAX_ATTEMPTS
    sending --refused for good--> failed
    sending --answer lost, or its worker died--> pending once (one resend), then in_doubt

A claim is a random token plus a lease (a conditional UPDATE), so two workers (or a worker and
`flask alerts check`) never send the same message at once, and each message goes out at most
once per channel unless an answer was lost. Sending happens outside any transaction, in the
worker's notification lane: a provider that hangs never holds up a delivery.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

import sqlalchemy as sa
from flask import current_app

from merchant.alerts import preferences, senders, texts
from merchant.core import wakeup
from merchant.core.extensions import db
from merchant.core.models import AlertMessage, utcnow
from merchant.core.transactions import write_unit

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, IN_DOUBT = "pending", "sending", "sent", "failed", "in_doubt"
# Lost answers after which a message is not sent again: one lost answer allows one resend.
LOST_ANSWERS_LIMIT = 2


def add(episode_id: int, event: str, kind: str, params: dict) -> int:
    """Inside the caller's transaction: queue the episode's message on each chosen channel.
    Returns how many were queued."""
    to = preferences.recipients(kind)
    if not to:
        log.info("alert %s (%s): no channel to send it on", kind, event)
        return 0
    with texts.in_shop_language():
        subject, body = texts.render(kind, event, params)
    now = utcnow()
    db.session.execute(sa.insert(AlertMessage), [
        {"episode_id": episode_id, "event": event, "channel": channel, "recipient": recipient,
         "subject": subject, "body": body, "state": PENDING, "attempts": 0,
         "lost_answers": 0, "next_attempt_at": now, "created_at": now}
        for channel, recipient in to])
    wakeup.after_commit()
    return len(to)


def _expired(now: dt.datetime):
    return sa.and_(AlertMessage.state == SENDING, AlertMessage.claimed_until < now)


def dispatch(limit: int = 20) -> int:
    """Send up to `limit` due messages. Returns how many sends were tried."""
    now = utcnow()
    due = db.session.scalars(
        sa.select(AlertMessage.id)
        .where(sa.or_(sa.and_(AlertMessage.state == PENDING,
                              AlertMessage.next_attempt_at <= now), _expired(now)))
        .order_by(AlertMessage.next_attempt_at, AlertMessage.id).limit(limit)).all()
    db.session.commit()
    tried = 0
    for message_id in due:
        token = claim(message_id)
        if token is not None:
            tried += 1
            _send(message_id, token)
    return tried


def claim(message_id: int, now: dt.datetime | None = None) -> str | None:
    """Take the message for one send: the claim's token, or None when it is not ours.

    Taking over one still `sending` whose lease ran out counts as a lost answer (its worker
    died, maybe after the provider took it); at the limit it goes to in_doubt instead."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    lease = dt.timedelta(seconds=float(current_app.config["ALERT_LEASE_SECONDS"]))
    expired = _expired(now)
    with write_unit():
        db.session.execute(
            sa.update(AlertMessage)
            .where(AlertMessage.id == message_id, expired,
                   AlertMessage.lost_answers + 1 >= LOST_ANSWERS_LIMIT)
            .values(state=IN_DOUBT, claim=None, lost_answers=AlertMessage.lost_answers + 1,
                    error="the worker stopped while waiting for the answer")
            .execution_options(synchronize_session=False))
        won = db.session.execute(
            sa.update(AlertMessage)
            .where(AlertMessage.id == message_id,
                   sa.or_(sa.and_(AlertMessage.state == PENDING,
                                  AlertMessage.next_attempt_at <= now), expired))
            .values(state=SENDING, claim=token, attempts=AlertMessage.attempts + 1,
                    lost_answers=sa.case((expired, AlertMessage.lost_answers + 1),
                                         else_=AlertMessage.lost_answers),
                    claimed_until=now + lease)
            .execution_options(synchronize_session=False)).rowcount == 1
    return token if won else None


def _send(message_id: int, token: str) -> None:
    db.session.expire_all()
    message = db.session.get(AlertMessage, message_id)
    db.session.commit()
    try:
        provider_id = senders.send(message)
    except senders.Retry as exc:
        _retry(message, token, str(exc), exc.after)
    except senders.Failed as exc:
        log.warning("alert message %s (%s) not sent, giving up: %s", message.id,
                    message.channel, exc)
        _move(message, token, FAILED, error=str(exc)[:300])
    except senders.Lost as exc:
        if message.lost_answers + 1 < LOST_ANSWERS_LIMIT:
            _move(message, token, PENDING, lost_answers=message.lost_answers + 1,
                  next_attempt_at=utcnow(), error=f"{exc}; sending once more"[:300])
        else:
            log.warning("alert message %s (%s): %s twice; left in doubt", message.id,
                        message.channel, exc)
            _move(message, token, IN_DOUBT, lost_answers=message.lost_answers + 1,
                  error=str(exc)[:300])
    except Exception as exc:       # a bug or an odd answer: the message must not stay claimed
        log.exception("alert message %s (%s) failed", message.id, message.channel)
        _retry(message, token, f"{type(exc).__name__}: {exc}", None)
    else:
        log.info("alert message %s sent by %s (%s)", message.id, message.channel,
                 provider_id or "no id")
        _move(message, token, SENT, sent_at=utcnow(), error=None)


def _retry(message: AlertMessage, token: str, why: str, after: float | None) -> None:
    """Again later: after `after` s when the provider asked for it (Telegram's retry_after,
    never counted against the attempts), else after a doubling backoff, up to the limit."""
    config = current_app.config
    if after is None and message.attempts >= int(config["ALERT_MAX_ATTEMPTS"]):
        log.warning("alert message %s (%s) not sent after %s attempts: %s", message.id,
                    message.channel, message.attempts, why)
        _move(message, token, FAILED, error=why[:300])
        return
    if after is None:
        after = min(float(config["ALERT_RETRY_BASE_SECONDS"]) * 2 ** (message.attempts - 1),
                    float(config["ALERT_RETRY_MAX_SECONDS"]))
        attempts = message.attempts
    else:
        attempts = message.attempts - 1
    log.info("alert message %s (%s) not sent (%s); again in %s s", message.id, message.channel,
             why, int(after))
    _move(message, token, PENDING, attempts=attempts, error=why[:300],
          next_attempt_at=utcnow() + dt.timedelta(seconds=max(float(after), 1.0)))


def _move(message: AlertMessage, token: str, state: str, **values) -> bool:
    """Settle the send we hold (our token, still sending); False if it is no longer ours."""
    with write_unit():
        return db.session.execute(
            sa.update(AlertMessage)
            .where(AlertMessage.id == message.id, AlertMessage.claim == token,
                   AlertMessage.state == SENDING)
            .values(state=state, claim=None, **values)
            .execution_options(synchronize_session=False)).rowcount == 1
