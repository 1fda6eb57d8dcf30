"""Orders. This module is their state machine: the only code that writes an order's status.

The package's other modules take an order from the checkout through the gateway's and the
supplier's events to delivery, and hold what the operator does and reads about orders.

Every transition is one conditional UPDATE ... WHERE status IN (allowed) plus an OrderEvent and
an outbox event for the listeners (merchant/core/outbox.py), in one short transaction. A
rowcount of 0 means another thread, process or machine got there first, and the caller does
nothing. The same holds on SQLite and PostgreSQL.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from merchant.catalog import flash_sales, promos
from merchant.core import outbox, wakeup
from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, utcnow
from merchant.core.transactions import write_unit
from merchant.orders.texts import Said

log = logging.getLogger(__name__)

AWAITING_PAYMENT = "awaiting_payment"
PAID = "paid"
FULFILLING = "fulfilling"
DELIVERED = "delivered"
EXPIRED = "expired"
PAYMENT_FAILED = "payment_failed"
FULFILLMENT_FAILED = "fulfillment_failed"
REFUNDED = "refunded"

# to-status -> the statuses it may be reached from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    # A payment confirmed after expiry or after a failed attempt still took the customer's
    # money, so it is honoured.
    PAID: frozenset({AWAITING_PAYMENT, EXPIRED, PAYMENT_FAILED, FULFILLMENT_FAILED}),
    FULFILLING: frozenset({PAID}),
    # A failed delivery can still be made by hand (the operator, with proof).
    DELIVERED: frozenset({FULFILLING, FULFILLMENT_FAILED}),
    FULFILLMENT_FAILED: frozenset({FULFILLING}),
    EXPIRED: frozenset({AWAITING_PAYMENT}),
    PAYMENT_FAILED: frozenset({AWAITING_PAYMENT}),
    REFUNDED: frozenset({FULFILLMENT_FAILED}),
}
# Where an order page stops watching. A failed delivery is not among them: the operator
# delivers it by hand, retries or refunds it, and the customer's open page should show that.
FINAL = frozenset({DELIVERED, EXPIRED, PAYMENT_FAILED, REFUNDED})
UNPAID = frozenset({AWAITING_PAYMENT, EXPIRED, PAYMENT_FAILED})

# In the page's (or the forced) language when read: lazy strings.
LABELS = {
    AWAITING_PAYMENT: _l("Waiting for payment"),
    PAID: _l("Paid"),
    FULFILLING: _l("Delivering"),
    DELIVERED: _l("Delivered"),
    EXPIRED: _l("Expired"),
    PAYMENT_FAILED: _l("Payment failed"),
    FULFILLMENT_FAILED: _l("Delivery failed"),
    REFUNDED: _l("Refunded"),
}


def record(order_id: int, source: str, detail: str | Said, from_status=None,
           to_status=None) -> None:
    """Add an event to an order's history (inside the caller's transaction). A `Said` detail
    (order_texts.said) is kept as its code and parameters too, to be read in any language."""
    code, params = (detail.code, detail.params) if isinstance(detail, Said) else (None, None)
    # Stamped now, not at flush: an admin's audit entry added after it in the same transaction
    # is then never older than the event it caused (the timeline shows them in that order).
    db.session.add(OrderEvent(order_id=order_id, source=source, detail=str(detail)[:2000],
                              code=code, params=params, from_status=from_status,
                              to_status=to_status, at=utcnow()))


def note(order_id: int, source: str, detail: str) -> None:
    """Record a notable message that changes no status, in its own transaction."""
    with write_unit():
        record(order_id, source, detail)


def move(order_id: int, to: str, source: str, detail: str | Said, allowed=None, where=(),
         **values) -> str | None:
    """Inside the caller's transaction: the conditional update. The previous status if we won.

    `where`: further conditions the row must meet (e.g. no refund in progress).

    `previous_status = status` reads the row's value before this UPDATE, and RETURNING hands it
    back, so the one statement checks, changes and tells where the order came from; no
    read-then-write race.
    """
    allowed = ALLOWED_FROM[to] if allowed is None else allowed
    previous = db.session.scalar(
        sa.update(Order)
        .where(Order.id == order_id, Order.status.in_(allowed), *where)
        .values(status=to, previous_status=Order.status, updated_at=utcnow(), **values)
        .returning(Order.previous_status)
        .execution_options(synchronize_session=False)
    )
    if previous is None:
        return None
    record(order_id, source, detail, from_status=previous, to_status=to)
    outbox.add(order_id, to)
    if to == PAID:
        wakeup.after_commit()          # the worker delivers it
    # The sale's unit before the promo's use: checkout takes them in that order too, so two
    # transactions never wait for each other's row the other way round.
    flash_note = flash_sales.on_status(order_id, previous, to)
    if flash_note:
        record(order_id, source, flash_note)
    promo_note = promos.on_status(order_id, previous, to)
    if promo_note:
        record(order_id, source, promo_note)
    return previous


def transition(order_id: int, to: str, *, source: str, detail: str | Said = "",
               **values) -> bool:
    """Move an order to `to` if its current status allows it; True if this call did it.

    `values` are other columns written by the same UPDATE (delivery proof, paid_at ...).
    """
    with write_unit():
        won = move(order_id, to, source, detail, **values) is not None
    if not won:
        log.info("order %s: %s refused or lost the race (%s)", order_id, to, source)
    return won
