"""The outbox listener for order-tied alerts: a delivery that failed for good (registered when
the app factory imports this module, see core/outbox.LISTENER_MODULES).

It only opens the episode (its key is the outbox event, so a rerun of the listener is a no-op);
the alerts' own queue sends the messages."""
from __future__ import annotations

import sqlalchemy as sa

from merchant.alerts import episodes, kinds
from merchant.core import outbox
from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent

FULFILLMENT_FAILED = "fulfillment_failed"      # merchant.orders.FULFILLMENT_FAILED (above us)


@outbox.listener("owner_alert", kinds={FULFILLMENT_FAILED})
def delivery_failed(event: outbox.Event) -> None:
    order = db.session.get(Order, event.order_id)
    if order is None:
        return
    reason = db.session.scalar(
        sa.select(OrderEvent.detail).where(OrderEvent.order_id == order.id,
                                           OrderEvent.to_status == FULFILLMENT_FAILED)
        .order_by(OrderEvent.id.desc()).limit(1)) or ""
    episodes.raise_alert(kinds.DELIVERY_FAILED, f"{order.ref}:{event.id}", ref=order.ref,
                         product=order.product_name, package=order.package_name,
                         supplier=order.supplier, reason=reason[:300])
