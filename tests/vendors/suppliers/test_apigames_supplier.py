"""The Apigames supplier adapter against the fake Apigames (tests/fakes/apigames.py)."""
from __future__ import annotations

import pytest
import requests

from merchant.vendors.suppliers.apigames import ApigamesSupplier
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    ForgedCallback,
    SupplierError,
)
from tests.fakes.apigames import FakeApigames

ML = {"user_id": "12345678", "zone_id": "1234"}


@pytest.fixture
def fake(vendor_server):
    fake = FakeApigames(vendor_server)
    fake.slow_seconds = 1.0
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


@pytest.fixture
def supplier(fake):
    with requests.Session() as session:
        yield ApigamesSupplier({**fake.settings, "HTTP_TIMEOUT": 0.4}, session)


def delivery(ref_id="M7K3Q9D2F", account=None, sku="ML86", trx_id=None):
    return Delivery(ref_id=ref_id, sku=sku, account=account or ML, supplier_ref=trx_id)


def test_order_answers_pending_and_the_status_call_delivers(supplier, fake):
    placed = supplier.place(delivery())
    assert (placed.status, placed.price) == (PENDING, 19_000)
    txn = fake.transactions["M7K3Q9D2F"]
    assert (txn["destination"], placed.supplier_ref) == ("123456781234", txn["trx_id"])
    done = supplier.check(delivery(trx_id=placed.supplier_ref))
    assert (done.status, done.proof) == (DELIVERED, "SN/M7K3Q9D2F")
    assert fake.purchases["M7K3Q9D2F"] == 1 and fake.order_calls["M7K3Q9D2F"] == 1
    assert fake.saldo == 1_000_000 - 19_000


def test_placing_again_looks_up_the_ref_id_and_never_orders_twice(supplier, fake):
    supplier.place(delivery())
    again = supplier.place(delivery())                 # a crash, or an operator's retry
    assert again.status == DELIVERED
    assert fake.order_calls["M7K3Q9D2F"] == 1 and fake.purchases["M7K3Q9D2F"] == 1


@pytest.mark.parametrize("kind", ["timeout", "down"])
def test_timeout_or_http_error_after_ordering_is_retry_and_the_check_finds_it(
        supplier, fake, kind):
    fake.script("12345678", kind)
    lost = supplier.place(delivery())
    assert (lost.status, lost.code) == (RETRY, "unknown")
    assert supplier.check(delivery()).status == DELIVERED
    assert fake.order_calls["M7K3Q9D2F"] == 1


def test_status_unreachable_orders_nothing(supplier, fake):
    supplier.settings = {**supplier.settings, "APIGAMES_API_URL": "http://127.0.0.1:9"}
    result = supplier.place(delivery())
    assert result.status == RETRY and not fake.order_calls


@pytest.mark.parametrize("change, sku, outcome, code", [
    (None, "NOPE", FAILED, "product"),
    (lambda f: setattr(f, "saldo", 10), "ML86", FAILED, "balance"),
    (lambda f: setattr(f, "secret_key", "rotated"), "ML86", REFUSED, "signature"),
])
def test_refusals_buy_nothing(supplier, fake, change, sku, outcome, code):
    if change:
        change(fake)
    result = supplier.place(delivery(sku=sku))
    assert (result.status, result.code) == (outcome, code)
    assert not fake.purchases and str(supplier.ADVICE[code])


def test_failed_and_partial(supplier, fake):
    fake.script("111", "fail", sn="error_require_login")
    fake.script("222", "partial")
    supplier.place(delivery("F1", {"user_id": "111"}))
    failed = supplier.check(delivery("F1", {"user_id": "111"}))
    assert (failed.status, failed.code, failed.price) == (FAILED, "gagal", None)
    assert "error_require_login" in failed.message
    supplier.place(delivery("P1", {"user_id": "222"}))
    assert (supplier.check(delivery("P1", {"user_id": "222"})).code) == "partial"


def test_signed_webhook_is_read_back_from_the_status_call(supplier, fake):
    fake.script("12345678", "pending")
    supplier.place(delivery())
    fake.complete("M7K3Q9D2F", sn="BSK.AFULP")
    body, headers = fake.webhook("M7K3Q9D2F")
    result = supplier.parse_callback(body, headers)
    trx = fake.transactions["M7K3Q9D2F"]["trx_id"]
    assert (result.status, result.proof, result.event_id) == (DELIVERED, "BSK.AFULP",
                                                              f"{trx}:Sukses")


def test_forged_webhooks_are_refused_and_a_forged_body_cannot_deliver(supplier, fake):
    fake.script("12345678", "pending")
    supplier.place(delivery())
    body, headers = fake.webhook("M7K3Q9D2F")
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {**headers, "X-Apigames-Authorization": "f" * 32})
    with pytest.raises(ForgedCallback):
        supplier.parse_callback(body, {})
    forged = body.replace(b'"status": "Pending"', b'"status": "Sukses"')
    assert supplier.parse_callback(forged, headers).status == PENDING
    unknown, signed = b'{"ref_id": "NOPE"}', {"X-Apigames-Authorization": fake.signature("NOPE")}
    with pytest.raises(SupplierError):
        supplier.parse_callback(unknown, signed)


def test_balance_and_no_published_price_list(supplier, fake):
    fake.saldo = 321_000
    assert supplier.balance() == 321_000
    with pytest.raises(NotImplementedError):
        supplier.price_list()
