"""The whole purchase on the sandbox providers, through the real app and database."""
from __future__ import annotations

from conftest import buy, get_order, history, order_ref, sandbox_pay, set_package, work

from merchant.vendors.payments.sandbox import SandboxGateway
from merchant.vendors.suppliers import sandbox as sandbox_supplier


def test_demo_user_buys_70_tiktok_coins_and_sees_delivered(client, app):
    response = buy(client, app, username="demo_user")
    ref = order_ref(response)
    page = client.get(response.headers["Location"])
    assert "Waiting for payment" in page.text
    assert "Rp 15.105" in page.text            # 15.000 + QRIS 0.7 % = 105

    sandbox_pay(client, app, ref)
    assert get_order(app, ref).status == "paid"
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered"
    assert order.delivery_proof.startswith("SN ")
    status = client.get(f"/o/{ref}/status")
    assert status.status_code == 286            # final: htmx stops polling
    assert "Delivered" in status.text and order.delivery_proof in status.text
    assert [(f, t) for f, t, *_ in history(app, ref) if t] == [
        (None, "awaiting_payment"), ("awaiting_payment", "paid"), ("paid", "fulfilling"),
        ("fulfilling", "delivered")]


def test_slow_supplier_delivers_after_a_status_check(client, app, clock):
    ref = order_ref(buy(client, app, username="gamer_slow"))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfilling"
    assert "Delivering" in client.get(f"/o/{ref}").text
    clock.advance(0.4)      # past the re-check (0.1 s), before the sandbox's 0.5 s
    work(app)
    assert get_order(app, ref).status == "fulfilling"
    clock.advance(0.2)
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert sandbox_supplier.LEDGER.purchases[ref] == 1


def test_failing_supplier_ends_in_delivery_failed_with_a_next_step(client, app):
    ref = order_ref(buy(client, app, slug="free-fire", package="70 Diamonds",
                        player_id="123456999"))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    page = client.get(f"/o/{ref}").text
    assert "Delivery failed" in page and "Your payment is safe" in page


def test_failed_payment_and_expired_payment_are_final_and_undelivered(client, app):
    failed = order_ref(buy(client, app))
    sandbox_pay(client, app, failed, "fail")
    expired = order_ref(buy(client, app))
    sandbox_pay(client, app, expired, "expire")
    work(app)
    assert get_order(app, failed).status == "payment_failed"
    assert get_order(app, expired).status == "expired"
    assert "did not go through" in client.get(f"/o/{failed}").text
    assert "time ran out" in client.get(f"/o/{expired}").text


def test_late_payment_after_expiry_is_honoured(client, app):
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref, "expire")
    sandbox_pay(client, app, ref, "pay")
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert ("expired", "paid") in [(f, t) for f, t, *_ in history(app, ref)]


def test_another_paid_message_does_not_reopen_a_failed_delivery(client, app):
    ref = order_ref(buy(client, app, slug="free-fire", package="70 Diamonds",
                        player_id="123456999"))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    sandbox_pay(client, app, ref)            # the pay page is closed: nothing is sent
    order = get_order(app, ref)
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
    body, headers = gateway.callback(ref, order.gateway_ref, "paid", order.total, "IDR")
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    assert sandbox_supplier.LEDGER.purchases[ref] == 1


def test_a_package_on_an_unconfigured_supplier_stops_with_a_clear_operator_note(client, app):
    set_package(app, "tiktok-coins", "70 Coins", supplier="digiflazz", supplier_sku="TT70")
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref)
    work(app)
    order = get_order(app, ref)
    assert order.status == "fulfillment_failed"
    assert "set MERCHANT_DIGIFLAZZ_USERNAME, MERCHANT_DIGIFLAZZ_API_KEY" in history(app, ref)[-1][3]
    assert "digiflazz refused the order" in order.flag
