"""What the gateways tell us about payments, from callbacks or from our own status queries.

Callbacks are verified over the raw body by the gateway's adapter, deduplicated on the vendor's
event key, matched to an order, checked against its amount and currency, and turned into one
transition. Everything else (delivery) is the worker's job.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import orders, providers, worker
from .extensions import db
from .models import Order, PaymentMethod, WebhookEvent, utcnow
from .payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    REFUNDED,
    CallbackReply,
    ForgedCallback,
    PaymentError,
    PaymentUpdate,
)

log = logging.getLogger(__name__)


class CallbackRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def receive_callback(gateway_name: str, body: bytes, headers: Mapping[str, str]) -> CallbackReply:
    """Handle one callback delivery. :raise CallbackRejected: forged or unreadable."""
    gateway = providers.gateway(gateway_name)
    try:
        update = gateway.parse_callback(body, headers)
    except ForgedCallback as exc:
        log.warning("forged %s callback rejected: %s", gateway_name, exc)
        raise CallbackRejected(401, "invalid signature") from exc
    except PaymentError as exc:
        log.warning("unreadable %s callback rejected: %s", gateway_name, exc)
        raise CallbackRejected(400, "malformed callback") from exc

    order = find_order(update)
    event_id = update.event_id or hashlib.sha256(body).hexdigest()
    try:
        with orders.write_unit():
            # The dedupe row and the transition commit together, or not at all.
            delivery = WebhookEvent(provider=gateway_name, event_id=event_id[:200],
                                    body_sha256=hashlib.sha256(body).hexdigest())
            db.session.add(delivery)
            db.session.flush()
            if order is None:
                delivery.outcome = "no such order"
                log.warning("%s callback for unknown order %s", gateway_name, update.order_ref)
            else:
                delivery.outcome = apply(order, update, source="webhook")
    except IntegrityError:
        log.info("%s callback %s is a duplicate; ignored", gateway_name, event_id)
        return gateway.callback_reply(update)
    if update.status == PAID:
        worker.nudge()
    return gateway.callback_reply(update)


def find_order(update: PaymentUpdate) -> Order | None:
    order = db.session.scalar(sa.select(Order).where(Order.ref == update.order_ref))
    if order is None and update.gateway_ref:
        order = db.session.scalar(sa.select(Order).where(Order.gateway_ref == update.gateway_ref))
    return order


def apply(order: Order, update: PaymentUpdate, source: str) -> str:
    """Inside the caller's transaction: turn a payment update into at most one transition.

    Returns a short outcome for the log.
    """
    label = f"{order.gateway}: {update.detail or update.status}"
    if update.status == PAID:
        if (update.amount, update.currency) != (order.total, order.currency):
            reason = (f"payment amount {update.amount} {update.currency} does not match "
                      f"the order total {order.total} {order.currency}")
            _flag(order.id, source, reason)
            log.error("order %s: %s; not delivered", order.ref, reason)
            return "amount mismatch: flagged"
        moved = orders.move(order.id, orders.PAID, source, label, paid_at=utcnow())
        return "paid" if moved else f"paid ignored: order is {order.status}"
    if update.status in (FAILED, EXPIRED):
        to = orders.PAYMENT_FAILED if update.status == FAILED else orders.EXPIRED
        moved = orders.move(order.id, to, source, label)
        return to if moved else f"{update.status} ignored: order is {order.status}"
    if update.status == REFUNDED:
        _flag(order.id, source, f"{label}: the gateway reports a refund")
        return "refund reported: flagged"
    return f"{update.status}: no change"


def _flag(order_id: int, source: str, reason: str) -> None:
    db.session.execute(sa.update(Order).where(Order.id == order_id)
                       .values(flag=reason[:200], updated_at=utcnow()))
    orders.record(order_id, source, f"Flagged for the operator: {reason}")


def refresh(order: Order, source: str, min_interval: float) -> bool:
    """Ask the gateway about an unpaid order, at most once per `min_interval` seconds.

    The throttle is a conditional update of gateway_checked_at, so two pollers (or a poller and
    a worker) never both call the vendor. Returns True if the order changed.
    """
    now = utcnow()
    since = now - dt.timedelta(seconds=min_interval)
    with orders.write_unit():
        claimed = db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id,
                   sa.or_(Order.gateway_checked_at.is_(None), Order.gateway_checked_at <= since))
            .values(gateway_checked_at=now)
        ).rowcount == 1
    if not claimed:
        return False
    try:
        update = providers.gateway(order.gateway).query(order.ref, order.gateway_ref)
    except PaymentError as exc:
        log.warning("order %s: status query to %s failed: %s", order.ref, order.gateway, exc)
        return False
    if update is None:
        return False
    with orders.write_unit():
        outcome = apply(order, update, source)
    log.info("order %s: %s status query: %s", order.ref, order.gateway, outcome)
    if outcome == "paid":
        worker.nudge()
    return outcome in MOVED


MOVED = frozenset({"paid", orders.PAYMENT_FAILED, orders.EXPIRED})


def gateway_for(method_gateway: str | None) -> str:
    return method_gateway or current_app.config["GATEWAY"]


def enabled_gateways() -> set[str]:
    """Gateways this shop takes payments with: the default, per-method ones, the sandbox."""
    names = {current_app.config["GATEWAY"]}
    names.update(g for g in db.session.scalars(sa.select(PaymentMethod.gateway).distinct()) if g)
    if current_app.config["SANDBOX_ENABLED"]:
        names.add("sandbox")
    return names
