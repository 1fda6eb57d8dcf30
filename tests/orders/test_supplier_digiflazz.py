"""Delivery through Digiflazz (the fake server), through the real app, database and worker."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from conftest import (
    buy,
    create_admin,
    get_order,
    history,
    make_app,
    order_ref,
    sandbox_pay,
    set_package,
    sign_in,
    work,
)

from merchant.core.extensions import db
from merchant.core.models import Order, WebhookEvent
from merchant.orders import fulfillment
from merchant.supply import deposits
from tests.fakes.digiflazz import FakeDigiflazz

ML = {"user_id": "123456789", "zone_id": "1234"}
CUSTOMER_NO = "1234567891234"          # Digiflazz's customer_no: user id then zone


def shop_app(tmp_path, fake):
    """The shop with Mobile Legends 86 Diamonds sold through the fake Digiflazz."""
    app = make_app(tmp_path, **fake.settings(), HTTP_TIMEOUT=5,
                   SUPPLIER_RETRY_BASE_SECONDS=0.5, FULFILLMENT_LEASE_SECONDS=0.3)
    set_package(app, "mobile-legends", "86 Diamonds", supplier="digiflazz",
                supplier_sku="ML86", supplier_cost=20_000)
    return app


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0)
    vendor_server.check_handler_errors()


@pytest.fixture
def app(tmp_path, fake):
    app = shop_app(tmp_path, fake)
    return app


def paid_order(client, app) -> str:
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **ML))
    sandbox_pay(client, app, ref)
    return ref


def work_until(app, clock, ref, status, passes=10):
    """Worker passes, each once the order's re-check fell due on the test's clock, until the
    order reaches `status` (or the passes run out)."""
    for _ in range(passes):
        order = get_order(app, ref)
        if order.status == status:
            break
        if order.next_check_at is not None:
            clock.advance(max(0.0, (order.next_check_at - clock.now()).total_seconds()))
        work(app)
    return get_order(app, ref)


def callback(client, body, headers):
    return client.post("/webhooks/supplier/digiflazz", data=body, headers=headers)


def test_delivered_at_once_with_the_serial_number(client, app, fake):
    ref = paid_order(client, app)
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered"
    assert order.delivery_proof == fake.transactions[ref]["sn"] != ""
    assert fake.purchases[ref] == 1
    sent = fake.transactions[ref]
    assert (sent["buyer_sku_code"], sent["customer_no"]) == ("ML86", CUSTOMER_NO)
    assert order.supplier_ref_id == ref
    assert fake.transactions[ref]["price"] == 20_000
    assert order.delivery_proof in client.get(f"/o/{ref}/status").text


def test_pending_then_signed_callback_delivers_and_a_replay_changes_nothing(client, app, fake):
    fake.script(CUSTOMER_NO, "pending")
    ref = paid_order(client, app)
    work(app)
    assert get_order(app, ref).status == "fulfilling"
    fake.complete(ref, sn="VOUCHER-778899")
    body, headers = fake.callback(ref)
    response = callback(client, body, headers)
    assert response.status_code == 200
    order = get_order(app, ref)
    assert (order.status, order.delivery_proof) == ("delivered", "VOUCHER-778899")
    assert [s for f, t, s, d in history(app, ref) if t == "delivered"] == ["webhook"]

    events = len(history(app, ref))
    replay = callback(client, body, headers)
    assert replay.status_code == 200 and replay.json["outcome"] == "duplicate"
    assert len(history(app, ref)) == events
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent).where(
            WebhookEvent.provider == "supplier:digiflazz")) == 1
    assert fake.purchases[ref] == 1


def test_pending_then_status_check_delivers_with_the_same_ref_id(client, app, fake, clock):
    fake.script(CUSTOMER_NO, "pending", then="success", after_checks=1)
    ref = paid_order(client, app)
    work(app)
    assert get_order(app, ref).status == "fulfilling"
    order = work_until(app, clock, ref, "delivered")
    assert order.status == "delivered"
    assert (fake.purchases[ref], fake.calls[ref]) == (1, 2)


def test_forged_callback_is_refused_logged_and_changes_nothing(client, app, fake, caplog):
    fake.script(CUSTOMER_NO, "pending")
    ref = paid_order(client, app)
    work(app)
    fake.complete(ref)
    body, headers = fake.callback(ref)
    headers["X-Hub-Signature"] = "sha1=" + "0" * 40
    with caplog.at_level(logging.WARNING):
        response = callback(client, body, headers)
    assert response.status_code == 401
    assert response.json == {"error": "invalid signature"}
    assert "forged digiflazz supplier callback" in caplog.text
    assert get_order(app, ref).status == "fulfilling"
    unsigned = callback(client, body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401


def test_ping_and_unknown_ref_answer_200_without_effect(client, app, fake):
    import hashlib
    import hmac
    body = b'{"data": {}}'
    signature = hmac.new(b"hook-secret", body, hashlib.sha1).hexdigest()
    ping = callback(client, body, {"X-Hub-Signature": f"sha1={signature}"})
    assert ping.status_code == 200 and ping.json["outcome"] == "ignored"

    fake.script("999999", "pending")
    from merchant.vendors.suppliers.base import Delivery
    from merchant.vendors.suppliers.digiflazz import DigiflazzSupplier
    DigiflazzSupplier(fake.settings()).place(Delivery("NOT-OURS", "ML86", {"id": "999999"}))
    unknown = callback(client, *fake.callback("NOT-OURS"))
    assert unknown.status_code == 200 and unknown.json["outcome"] == "no such order"


def test_timeout_is_retried_with_the_same_ref_id_and_buys_once(client, app, fake, clock):
    fake.script(CUSTOMER_NO, "timeout")
    ref = paid_order(client, app)
    app.config["HTTP_TIMEOUT"] = 0.4            # the fake answers after 1 s
    work(app)
    order = get_order(app, ref)
    assert order.status == "fulfilling" and order.supplier_attempts == 1
    assert any("not reached" in d and "retrying in" in d for *_, d in history(app, ref))
    order = work_until(app, clock, ref, "delivered")
    assert order.status == "delivered"
    assert fake.purchases[ref] == 1            # one purchase, however many times it was sent
    assert fake.calls[ref] == 2


def test_transient_errors_back_off_and_tell_the_operator(client, app, fake, caplog, clock):
    app.config["SUPPLIER_RETRY_BASE_SECONDS"] = 30       # no retry falls due by itself here
    fake.down = True
    ref = paid_order(client, app)
    with caplog.at_level(logging.WARNING):
        work(app)
    first = get_order(app, ref)
    assert "retrying in" in caplog.text
    delays = []
    for _ in range(3):
        order = get_order(app, ref)
        delays.append((order.next_check_at - order.updated_at).total_seconds())
        with app.app_context():            # time passes: the retry is due
            db.session.execute(sa.update(Order).where(Order.ref == ref)
                               .values(next_check_at=order.updated_at))
            db.session.commit()
        work(app)
    assert first.supplier_attempts == 1
    assert get_order(app, ref).supplier_attempts == 4
    assert delays[1] == pytest.approx(2 * delays[0], rel=0.2)
    assert delays[2] == pytest.approx(4 * delays[0], rel=0.2)
    notes = [d for f, t, s, d in history(app, ref) if "retrying in" in d]
    assert len(notes) == 4 and "HTTP 500" in notes[0]
    fake.down = False
    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == ref)
                           .values(next_check_at=fulfillment.utcnow()))
        db.session.commit()
    assert work_until(app, clock, ref, "delivered").status == "delivered"
    assert fake.purchases[ref] == 1


def test_insufficient_balance_waits_warns_and_delivers_after_top_up(client, app, fake, caplog,
                                                                  clock):
    fake.deposit = 5_000
    ref = paid_order(client, app)
    with caplog.at_level(logging.WARNING):
        work(app)
    order = get_order(app, ref)
    assert order.status == "fulfilling"
    note = [d for *_, d in history(app, ref) if "rc 44" in d][-1]
    assert "Saldo tidak cukup" in note and "top up the Digiflazz deposit" in note
    with app.app_context():
        warnings = deposits.balance_warnings()
    assert [w.supplier for w in warnings] == ["digiflazz"]
    assert "Rp 5.000 cannot cover Rp 20.000" in warnings[0].message
    assert "cannot cover" in caplog.text

    fake.deposit = 100_000
    assert work_until(app, clock, ref, "delivered").status == "delivered"
    assert fake.purchases[ref] == 1
    with app.app_context():                  # the next balance check clears the warning
        deposits.check("digiflazz")
        assert deposits.balance_warnings() == []


def test_balance_is_checked_every_few_minutes_not_every_pass(client, app, fake):
    paid_order(client, app)
    fake.script(CUSTOMER_NO, "pending")
    work(app, passes=5)
    # The purchase answer said what is left (buyer_last_saldo): no balance call was needed.
    assert fake.balance_calls == 0
    with app.app_context():
        assert deposits.check_due(now=fulfillment.utcnow() + dt.timedelta(minutes=6)) == 1
    assert fake.balance_calls == 1


def test_refused_request_alerts_the_operator_and_is_not_retried(client, app, fake, caplog):
    set_package(app, "mobile-legends", "86 Diamonds", fallback_supplier="sandbox",
                fallback_sku="ML86-SBX")
    fake.ip_blocked = True
    ref = paid_order(client, app)
    with caplog.at_level(logging.ERROR):
        work(app)
    order = get_order(app, ref)
    assert order.status == "fulfillment_failed"
    assert "refused" in order.flag and order.supplier == "digiflazz"   # no failover
    assert "rc 45" in caplog.text and "whitelist" in caplog.text
    work(app, passes=2)
    sent = [r for r, _ in fake.server.log if r.path == "/v1/transaction"]
    assert len(sent) == 1 and fake.purchases[ref] == 0


@pytest.mark.parametrize("rc, passes, advice, in_indonesian", [
    ("43", 1, "fix this package&#39;s SKU in the catalog", "perbaiki SKU paket ini"),
    ("44", 10, "top up your supplier deposit", "isi ulang deposit supplier Anda"),
])
def test_the_order_page_says_first_why_digiflazz_failed_and_what_to_do(
        client, app, fake, clock, rc, passes, advice, in_indonesian):
    fake.script(CUSTOMER_NO, kind="fail", rc=rc)
    ref = paid_order(client, app)
    assert work_until(app, clock, ref, "fulfillment_failed", passes).status == "fulfillment_failed"
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    page = owner.get(f"/admin/orders/{ref}").text
    top = page[page.index("Why the delivery failed"):page.index('id="facts-order"')]
    assert f"rc {rc}" in top and "What to do:</b>" in top and advice in top
    assert page.index("Why the delivery failed") < page.index("Timeline")
    assert in_indonesian in owner.get(f"/admin/orders/{ref}?lang=id").text
