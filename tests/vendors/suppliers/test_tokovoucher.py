"""The Tokovoucher supplier adapter against the fake Tokovoucher (tests/fakes/tokovoucher.py)."""
from __future__ import annotations

import pytest
import requests

from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    ForgedCallback,
)
from merchant.vendors.suppliers.tokovoucher import TokovoucherSupplier
from tests.fakes.tokovoucher import FakeTokovoucher

ML = {"user_id": "12345678", "zone_id": "2001"}


@pytest.fixture
def fake(vendor_server):
    fake = FakeTokovoucher(vendor_server)
    fake.slow_seconds = 1.0
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


@pytest.fixture
def supplier(fake):
    with requests.Session() as session:
        yield TokovoucherSupplier(fake.settings(HTTP_TIMEOUT=0.4), session)


def delivery(ref_id="M7K3Q9D2F", account=None, sku="ML86", max_price=None, trx_id=None):
    return Delivery(ref_id=ref_id, sku=sku, account=account or ML, max_price=max_price,
                    supplier_ref=trx_id)


def test_order_delivers_with_the_serial_and_placing_again_buys_nothing(supplier, fake):
    result = supplier.place(delivery())
    txn = fake.transactions["M7K3Q9D2F"]
    assert (result.status, result.proof, result.price) == (DELIVERED, txn["sn"], 19_500)
    assert (result.supplier_ref, txn["tujuan"]) == (txn["trx_id"], "12345678|2001")
    assert supplier.place(delivery()).status == DELIVERED
    assert fake.order_calls["M7K3Q9D2F"] == 1 and fake.purchases["M7K3Q9D2F"] == 1
    assert fake.saldo == 1_000_000 - 19_500


def test_pending_then_the_status_call_settles(supplier, fake):
    fake.script("12345678", "pending", settle_on_check=True, then="gagal")
    assert supplier.place(delivery()).status == PENDING
    failed = supplier.check(delivery())
    assert (failed.status, failed.code, failed.price) == (FAILED, "gagal", None)
    assert fake.saldo == 1_000_000 and fake.order_calls["M7K3Q9D2F"] == 1


@pytest.mark.parametrize("kind", ["timeout", "down"])
def test_timeout_or_http_error_after_ordering_is_retry_then_found(supplier, fake, kind):
    fake.script("12345678", kind)
    lost = supplier.place(delivery())
    assert (lost.status, lost.code) == (RETRY, "unknown")
    assert supplier.check(delivery()).status == DELIVERED
    assert fake.purchases["M7K3Q9D2F"] == 1 and fake.order_calls["M7K3Q9D2F"] == 1


def test_price_above_max_price_is_refused_before_ordering(supplier, fake):
    over = supplier.place(delivery(max_price=19_000))
    assert (over.status, over.code) == (FAILED, "price") and not fake.order_calls
    assert supplier.place(delivery(max_price=19_500)).status == DELIVERED


@pytest.mark.parametrize("change, sku, outcome, code", [
    (None, "NOPE", FAILED, "product"),
    (None, "FF5", FAILED, "product"),                           # status 0: inactive
    (lambda f: setattr(f, "saldo", 10), "ML86", FAILED, "balance"),
    (lambda f: setattr(f, "secret", "rotated"), "ML86", REFUSED, "signature"),
    (lambda f: setattr(f, "ip_blocked", True), "ML86", REFUSED, "ip"),
])
def test_refusals_buy_nothing(supplier, fake, change, sku, outcome, code):
    if change:
        change(fake)
    result = supplier.place(delivery(sku=sku))
    assert (result.status, result.code) == (outcome, code)
    assert not fake.purchases and str(supplier.ADVICE[code])


def test_a_known_trx_id_that_vanished_is_not_reordered(supplier, fake):
    result = supplier.check(delivery(trx_id="TRX0000000009"))
    assert result.status == RETRY and not fake.order_calls


def test_signed_webhook_is_read_back_and_forgeries_are_refused(supplier, fake):
    fake.script("12345678", "pending")
    supplier.place(delivery())
    body, headers = fake.webhook("M7K3Q9D2F")
    forged = body.replace(b'"status": "pending"', b'"status": "sukses"')
    assert supplier.parse_callback(forged, headers).status == PENDING
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {"X-TokoVoucher-Authorization": "0" * 32})
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {})
    fake.complete("M7K3Q9D2F", sn="VC-1234")
    result = supplier.parse_callback(*fake.webhook("M7K3Q9D2F"))
    trx = fake.transactions["M7K3Q9D2F"]["trx_id"]
    assert (result.status, result.proof, result.event_id) == (DELIVERED, "VC-1234",
                                                              f"{trx}:sukses")


def test_balance_and_price_list(supplier, fake):
    fake.saldo = 77_000
    assert supplier.balance() == 77_000
    items = {item.sku: item for item in supplier.price_list()}
    ml, ff = items["ML86"], items["FF5"]
    assert (ml.price, ml.category, ml.brand, ml.type) == (
        19_500, "Topup Game", "Mobile Legends", "Mobile Legends Fast")
    assert (ml.seller_product_status, ml.unlimited_stock, ml.start_cut_off) == (True, True, "")
    assert ff.seller_product_status is False
