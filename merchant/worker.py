"""The worker loop: delivery, follow-ups and payment reconciliation, over and over.

Run it as `flask --app merchant worker` (any number of them), or as the thread `serve` starts.
Between passes it waits for a wake-up (merchant/wakeup.py: a commit that made work, in any
process), or for WORKER_POLL_SECONDS at most: the poll is the safety net, and what finds work
that falls due with time (retries, pending deliveries, expiring payments).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

import sqlalchemy as sa
from flask import Flask

from . import balances, fulfillment, outbox, reconciliation, wakeup
from .extensions import db
from .models import WorkerBeat, utcnow

log = logging.getLogger(__name__)

BEAT_EVERY = 5.0
STALE_AFTER = 60   # seconds without a heartbeat before the worker counts as gone


def run_once() -> int:
    """One pass of every job, inside an app context. Returns how many orders and listener jobs
    it touched."""
    done = (fulfillment.dispatch_paid() + fulfillment.follow_up() + reconciliation.sweep()
            + outbox.dispatch())
    balances.check_due()     # throttles itself to one supplier call every few minutes
    db.session.remove()
    return done


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
    """Loop until `stop` is set. Errors in one pass are logged and the loop goes on."""
    stop = stop or threading.Event()
    name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    poll = float(app.config["WORKER_POLL_SECONDS"])
    last = 0.0
    with app.app_context():
        waiter = wakeup.waiter()
    log.info("worker %s started", name)
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    if time.monotonic() - last >= BEAT_EVERY:
                        beat(name)
                        last = time.monotonic()
                    busy = run_once()
                except Exception:
                    log.exception("worker pass failed")
                    db.session.rollback()
                    db.session.remove()
                    busy = 0
            if not busy:
                waiter.wait(poll)
    finally:
        waiter.close()
    log.info("worker %s stopped", name)


def start_thread(app: Flask) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="merchant-worker", daemon=True)
    thread.start()
    return thread, stop
