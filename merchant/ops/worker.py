"""The worker: delivery, follow-ups and payment reconciliation, over and over, and beside
them the order-event listeners (receipts) and the owner's alerts.

Run it as `flask --app merchant worker` (any number of them), or as the thread `serve` starts.
It works in two lanes, each its own thread: deliveries, and notifications (outbox jobs). A mail
server or Fonnte that hangs holds its receipt for up to its timeout (SMTP_TIMEOUT,
FONNTE_TIMEOUT); in one loop every paid order waited behind it, 9-15 s per order while a mail
server hung. Between passes each lane waits for a wake-up (merchant/core/wakeup.py: a commit that
made work, in any process), or for WORKER_POLL_SECONDS at most: the poll is the safety net, and
what finds work that falls due with time (retries, pending deliveries, expiring payments).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from merchant.core import outbox, wakeup
from merchant.core.extensions import db
from merchant.core.models import WorkerBeat, utcnow
from merchant.customers import levels
from merchant.h2h import callbacks, upkeep
from merchant.ops import owner_alerts
from merchant.orders import fulfillment, reconciliation
from merchant.supply import sync

log = logging.getLogger(__name__)

BEAT_EVERY = 5.0
STALE_AFTER = 60   # seconds without a heartbeat before the worker counts as gone


def deliver_once() -> int:
    """One pass of the delivery lane, inside an app context: paid orders, follow-ups and
    payments. Returns how many orders it touched."""
    done = fulfillment.dispatch_paid() + fulfillment.follow_up() + reconciliation.sweep()
    # Price lists and balances on each supplier's own schedule, then what sells: its supplier
    # calls are not counted as work (they would keep the lane from resting).
    sync.run_due()
    levels.review_due()      # customers moved up by their spend, every few minutes
    db.session.remove()
    return done


def notify_once() -> int:
    """One pass of the notification lane: due listener jobs and owner alerts. Returns how many
    ran."""
    done = outbox.dispatch() + owner_alerts.send_due() + callbacks.send_due() + upkeep.run_due()
    db.session.remove()
    return done


def run_once() -> int:
    """Both lanes once, one after the other (what the tests' `work()` runs)."""
    return deliver_once() + notify_once()


def beat(name: str) -> None:
    with db.session.begin():
        row = db.session.get(WorkerBeat, name)
        if row is None:
            db.session.add(WorkerBeat(name=name, beat_at=utcnow()))
        else:
            row.beat_at = utcnow()
    db.session.remove()


def last_beat() -> float | None:
    """Seconds since the freshest worker heartbeat, or None if no worker ever ran."""
    newest = db.session.scalar(sa.select(sa.func.max(WorkerBeat.beat_at)))
    return None if newest is None else (utcnow() - newest).total_seconds()


def run(app: Flask, stop: threading.Event | None = None, name: str | None = None) -> None:
    """Both lanes until `stop` is set: notifications in a thread of their own, deliveries in
    this one (with the heartbeat). Errors in one pass are logged and the lane goes on."""
    stop = stop or threading.Event()
    name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    notifier = threading.Thread(target=_lane, args=(app, stop, notify_once),
                                name="merchant-notifications", daemon=True)
    log.info("worker %s started", name)
    notifier.start()
    try:
        _lane(app, stop, deliver_once, beat_as=name)
    finally:
        stop.set()
        # A receipt in flight ends within its timeout; one cut short is taken over later
        # (its lease), as after a crash.
        notifier.join(max(float(app.config[key] or 10)
                          for key in ("SMTP_TIMEOUT", "FONNTE_TIMEOUT", "TELEGRAM_TIMEOUT")) + 1)
    log.info("worker %s stopped", name)


def _lane(app: Flask, stop: threading.Event, one_pass: Callable[[], int],
          beat_as: str | None = None) -> None:
    """Run `one_pass` until `stop` is set, waiting for a wake-up whenever it found nothing."""
    poll = float(app.config["WORKER_POLL_SECONDS"])
    last = 0.0
    with app.app_context():
        waiter = wakeup.waiter()
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    if beat_as and time.monotonic() - last >= BEAT_EVERY:
                        beat(beat_as)
                        last = time.monotonic()
                    busy = one_pass()
                except Exception:
                    log.exception("worker pass failed (%s)", one_pass.__name__)
                    db.session.rollback()
                    db.session.remove()
                    busy = 0
            if not busy:
                waiter.wait(poll)
    finally:
        waiter.close()


def start_thread(app: Flask) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="merchant-worker", daemon=True)
    thread.start()
    return thread, stop
