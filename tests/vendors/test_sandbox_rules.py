"""The sandbox providers' fixed rules, which the demo and the documentation rely on."""
from __future__ import annotations

import pytest

from merchant.vendors.payments.base import ForgedCallback
from merchant.vendors.payments.sandbox import SandboxGateway
from merchant.vendors.suppliers import sandbox as sandbox_supplier
from merchant.vendors.suppliers.base import DELIVERED, FAILED, PENDING, Delivery
from merchant.vendors.verifiers.base import FOUND, NOT_FOUND
from merchant.vendors.verifiers.sandbox import SandboxVerifier


@pytest.mark.parametrize("account, status", [
    ({"username": "demo_user"}, FOUND),
    ({"username": "missing_person"}, NOT_FOUND),
    ({"username": "MissingToo"}, NOT_FOUND),
    ({"user_id": "00012345", "zone_id": "2345"}, NOT_FOUND),
    ({"user_id": "12345678", "zone_id": "2345"}, FOUND),
])
def test_sandbox_verifier(account, status):
    assert SandboxVerifier({}).lookup("game", account).status == status


def test_sandbox_nicknames_are_stable_and_differ_per_account():
    verifier = SandboxVerifier({})
    first = verifier.lookup("g", {"username": "demo_user"}).nickname
    assert first == verifier.lookup("g", {"username": "demo_user"}).nickname
    assert first != verifier.lookup("g", {"username": "demo_user2"}).nickname
    assert first.startswith("Player-") and len(first) == 11


@pytest.mark.parametrize("account, status", [
    ("123456999", FAILED), ("gamer_fail", FAILED), ("123456777", PENDING),
    ("gamer_slow", PENDING), ("demo_user", DELIVERED), ("123456789", DELIVERED),
])
def test_sandbox_supplier(account, status):
    result = sandbox_supplier.SandboxSupplier({"SANDBOX_SUPPLIER_SLOW_SECONDS": 5}).place(
        Delivery(ref_id=f"R{account}", sku="X", account={"id": account}))
    assert result.status == status
    assert bool(result.proof) == (status == DELIVERED)


def test_sandbox_supplier_slow_orders_succeed_later_on_a_status_check(clock):
    supplier = sandbox_supplier.SandboxSupplier({"SANDBOX_SUPPLIER_SLOW_SECONDS": 0.3})
    delivery = Delivery(ref_id="RSLOW", sku="X", account={"id": "123456777"})
    assert supplier.place(delivery).status == PENDING
    clock.advance(0.25)
    assert supplier.check(delivery).status == PENDING
    clock.advance(0.1)
    assert supplier.check(delivery).status == DELIVERED
    assert sandbox_supplier.LEDGER.purchases["RSLOW"] == 1   # a re-check is not a new purchase


def test_sandbox_callbacks_are_signed_and_verified():
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "s3cret"})
    body, headers = gateway.callback("M123", "sbx_1", "paid", 15_105, "IDR")
    update = gateway.parse_callback(body, headers)
    assert (update.order_ref, update.status, update.amount, update.currency) == (
        "M123", "paid", 15_105, "IDR")
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body.replace(b"15105", b"1"), headers)
    with pytest.raises(ForgedCallback):
        SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "other"}).parse_callback(body, headers)
