"""The owner alerts the running shop raises by itself, checked by the worker's notification
lane every pass and by `flask --app merchant alerts check` (cron or a systemd timer):

- the worker stopped: no heartbeat for ALERT_WORKER_STOPPED_SECONDS. A dead worker cannot say
  so itself, and it is also what sends the alerts; so the check that matters runs outside it,
  from cron, and sends the queued alerts itself (`check_and_send`). A worker whose delivery
  lane hangs is noticed by its own notification lane (the heartbeat is the delivery lane's).
  When beats come again the alert clears ("the worker runs again").
- the daily summary at the owner's hour (alerts/daily.py claims the day);
- supplier failure spikes that calmed down (cleared), and the Telegram link's getUpdates poll.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask import current_app

from merchant.alerts import (
    WORKER_STOPPED,
    clear_alert,
    daily,
    queue,
    raise_alert,
    spikes,
    telegram_link,
)
from merchant.core import clock, shop_settings
from merchant.core.extensions import db
from merchant.core.models import WorkerBeat, utcnow
from merchant.ops import sales

log = logging.getLogger(__name__)


def check(now: dt.datetime | None = None) -> None:
    """Every time-driven alert, once."""
    now = now or utcnow()
    watch_worker(now)
    summary = daily.due(now)
    if summary is not None:
        figures = sales.summary(summary.start, summary.end, shop_settings.current().currency)
        if daily.send(summary.day, **figures):
            log.info("daily summary for %s queued", summary.day)
    spikes.settle(now)


def watch_worker(now: dt.datetime) -> None:
    newest = db.session.scalar(sa.select(sa.func.max(WorkerBeat.beat_at)))
    db.session.commit()
    if newest is None:
        return                                   # no worker ever ran: Needs attention says so
    age = (now - newest).total_seconds()
    limit = float(current_app.config["ALERT_WORKER_STOPPED_SECONDS"])
    if age >= limit:
        raise_alert(WORKER_STOPPED, "worker", minutes=int(age // 60))
    else:
        clear_alert(WORKER_STOPPED, "worker")


def send_due() -> int:
    """The notification lane's share: the checks (every ALERT_CHECK_SECONDS in this process),
    the Telegram link's poll while a code waits, then the due alert messages."""
    checked = current_app.extensions.setdefault("owner_alerts", {"at": None})
    every = float(current_app.config["ALERT_CHECK_SECONDS"])
    try:
        if checked["at"] is None or clock.monotonic() - checked["at"] >= every:
            checked["at"] = clock.monotonic()
            check()
        telegram_link.poll()
    except Exception:
        log.exception("owner alert checks failed")
        db.session.rollback()
    return queue.dispatch()


def check_and_send() -> int:
    """For cron: every check, then every due message (a dead worker sends nothing). Returns
    how many messages it tried to send."""
    check()
    telegram_link.poll()
    sent = 0
    while (tried := queue.dispatch()) > 0:
        sent += tried
    return sent
