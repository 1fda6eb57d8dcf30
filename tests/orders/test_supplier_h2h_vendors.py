"""Delivery through VIP Reseller, Apigames and Tokovoucher (their fakes), through the real app:
an order paid at the sandbox gateway, placed by the worker, left pending by the supplier and
settled by its signed callback (a replay and a forgery change nothing); an answer lost after the
purchase found again without buying twice; a price above the cost not bought; the owner's
package form offering the three."""
from __future__ import annotations

import logging

import pytest
from conftest import (
    buy,
    create_admin,
    get_order,
    history,
    make_app,
    order_ref,
    package_id,
    sandbox_pay,
    set_package,
    sign_in,
    work,
)

from merchant.core.extensions import db
from merchant.core.models import Package
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


def work_until(app, clock, ref, status, passes=10):
    """Worker passes, each once the order's re-check fell due on the test's clock."""
    for _ in range(passes):
        order = get_order(app, ref)
        if order.status == status:
            break
        if order.next_check_at is not None:
            clock.advance(max(0.0, (order.next_check_at - clock.now()).total_seconds()))
        work(app)
    return get_order(app, ref)


def lost_answer(app, clock, ref):
    """The supplier bought, but its answer came after our timeout: RETRY, then found."""
    app.config["HTTP_TIMEOUT"] = 0.4                # the fakes answer after 1 s
    work(app)
    order = get_order(app, ref)
    assert order.status == "fulfilling" and order.supplier_attempts == 1
    assert any("retrying in" in d for *_, d in history(app, ref))
    app.config["HTTP_TIMEOUT"] = 5
    return work_until(app, clock, ref, "delivered")


def test_an_answer_lost_at_vipreseller_is_found_by_account_and_bought_once(tmp_path, vip, clock):
    vip.script("123456789", "timeout")
    vip.slow_seconds = 1.0
    app = shop(tmp_path, "vipreseller", vip.settings, "MLB86-S1", 20_000)
    client = app.test_client()
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(client, app, ref)
    order = lost_answer(app, clock, ref)
    [trxid] = vip.trxids("123456789")
    assert (order.status, order.supplier_ref, order.delivery_proof) == (
        "delivered", trxid, f"SN-{trxid}")
    assert vip.order_calls == 1


def test_an_answer_lost_at_apigames_is_found_by_ref_id_and_bought_once(tmp_path, apigames,
                                                                       clock):
    apigames.script("123456789", "timeout")
    apigames.slow_seconds = 1.0
    app = shop(tmp_path, "apigames", apigames.settings, "ML86", 20_000)
    client = app.test_client()
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(client, app, ref)
    assert lost_answer(app, clock, ref).status == "delivered"
    assert apigames.purchases[ref] == 1 and apigames.order_calls[ref] == 1


def test_tokovoucher_dearer_than_the_cost_is_not_bought_and_the_owner_is_told_why(
        tmp_path, tokovoucher):
    app = shop(tmp_path, "tokovoucher", tokovoucher.settings(), "ML86", 19_000)   # it is 19.500
    client = app.test_client()
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    assert not tokovoucher.purchases and not tokovoucher.order_calls
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    page = owner.get(f"/admin/orders/{ref}", headers={"Accept-Language": "en"}).text
    assert "Tokovoucher&#39;s price is above the most you pay" in page


def test_the_owner_picks_the_new_suppliers_on_the_package_form(tmp_path, tokovoucher):
    app = shop(tmp_path, "sandbox", tokovoucher.settings(), "", 20_000)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    pkg = package_id(app, "mobile-legends", "86 Diamonds")
    form = owner.get(f"/admin/catalog/packages/{pkg}/edit").text
    for name in ("vipreseller", "apigames", "tokovoucher"):
        assert f'<option value="{name}"' in form
    with app.app_context():
        p = db.session.get(Package, pkg)
        data = {key: "" if getattr(p, key) is None else str(getattr(p, key)) for key in (
            "name", "quantity", "bonus", "price", "badge", "sort_order")}
        data["offers-0-cost"] = "" if p.supplier_cost is None else str(p.supplier_cost)
    # The package's one offer becomes Tokovoucher's.
    data.update({"active": "y", "offers-0-supplier": "tokovoucher", "offers-0-sku": ""})
    refused = owner.post(f"/admin/catalog/packages/{pkg}/edit", data=data)
    assert refused.status_code == 422 and "Enter the supplier SKU" in refused.text
    unconfigured = owner.post(f"/admin/catalog/packages/{pkg}/edit",
                              data={**data, "offers-0-supplier": "vipreseller",
                                    "offers-0-sku": "X"})
    assert unconfigured.status_code == 422 and "MERCHANT_VIPRESELLER_API_ID" in unconfigured.text
    saved = owner.post(f"/admin/catalog/packages/{pkg}/edit",
                       data={**data, "offers-0-sku": "ML86"})
    assert saved.status_code == 303, saved.text
    shop_client = app.test_client()
    ref = order_ref(buy(shop_client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(shop_client, app, ref)
    work(app)
    order = get_order(app, ref)
    assert (order.status, order.supplier) == ("delivered", "tokovoucher")
    assert order.delivery_proof == tokovoucher.transactions[ref]["sn"]
