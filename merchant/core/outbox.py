"""Order events after commit: the one hook for receipts, notifications and whatever comes next.

Every status change (orders.move) writes an OutboxEvent in the same transaction, plus one
OutboxDelivery job per listener that wants that kind of event. The worker's pass (dispatch)
hands each due job to its listener, outside any transaction:

    from merchant import outbox

    @outbox.listener("email_receipt", kinds={"delivered", "fulfillment_failed", "refunded"})
    def send_email_receipt(event: outbox.Event) -> None:
        ...   # return: done. raise: tried again later, with backoff.

A job is claimed by one conditional UPDATE that also sets its lease, so two workers never run
the same listener for the same event at once, and a worker that died mid-call leaves a job that
is due again when the lease runs out. A listener therefore runs at least once and, unless a
worker dies while it runs, exactly once; one that talks to the outside world keeps its own
bookkeeping in `write_unit()`s around the call (event.attempts > 1 says it may have run before).
After OUTBOX_MAX_ATTEMPTS failures the job is given up: logged, and left in the table with its
last error (done_at and next_attempt_at both empty).

Listeners register at import time: the modules holding them are named in LISTENER_MODULES,
which the app factory imports.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from merchant.core import wakeup
from merchant.core.extensions import db
from merchant.core.models import OutboxDelivery, OutboxEvent, utcnow
from merchant.core.transactions import write_unit

__all__ = ["Event", "LISTENER_MODULES", "dispatch", "listener", "write_unit"]

log = logging.getLogger(__name__)

# The modules whose @listener functions the app factory registers, e.g. "merchant.receipts".
LISTENER_MODULES: tuple[str, ...] = ("merchant.receipts.listeners", "merchant.alerts.listeners",
                                     "merchant.h2h.listeners")


@dataclass(frozen=True)
class Event:
    """What a listener is handed: the event, and how many times this listener got it."""
    id: int
    order_id: int
    kind: str
    created_at: dt.datetime
    attempts: int


@dataclass(frozen=True)
class Listener:
    name: str
    kinds: frozenset[str]
    call: Callable[[Event], None]


LISTENERS: dict[str, Listener] = {}


def listener(name: str, kinds: Iterable[str]) -> Callable:
    """Register the decorated function as listener `name` for events of these kinds."""
    kinds = frozenset(kinds)
    if not kinds:
        raise ValueError(f"listener {name!r} listens to no kind of event")

    def register(call: Callable[[Event], None]) -> Callable[[Event], None]:
        known = LISTENERS.get(name)
        if known is not None and known.call is not call:
            raise ValueError(f"two listeners are called {name!r}")
        LISTENERS[name] = Listener(name, kinds, call)
        return call
    return register


def load_listeners(statuses: Iterable[str]) -> None:
    """Import LISTENER_MODULES; refuse a listener for a kind of event that never happens
    (`statuses`: the kinds there are, the order statuses and a few others)."""
    for module in LISTENER_MODULES:
        importlib.import_module(module)
    statuses = set(statuses)
    for registered in LISTENERS.values():
        unknown = registered.kinds - statuses
        if unknown:
            raise ValueError(f"listener {registered.name!r} listens to {sorted(unknown)}, "
                             f"which are not kinds of order event")


def add(order_id: int, kind: str) -> None:
    """Inside the caller's transaction: the event and a job for each listener of its kind."""
    now = utcnow()
    event_id = db.session.scalar(
        sa.insert(OutboxEvent).values(order_id=order_id, kind=kind, created_at=now)
        .returning(OutboxEvent.id))
    names = [name for name, registered in LISTENERS.items() if kind in registered.kinds]
    if names:
        db.session.execute(sa.insert(OutboxDelivery), [
            {"event_id": event_id, "listener": name, "attempts": 0, "next_attempt_at": now}
            for name in names])
        wakeup.after_commit()


def dispatch(limit: int = 20) -> int:
    """One worker pass: run up to `limit` due listener jobs. Returns how many ran."""
    if not LISTENERS:
        return 0
    due = db.session.execute(
        sa.select(OutboxDelivery.event_id, OutboxDelivery.listener, OutboxEvent.order_id,
                  OutboxEvent.kind, OutboxEvent.created_at)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .where(OutboxDelivery.next_attempt_at <= utcnow(),
               OutboxDelivery.listener.in_(list(LISTENERS)))
        .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.event_id)
        .limit(limit)
    ).all()
    db.session.commit()
    ran = 0
    for event_id, name, order_id, kind, created_at in due:
        attempts = _claim(event_id, name)
        if attempts is None:
            continue                     # another worker has it
        ran += 1
        _run(LISTENERS[name], Event(event_id, order_id, kind, created_at, attempts))
    return ran


def _seconds(key: str) -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config[key]))


def _claim(event_id: int, name: str) -> int | None:
    """Take the job for the lease: its attempt number, or None if it is not due (any more)."""
    now = utcnow()
    with write_unit():
        return db.session.scalar(
            sa.update(OutboxDelivery)
            .where(OutboxDelivery.event_id == event_id, OutboxDelivery.listener == name,
                   OutboxDelivery.next_attempt_at <= now)
            .values(attempts=OutboxDelivery.attempts + 1,
                    next_attempt_at=now + _seconds("OUTBOX_LEASE_SECONDS"))
            .returning(OutboxDelivery.attempts))


def _run(registered: Listener, event: Event) -> None:
    """Call the listener (in no transaction) and record what came of it."""
    try:
        registered.call(event)
    except Exception as exc:
        db.session.rollback()            # whatever the listener left half-done
        _failed(registered.name, event, f"{type(exc).__name__}: {exc}")
        return
    _finish(registered.name, event, done_at=utcnow(), next_attempt_at=None)


def _failed(name: str, event: Event, error: str) -> None:
    if event.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        log.error("listener %s gave up on event %s (order %s, %s) after %s attempts: %s",
                  name, event.id, event.order_id, event.kind, event.attempts, error)
        _finish(name, event, next_attempt_at=None, last_error=error[:2000])
        return
    delay = min(_seconds("OUTBOX_RETRY_BASE_SECONDS") * 2 ** (event.attempts - 1),
                _seconds("OUTBOX_RETRY_MAX_SECONDS"))
    log.warning("listener %s failed on event %s (order %s, %s), attempt %s; again in %s s: %s",
                name, event.id, event.order_id, event.kind, event.attempts,
                int(delay.total_seconds()), error)
    _finish(name, event, next_attempt_at=utcnow() + delay, last_error=error[:2000])


def _finish(name: str, event: Event, **values) -> None:
    """Record the attempt's outcome, if the job is still this attempt's (its lease held)."""
    with write_unit():
        db.session.execute(
            sa.update(OutboxDelivery)
            .where(OutboxDelivery.event_id == event.id, OutboxDelivery.listener == name,
                   OutboxDelivery.attempts == event.attempts, OutboxDelivery.done_at.is_(None))
            .values(**values))
