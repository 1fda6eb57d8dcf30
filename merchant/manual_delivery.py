"""The operator's "to deliver" queue for orders of the manual supplier.

The admin page (operator-panel issue) and `flask --app merchant deliver` both use these.
"""
from __future__ import annotations

import sqlalchemy as sa

from . import orders
from .extensions import db
from .models import Order, utcnow

MANUAL = "manual"


class DeliveryError(ValueError):
    """The order cannot be marked delivered by hand. The message says why, for the operator."""


def queue() -> list[Order]:
    """Orders waiting for the operator to deliver them, oldest payment first."""
    return list(db.session.scalars(
        sa.select(Order).where(Order.status == orders.FULFILLING, Order.supplier == MANUAL)
        .order_by(Order.paid_at, Order.id)
    ))


def mark_delivered(ref: str, proof: str, source: str = "admin") -> Order:
    """fulfilling -> delivered for a manual order, with the operator's proof.

    :raise DeliveryError: unknown reference, empty proof, or not waiting for manual delivery.
    """
    proof = (proof or "").strip()
    ref = (ref or "").strip().upper()
    if not proof:
        raise DeliveryError("Enter the proof of delivery (a serial number or what you sent).")
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
    if order is None:
        raise DeliveryError(f"There is no order {ref}.")
    if order.supplier != MANUAL or order.status != orders.FULFILLING:
        raise DeliveryError(
            f"Order {ref} is not waiting for manual delivery: it is "
            f"{orders.LABELS.get(order.status, order.status).lower()} "
            f"(supplier {order.supplier}).")
    if not orders.transition(order.id, orders.DELIVERED, source=source,
                             detail=f"Delivered by hand: {proof}", delivery_proof=proof,
                             delivered_at=utcnow(), next_check_at=None):
        raise DeliveryError(f"Order {ref} changed while you were delivering it; look at it again.")
    db.session.refresh(order)
    return order
