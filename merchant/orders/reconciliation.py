"""Payments that never called back: ask the gateway, then expire what is really unpaid.

Any decisive callback (paid, failed, expired) moves an order out of awaiting_payment, so an
order still awaiting payment a minute after it was placed is one whose callback has not come
(or said only "pending"): the worker asks the gateway about it, at most once a minute.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from merchant import orders
from merchant.core import logs
from merchant.core.extensions import db
from merchant.core.models import Order, utcnow
from merchant.orders import payment_events
from merchant.orders.texts import said
from merchant.vendors import registry
from merchant.vendors.payments.base import PaymentError

log = logging.getLogger(__name__)

QUIET_SECONDS = 60          # an unpaid order older than this without a callback gets a query
RECHECK_SECONDS = 60        # and then at most one query a minute
EXPIRY_RECHECK_SECONDS = 10  # an overdue order whose gateway did not answer is asked again
EXPIRY_GRACE = dt.timedelta(hours=1)  # ... until this long after expiry, then expired anyway


def sweep(limit: int = 50) -> int:
    """Query stale unpaid orders and expire the overdue ones. Returns orders touched.

    Orders asked about recently are left out of the selection, so a pass that only finds
    such orders does nothing and the worker sleeps instead of spinning on them.
    """
    now = utcnow()
    overdue = _unpaid(sa.and_(Order.payment_expires_at <= now,
                              _not_asked_since(now, EXPIRY_RECHECK_SECONDS)), limit)
    quiet = _unpaid(sa.and_(Order.payment_expires_at > now,
                            Order.created_at <= now - dt.timedelta(seconds=QUIET_SECONDS),
                            _not_asked_since(now, RECHECK_SECONDS)), limit)
    for order in quiet:
        payment_events.ask(order, "worker", RECHECK_SECONDS)
    for order in overdue:
        expire(order, now)
    return len(quiet) + len(overdue)


def _not_asked_since(now: dt.datetime, seconds: float):
    return sa.or_(Order.gateway_checked_at.is_(None),
                  Order.gateway_checked_at <= now - dt.timedelta(seconds=seconds))


def _unpaid(condition, limit: int) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.status == orders.AWAITING_PAYMENT, condition)
        .order_by(Order.payment_expires_at).limit(limit)
    ))


@logs.about_order
def expire(order: Order, now: dt.datetime | None = None) -> None:
    """Ask the gateway once more (a lost callback), then expire the order if still unpaid.

    When the gateway cannot be asked, the order waits (asked again every few seconds) for up
    to EXPIRY_GRACE: a paid order must not be shown as expired just because the vendor was
    down. After that it expires anyway; a late payment is still honoured.
    """
    now = now or utcnow()
    answer = payment_events.ask(order, "worker", EXPIRY_RECHECK_SECONDS)
    if answer == payment_events.MOVED:
        return
    if answer == payment_events.UNKNOWN:
        if now < order.payment_expires_at + EXPIRY_GRACE:
            return
        detail = said("expired_unanswered", gateway=order.gateway)
    else:
        detail = said("expired")
    if orders.transition(order.id, orders.EXPIRED, source="worker", detail=detail):
        try:
            # Stripe keeps a session open at least 30 min and Xendit/Midtrans until their own
            # expiry: close it so the customer cannot pay an order we consider dead.
            registry.gateway(order.gateway).expire(order.ref, order.gateway_ref)
        except PaymentError as exc:
            log.warning("order %s: could not expire the payment at %s: %s",
                        order.ref, order.gateway, exc)
