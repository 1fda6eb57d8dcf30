"""Choosing gateways: startup checks, switching by environment alone, gateways per method."""
from __future__ import annotations

import html
import logging

import pytest
import sqlalchemy as sa
from conftest import buy, create_admin, get_order, make_app, order_ref, sign_in, work

from merchant.config import ConfigError
from merchant.core.extensions import db
from merchant.core.models import Order, PaymentMethod
from merchant.orders.checkout import GATEWAY_DOWN
from merchant.vendors.payments.sandbox import SandboxGateway
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.stripe import FakeStripe

REQUIRED = {
    "xendit": ["MERCHANT_XENDIT_SECRET_KEY", "MERCHANT_XENDIT_CALLBACK_TOKEN"],
    "midtrans": ["MERCHANT_MIDTRANS_SERVER_KEY"],
    "stripe": ["MERCHANT_STRIPE_SECRET_KEY", "MERCHANT_STRIPE_WEBHOOK_SECRET"],
    "tripay": ["MERCHANT_TRIPAY_API_KEY", "MERCHANT_TRIPAY_PRIVATE_KEY",
               "MERCHANT_TRIPAY_MERCHANT_CODE"],
}


@pytest.fixture
def stripe(httpserver):
    return FakeStripe(httpserver)


@pytest.fixture
def midtrans(httpserver):
    return FakeMidtrans(httpserver)


def assign(app, code: str, gateway: str | None) -> None:
    """What the admin will do later: give one payment method its own gateway."""
    with app.app_context():
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == code)
                           .values(gateway=gateway))
        db.session.commit()


def count_orders(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


# -- startup ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(REQUIRED))
def test_a_gateway_without_its_settings_refuses_to_start_naming_them(tmp_path, name):
    with pytest.raises(ConfigError) as error:
        make_app(tmp_path, GATEWAY=name)
    message = str(error.value)
    assert f"MERCHANT_GATEWAY is {name}" in message
    for variable in REQUIRED[name]:
        assert variable in message


def test_a_partly_configured_gateway_names_only_what_is_missing(tmp_path):
    with pytest.raises(ConfigError) as error:
        make_app(tmp_path, GATEWAY="tripay", TRIPAY_API_KEY="DEV-x", TRIPAY_MERCHANT_CODE="T1")
    assert "payment gateway is not configured: set MERCHANT_TRIPAY_PRIVATE_KEY." in str(error.value)
    assert "API_KEY" not in str(error.value)


def test_an_unknown_gateway_refuses_to_start_listing_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match="sandbox, xendit, midtrans, stripe, tripay"):
        make_app(tmp_path, GATEWAY="paypal")


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "http://localhost:8000", "",
                                 "shop.example.com", "http://0.0.0.0:5000", "http://[::1]/"])
def test_a_real_gateway_needs_a_public_url(tmp_path, stripe, url):
    with pytest.raises(ConfigError, match="MERCHANT_PUBLIC_URL"):
        make_app(tmp_path, **stripe.settings, GATEWAY="stripe", PUBLIC_URL=url)


def test_a_real_gateway_turns_the_sandbox_pay_pages_off(tmp_path, stripe):
    app = make_app(tmp_path, **stripe.settings, GATEWAY="stripe", SANDBOX_WEBHOOK_SECRET=None,
                   PUBLIC_URL="https://shop.example.com")
    client = app.test_client()
    assert app.config["SANDBOX_ENABLED"] is False
    assert client.get("/sandbox/pay/sbx_anything").status_code == 404
    assert client.post("/webhooks/sandbox", data=b"{}").status_code == 404
    with pytest.raises(ConfigError, match="MERCHANT_SANDBOX_ENABLED is on"):
        make_app(tmp_path, **stripe.settings, GATEWAY="stripe", SANDBOX_ENABLED=True)


def test_the_shop_switches_gateway_with_environment_variables_alone(
        tmp_path, stripe, monkeypatch):
    monkeypatch.setenv("MERCHANT_GATEWAY", "stripe")
    monkeypatch.setenv("MERCHANT_STRIPE_SECRET_KEY", stripe.secret_key)
    monkeypatch.setenv("MERCHANT_STRIPE_WEBHOOK_SECRET", stripe.webhook_secret)
    monkeypatch.setenv("MERCHANT_STRIPE_API_URL", stripe.settings["STRIPE_API_URL"])
    app = make_app(tmp_path)
    client = app.test_client()
    ref = order_ref(buy(client, app, method="CARD"))
    order = get_order(app, ref)
    assert order.gateway == "stripe" and order.checkout_url.startswith("https://checkout.")
    assert stripe.created[ref] == 1
    session_id = order.gateway_ref
    stripe.complete(session_id)
    body, headers = stripe.event(session_id, "checkout.session.completed")
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    work(app)
    assert get_order(app, ref).status == "delivered"


# -- a gateway per payment method -------------------------------------------------------------

def test_qris_through_midtrans_and_cards_through_stripe_in_one_shop(tmp_path, stripe, midtrans):
    app = make_app(tmp_path, **{**stripe.settings, **midtrans.settings}, GATEWAY="stripe")
    assign(app, "QRIS", "midtrans")
    client = app.test_client()
    qris = order_ref(buy(client, app, method="QRIS"))
    card = order_ref(buy(client, app, method="CARD"))
    assert get_order(app, qris).gateway == "midtrans" and get_order(app, qris).qr_string
    assert get_order(app, card).gateway == "stripe" and get_order(app, card).checkout_url
    assert (midtrans.created[qris], stripe.created[qris]) == (1, 0)
    assert (midtrans.created[card], stripe.created[card]) == (0, 1)
    charge = next(r for r in midtrans.requests if r["path"] == "/v2/charge")
    assert charge["headers"]["X-Override-Notification"] == "http://shop.test/webhooks/midtrans"

    # A Midtrans notification is no proof for Stripe, even one Midtrans signed for that order.
    midtrans.pay(qris, payment_type="qris")
    body, headers = midtrans.notification(qris)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 401
    gross = f"{get_order(app, card).total}.00"
    note = {**midtrans.transactions[qris], "order_id": card, "gross_amount": gross}
    note["signature_key"] = midtrans.sign(card, note["status_code"], gross, midtrans.server_key)
    response = client.post("/webhooks/midtrans", json=note)
    assert response.status_code == 200
    assert get_order(app, card).status == "awaiting_payment"

    body, headers = midtrans.notification(qris)
    assert client.post("/webhooks/midtrans", data=body, headers=headers).status_code == 200
    stripe.complete(get_order(app, card).gateway_ref)
    body, headers = stripe.event(get_order(app, card).gateway_ref, "checkout.session.completed")
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    work(app)
    assert get_order(app, qris).status == "delivered"
    assert get_order(app, card).status == "delivered"
    assert client.post("/webhooks/xendit", data=b"{}").status_code == 404


def test_the_sandbox_cannot_pay_an_order_of_a_real_gateway(tmp_path, stripe):
    app = make_app(tmp_path, **stripe.settings)       # a demo shop trying Stripe for cards
    assign(app, "CARD", "stripe")
    client = app.test_client()
    ref = order_ref(buy(client, app, method="CARD"))
    order = get_order(app, ref)
    body, headers = SandboxGateway(app.config).callback(ref, order.gateway_ref, "paid",
                                                        order.total, order.currency)
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"


@pytest.mark.parametrize("gateway, said", [
    ("tripay", "MERCHANT_TRIPAY_API_KEY, MERCHANT_TRIPAY_PRIVATE_KEY"),
    ("paypal", "There is no payment gateway called 'paypal'"),
])
def test_a_method_on_an_unusable_gateway_is_not_offered_and_tells_the_operator(
        tmp_path, caplog, gateway, said):
    """A setting missing is no outage: the customer picks another method, the owner is told."""
    app = make_app(tmp_path)
    assign(app, "QRIS", gateway)
    client = app.test_client()
    assert 'value="QRIS"' not in client.get("/p/tiktok-coins").text
    response = buy(client, app, method="QRIS")
    assert response.status_code == 422
    assert "QRIS cannot be used in this shop. Choose another payment method." in response.text
    assert str(GATEWAY_DOWN) not in response.text and said not in response.text
    assert count_orders(app) == 0
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    assert said in html.unescape(owner.get("/admin/").text)
    if gateway == "tripay":
        # Its callbacks cannot be verified either: refused, and the log says why.
        with caplog.at_level(logging.ERROR):
            answer = client.post("/webhooks/tripay", data=b'{"status": "PAID"}')
        assert answer.status_code == 401
        assert "cannot be verified" in caplog.text
    assert order_ref(buy(client, app, method="GOPAY"))   # the other methods still sell


def test_a_gateway_without_its_settings_is_said_once_with_the_methods_it_holds_back(tmp_path):
    app = make_app(tmp_path)
    for code in ("QRIS", "GOPAY"):
        assign(app, code, "tripay")
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    home = html.unescape(owner.get("/admin/").text)
    assert home.count("MERCHANT_TRIPAY_API_KEY") == 1
    assert "Customers cannot pay with its 2 payment methods until then." in home
    assert "QRIS is on, but customers are not offered it" not in home
    assert "GoPay is on, but customers are not offered it" not in home
