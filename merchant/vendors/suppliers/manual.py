"""Manual delivery: the operator tops the account up by hand (common for TikTok coins).

Placing an order only puts it in the "to deliver" queue; the operator records the proof and
marks it delivered (merchant/orders/operator_actions.py: the admin order page,
`flask --app merchant deliver`).
The worker does not poll it: nothing changes until the operator acts.
"""
from __future__ import annotations

from merchant.vendors.suppliers.base import PENDING, Delivery, Supplier, SupplierResult


class ManualSupplier(Supplier):
    name = "manual"
    polls = False
    needs_sku = False

    def place(self, delivery: Delivery) -> SupplierResult:
        """Queue the order for the operator; always PENDING."""
        return SupplierResult(delivery.ref_id, PENDING,
                              message="waiting for the operator to deliver it by hand")
