"""What the gateways tell us about payments, from callbacks or from our own status queries.

Callbacks are verified over the raw body by the gateway's adapter, deduplicated on the vendor's
event key, matched to an order, checked against its amount and currency, and turned into one
transition. Everything else (delivery) is the worker's job: a payment's commit wakes it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from merchant import orders
from merchant.core import logs
from merchant.core.extensions import db
from merchant.core.models import Order, PaymentMethod, WebhookEvent, utcnow
from merchant.core.transactions import write_unit
from merchant.customers import deposits
from merchant.orders.texts import said
from merchant.vendors import registry
from merchant.vendors.callback_schemas import Malformed
from merchant.vendors.payments.base import (
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
    """A callback we refuse (forged, unreadable): answered with `status`, changes nothing."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def receive_callback(gateway_name: str, body: bytes, headers: Mapping[str, str]) -> CallbackReply:
    """Handle one callback delivery. :raise CallbackRejected: forged or unreadable."""
    try:
        gateway = registry.gateway(gateway_name)
    except PaymentError as exc:
        log.error("%s callback rejected: it cannot be verified: %s", gateway_name, exc)
        raise CallbackRejected(401, "invalid signature") from exc
    try:
        update = gateway.parse_callback(body, headers)
    except ForgedCallback as exc:
        log.warning("forged %s callback rejected: %s", gateway_name, exc)
        raise CallbackRejected(401, "invalid signature") from exc
    except Malformed as exc:
        log.warning("malformed %s callback rejected: %s", gateway_name, exc)
        raise CallbackRejected(400, f"malformed callback: {exc}") from exc
    except PaymentError as exc:
        log.warning("unreadable %s callback rejected: %s", gateway_name, exc)
        raise CallbackRejected(400, "malformed callback") from exc

    order = find_order(update)
    # Not an order's payment: maybe a customer's saldo deposit (same gateways, same checks).
    deposit = deposits.find(update) if order is None else None
    event_id = update.event_id or hashlib.sha256(body).hexdigest()
    try:
        with write_unit():
            # The dedupe row and the transition commit together, or not at all.
            delivery = WebhookEvent(provider=gateway_name, event_id=event_id[:200],
                                    body_sha256=hashlib.sha256(body).hexdigest())
            if order is not None:
                delivery.order_id = order.id
            db.session.add(delivery)
            db.session.flush()
            if deposit is not None:
                delivery.outcome = _deposit_outcome(gateway_name, deposit, update)
            elif order is None and not (update.order_ref or update.gateway_ref):
                # e.g. a Stripe event type this shop does not act on: nothing to match.
                delivery.outcome = "not about a payment: ignored"
            elif order is None:
                delivery.outcome = "no such order"
                log.warning("%s callback for unknown order %s", gateway_name, update.order_ref)
            elif order.gateway != gateway_name:
                # Each gateway's secret vouches only for its own payments.
                delivery.outcome = f"order belongs to {order.gateway}: ignored"
                log.warning("%s callback for order %s, which is paid through %s; ignored",
                            gateway_name, order.ref, order.gateway)
            else:
                delivery.outcome = apply(order, update, source="webhook")
            outcome = delivery.outcome
    except IntegrityError:
        log.info("%s callback %s is a duplicate; ignored", gateway_name, event_id)
        return gateway.callback_reply(update)
    log.info("%s callback %s for %s: %s", gateway_name, event_id, update.order_ref, outcome,
             extra={"ref": order.ref if order is not None else None})
    return gateway.callback_reply(update)


def _deposit_outcome(gateway_name: str, deposit, update: PaymentUpdate) -> str:
    if deposit.gateway != gateway_name:
        log.warning("%s callback for deposit %s, which is paid through %s; ignored",
                    gateway_name, deposit.ref, deposit.gateway)
        return f"deposit {deposit.ref} belongs to {deposit.gateway}: ignored"
    return f"deposit {deposit.ref}: " + deposits.apply(deposit, update, source="webhook")


def find_order(update: PaymentUpdate) -> Order | None:
    order = db.session.scalar(sa.select(Order).where(Order.ref == update.order_ref))
    if order is None and update.gateway_ref:
        order = db.session.scalar(sa.select(Order).where(Order.gateway_ref == update.gateway_ref))
    return order


@logs.about_order
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
        # Only an unpaid order can become paid by a payment message: a repeated "paid" must not
        # re-open an order whose delivery failed (that is the operator's retry to make).
        moved = orders.move(order.id, orders.PAID, source, label, allowed=orders.UNPAID,
                            paid_at=utcnow())
        return "paid" if moved else f"paid ignored: order is {order.status}"
    if update.status in (FAILED, EXPIRED):
        to = orders.PAYMENT_FAILED if update.status == FAILED else orders.EXPIRED
        moved = orders.move(order.id, to, source, label)
        return to if moved else f"{update.status} ignored: order is {order.status}"
    if update.status == REFUNDED:
        if order.status == orders.REFUNDED:
            # The vendor confirming a refund the operator made from the panel.
            orders.record(order.id, source, f"{label}: the gateway confirms the refund")
            return "refund confirmed"
        _flag(order.id, source, f"{label}: the gateway reports a refund")
        return "refund reported: flagged"
    return f"{update.status}: no change"


def _flag(order_id: int, source: str, reason: str) -> None:
    """Flag the order for the operator, once per reason (a vendor repeats itself)."""
    reason = reason[:200]
    flagged = db.session.execute(
        sa.update(Order).where(Order.id == order_id,
                               sa.or_(Order.flag.is_(None), Order.flag != reason))
        .values(flag=reason, updated_at=utcnow())
    ).rowcount
    if flagged:
        orders.record(order_id, source, said("flagged", reason=reason))


# What asking the gateway about an unpaid order achieved.
MOVED = "moved"          # the answer changed the order (paid, failed, expired)
UNPAID = "unpaid"        # the gateway answered: not paid (or it knows no payment yet)
UNKNOWN = "unknown"      # not asked (asked too recently), or no answer


@logs.about_order
def ask(order: Order, source: str, min_interval: float) -> str:
    """Ask the gateway about an unpaid order, at most once per `min_interval` seconds.

    The throttle is a conditional update of gateway_checked_at (the last time anyone asked),
    so two pollers (or a poller and a worker) never both call the vendor within the interval.
    Returns MOVED, UNPAID or UNKNOWN.
    """
    now = utcnow()
    since = now - dt.timedelta(seconds=min_interval)
    with write_unit():
        claimed = db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id,
                   sa.or_(Order.gateway_checked_at.is_(None), Order.gateway_checked_at <= since))
            .values(gateway_checked_at=now)
        ).rowcount == 1
    if not claimed:
        return UNKNOWN
    try:
        update = registry.gateway(order.gateway).query(order.ref, order.gateway_ref)
    except PaymentError as exc:
        log.warning("order %s: status query to %s failed: %s", order.ref, order.gateway, exc)
        return UNKNOWN
    if update is None:
        return UNPAID
    with write_unit():
        outcome = apply(order, update, source)
    log.info("order %s: %s status query: %s", order.ref, order.gateway, outcome)
    return MOVED if outcome in MOVING_OUTCOMES else UNPAID


def refresh(order: Order, source: str, min_interval: float) -> bool:
    """ask(), for callers that only need to know whether the order changed."""
    return ask(order, source, min_interval) == MOVED


MOVING_OUTCOMES = frozenset({"paid", orders.PAYMENT_FAILED, orders.EXPIRED})


def enabled_gateways() -> set[str]:
    """Gateways this shop takes payments with: the default, per-method ones, the sandbox."""
    names = {current_app.config["GATEWAY"]}
    names.update(g for g in db.session.scalars(sa.select(PaymentMethod.gateway).distinct()) if g)
    if current_app.config["SANDBOX_ENABLED"]:
        names.add("sandbox")
    else:
        names.discard("sandbox")
    return names
