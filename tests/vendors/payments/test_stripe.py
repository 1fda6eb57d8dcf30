"""The Stripe Checkout adapter against a fake Stripe built from Stripe's API reference."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest

from merchant.vendors.payments import gateway_class
from merchant.vendors.payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    PENDING,
    ForgedCallback,
    PaymentError,
    PaymentRequest,
)
from merchant.vendors.payments.stripe import StripeGateway, from_stripe, sign, to_stripe
from tests.fakes.stripe import FakeStripe


@pytest.fixture
def fake(httpserver):
    return FakeStripe(httpserver)


@pytest.fixture
def gateway(fake):
    return StripeGateway(fake.settings)


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def order(amount=150000, currency="IDR", minutes=60, method="CARD", ref="S4F8K2M9Q", **kw):
    fields = dict(ref=ref, amount=amount, currency=currency, method=method,
                  description="TikTok 1000 Coins", callback_url="https://shop.example/wh",
                  expires_at=utcnow() + dt.timedelta(minutes=minutes),
                  return_url=f"https://shop.example/o/{ref}", email="b@example.com")
    fields.update(kw)
    return PaymentRequest(**fields)


def test_registered_by_name():
    assert gateway_class("stripe") is StripeGateway
    assert set(StripeGateway.required_settings) == {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}


def test_create_sends_documented_form_fields(fake, gateway):
    checkout = gateway.create_payment(order())
    sent = fake.requests[-1]
    form = sent["form"]
    assert sent["headers"]["Authorization"] == f"Bearer {fake.secret_key}"
    assert sent["headers"]["Idempotency-Key"] == "S4F8K2M9Q"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "idr"
    assert form["line_items[0][price_data][unit_amount]"] == "15000000"   # Rp 150.000 x 100
    assert form["line_items[0][price_data][product_data][name]"] == "TikTok 1000 Coins"
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == "S4F8K2M9Q"
    assert form["metadata[order_ref]"] == "S4F8K2M9Q"
    assert form["success_url"] == form["cancel_url"] == "https://shop.example/o/S4F8K2M9Q"
    assert form["customer_email"] == "b@example.com"
    assert form["payment_method_types[0]"] == "card"
    session = fake.sessions[checkout.gateway_ref]
    assert checkout.gateway_ref.startswith("cs_test_")
    assert checkout.checkout_url == session["url"]
    assert checkout.expires_at == dt.datetime.fromtimestamp(session["expires_at"], dt.UTC) \
        .replace(tzinfo=None)
    assert abs(session["expires_at"] - (time.time() + 3600)) < 5


@pytest.mark.parametrize("minutes", [5, 60, 3 * 24 * 60])
def test_repeated_create_returns_the_same_session(fake, gateway, minutes, clock):
    request = order(minutes=minutes)
    first = gateway.create_payment(request)
    clock.advance(1.1)    # the clock moves between attempts; the parameters must not
    second = gateway.create_payment(request)
    assert second == first
    assert fake.requests[-1]["headers"]["Idempotency-Key"] == "S4F8K2M9Q"
    assert fake.created["S4F8K2M9Q"] == 1 and len(fake.sessions) == 1


def test_idempotency_conflict_reports_stripe_message(fake, gateway):
    gateway.create_payment(order())
    with pytest.raises(PaymentError, match="idempotency_error.*same parameters"):
        gateway.create_payment(order(amount=160000))


@pytest.mark.parametrize("minutes,expected", [(5, 5 + 31), (60, 60), (3 * 24 * 60, 24 * 60)])
def test_expiry_fits_stripe_window(fake, gateway, minutes, expected):
    checkout = gateway.create_payment(order(minutes=minutes))
    ahead = (checkout.expires_at - utcnow()).total_seconds() / 60
    assert abs(ahead - expected) < 0.2
    assert fake.created["S4F8K2M9Q"] == 1     # the fake enforces Stripe's 30 min .. 24 h


def test_expiry_already_past(fake, gateway):
    with pytest.raises(PaymentError, match="already passed"):
        gateway.create_payment(order(minutes=-1))
    assert fake.requests == []


def test_wrong_secret_key_is_refused_with_stripe_words(fake):
    gateway = StripeGateway({**fake.settings, "STRIPE_SECRET_KEY": "sk_test_wrong"})
    with pytest.raises(PaymentError, match="HTTP 401.*Invalid API Key"):
        gateway.create_payment(order())
    assert fake.sessions == {}


def test_missing_secret_key_says_what_to_set(fake):
    with pytest.raises(PaymentError, match="STRIPE_SECRET_KEY"):
        StripeGateway({"STRIPE_API_URL": fake.settings["STRIPE_API_URL"]}).create_payment(
            order())


def test_vendor_down(fake, gateway):
    fake.down = True
    with pytest.raises(PaymentError, match="HTTP 500.*unknown error"):
        gateway.create_payment(order())


def test_vendor_garbage(fake, gateway):
    fake.garbage = True
    with pytest.raises(PaymentError, match="HTTP 502.*not a JSON object"):
        gateway.create_payment(order())


def test_vendor_slow_honours_http_timeout(fake):
    fake.delay = 1.0
    gateway = StripeGateway({**fake.settings, "HTTP_TIMEOUT": 0.2})
    with pytest.raises(PaymentError, match="within 0.2 s"):
        gateway.create_payment(order())


def test_vendor_unreachable():
    gateway = StripeGateway({"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_URL":
                             "http://127.0.0.1:9", "HTTP_TIMEOUT": 2})
    with pytest.raises(PaymentError, match="could not reach Stripe"):
        gateway.query("S4F8K2M9Q", "cs_test_x")


# -- amounts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("amount,currency,stripe_amount", [
    (150000, "IDR", 15000000),   # shop: whole rupiah; Stripe: IDR has two decimals
    (1250, "USD", 1250),
    (500, "JPY", 500),           # zero-decimal on both sides
    (10000, "KRW", 10000),
    (25000, "VND", 25000),
    (9999, "PHP", 9999),
])
def test_amount_conversion_round_trips(amount, currency, stripe_amount):
    assert to_stripe(amount, currency) == stripe_amount
    assert from_stripe(stripe_amount, currency) == amount


def test_conversion_refuses_inexact_amounts():
    with pytest.raises(PaymentError):
        from_stripe(15000050, "IDR")            # Rp 150.000,50 is not whole rupiah
    with pytest.raises(PaymentError):
        to_stripe(550, "ISK")                   # Stripe takes ISK in hundreds only
    with pytest.raises(PaymentError):
        to_stripe(150, "CLP")                   # shop counts CLP in hundredths, Stripe whole


@pytest.mark.parametrize("currency,amount,stripe_amount", [
    ("IDR", 150000, 15000000), ("JPY", 1500, 1500), ("USD", 1999, 1999)])
def test_paid_webhook_amount_comes_back_in_shop_units(fake, gateway, currency, amount,
                                                      stripe_amount):
    checkout = gateway.create_payment(order(amount=amount, currency=currency))
    assert fake.sessions[checkout.gateway_ref]["amount_total"] == stripe_amount
    fake.complete(checkout.gateway_ref)
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.completed")
    update = gateway.parse_callback(body, headers)
    assert (update.amount, update.currency) == (amount, currency)


# -- webhooks ----------------------------------------------------------------------------------
def test_completed_and_paid(fake, gateway):
    checkout = gateway.create_payment(order())
    fake.complete(checkout.gateway_ref, "paid")
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.completed")
    update = gateway.parse_callback(body, headers)
    assert update.status == PAID
    assert update.order_ref == "S4F8K2M9Q"
    assert update.gateway_ref == checkout.gateway_ref
    assert update.event_id == json.loads(body)["id"]
    assert (update.amount, update.currency) == (150000, "IDR")


@pytest.mark.parametrize("event_type,payment_status,expected", [
    ("checkout.session.completed", "paid", PAID),
    ("checkout.session.completed", "unpaid", PENDING),
    ("checkout.session.async_payment_succeeded", "paid", PAID),
    ("checkout.session.async_payment_failed", "unpaid", FAILED),
    ("checkout.session.expired", "unpaid", EXPIRED),
])
def test_event_mapping(fake, gateway, event_type, payment_status, expected):
    checkout = gateway.create_payment(order())
    fake.set_status(checkout.gateway_ref, "complete", payment_status)
    body, headers = fake.event(checkout.gateway_ref, event_type)
    assert gateway.parse_callback(body, headers).status == expected


def test_unknown_event_is_pending_and_named(fake, gateway):
    body, headers = fake.event(None, "charge.refunded",
                               obj={"id": "ch_1", "object": "charge", "amount": 100,
                                    "currency": "usd"})
    update = gateway.parse_callback(body, headers)
    assert update.status == PENDING
    assert "charge.refunded" in update.detail
    assert update.amount is None and update.event_id == json.loads(body)["id"]


def test_several_v1_signatures_any_may_match(fake, gateway):
    checkout = gateway.create_payment(order())
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.expired",
                               extra_signatures=("0" * 64, "f" * 64))
    assert gateway.parse_callback(body, headers).status == EXPIRED


def test_headers_are_looked_up_case_insensitively(fake, gateway):
    checkout = gateway.create_payment(order())
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.expired")
    lowered = {k.lower(): v for k, v in headers.items()}
    assert gateway.parse_callback(body, lowered).status == EXPIRED


def test_forged_signature(fake, gateway):
    checkout = gateway.create_payment(order())
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.completed",
                               secret="whsec_someone_else")
    with pytest.raises(ForgedCallback, match="does not match"):
        gateway.parse_callback(body, headers)


def test_tampered_body(fake, gateway):
    checkout = gateway.create_payment(order())
    fake.complete(checkout.gateway_ref)
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.completed")
    tampered = body.replace(b'"amount_total": 15000000', b'"amount_total": 100')
    assert tampered != body
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(tampered, headers)


def test_missing_signature_header(fake, gateway):
    checkout = gateway.create_payment(order())
    body, _ = fake.event(checkout.gateway_ref, "checkout.session.completed")
    with pytest.raises(ForgedCallback, match="without a Stripe-Signature"):
        gateway.parse_callback(body, {"Content-Type": "application/json"})


@pytest.mark.parametrize("header", ["", "v1=abc", "t=123", "t=abc,v1=00", "garbage"])
def test_malformed_signature_header(gateway, header):
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(b"{}", {"Stripe-Signature": header})


@pytest.mark.parametrize("offset", [-301, -3600, 301])
def test_timestamp_outside_tolerance(fake, gateway, offset):
    checkout = gateway.create_payment(order())
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.completed",
                               timestamp=int(time.time()) + offset)
    with pytest.raises(ForgedCallback, match="s off"):
        gateway.parse_callback(body, headers)


def test_timestamp_inside_tolerance(fake, gateway):
    checkout = gateway.create_payment(order())
    body, headers = fake.event(checkout.gateway_ref, "checkout.session.expired",
                               timestamp=int(time.time()) - 290)
    assert gateway.parse_callback(body, headers).status == EXPIRED


def test_sign_matches_the_documented_recipe():
    body = b'{"id": "evt_1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1700000000, body) == expected


# -- query and expire --------------------------------------------------------------------------
def test_query_follows_the_session(fake, gateway):
    checkout = gateway.create_payment(order())
    assert gateway.query("S4F8K2M9Q", checkout.gateway_ref).status == PENDING
    fake.complete(checkout.gateway_ref, "unpaid")
    assert gateway.query("S4F8K2M9Q", checkout.gateway_ref).status == PENDING
    fake.complete(checkout.gateway_ref, "paid")
    update = gateway.query("S4F8K2M9Q", checkout.gateway_ref)
    assert (update.status, update.amount, update.currency) == (PAID, 150000, "IDR")
    assert update.order_ref == "S4F8K2M9Q" and update.event_id is None
    assert fake.requests[-1]["path"] == f"/v1/checkout/sessions/{checkout.gateway_ref}"


def test_query_unknown_session_or_no_id(fake, gateway):
    assert gateway.query("S4F8K2M9Q", "cs_test_nope") is None
    assert gateway.query("S4F8K2M9Q", None) is None


def test_expire(fake, gateway):
    checkout = gateway.create_payment(order())
    gateway.expire("S4F8K2M9Q", checkout.gateway_ref)
    assert fake.sessions[checkout.gateway_ref]["status"] == "expired"
    assert fake.requests[-1]["path"] == f"/v1/checkout/sessions/{checkout.gateway_ref}/expire"
    gateway.expire("S4F8K2M9Q", checkout.gateway_ref)     # already expired: fine
    assert gateway.query("S4F8K2M9Q", checkout.gateway_ref).status == EXPIRED


def test_expire_completed_session_reports_stripe_refusal(fake, gateway):
    checkout = gateway.create_payment(order())
    fake.complete(checkout.gateway_ref)
    with pytest.raises(PaymentError, match='status in \\["open"\\]'):
        gateway.expire("S4F8K2M9Q", checkout.gateway_ref)


def test_callback_reply_is_plain_200(gateway):
    reply = gateway.callback_reply(None)
    assert (reply.status, reply.body, reply.content_type) == (200, "OK", "text/plain")
