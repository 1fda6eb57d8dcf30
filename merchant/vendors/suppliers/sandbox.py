"""The sandbox supplier: fixed rules the demo and the tests rely on (see DESIGN.md).

An account ending in `999` (or a username ending in `fail`) fails; one ending in `777` (or
`slow`) is pending and delivered about SANDBOX_SUPPLIER_SLOW_SECONDS later, when re-checked;
every other one is delivered at once with a serial number. Like a real supplier it keeps its
transactions by ref_id, so re-sending a ref_id returns the existing transaction.
"""
from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Mapping

from merchant.core import clock
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    Delivery,
    Supplier,
    SupplierResult,
)


class Ledger:
    """The sandbox supplier's own books, shared by every instance in this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.placed_at: dict[str, float] = {}
        self.purchases: Counter[str] = Counter()   # new transactions per ref_id

    def open(self, ref_id: str) -> float:
        with self.lock:
            if ref_id not in self.placed_at:
                self.placed_at[ref_id] = clock.monotonic()
                self.purchases[ref_id] += 1
            return self.placed_at[ref_id]


LEDGER = Ledger()


def _outcome(account: Mapping[str, str]) -> str:
    first = next(iter(account.values()), "").lower()
    if first.endswith(("999", "fail")):
        return FAILED
    if first.endswith(("777", "slow")):
        return PENDING
    return DELIVERED


class SandboxSupplier(Supplier):
    name = "sandbox"

    def place(self, delivery: Delivery) -> SupplierResult:
        placed_at = LEDGER.open(delivery.ref_id)
        outcome = _outcome(delivery.account)
        slow_seconds = float(self.settings.get("SANDBOX_SUPPLIER_SLOW_SECONDS", 5))
        if outcome == PENDING and clock.monotonic() - placed_at >= slow_seconds:
            outcome = DELIVERED
        supplier_ref = "SBX-" + delivery.ref_id
        if outcome == FAILED:
            return SupplierResult(delivery.ref_id, FAILED, supplier_ref=supplier_ref,
                                  message="Sandbox supplier: destination account rejected")
        if outcome == PENDING:
            return SupplierResult(delivery.ref_id, PENDING, supplier_ref=supplier_ref,
                                  message="Sandbox supplier: processing")
        serial = hashlib.sha1(delivery.ref_id.encode()).hexdigest()[:16].upper()
        return SupplierResult(delivery.ref_id, DELIVERED, proof=f"SN {serial}",
                              supplier_ref=supplier_ref, message="Sandbox supplier: success")
