"""Delivery through VIP Reseller, Apigames and Tokovoucher (their fakes), through the real app:
an order paid at the sandbox gateway, placed by the worker, left pending by the supplier and
settled by its signed callback; a replay and a forgery change nothing."""
from __future__ import annotations

import logging

import pytest
from conftest import buy, get_order, history, make_app, order_ref, sandbox_pay, set_package, work

from tests.fakes.apigames import FakeApigames
from tests.fakes.tokovoucher import FakeTokovoucher
from tests.fakes.vipreseller import FakeVipReseller

ML = {"user_id": "123456789", "zone_id": "1234"}


def shop(tmp_path, name, settings, sku, cost):
    app = make_app(tmp_path, **settings, HTTP_TIMEOUT=5, SUPPLIER_RETRY_BASE_SECONDS=0.5,
                   FULFILLMENT_LEASE_SECONDS=0.3)
    set_package(app, "mobile-legends", "86 Diamonds", supplier=name, supplier_sku=sku,
                supplier_cost=cost)
    return app


def paid_and_placed(app) -> tuple:
    client = app.test_client()
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(client, app, ref)
    work(app)
    order = get_order(app, ref)
    assert order.status == "fulfilling"
    return client, ref, order


def settle_by_callback(app, client, name, ref, body, headers, caplog):
    url = f"/webhooks/supplier/{name}"
    with caplog.at_level(logging.WARNING):
        forged = client.post(url, data=body, headers={**headers, next(iter(headers)): "0" * 32})
    assert forged.status_code == 401
    assert f"forged {name} supplier callback" in caplog.text
    assert get_order(app, ref).status == "fulfilling"

    response = client.post(url, data=body, headers=headers)
    assert response.status_code == 200, response.text
    order = get_order(app, ref)
    assert order.status == "delivered"
    assert [s for f, t, s, d in history(app, ref) if t == "delivered"] == ["webhook"]
    events = len(history(app, ref))
    replay = client.post(url, data=body, headers=headers)
    assert replay.status_code == 200 and replay.json["outcome"] == "duplicate"
    assert len(history(app, ref)) == events
    assert order.delivery_proof in client.get(f"/o/{ref}/status").text
    return order


@pytest.fixture
def vip(vendor_server):
    fake = FakeVipReseller(vendor_server)
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


def test_vipreseller_delivers_a_paid_order_settled_by_its_callback(tmp_path, vip, caplog):
    vip.script("123456789", "pending")
    app = shop(tmp_path, "vipreseller", vip.settings, "MLB86-S1", 20_000)
    client, ref, order = paid_and_placed(app)
    trxid = vip.trxids("123456789")[0]
    assert order.supplier_ref == trxid and vip.orders[trxid]["zone"] == "1234"
    vip.complete(trxid, note="SN 5566-7788")
    body, headers = vip.callback(trxid)
    order = settle_by_callback(app, client, "vipreseller", ref, body, headers, caplog)
    assert order.delivery_proof == "SN 5566-7788"
    assert vip.order_calls == 1 and vip.balance == 1_000_000 - 19_800


@pytest.fixture
def apigames(vendor_server):
    fake = FakeApigames(vendor_server)
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


def test_apigames_delivers_a_paid_order_settled_by_its_webhook(tmp_path, apigames, caplog):
    apigames.script("123456789", "pending")
    app = shop(tmp_path, "apigames", apigames.settings, "ML86", 20_000)
    client, ref, order = paid_and_placed(app)
    assert order.supplier_ref == apigames.transactions[ref]["trx_id"]
    apigames.complete(ref, sn="BSK.AFULP")
    body, headers = apigames.webhook(ref)
    order = settle_by_callback(app, client, "apigames", ref, body, headers, caplog)
    assert order.delivery_proof == "BSK.AFULP"
    assert apigames.purchases[ref] == 1 and apigames.order_calls[ref] == 1


@pytest.fixture
def tokovoucher(vendor_server):
    fake = FakeTokovoucher(vendor_server)
    yield fake
    fake.release()
    vendor_server.check_handler_errors()


def test_tokovoucher_delivers_a_paid_order_settled_by_its_webhook(tmp_path, tokovoucher,
                                                                  caplog):
    tokovoucher.script("123456789", "pending")
    app = shop(tmp_path, "tokovoucher", tokovoucher.settings(), "ML86", 20_000)
    client, ref, order = paid_and_placed(app)
    assert tokovoucher.transactions[ref]["tujuan"] == "123456789|1234"
    tokovoucher.complete(ref, sn="VC-9911")
    body, headers = tokovoucher.webhook(ref)
    order = settle_by_callback(app, client, "tokovoucher", ref, body, headers, caplog)
    assert order.delivery_proof == "VC-9911"
    assert tokovoucher.purchases[ref] == 1 and tokovoucher.order_calls[ref] == 1
