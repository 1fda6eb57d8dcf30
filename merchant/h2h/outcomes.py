"""What an API order's state is, as the API tells it: pending, success or failed.

A live order reads its shop order: delivered is success; a refund (the saldo is back) or a
payment that never came is failed; everything before, and a delivery waiting for the owner
(Needs attention), is pending. A sandbox order keeps its own status.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from merchant import orders
from merchant.core.models import ApiOrder

PENDING, SUCCESS, FAILED = "pending", "success", "failed"
FINAL = frozenset({SUCCESS, FAILED})
LIVE = {orders.DELIVERED: SUCCESS, orders.REFUNDED: FAILED, orders.EXPIRED: FAILED,
        orders.PAYMENT_FAILED: FAILED}
MESSAGES = {PENDING: "Processing", SUCCESS: "Delivered", FAILED: "Failed; the price was returned "
                                                                 "to the saldo"}


@dataclass(frozen=True)
class Outcome:
    ref_id: str
    order_id: str               # the shop's reference for it (M..., or SBX-... in the sandbox)
    status: str
    sn: str                     # the serial number or voucher, once delivered
    message: str
    sku: str
    customer_no: str
    price: int
    currency: str
    sandbox: bool
    created_at: dt.datetime     # UTC, with its zone


def outcome_of(api_order: ApiOrder) -> Outcome:
    if api_order.sandbox:
        status, sn, order_id = api_order.status, api_order.sn, f"SBX-{api_order.id}"
    else:
        order = api_order.order
        status = LIVE.get(order.status, PENDING)
        sn = (order.delivery_proof or "") if status == SUCCESS else ""
        order_id = order.ref
    return Outcome(ref_id=api_order.ref_id, order_id=order_id, status=status, sn=sn,
                   message=MESSAGES[status], sku=api_order.sku, customer_no=api_order.customer_no,
                   price=api_order.price, currency=api_order.currency, sandbox=api_order.sandbox,
                   created_at=api_order.created_at.replace(tzinfo=dt.UTC))
