"""/api/v1 orders: a reseller's script orders with its ref_id, paid from saldo, and reads the
result; the same ref_id never buys twice."""
from __future__ import annotations

import sqlalchemy as sa
from resellers import call, make_reseller
from resellers import item as sku

from merchant.core.extensions import db
from merchant.core.models import ApiOrder, Deposit, Order
from merchant.customers import ledger
from merchant.vendors.payments.sandbox import SandboxGateway
from tests.conftest import work


def test_profile_tells_the_saldo_and_the_key(app, client):
    dewi = make_reseller(app, saldo=150_000)
    answer = call(client, dewi, "GET", "/api/v1/profile")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["saldo"] == {"balance": 150_000, "currency": "IDR"}
    assert body["key"]["key_id"] == dewi.key_id and body["key"]["sandbox"] is False
    assert body["account"]["email"] == "dewi@example.com"


def test_price_list_is_at_the_account_level(app, client):
    retail = make_reseller(app, email="guest@example.com")
    reseller = make_reseller(app, email="dewi@example.com", level="Reseller")
    assert sku(client, retail)["price"] == 22_000
    item = sku(client, reseller)
    assert item["price"] == 20_900          # 5 % off, rounded to 100
    assert item["available"] is True
    assert [f["name"] for f in item["account_fields"]] == ["user_id", "zone_id"]


def test_order_is_paid_from_saldo_and_delivered(app, client):
    dewi = make_reseller(app, saldo=100_000)
    item = sku(client, dewi)
    answer = call(client, dewi, "POST", "/api/v1/orders", json={
        "ref_id": "INV-1", "sku": item["code"],
        "account": {"user_id": "12345678", "zone_id": "1234"}})
    assert answer.status_code == 201, answer.get_json()
    placed = answer.get_json()
    assert placed["duplicate"] is False
    assert placed["order"]["status"] == "pending"
    assert placed["order"]["customer_no"] == "12345678(1234)"
    assert placed["balance_after"] == 100_000 - 22_000
    work(app)
    status = call(client, dewi, "GET", "/api/v1/orders/INV-1").get_json()["order"]
    assert status["status"] == "success" and status["sn"].startswith("SN ")
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == status["order_id"]))
        assert order.status == "delivered" and order.customer_id == dewi.customer_id
        assert order.email is None and order.whatsapp is None     # no receipt for the buyer
        assert ledger.ledger_sum() == 0


def test_same_ref_id_is_the_same_order_and_another_body_is_refused(app, client):
    dewi = make_reseller(app, saldo=100_000)
    body = {"ref_id": "INV-2", "sku": sku(client, dewi)["code"],
            "account": {"user_id": "12345678", "zone_id": "1234"}}
    first = call(client, dewi, "POST", "/api/v1/orders", json=body).get_json()
    again = call(client, dewi, "POST", "/api/v1/orders", json=body)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["order"]["order_id"] == first["order"]["order_id"]
    other = call(client, dewi, "POST", "/api/v1/orders",
                 json=body | {"account": {"user_id": "87654321", "zone_id": "1234"}})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "DUPLICATE_REF_MISMATCH"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiOrder)) == 1
        assert ledger.balance(dewi.customer_id, "IDR").amount == 78_000


def test_saldo_too_low_is_refused_and_writes_nothing(app, client):
    dewi = make_reseller(app, saldo=10_000)
    answer = call(client, dewi, "POST", "/api/v1/orders", json={
        "ref_id": "INV-3", "sku": sku(client, dewi)["code"],
        "account": {"user_id": "12345678", "zone_id": "1234"}})
    assert answer.status_code == 402
    assert answer.get_json()["error"]["code"] == "INSUFFICIENT_BALANCE"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert ledger.balance(dewi.customer_id, "IDR").amount == 10_000


def test_bad_bodies_get_specific_codes(app, client):
    dewi = make_reseller(app)
    code = sku(client, dewi)["code"]
    cases = [
        ({"ref_id": "INV 4", "sku": code, "account": {"user_id": "12345678",
                                                       "zone_id": "1234"}}, 422,
         "INVALID_REQUEST"),
        ({"ref_id": "INV-4", "sku": "nothing-9", "account": {}}, 404, "PRODUCT_NOT_FOUND"),
        ({"ref_id": "INV-4", "sku": code, "account": {"user_id": "12"}}, 422, "ACCOUNT_INVALID"),
        ({"ref_id": "INV-4", "sku": code, "account": {"user_id": "00012345",
                                                       "zone_id": "1234"}}, 422,
         "ACCOUNT_NOT_FOUND"),
    ]
    for body, status, error in cases:
        answer = call(client, dewi, "POST", "/api/v1/orders", json=body)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, error), body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiOrder)) == 0


def test_a_failed_delivery_is_failed_with_the_saldo_back(app, client):
    dewi = make_reseller(app, saldo=50_000)
    call(client, dewi, "POST", "/api/v1/orders", json={
        "ref_id": "INV-5", "sku": sku(client, dewi)["code"],
        "account": {"user_id": "12345999", "zone_id": "1234"}})
    work(app, passes=3)
    order = call(client, dewi, "GET", "/api/v1/orders/INV-5").get_json()["order"]
    assert order["status"] == "failed"
    with app.app_context():
        assert ledger.balance(dewi.customer_id, "IDR").amount == 50_000
        assert ledger.ledger_sum() == 0


def test_unknown_ref_id_is_not_found(app, client):
    dewi = make_reseller(app)
    answer = call(client, dewi, "GET", "/api/v1/orders/NOPE")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "ORDER_NOT_FOUND"


def test_account_check_tells_the_nickname(app, client):
    dewi = make_reseller(app)
    code = sku(client, dewi)["code"]
    found = call(client, dewi, "POST", "/api/v1/account-check",
                 json={"sku": code, "account": {"user_id": "12345678", "zone_id": "1234"}})
    assert found.status_code == 200
    assert found.get_json()["found"] is True and found.get_json()["nickname"]
    missing = call(client, dewi, "POST", "/api/v1/account-check",
                   json={"sku": code, "account": {"user_id": "00012345", "zone_id": "1234"}})
    assert missing.get_json() == {"found": False, "nickname": None}


def test_sandbox_key_spends_play_saldo_only(app, client):
    dewi = make_reseller(app, saldo=30_000, sandbox=True)
    code = sku(client, dewi)["code"]
    placed = call(client, dewi, "POST", "/api/v1/orders", json={
        "ref_id": "T-1", "sku": code, "account": {"user_id": "12345678", "zone_id": "1234"}})
    assert placed.status_code == 201
    order = placed.get_json()["order"]
    assert order["sandbox"] is True and order["status"] == "success"
    assert order["order_id"].startswith("SBX-")
    assert placed.get_json()["balance_after"] == 1_000_000 - 22_000
    failed = call(client, dewi, "POST", "/api/v1/orders", json={
        "ref_id": "T-2", "sku": code, "account": {"user_id": "12345999", "zone_id": "1234"}})
    assert failed.get_json()["order"]["status"] == "failed"
    assert failed.get_json()["balance_after"] == 1_000_000 - 22_000
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert ledger.balance(dewi.customer_id, "IDR").amount == 30_000


def test_a_deposit_opens_a_payment_that_credits_the_saldo_once(app, client):
    dewi = make_reseller(app, saldo=0)
    body = {"ref_id": "DEP-1", "amount": 100_000, "method": "QRIS"}
    opened = call(client, dewi, "POST", "/api/v1/deposits", json=body)
    assert opened.status_code == 201, opened.get_json()
    deposit = opened.get_json()
    assert deposit["amount"] == 100_000 and deposit["total"] == 100_700     # QRIS 0,7 %
    assert "/sandbox/pay/" in deposit["checkout_url"]
    again = call(client, dewi, "POST", "/api/v1/deposits", json=body).get_json()
    assert again["deposit_id"] == deposit["deposit_id"]
    with app.app_context():
        found = db.session.scalar(sa.select(Deposit).where(Deposit.ref == deposit["deposit_id"]))
        gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
        paid = gateway.callback(found.ref, found.gateway_ref, "paid", found.total, "IDR")
    for _ in range(3):
        assert client.post("/webhooks/sandbox", data=paid[0], headers=paid[1]).status_code == 200
    profile = call(client, dewi, "GET", "/api/v1/profile").get_json()
    assert profile["saldo"]["balance"] == 100_000
    wrong = call(client, dewi, "POST", "/api/v1/deposits",
                 json={"ref_id": "DEP-2", "amount": 100_000, "method": "NOPE"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["fields"]["method"]


def test_an_order_callback_url_must_be_a_web_address(app, client):
    dewi = make_reseller(app)
    body = {"ref_id": "INV-6", "sku": sku(client, dewi)["code"],
            "account": {"user_id": "12345678", "zone_id": "1234"},
            "callback_url": "file:///etc/passwd"}
    answer = call(client, dewi, "POST", "/api/v1/orders", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"callback_url": answer.get_json()["error"]
                                                    ["message"]}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_sandbox_key_checks_accounts_by_the_sandbox_rules(app, client):
    dewi = make_reseller(app, sandbox=True)
    code = sku(client, dewi)["code"]
    for user_id, found in (("12345678", True), ("00012345", False)):
        answer = call(client, dewi, "POST", "/api/v1/account-check",
                      json={"sku": code, "account": {"user_id": user_id, "zone_id": "1234"}})
        assert answer.status_code == 200 and answer.get_json()["found"] is found
    wrong = call(client, dewi, "POST", "/api/v1/account-check",
                 json={"sku": code, "account": {"user_id": "12"}})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "ACCOUNT_INVALID"


def test_an_order_whose_answer_was_lost_is_found_again_only_for_the_same_body(app, client):
    """A request that made its order but died before its API row: the same ref_id again finds
    that order (no second purchase); another body under it is refused."""
    dewi = make_reseller(app, saldo=100_000)
    body = {"ref_id": "LOST-1", "sku": sku(client, dewi)["code"],
            "account": {"user_id": "12345678", "zone_id": "1234"}}
    call(client, dewi, "POST", "/api/v1/orders", json=body)
    with app.app_context():
        db.session.execute(sa.delete(ApiOrder))             # the API row never written
        db.session.commit()
    other = call(client, dewi, "POST", "/api/v1/orders",
                 json=body | {"account": {"user_id": "87654321", "zone_id": "1234"}})
    assert other.status_code == 409
    again = call(client, dewi, "POST", "/api/v1/orders", json=body)
    assert again.status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert ledger.balance(dewi.customer_id, "IDR").amount == 78_000
