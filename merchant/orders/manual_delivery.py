"""The operator's "to deliver" queue for orders of the manual supplier.

The operator records each delivery with operator.deliver_by_hand (the order page in /admin, or
`flask --app merchant deliver`).
"""
from __future__ import annotations

import sqlalchemy as sa

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order

MANUAL = "manual"


def queue() -> list[Order]:
    """Orders waiting for the operator to deliver them, oldest payment first."""
    return list(db.session.scalars(
        sa.select(Order).where(Order.status == orders.FULFILLING, Order.supplier == MANUAL)
        .order_by(Order.paid_at, Order.id)
    ))
