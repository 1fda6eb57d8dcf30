"""The Digiflazz adapter against the fake Digiflazz server (tests/fakes/digiflazz.py)."""
from __future__ import annotations

import hashlib

import pytest
import requests

from merchant.vendors.suppliers import supplier_class
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    ForgedCallback,
    PriceItem,
    SupplierError,
)
from merchant.vendors.suppliers.digiflazz import DigiflazzSupplier, customer_no
from tests.fakes.digiflazz import FakeDigiflazz

ML = {"user_id": "123456789", "zone_id": "1234"}


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0)
    vendor_server.check_handler_errors()


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture
def supplier(fake, session):
    return DigiflazzSupplier(fake.settings(HTTP_TIMEOUT=0.4), session)


def delivery(ref_id="M7K3Q9D2F", account=None, sku="ML86", max_price=None):
    return Delivery(ref_id=ref_id, sku=sku, account=account or ML, max_price=max_price)


def test_registered_under_its_name():
    assert supplier_class("digiflazz") is DigiflazzSupplier
    assert DigiflazzSupplier.name == "digiflazz"
    assert set(DigiflazzSupplier.required_settings) == {"DIGIFLAZZ_USERNAME", "DIGIFLAZZ_API_KEY"}


def test_customer_no_joins_account_fields_in_order():
    assert customer_no(ML) == "1234567891234"
    assert customer_no({"username": " @someone "}) == "@someone"
    assert customer_no({"phone": "087800001230"}) == "087800001230"


def test_transaction_body_signs_md5_of_username_key_ref(fake, supplier):
    body = supplier.transaction_body(delivery())
    expected = hashlib.md5(f"{fake.username}{fake.api_key}M7K3Q9D2F".encode()).hexdigest()
    assert body == {"username": fake.username, "buyer_sku_code": "ML86",
                    "customer_no": "1234567891234", "ref_id": "M7K3Q9D2F", "sign": expected}


def test_delivered_at_once(fake, supplier):
    result = supplier.place(delivery())
    assert result.status == DELIVERED
    assert result.proof == fake.transactions["M7K3Q9D2F"]["sn"] != ""
    assert result.price == 20000 and result.code == "00"
    assert fake.purchases["M7K3Q9D2F"] == 1
    assert fake.deposit == 1_000_000 - 20000


def test_pending_then_check_delivers_without_buying_again(fake, supplier):
    fake.script("1234567891234", "pending", after_checks=2)
    assert supplier.place(delivery()).status == PENDING
    assert supplier.check(delivery()).status == PENDING
    result = supplier.check(delivery())
    assert result.status == DELIVERED and result.proof
    assert fake.purchases["M7K3Q9D2F"] == 1 and fake.calls["M7K3Q9D2F"] == 3


def test_pending_completed_by_the_seller(fake, supplier):
    fake.script("1234567891234", "pending")
    assert supplier.place(delivery()).status == PENDING
    fake.complete("M7K3Q9D2F", sn="VOUCHER-42")
    result = supplier.check(delivery())
    assert (result.status, result.proof) == (DELIVERED, "VOUCHER-42")


def test_timeout_then_retry_with_same_ref_buys_once(fake, supplier):
    fake.script("1234567891234", "timeout")
    first = supplier.place(delivery())
    assert first.status == RETRY and "re-sent" in first.message
    retry = supplier.place(delivery())
    assert retry.status == DELIVERED and retry.proof
    assert fake.calls["M7K3Q9D2F"] == 2
    assert fake.purchases["M7K3Q9D2F"] == 1
    assert fake.deposit == 1_000_000 - 20000


def test_wrong_destination_is_failed(fake, supplier):
    fake.script("1234567891234", "fail", rc="54")
    result = supplier.place(delivery())
    assert (result.status, result.code) == (FAILED, "54")
    assert "Nomor Tujuan Salah" in result.message
    assert result.price is None and fake.deposit == 1_000_000    # refunded by Digiflazz


def test_insufficient_balance_is_retry_and_goes_through_after_top_up(fake, supplier):
    fake.deposit = 10_000
    result = supplier.place(delivery())
    assert (result.status, result.code) == (RETRY, "44")
    assert fake.purchases["M7K3Q9D2F"] == 0
    fake.deposit = 50_000
    assert supplier.place(delivery()).status == DELIVERED
    assert fake.purchases["M7K3Q9D2F"] == 1


def test_bad_api_key_is_refused(fake, session):
    supplier = DigiflazzSupplier(fake.settings(DIGIFLAZZ_API_KEY="wrong"), session)
    result = supplier.place(delivery())
    assert (result.status, result.code) == (REFUSED, "41")
    assert "DIGIFLAZZ_API_KEY" in result.message
    assert fake.purchases["M7K3Q9D2F"] == 0


def test_bad_username_and_blocked_ip_are_refused(fake, session, supplier):
    wrong_user = DigiflazzSupplier(fake.settings(DIGIFLAZZ_USERNAME="nobody"), session)
    assert wrong_user.place(delivery()).status == REFUSED
    fake.ip_blocked = True
    result = supplier.place(delivery())
    assert (result.status, result.code) == (REFUSED, "45")


def test_same_ref_with_other_customer_is_refused(fake, supplier):
    assert supplier.place(delivery()).status == DELIVERED
    result = supplier.place(delivery(account={"user_id": "999", "zone_id": "1"}))
    assert (result.status, result.code) == (REFUSED, "49")
    assert fake.purchases["M7K3Q9D2F"] == 1


def test_unknown_sku_is_failed(supplier):
    result = supplier.place(delivery(sku="NOPE"))
    assert (result.status, result.code) == (FAILED, "43")


def test_max_price_guard(fake, supplier):
    assert "max_price" not in supplier.transaction_body(delivery())
    result = supplier.place(delivery(max_price=19_999))
    assert (result.status, result.code) == (FAILED, "69")
    assert fake.purchases["M7K3Q9D2F"] == 0 and fake.deposit == 1_000_000
    assert supplier.place(delivery(ref_id="M7K3Q9D2G", max_price=20_000)).status == DELIVERED


def test_server_down_and_garbage_are_retry(fake, supplier):
    fake.down = True
    assert supplier.place(delivery()).status == RETRY
    fake.down = False
    fake.garbage = True
    result = supplier.place(delivery())
    assert result.status == RETRY and "Maintenance" in result.message
    assert fake.purchases["M7K3Q9D2F"] == 0


def test_unreachable_is_retry_not_exception(session):
    settings = {"DIGIFLAZZ_USERNAME": "u", "DIGIFLAZZ_API_KEY": "k", "HTTP_TIMEOUT": 0.5,
                "DIGIFLAZZ_API_URL": "http://127.0.0.1:9/v1"}
    assert DigiflazzSupplier(settings, session).place(delivery()).status == RETRY


def test_testing_mode_uses_documented_test_numbers(fake, session):
    supplier = DigiflazzSupplier(fake.settings(DIGIFLAZZ_TESTING=True), session)
    assert supplier.transaction_body(delivery())["testing"] is True
    ok = supplier.place(delivery("T1", {"phone": "087800001230"}, sku="S5"))
    bad = supplier.place(delivery("T2", {"phone": "087800001232"}, sku="S5"))
    assert (ok.status, bad.status) == (DELIVERED, FAILED)
    assert supplier.place(delivery("T3", {"phone": "087800001233"}, sku="S5")).status == PENDING
    assert supplier.check(delivery("T3", {"phone": "087800001233"}, sku="S5")).status == DELIVERED
    assert supplier.place(delivery("T4", {"phone": "087800001234"}, sku="S5")).status == PENDING
    assert supplier.check(delivery("T4", {"phone": "087800001234"}, sku="S5")).status == FAILED
    assert fake.deposit == 1_000_000        # testing transactions cost nothing


def test_callback_good_signature(fake, supplier):
    fake.script("1234567891234", "pending")
    supplier.place(delivery())
    fake.complete("M7K3Q9D2F", sn="SN-777")
    body, headers = fake.callback("M7K3Q9D2F")
    result = supplier.parse_callback(body, headers)
    assert (result.ref_id, result.status, result.proof) == ("M7K3Q9D2F", DELIVERED, "SN-777")
    assert result.event_id == headers["X-Digiflazz-Delivery"]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert supplier.parse_callback(body, lowered).status == DELIVERED


def test_callback_forged_or_unsigned(fake, supplier):
    supplier.place(delivery())
    body, headers = fake.callback("M7K3Q9D2F")
    tampered = body.replace(b"Sukses", b"Gagal")
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(tampered, headers)
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {**headers, "X-Hub-Signature": "sha1=" + "0" * 40})
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature"}
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, unsigned)


def test_callback_without_secret_configured_is_refused(fake, session):
    supplier = DigiflazzSupplier(fake.settings(DIGIFLAZZ_WEBHOOK_SECRET=""), session)
    supplier.place(delivery())
    body, headers = fake.callback("M7K3Q9D2F")
    with pytest.raises(ForgedCallback, match="DIGIFLAZZ_WEBHOOK_SECRET"):
        supplier.parse_callback(body, headers)


def test_callback_failure_maps_like_place(fake, supplier):
    fake.script("1234567891234", "pending")
    supplier.place(delivery())
    fake.fail("M7K3Q9D2F", rc="54")
    body, headers = fake.callback("M7K3Q9D2F")
    result = supplier.parse_callback(body, headers)
    assert (result.status, result.code) == (FAILED, "54")


def test_balance(fake, supplier, session):
    fake.deposit = 123_456
    assert supplier.balance() == 123_456
    with pytest.raises(SupplierError, match="rc 41"):
        DigiflazzSupplier(fake.settings(DIGIFLAZZ_API_KEY="wrong"), session).balance()
    fake.down = True
    with pytest.raises(SupplierError):
        supplier.balance()


def test_price_list_parse_and_changes(fake, supplier):
    items = {item.sku: item for item in supplier.price_list()}
    assert items["ML86"] == PriceItem(
        sku="ML86", product_name="Mobile Legends 86 Diamonds", category="Games",
        brand="MOBILE LEGENDS", type="Umum", seller_name="PT Seller Satu", price=20000,
        buyer_product_status=True, seller_product_status=True, unlimited_stock=True, stock=0,
        desc="Masukkan User ID dan Zone ID", start_cut_off="00:00", end_cut_off="00:00")
    assert items["S5"].stock == 1200 and not items["S5"].unlimited_stock
    fake.add_product("FF70", 9_500, brand="FREE FIRE")
    fake.change_product("ML86", price="21000", seller_product_status=False)
    fake.drop_product("S5")
    items = {item.sku: item for item in supplier.price_list()}
    assert set(items) == {"ML86", "FF70"}
    assert items["ML86"].price == 21000 and not items["ML86"].seller_product_status
    assert items["FF70"].brand == "FREE FIRE"


def test_price_list_rate_limit_is_an_error(fake, supplier):
    fake.price_list_limited = True
    with pytest.raises(SupplierError, match="rc 83"):
        supplier.price_list()
