"""What suppliers tell us in callbacks: verified, deduplicated, matched, settled.

The adapter verifies the signature over the raw body and reads the delivery; we dedupe on the
delivery key (WebhookEvent provider "supplier:<name>"), find the order by the ref_id we sent,
and apply it with fulfillment.settle, whose conditional updates never move an order backwards.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order, WebhookEvent
from merchant.core.transactions import write_unit
from merchant.orders import fulfillment
from merchant.orders.payment_events import CallbackRejected
from merchant.vendors import registry
from merchant.vendors.callback_schemas import Malformed
from merchant.vendors.suppliers.base import ForgedCallback, SupplierError

log = logging.getLogger(__name__)


def receive_callback(name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Handle one supplier callback; returns a short outcome. :raise CallbackRejected: forged."""
    try:
        result = registry.supplier(name).parse_callback(body, headers)
    except registry.VendorNotReady as exc:
        log.error("%s supplier callback rejected: it cannot be verified: %s", name, exc)
        raise CallbackRejected(401, "invalid signature") from exc
    except ForgedCallback as exc:
        log.warning("forged %s supplier callback rejected: %s", name, exc)
        raise CallbackRejected(401, "invalid signature") from exc
    except Malformed as exc:
        log.warning("malformed %s supplier callback rejected: %s", name, exc)
        raise CallbackRejected(400, f"malformed callback: {exc}") from exc
    except SupplierError as exc:
        # Signed, so it is really the supplier: a ping or an event we do not act on.
        log.info("%s supplier callback ignored: %s", name, exc)
        return "ignored"
    provider = f"supplier:{name}"
    event_id = (result.event_id or hashlib.sha256(body).hexdigest())[:200]
    if db.session.scalar(sa.select(WebhookEvent.id).where(WebhookEvent.provider == provider,
                                                          WebhookEvent.event_id == event_id)):
        log.info("%s callback %s is a duplicate; ignored", provider, event_id)
        return "duplicate"
    # Suppliers without a client reference (VIP Reseller) name the order by their own id.
    key = (Order.supplier_ref_id == result.ref_id if result.ref_id
           else Order.supplier_ref == result.supplier_ref)
    order = db.session.scalar(sa.select(Order).where(key, Order.supplier == name))
    if order is None:
        outcome = "no such order"
        log.warning("%s callback for unknown or no longer current ref_id %s", name,
                    result.ref_id or result.supplier_ref)
    elif order.status != orders.FULFILLING:
        outcome = f"ignored: order is {order.status}"
    else:
        fulfillment.settle(order, result, source="webhook")
        outcome = f"applied: {result.status}"
    try:
        with write_unit():
            db.session.add(WebhookEvent(provider=provider, event_id=event_id,
                                        body_sha256=hashlib.sha256(body).hexdigest(),
                                        outcome=outcome[:200],
                                        order_id=order.id if order is not None else None))
    except IntegrityError:
        # The same delivery arrived twice at once: settle's conditional updates made the
        # second one a no-op.
        outcome = "duplicate"
    return outcome
