"""The one interface every supplier adapter implements.

A supplier delivers the top-up. It is always called with our order reference (or a
reference derived from it, for a failover attempt) as its idempotency key, so re-sending a
placement after a crash or a timeout can never buy twice. Adapters never touch the database.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from merchant.vendors.http import VendorAdapter

DELIVERED = "delivered"
PENDING = "pending"
FAILED = "failed"            # final: this supplier will not deliver this order
RETRY = "retry"              # transient: send the same ref_id again later
REFUSED = "refused"          # our side is misconfigured (bad signature, IP not allowed)


class SupplierError(Exception):
    """The supplier could not be reached or answered nonsense. Message for the operator."""


class ForgedCallback(SupplierError):
    """A supplier callback whose signature does not verify."""


@dataclass(frozen=True)
class Delivery:
    """One order as the supplier sees it."""
    ref_id: str                    # idempotency key: order reference (or derived for failover)
    sku: str                       # the supplier's product code
    account: Mapping[str, str]     # the product's account fields: {"user_id": .., "zone_id": ..}
    max_price: int | None = None   # never pay more (minor units), where the supplier supports it
    # The supplier's own id for this ref_id, once an answer gave one (VIP Reseller's trxid):
    # how suppliers without a client reference find the order again instead of buying twice.
    supplier_ref: str | None = None


@dataclass(frozen=True)
class SupplierResult:
    ref_id: str
    status: str                    # DELIVERED, PENDING, FAILED, RETRY or REFUSED
    proof: str = ""                # serial number / voucher / supplier message for the customer
    message: str = ""              # what the supplier said, for the order history
    supplier_ref: str | None = None
    price: int | None = None       # what the supplier charged us, minor units
    code: str | None = None        # the supplier's own result code (e.g. Digiflazz rc)
    event_id: str | None = None    # callbacks: the delivery's dedupe key
    raw: Mapping = field(default_factory=dict)
    balance: int | None = None     # the deposit left after this answer, where it says so


@dataclass(frozen=True)
class PriceItem:
    """One product on a supplier's price list, in Digiflazz's terms (every adapter maps its own
    list onto these). `price` is minor units; cut-off times are "HH:MM" in the supplier's time
    zone ("" when it has none)."""
    sku: str
    product_name: str
    category: str
    brand: str
    type: str
    seller_name: str
    price: int
    buyer_product_status: bool
    seller_product_status: bool
    unlimited_stock: bool
    stock: int
    desc: str
    start_cut_off: str = ""
    end_cut_off: str = ""


class Supplier(VendorAdapter):
    name: str = ""
    # False for suppliers whose PENDING only changes by someone's hand (manual delivery): the
    # worker then leaves the order waiting instead of re-checking it every few seconds.
    polls: bool = True
    # True for suppliers that buy by our package's product code (every API supplier, and the
    # sandbox standing in for one): a package without its SKU fails there on every order.
    needs_sku: bool = True
    # What the operator should do when a delivery ends with one of the supplier's own result
    # codes (SupplierResult.code), in the panel's language; other codes get general advice.
    ADVICE: Mapping[str, str] = {}
    # The zone of the price list's cut-off times (Indonesian suppliers: WIB).
    timezone: str = "Asia/Jakarta"
    # Days after which re-sending a ref_id (the status check of suppliers that re-place) is
    # no longer safe: None where it always is.
    safe_window_days: int | None = None
    # Seconds between two price-list fetches the supplier allows.
    price_list_every: int = 300

    def place(self, delivery: Delivery) -> SupplierResult:
        """Place the order, or, with the same ref_id, learn what became of it."""
        raise NotImplementedError

    def check(self, delivery: Delivery) -> SupplierResult:
        """Re-check a pending order. Suppliers whose placement is idempotent re-place."""
        return self.place(delivery)

    def balance(self) -> int | None:
        """Deposit left with the supplier, minor units; None if it cannot be known."""
        return None

    def price_list(self) -> list[PriceItem]:
        """Every product the supplier sells, with its price and availability.
        :raise SupplierError: on any failure; NotImplementedError if it publishes no list."""
        raise NotImplementedError

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> SupplierResult:
        raise ForgedCallback(f"{self.name} sends no callbacks")
