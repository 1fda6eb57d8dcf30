"""Failed orders whose money goes back to the customer's saldo.

An order paid with saldo goes back to it at once when its delivery fails; so does a signed-in
customer's order paid through a gateway when the owner chose that in the settings. The move to
refunded and the ledger's credit are written in one transaction, keyed by the order: a refund
racing a hand delivery or a retry (both conditional moves out of fulfillment_failed) leaves
exactly one of them done.
"""
from __future__ import annotations

import logging

from merchant import orders
from merchant.core import money, shop_settings
from merchant.core.models import Order, utcnow
from merchant.customers import saldo
from merchant.orders.texts import said

log = logging.getLogger(__name__)


def automatic(order: Order) -> bool:
    """Whether a failed delivery of this order goes back to saldo without the operator."""
    if order.customer_id is None:
        return False
    return saldo.is_saldo(order) or shop_settings.current().refund_to_saldo


def possible(order: Order) -> bool:
    """Whether the order's money can go back to a saldo at all (it has a customer)."""
    return order.customer_id is not None


def refund(order: Order, source: str, actor: str = "", where=()) -> bool:
    """Inside the caller's transaction: fulfillment_failed -> refunded, the total back to the
    customer's saldo. False (nothing written) when the order was no longer failed."""
    moved = orders.move(order.id, orders.REFUNDED, source,
                        said("refunded_to_saldo", amount=_money(order)),
                        allowed={orders.FULFILLMENT_FAILED}, where=where,
                        refund_ref=saldo.REFUND_REF, refunded_at=utcnow(), refund_note=None)
    if moved is None:
        return False
    saldo.refund(order, actor=actor)
    log.info("order %s: %s %s back to the saldo of customer %s", order.ref, order.total,
             order.currency, order.customer_id)
    return True


def _money(order: Order) -> str:
    return money.Money(order.total, order.currency).format()
