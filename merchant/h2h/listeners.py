"""The outbox listener telling resellers of their live API orders' changes (registered when
the app factory imports this module, see core/outbox.LISTENER_MODULES). It only queues the
callback (merchant/h2h/callbacks.py): sending is the notification lane's own pass."""
from __future__ import annotations

import sqlalchemy as sa

from merchant import orders
from merchant.core import outbox
from merchant.core.extensions import db
from merchant.core.models import ApiOrder
from merchant.h2h import callbacks


# An API order is paid from saldo when it is placed: it never expires or fails its payment, so
# a delivery and a refund are the changes there are to tell.
@outbox.listener("reseller_callback", kinds={orders.DELIVERED, orders.REFUNDED})
def reseller_callback(event: outbox.Event) -> None:
    api_order = db.session.scalar(sa.select(ApiOrder).where(ApiOrder.order_id == event.order_id))
    if api_order is not None:
        callbacks.tell(api_order)

