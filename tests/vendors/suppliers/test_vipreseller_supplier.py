"""The VIP Reseller supplier adapter against the fake VIP Reseller (tests/fakes/vipreseller.py)."""
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
from merchant.vendors.suppliers.vipreseller import VipResellerSupplier
from tests.fakes.vipreseller import FakeVipReseller

ML = {"user_id": "136216325", "zone_id": "2685"}


@pytest.fixture
def fake(vendor_server):
    fake = FakeVipReseller(vendor_server)
    fake.slow_seconds = 1.0
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


@pytest.fixture
def supplier(fake):
    with requests.Session() as session:
        yield VipResellerSupplier({**fake.settings, "HTTP_TIMEOUT": 0.4}, session)


def delivery(ref_id="M7K3Q9D2F", account=None, sku="MLB86-S1", trxid=None):
    return Delivery(ref_id=ref_id, sku=sku, account=account or ML, max_price=20_000,
                    supplier_ref=trxid)


def test_order_waits_then_the_status_by_trxid_delivers_with_the_note(supplier, fake):
    placed = supplier.place(delivery())
    trxid = fake.trxids("136216325")[0]
    assert (placed.status, placed.supplier_ref, placed.price) == (PENDING, trxid, 19_800)
    assert fake.orders[trxid]["zone"] == "2685" and fake.balance == 1_000_000 - 19_800
    done = supplier.check(delivery(trxid=trxid))
    assert (done.status, done.proof) == (DELIVERED, f"SN-{trxid}")
    assert fake.purchases[("MLB86-S1", "136216325", "2685")] == 1


def test_a_known_trxid_is_only_read_again_never_ordered_twice(supplier, fake):
    trxid = supplier.place(delivery()).supplier_ref
    again = supplier.place(delivery(trxid=trxid))      # a crash or an operator's retry
    assert again.status == DELIVERED
    assert fake.order_calls == 1 and len(fake.orders) == 1


def test_timeout_after_the_order_is_retry_and_the_check_finds_it_without_reordering(
        supplier, fake):
    fake.script("136216325", "timeout")
    lost = supplier.place(delivery())
    assert (lost.status, lost.code) == (RETRY, "unknown")
    found = supplier.check(delivery())                 # no trxid: looked up by account
    assert found.status == DELIVERED and found.supplier_ref == fake.trxids("136216325")[0]
    assert fake.order_calls == 1


def test_a_502_after_the_order_is_retry_not_failed(supplier, fake):
    fake.script("136216325", "down")
    assert supplier.place(delivery()).status == RETRY
    assert supplier.check(delivery()).status == DELIVERED and fake.order_calls == 1


def test_an_order_that_never_arrived_or_is_ambiguous_is_not_reordered(supplier, fake):
    nothing = supplier.check(delivery())
    assert (nothing.status, nothing.code) == (RETRY, "unknown") and fake.order_calls == 0
    supplier.place(delivery("A1"))
    supplier.place(delivery("A2"))
    assert supplier.check(delivery("A3")).status == RETRY
    assert fake.order_calls == 2


@pytest.mark.parametrize("change, outcome, code", [
    (lambda f: f.services.pop("MLB86-S1"), FAILED, "product"),
    (lambda f: f.services["MLB86-S1"].update(status="empty"), FAILED, "product"),
    (lambda f: setattr(f, "balance", 100), FAILED, "balance"),
    (lambda f: setattr(f, "api_key", "rotated-key"), REFUSED, "auth"),
])
def test_refused_orders_are_final_and_buy_nothing(supplier, fake, change, outcome, code):
    change(fake)
    result = supplier.place(delivery())
    assert (result.status, result.code) == (outcome, code)
    assert not fake.orders and str(supplier.ADVICE[code])


def test_failed_and_partial_orders(supplier, fake):
    fake.script("111", "fail", note="Zone tujuan salah.")
    fake.script("222", "partial")
    failed = supplier.place(delivery("F1", {"user_id": "111", "zone_id": "1"}))
    result = supplier.check(delivery("F1", {"user_id": "111", "zone_id": "1"},
                                     trxid=failed.supplier_ref))
    assert (result.status, result.proof) == (FAILED, "")
    assert "Zone tujuan salah." in result.message and fake.balance == 1_000_000
    partial = supplier.place(delivery("P1", {"user_id": "222", "zone_id": "1"}))
    result = supplier.check(delivery("P1", {"user_id": "222", "zone_id": "1"},
                                     trxid=partial.supplier_ref))
    assert (result.status, result.code) == (REFUSED, "partial")


@pytest.mark.parametrize("form", [False, True])
def test_signed_callback_is_read_back_from_vip(supplier, fake, form):
    fake.script("136216325", "pending")
    trxid = supplier.place(delivery()).supplier_ref
    fake.complete(trxid, note="SN 998877")
    body, headers = fake.callback(trxid, form=form)
    result = supplier.parse_callback(body, headers)
    assert (result.status, result.proof, result.ref_id) == (DELIVERED, "SN 998877", "")
    assert result.supplier_ref == trxid and result.event_id == f"{trxid}:success"


def test_forged_callbacks_are_refused_and_a_forged_body_cannot_deliver(supplier, fake):
    fake.script("136216325", "pending")
    trxid = supplier.place(delivery()).supplier_ref
    body, headers = fake.callback(trxid)
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {**headers, "X-Client-Signature": "0" * 32})
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {"Content-Type": "application/json"})
    # Signed (the signature is static), but claiming success: VIP's own status decides.
    forged = body.replace(b'"waiting"', b'"success"').replace(b'"note": ""', b'"note": "FAKE"')
    assert supplier.parse_callback(forged, headers).status == PENDING


def test_balance_and_price_list(supplier, fake):
    fake.balance = 250_000
    assert supplier.balance() == 250_000
    items = {item.sku: item for item in supplier.price_list()}
    ml, ff = items["MLB86-S1"], items["FF100-S1"]
    assert (ml.price, ml.brand, ml.product_name, ml.unlimited_stock) == (
        19_800, "Mobile Legends B", "86 Diamonds", True)
    assert (ff.unlimited_stock, ff.stock, ff.seller_product_status) == (False, 0, True)
    assert (ml.start_cut_off, ml.end_cut_off) == ("", "")
    premium = VipResellerSupplier({**fake.settings, "VIPRESELLER_PRICE_TIER": "premium"})
    assert {i.sku: i.price for i in premium.price_list()}["MLB86-S1"] == 19_500
