"""Telling the reseller's callback URL of every change of an API order (to success or failed).

Each change is one ApiCallback row: the queue and the delivery log at once. Its event_id
("<api order>:<status>") is the receiver's dedupe key and makes a change queued twice one row.
The worker's notification lane sends due rows (send_due), outside any transaction and with a
short timeout, so a slow reseller never holds a delivery up; a failed send is tried again after
growing pauses (H2H_CALLBACK_PAUSES), then given up and left in the log, where the reseller
and the owner can send it again.

A live order's changes arrive through the outbox (merchant/h2h/listeners.py); a sandbox
order's are queued where it settles.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from merchant.core import clock
from merchant.core.extensions import db
from merchant.core.models import ApiCallback, ApiKey, ApiOrder, utcnow
from merchant.core.transactions import write_unit
from merchant.customers import saldo
from merchant.h2h import digiflazz_wire, keys, signing
from merchant.h2h.outcomes import FINAL, Outcome, outcome_of

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=120)       # a send that takes longer may be sent again


def _balance(api_order: ApiOrder) -> int:
    if api_order.sandbox:
        return int(db.session.scalar(sa.select(ApiKey.play_balance)
                                     .where(ApiKey.id == api_order.key_id)))
    return saldo.balance(api_order.key.customer, api_order.currency).amount


def _body(api_order: ApiOrder, outcome: Outcome) -> tuple[str, str]:
    """(event_id, JSON body) telling the order's state `outcome` in its door's format."""
    event_id = f"{api_order.id}:{outcome.status}"
    balance = _balance(api_order)
    if api_order.door == "digiflazz":
        body = {"data": digiflazz_wire.transaction(outcome, balance)}
    else:
        body = {"event_id": event_id, "ref_id": outcome.ref_id, "order_id": outcome.order_id,
                "status": outcome.status, "sn": outcome.sn, "price": outcome.price,
                "currency": outcome.currency, "balance_after": balance,
                "sandbox": outcome.sandbox}
    return event_id, json.dumps(body, separators=(",", ":"))


def enqueue(api_order: ApiOrder) -> None:
    """Inside the caller's transaction: queue the callback for the order's state now, if it is
    final and the order has a URL (once per state: a second queueing is a no-op)."""
    outcome = outcome_of(api_order)
    if not api_order.callback_url or outcome.status not in FINAL:
        return
    event_id, body = _body(api_order, outcome)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(ApiCallback)
        .values(api_order_id=api_order.id, event_id=event_id, url=api_order.callback_url,
                body=body, status=outcome.status, attempts=0,
                next_attempt_at=utcnow(), last_error="", created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"]))


def tell(api_order: ApiOrder) -> None:
    with write_unit():
        enqueue(api_order)


def tell_if_final(api_order: ApiOrder) -> None:
    if outcome_of(api_order).status in FINAL:
        tell(api_order)


def send_due(limit: int = 20) -> int:
    """One pass of the notification lane: send the callbacks that are due. How many were sent
    (well or not)."""
    now = utcnow()
    due = list(db.session.scalars(
        sa.select(ApiCallback.id).where(ApiCallback.next_attempt_at <= now)
        .order_by(ApiCallback.next_attempt_at, ApiCallback.id).limit(limit)))
    db.session.commit()
    sent = 0
    for callback_id in due:
        attempt = _claim(callback_id)
        if attempt is None:
            continue                    # another worker took it
        sent += 1
        _send(db.session.get(ApiCallback, callback_id), attempt)
    return sent


def _claim(callback_id: int) -> int | None:
    now = utcnow()
    with write_unit():
        return db.session.scalar(
            sa.update(ApiCallback)
            .where(ApiCallback.id == callback_id, ApiCallback.next_attempt_at <= now)
            .values(attempts=ApiCallback.attempts + 1, next_attempt_at=now + LEASE)
            .returning(ApiCallback.attempts))


def _headers(callback: ApiCallback) -> dict[str, str]:
    key = callback.api_order.key
    secret = keys.usable_secret(key) or ""
    body = callback.body.encode()
    headers = {"Content-Type": "application/json", "X-Key-Id": key.key_id,
               "X-Event-Id": callback.event_id}
    if callback.api_order.door == "digiflazz":
        return headers | digiflazz_wire.callback_headers(secret, body)
    return headers | {"X-Signature": signing.callback_signature(secret, int(clock.timestamp()),
                                                                body),
                      "User-Agent": "merchant-h2h-callback/1"}


def _refused_address(url: str) -> str | None:
    """Why the URL may not be called: it resolves to this machine or its private network
    (unless H2H_CALLBACK_PRIVATE_OK), where a callback could reach what is not the reseller's."""
    if current_app.config["H2H_CALLBACK_PRIVATE_OK"]:
        return None
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return f"{host} is a private address ({ip}): not called"
    return None


def _send(callback: ApiCallback, attempt: int) -> None:
    started = time.monotonic()
    status, error = None, _refused_address(callback.url)
    if error is None:
        try:
            reply = requests.post(callback.url, data=callback.body.encode(),
                                  headers=_headers(callback), allow_redirects=False,
                                  timeout=float(current_app.config["H2H_CALLBACK_TIMEOUT"]))
            status = reply.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
    latency = int((time.monotonic() - started) * 1000)
    values = {"last_http_status": status, "last_latency_ms": latency, "last_error": error or ""}
    if error is None:
        values |= {"delivered_at": utcnow(), "next_attempt_at": None}
    else:
        pauses = current_app.config["H2H_CALLBACK_PAUSES"]
        gave_up = attempt > len(pauses)
        values["next_attempt_at"] = None if gave_up else \
            utcnow() + dt.timedelta(seconds=pauses[attempt - 1])
        log.warning("callback %s to %s failed (attempt %s%s): %s", callback.event_id,
                    callback.url, attempt, ", given up" if gave_up else "", error)
    with write_unit():
        db.session.execute(sa.update(ApiCallback).where(ApiCallback.id == callback.id,
                                                        ApiCallback.attempts == attempt)
                           .values(**values))


def send_again(callback: ApiCallback) -> None:
    """"Send again" in the log: due now (a given-up one gets one more try)."""
    with write_unit():
        db.session.execute(sa.update(ApiCallback).where(ApiCallback.id == callback.id)
                           .values(next_attempt_at=utcnow(), delivered_at=None))
    db.session.refresh(callback)


def of_customer(customer_id: int, limit: int = 50) -> list[ApiCallback]:
    return list(db.session.scalars(
        sa.select(ApiCallback).join(ApiOrder, ApiOrder.id == ApiCallback.api_order_id)
        .where(ApiOrder.customer_id == customer_id)
        .order_by(ApiCallback.id.desc()).limit(limit)))


def latest(limit: int = 100) -> list[ApiCallback]:
    """The newest callbacks of every account, for the owner's API page."""
    return list(db.session.scalars(
        sa.select(ApiCallback).options(selectinload(ApiCallback.api_order)
                                       .selectinload(ApiOrder.key).selectinload(ApiKey.customer))
        .order_by(ApiCallback.id.desc()).limit(limit)))


def pending_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(ApiCallback)
                                 .where(ApiCallback.next_attempt_at.isnot(None))))
