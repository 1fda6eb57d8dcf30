"""The Digiflazz-compatible door as a reseller's script meets it: Digiflazz's three calls, its
rc codes for every refusal, the sandbox keys as its testing mode, and its signed callbacks."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from conftest import set_package, work
from door_shop import (
    DOOR,
    FREE_FIRE,
    MOBILE_LEGENDS,
    books,
    door_served,
    md5,
    reseller,
    sku,
)

from merchant.core.extensions import db
from merchant.core.models import ApiCall, ApiKey, ApiOrder, SupplierProduct, utcnow
from merchant.h2h import keys


def transaction(shop, code: str, customer_no: str, ref_id: str, **extra) -> dict:
    return {"username": shop.username, "buyer_sku_code": code, "customer_no": customer_no,
            "ref_id": ref_id, "sign": md5(shop.username + shop.api_key + ref_id), **extra}


def price_list_body(shop, **extra) -> dict:
    return {"cmd": "prepaid", "username": shop.username,
            "sign": md5(shop.username + shop.api_key + "pricelist"), **extra}


def saldo_body(shop) -> dict:
    return {"cmd": "deposit", "username": shop.username,
            "sign": md5(shop.username + shop.api_key + "depo")}


def play_saldo(app, shop) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(ApiKey.play_balance)
                                 .where(ApiKey.key_id == shop.username))


# A downstream script, written from CONTRACTS.md §4 with plain requests ------------------------

class DigiflazzScript:
    """What a reseller's script for Digiflazz does: only its base URL and credentials are ours."""

    def __init__(self, base_url: str, username: str, api_key: str):
        self.base, self.username, self.api_key = base_url.rstrip("/"), username, api_key

    def _post(self, path: str, body: dict) -> tuple[int, object]:
        reply = requests.post(self.base + path, json=body, timeout=10)
        return reply.status_code, reply.json()["data"]

    def _sign(self, suffix: str) -> str:
        return hashlib.md5((self.username + self.api_key + suffix).encode()).hexdigest()

    def price_list(self, **filters) -> list[dict]:
        return self._post("/price-list", {"cmd": "prepaid", "username": self.username,
                                          "sign": self._sign("pricelist"), **filters})[1]

    def deposit(self) -> float:
        return self._post("/cek-saldo", {"cmd": "deposit", "username": self.username,
                                         "sign": self._sign("depo")})[1]["deposit"]

    def topup(self, sku: str, customer_no: str, ref_id: str, **extra) -> tuple[int, dict]:
        return self._post("/transaction", {"username": self.username, "buyer_sku_code": sku,
                                           "customer_no": customer_no, "ref_id": ref_id,
                                           "sign": self._sign(ref_id), **extra})


def test_a_digiflazz_script_lists_checks_buys_and_hears_back(app, vendor_server):
    vendor_server.expect_request("/cb", method="POST").respond_with_data("ok")
    shop = reseller(app, saldo=200_000)
    code = sku(app, *MOBILE_LEGENDS)
    with door_served(app) as base_url:
        script = DigiflazzScript(base_url, shop.username, shop.api_key)
        items = script.price_list()
        mine = next(item for item in items if item["buyer_sku_code"] == code)
        assert mine | {"seller_name": ""} == {
            "product_name": "Mobile Legends 86 Diamonds", "category": "Games",
            "brand": "MOBILE LEGENDS", "type": "Umum", "seller_name": "", "price": 22_000,
            "buyer_sku_code": code, "buyer_product_status": True,
            "seller_product_status": True, "unlimited_stock": True, "stock": 0, "multi": True,
            "start_cut_off": "00:00", "end_cut_off": "00:00",
            "desc": "customer_no: User ID(Zone ID), e.g. 12345678(1234)"}
        assert {item["brand"] for item in script.price_list(brand="mobile legends")} == \
            {"MOBILE LEGENDS"}
        assert [item["buyer_sku_code"] for item in script.price_list(code=code)] == [code]
        assert script.price_list(category="Pulsa") == []
        assert script.deposit() == 200_000

        status, answer = script.topup(code, "12345678(2345)", "INV-1001",
                                      cb_url=vendor_server.url_for("/cb"))
        assert status == 200
        assert answer == {"ref_id": "INV-1001", "customer_no": "12345678(2345)",
                          "buyer_sku_code": code, "message": "Transaksi Pending",
                          "status": "Pending", "rc": "03", "sn": "",
                          "buyer_last_saldo": 178_000, "price": 22_000, "tele": "", "wa": ""}
        for _ in range(6):
            work(app)
            if vendor_server.log:
                break
        status, again = script.topup(code, "12345678(2345)", "INV-1001")
        assert status == 200 and again["status"] == "Sukses" and again["rc"] == "00"
        assert again["sn"] and again["buyer_last_saldo"] == 178_000
        assert script.deposit() == 178_000

    [(callback, _reply)] = vendor_server.log
    body = callback.get_data()
    expected = hmac.new(shop.api_key.encode(), body, hashlib.sha1).hexdigest()
    assert callback.headers["X-Hub-Signature"] == f"sha1={expected}"
    assert callback.headers["X-Digiflazz-Event"] == "update"
    assert json.loads(body)["data"] == again


def test_every_call_is_in_the_call_log(app, client):
    shop = reseller(app, saldo=10_000)
    client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop))
    client.post(f"{DOOR}/price-list", json=price_list_body(shop, sign="0" * 32))
    client.post(f"{DOOR}/transaction", json={"username": "mk_live_nobody"})
    with app.app_context():
        logged = [(c.door, c.method, c.path, c.status, c.code, c.key_id is not None, c.ip)
                  for c in db.session.scalars(sa.select(ApiCall).order_by(ApiCall.id))]
    assert logged == [
        ("digiflazz", "POST", f"{DOOR}/cek-saldo", 200, "00", True, "127.0.0.1"),
        ("digiflazz", "POST", f"{DOOR}/price-list", 400, "41", True, "127.0.0.1"),
        ("digiflazz", "POST", f"{DOOR}/transaction", 400, "40", False, "127.0.0.1"),
    ]


# Who may call ---------------------------------------------------------------------------------

def test_a_wrong_sign_is_rc_41_and_changes_nothing(app, client):
    shop = reseller(app, saldo=50_000)
    code = sku(app, *FREE_FIRE)
    before = books(app, shop.customer_id)
    body = transaction(shop, code, "123456789", "WRONG-1")
    for wrong in (md5(shop.username + "guess" + "WRONG-1"),
                  md5(shop.username + shop.api_key + "pricelist"), ""):
        answer = client.post(f"{DOOR}/transaction", json=body | {"sign": wrong})
        assert answer.status_code == 400
        assert (answer.json["data"]["rc"], answer.json["data"]["status"]) == \
            (("41", "Gagal") if wrong else ("40", "Gagal"))
        assert answer.json["data"]["buyer_last_saldo"] == 0     # not told to a stranger
    refused = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop) | {"sign": "x"})
    assert refused.status_code == 400 and refused.json["data"]["rc"] == "41"
    assert refused.json["data"]["message"].startswith("Signature Anda salah")
    assert books(app, shop.customer_id) == before
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.last_used_at)
                                 .where(ApiKey.key_id == shop.username)) is None


def test_an_unknown_username_is_rc_42(app, client):
    shop = reseller(app)
    stranger = shop.__class__(shop.customer_id, "mk_live_0000000000000000", shop.api_key)
    for path, body in (("/price-list", price_list_body(stranger)),
                       ("/cek-saldo", saldo_body(stranger)),
                       ("/transaction", transaction(stranger, "x-1", "1", "R1"))):
        answer = client.post(DOOR + path, json=body)
        assert answer.status_code == 400 and answer.json["data"]["rc"] == "42"


def test_a_revoked_key_is_rc_42_to_whoever_signs_right(app, client):
    shop = reseller(app, saldo=50_000)
    with app.app_context():
        keys.revoke(keys.by_key_id(shop.username))
    right = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop))
    assert right.status_code == 400 and right.json["data"]["rc"] == "42"
    assert "revoked" in right.json["data"]["message"]
    wrong = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop) | {"sign": "0" * 32})
    assert wrong.json["data"]["rc"] == "41"


def test_an_address_outside_the_allowlist_is_rc_45(app, client):
    shop = reseller(app, saldo=50_000, ip_allowlist="203.0.113.0/24")
    code = sku(app, *FREE_FIRE)
    before = books(app, shop.customer_id)
    outside = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "A1"),
                          environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert outside.status_code == 400 and outside.json["data"]["rc"] == "45"
    assert books(app, shop.customer_id) == before
    inside = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop),
                         environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert inside.json == {"data": {"deposit": 50_000}}


def test_over_the_keys_rate_the_price_list_is_rc_83(app, client):
    shop = reseller(app, saldo=10_000, rate_per_minute=2)
    assert client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop)).status_code == 200
    assert client.post(f"{DOOR}/price-list", json=price_list_body(shop)).status_code == 200
    limited = client.post(f"{DOOR}/price-list", json=price_list_body(shop))
    assert limited.status_code == 200 and limited.json["data"]["rc"] == "83"
    order = client.post(f"{DOOR}/transaction",
                        json=transaction(shop, sku(app, *FREE_FIRE), "123456789", "R-83"))
    assert order.status_code == 429 and order.json["data"]["rc"] == "83"
    assert int(order.headers["Retry-After"]) >= 1
    assert books(app, shop.customer_id)[0] == 0


# Orders ---------------------------------------------------------------------------------------

def test_a_ref_id_again_is_its_status_and_with_another_number_rc_49(app, client):
    shop = reseller(app, saldo=50_000)
    code = sku(app, *FREE_FIRE)
    first = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "R-49"))
    assert first.status_code == 200 and first.json["data"]["status"] == "Pending"
    after_first = books(app, shop.customer_id)
    again = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "R-49"))
    assert again.json["data"] == first.json["data"]
    other = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "987654321", "R-49"))
    assert other.status_code == 400
    assert (other.json["data"]["rc"], other.json["data"]["status"]) == ("49", "Gagal")
    assert other.json["data"]["message"].startswith("Ref ID tidak unik")
    assert books(app, shop.customer_id) == after_first


def test_a_saldo_too_low_is_rc_44_and_writes_nothing(app, client):
    shop = reseller(app, saldo=5_000)
    before = books(app, shop.customer_id)
    answer = client.post(f"{DOOR}/transaction",
                         json=transaction(shop, sku(app, *FREE_FIRE), "123456789", "R-44"))
    assert answer.status_code == 400
    data = answer.json["data"]
    assert (data["rc"], data["status"], data["buyer_last_saldo"], data["price"]) == \
        ("44", "Gagal", 5_000, 0)
    assert books(app, shop.customer_id) == before
    # Nothing was formed: the same ref_id goes through once the saldo covers it.
    reseller(app, saldo=20_000)
    again = client.post(f"{DOOR}/transaction",
                        json=transaction(shop, sku(app, *FREE_FIRE), "123456789", "R-44"))
    assert again.status_code == 200 and again.json["data"]["rc"] == "03"


def test_max_price_below_the_price_is_refused_without_an_order(app, client):
    shop = reseller(app, saldo=50_000)
    code = sku(app, *FREE_FIRE)
    before = books(app, shop.customer_id)
    answer = client.post(f"{DOOR}/transaction",
                         json=transaction(shop, code, "123456789", "R-69", max_price=9_999))
    assert answer.status_code == 400 and answer.json["data"]["rc"] == "69"
    assert answer.json["data"]["message"].startswith(
        "Harga seller lebih besar dari ketentuan harga Buyer")
    assert books(app, shop.customer_id) == before
    fits = client.post(f"{DOOR}/transaction",
                       json=transaction(shop, code, "123456789", "R-69", max_price=10_000))
    assert fits.status_code == 200 and fits.json["data"]["price"] == 10_000


@pytest.mark.parametrize("customer_no, sku_of, rc", [
    ("12345678", MOBILE_LEGENDS, "54"),         # the zone is missing
    ("123456782345", MOBILE_LEGENDS, "54"),     # run together: cannot be split for certain
    ("12345678(23)", MOBILE_LEGENDS, "54"),     # a zone of 2 digits
    ("0001234567", FREE_FIRE, "54"),            # the check finds no such player
    ("123456789", None, "43"),                  # no such package
])
def test_what_cannot_be_bought_is_refused_with_its_rc(app, client, customer_no, sku_of, rc):
    shop = reseller(app, saldo=100_000)
    code = sku(app, *sku_of) if sku_of else "free-fire-999999"
    before = books(app, shop.customer_id)
    answer = client.post(f"{DOOR}/transaction", json=transaction(shop, code, customer_no, "R1"))
    assert answer.status_code == 400
    assert (answer.json["data"]["rc"], answer.json["data"]["status"]) == (rc, "Gagal")
    assert books(app, shop.customer_id) == before


def _wib(hours: int) -> str:
    moment = dt.datetime.now(ZoneInfo("Asia/Jakarta")) + dt.timedelta(hours=hours)
    return f"{moment.hour}:{moment.minute}"


@pytest.mark.parametrize("state, rc, cut_off", [
    ({"buyer_product_status": False}, "53", False),
    ({"unlimited_stock": False, "stock": 0}, "53", False),
    ({"start_cut_off": "-1", "end_cut_off": "+1"}, "58", True),
])
def test_a_package_that_does_not_sell_now_is_refused(app, client, state, rc, cut_off):
    shop = reseller(app, saldo=100_000)
    code = sku(app, *FREE_FIRE)
    set_package(app, *FREE_FIRE, supplier="digiflazz", supplier_sku="FF70")
    if cut_off:
        state = {"start_cut_off": _wib(-1), "end_cut_off": _wib(+1)}
    with app.app_context():
        db.session.add(SupplierProduct(supplier="digiflazz", sku="FF70", price=9_000, **state))
        db.session.commit()
    [item] = client.post(f"{DOOR}/price-list", json=price_list_body(shop, code=code)).json["data"]
    assert item["seller_product_status"] is False
    assert item["unlimited_stock"] is ("stock" not in state)
    assert (item["start_cut_off"], item["end_cut_off"]) == \
        ((state["start_cut_off"], state["end_cut_off"]) if cut_off else ("00:00", "00:00"))
    answer = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "R1"))
    assert answer.status_code == 400 and answer.json["data"]["rc"] == rc
    assert books(app, shop.customer_id)[0] == 0


def test_testing_with_a_live_key_is_refused_and_points_to_the_sandbox_key(app, client):
    shop = reseller(app, saldo=50_000)
    before = books(app, shop.customer_id)
    answer = client.post(f"{DOOR}/transaction",
                         json=transaction(shop, sku(app, *FREE_FIRE), "123456789", "T-1",
                                          testing=True))
    assert answer.status_code == 400 and answer.json["data"]["rc"] == "40"
    assert "mk_test_" in answer.json["data"]["message"]
    assert books(app, shop.customer_id) == before


def test_postpaid_is_an_empty_list_and_a_wrong_cmd_rc_40(app, client):
    shop = reseller(app)
    assert client.post(f"{DOOR}/price-list",
                       json=price_list_body(shop, cmd="pasca")).json == {"data": []}
    wrong = client.post(f"{DOOR}/price-list", json=price_list_body(shop, cmd="postpaid"))
    assert wrong.status_code == 400 and wrong.json["data"]["rc"] == "40"
    garbage = client.post(f"{DOOR}/cek-saldo", data=b"not json",
                          content_type="application/json")
    assert garbage.status_code == 400 and garbage.json["data"]["rc"] == "40"


# The sandbox: Digiflazz's testing mode ----------------------------------------------------------

def test_a_sandbox_key_spends_play_saldo_and_never_the_real_one(app, client):
    shop = reseller(app, saldo=40_000, sandbox=True)
    code = sku(app, *FREE_FIRE)
    before = books(app, shop.customer_id)
    assert client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop)).json == \
        {"data": {"deposit": 1_000_000}}
    done = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "S-1",
                                                                testing=True))
    assert done.status_code == 200
    data = done.json["data"]
    assert (data["status"], data["rc"], data["buyer_last_saldo"]) == ("Sukses", "00", 990_000)
    assert data["sn"]
    assert play_saldo(app, shop) == 990_000
    api_orders, shop_orders, ledger_rows, real_saldo = books(app, shop.customer_id)
    assert (api_orders, shop_orders, ledger_rows, real_saldo) == \
        (1, before[1], before[2], 40_000)


def test_a_failing_sandbox_account_answers_gagal_and_gives_the_play_saldo_back(
        app, client, vendor_server):
    vendor_server.expect_request("/sandbox-cb", method="POST").respond_with_data("ok")
    shop = reseller(app, sandbox=True)
    answer = client.post(f"{DOOR}/transaction",
                         json=transaction(shop, sku(app, *FREE_FIRE), "123456999", "S-999",
                                          cb_url=vendor_server.url_for("/sandbox-cb")))
    assert answer.status_code == 400
    data = answer.json["data"]
    assert (data["status"], data["rc"], data["buyer_last_saldo"], data["sn"]) == \
        ("Gagal", "02", 1_000_000, "")
    assert play_saldo(app, shop) == 1_000_000
    work(app)
    [(callback, _reply)] = vendor_server.log
    expected = hmac.new(shop.api_key.encode(), callback.get_data(), hashlib.sha1).hexdigest()
    assert callback.headers["X-Hub-Signature"] == f"sha1={expected}"
    assert json.loads(callback.get_data())["data"]["status"] == "Gagal"
    with app.app_context():
        assert db.session.scalar(sa.select(ApiOrder.door)) == "digiflazz"


def test_an_order_is_answered_after_90_days_and_after_its_package_left_the_shop(app, client):
    shop = reseller(app, saldo=50_000)
    code = sku(app, *FREE_FIRE)
    first = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "OLD-1"))
    assert first.status_code == 200
    with app.app_context():
        db.session.execute(sa.update(ApiOrder).values(
            created_at=utcnow() - dt.timedelta(days=120)))
        db.session.commit()
    set_package(app, *FREE_FIRE, active=False)
    after = books(app, shop.customer_id)
    again = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "OLD-1"))
    assert again.status_code == 200 and again.json["data"]["ref_id"] == "OLD-1"
    assert again.json["data"]["price"] == 10_000
    other = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "555555555", "OLD-1"))
    assert other.json["data"]["rc"] == "49"
    new = client.post(f"{DOOR}/transaction", json=transaction(shop, code, "123456789", "NEW-1"))
    assert new.json["data"]["rc"] == "43"
    assert books(app, shop.customer_id) == after


def test_one_ref_id_sent_at_once_from_many_threads_buys_once(app):
    shop = reseller(app, saldo=50_000)
    body = transaction(shop, sku(app, *FREE_FIRE), "123456789", "RACE-1")
    barrier = threading.Barrier(6)
    answers = []

    def send(url):
        barrier.wait()
        reply = requests.post(f"{url}/transaction", json=body, timeout=30)
        answers.append((reply.status_code, reply.json()["data"]))

    with door_served(app) as url:
        threads = [threading.Thread(target=send, args=(url,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(answers) == 6
    assert {(status, data["ref_id"], data["price"]) for status, data in answers} == \
        {(200, "RACE-1", 10_000)}
    api_orders, _orders, _rows, left = books(app, shop.customer_id)
    assert (api_orders, left) == (1, 40_000)


def test_an_address_sending_wrong_signs_is_stopped(app, client):
    app.config["RATELIMIT_API_REFUSED"] = "3 per minute"
    shop = reseller(app, saldo=50_000)
    for _ in range(3):
        wrong = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop) | {"sign": "x"})
        assert wrong.json["data"]["rc"] == "41"
    stopped = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop))
    assert stopped.status_code == 429 and stopped.json["data"]["rc"] == "83"
    elsewhere = client.post(f"{DOOR}/cek-saldo", json=saldo_body(shop),
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.json["data"] == {"deposit": 50_000}
