"""Payments that never called back: ask the gateway, then expire what is really unpaid."""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from . import orders, payment_events, providers
from .extensions import db
from .models import Order, utcnow
from .payments.base import PaymentError

log = logging.getLogger(__name__)

QUIET_SECONDS = 60          # an unpaid order older than this without a callback gets a query
RECHECK_SECONDS = 60        # and then at most one query a minute


def sweep(limit: int = 50) -> int:
    """Query stale unpaid orders and expire the overdue ones. Returns orders touched."""
    now = utcnow()
    overdue = _unpaid(Order.payment_expires_at <= now, limit)
    quiet = _unpaid(sa.and_(Order.payment_expires_at > now,
                            Order.created_at <= now - dt.timedelta(seconds=QUIET_SECONDS)), limit)
    for order in quiet:
        payment_events.refresh(order, "worker", min_interval=RECHECK_SECONDS)
    for order in overdue:
        expire(order)
    return len(quiet) + len(overdue)


def _unpaid(condition, limit: int) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).where(Order.status == orders.AWAITING_PAYMENT, condition)
        .order_by(Order.payment_expires_at).limit(limit)
    ))


def expire(order: Order) -> None:
    """Ask the gateway once more (a lost callback), then expire the order if still unpaid."""
    if payment_events.refresh(order, "worker", min_interval=0):
        return
    if orders.transition(order.id, orders.EXPIRED, source="worker",
                         detail="Payment window closed without payment"):
        try:
            providers.gateway(order.gateway).expire(order.ref, order.gateway_ref)
        except PaymentError as exc:
            log.warning("order %s: could not expire the payment at %s: %s",
                        order.ref, order.gateway, exc)
