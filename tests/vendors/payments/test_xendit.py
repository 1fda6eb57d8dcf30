"""The Xendit adapter against a fake Xendit Invoices API on 127.0.0.1."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from merchant.vendors.payments import gateway_class
from merchant.vendors.payments.base import (
    EXPIRED,
    PAID,
    PENDING,
    ForgedCallback,
    PaymentError,
    PaymentRequest,
)
from merchant.vendors.payments.xendit import XenditGateway
from tests.fakes.xendit import FakeXendit


@pytest.fixture
def fake(httpserver):
    return FakeXendit(httpserver)


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def settings_for(fake, **extra):
    return {
        "XENDIT_SECRET_KEY": fake.secret_key,
        "XENDIT_CALLBACK_TOKEN": fake.callback_token,
        "XENDIT_API_URL": fake.base_url,
        "HTTP_TIMEOUT": 2,
        **extra,
    }


@pytest.fixture
def gateway(fake, session):
    return XenditGateway(settings_for(fake), session)


def order(ref="M7K3Q9D2F", amount=15_000, currency="IDR", method="QRIS", minutes=30):
    return PaymentRequest(
        ref=ref, amount=amount, currency=currency, method=method,
        description="70 Coins for @alice",
        expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes),
        callback_url="http://shop.test/webhooks/xendit",
        return_url=f"http://shop.test/o/{ref}",
        email="alice@example.com",
    )


def test_registered_under_its_name():
    assert gateway_class("xendit") is XenditGateway
    assert XenditGateway.name == "xendit"
    assert set(XenditGateway.required_settings) == {"XENDIT_SECRET_KEY", "XENDIT_CALLBACK_TOKEN"}


def test_create_sends_the_documented_fields(gateway, fake):
    checkout = gateway.create_payment(order())

    sent = fake.requests[-1]
    assert sent["external_id"] == "M7K3Q9D2F"
    assert sent["amount"] == 15_000 and isinstance(sent["amount"], int)
    assert sent["currency"] == "IDR"
    assert sent["payment_methods"] == ["QRIS"]
    assert sent["payer_email"] == "alice@example.com"
    assert sent["success_redirect_url"] == "http://shop.test/o/M7K3Q9D2F"
    assert 29 * 60 <= sent["invoice_duration"] <= 30 * 60
    invoice = fake.only("M7K3Q9D2F")
    assert checkout.gateway_ref == invoice["id"]
    assert checkout.checkout_url == invoice["invoice_url"]
    assert checkout.expires_at is not None
    assert abs(checkout.expires_at - order().expires_at) < dt.timedelta(seconds=5)
    assert fake.created["M7K3Q9D2F"] == 1


def test_two_decimal_currency_is_sent_in_major_units(gateway, fake):
    gateway.create_payment(order(amount=10_050, currency="PHP", method="GCASH"))
    assert fake.requests[-1]["amount"] == 100.5


@pytest.mark.parametrize("ours, theirs", [("BCA_VA", "BCA"), ("CARD", "CREDIT_CARD"),
                                          ("SHOPEEPAY", "SHOPEEPAY"), ("MANDIRI_VA", "MANDIRI")])
def test_method_codes_map_to_xendit_channels(gateway, fake, ours, theirs):
    gateway.create_payment(order(method=ours))
    assert fake.requests[-1]["payment_methods"] == [theirs]


def test_unknown_method_names_the_method(gateway, fake):
    with pytest.raises(PaymentError, match="GOPAY"):
        gateway.create_payment(order(method="GOPAY"))
    assert fake.requests == []


def test_method_override_from_settings(fake, session):
    gateway = XenditGateway(settings_for(fake, XENDIT_METHODS={"GOPAY": "QRIS"}), session)
    gateway.create_payment(order(method="GOPAY"))
    assert fake.requests[-1]["payment_methods"] == ["QRIS"]


def test_wrong_secret_key_is_refused_and_reported(fake, session):
    gateway = XenditGateway(settings_for(fake, XENDIT_SECRET_KEY="xnd_development_wrong"), session)
    with pytest.raises(PaymentError, match="401.*INVALID_API_KEY"):
        gateway.create_payment(order())
    assert fake.created["M7K3Q9D2F"] == 0


def test_vendor_down_is_a_payment_error_with_what_it_said(gateway, fake):
    fake.mode = "down"
    with pytest.raises(PaymentError, match="HTTP 500.*502 Bad Gateway"):
        gateway.create_payment(order())


def test_garbage_reply_is_a_payment_error(gateway, fake):
    fake.mode = "garbage"
    with pytest.raises(PaymentError, match="not JSON.*maintenance"):
        gateway.create_payment(order())


def test_slow_vendor_hits_the_timeout(fake, session):
    fake.mode, fake.slow_seconds = "slow", 0.6
    gateway = XenditGateway(settings_for(fake, HTTP_TIMEOUT=0.1), session)
    with pytest.raises(PaymentError, match="no answer within 0.1 s"):
        gateway.create_payment(order())


def test_unreachable_vendor_is_a_payment_error(session):
    gateway = XenditGateway({"XENDIT_SECRET_KEY": "k", "XENDIT_CALLBACK_TOKEN": "t",
                             "XENDIT_API_URL": "http://127.0.0.1:9", "HTTP_TIMEOUT": 1}, session)
    with pytest.raises(PaymentError, match="could not reach Xendit"):
        gateway.create_payment(order())


def test_past_expiry_is_refused_before_calling(gateway, fake):
    with pytest.raises(PaymentError, match="expiry"):
        gateway.create_payment(order(minutes=-1))
    assert fake.requests == []


# -- callbacks ------------------------------------------------------------------------------

@pytest.mark.parametrize("status, ours", [("PAID", PAID), ("SETTLED", PAID),
                                          ("EXPIRED", EXPIRED), ("PENDING", PENDING)])
def test_callback_status_translation(gateway, fake, status, ours):
    invoice_id = gateway.create_payment(order()).gateway_ref
    fake.set_status(invoice_id, status)
    body, headers = fake.callback(invoice_id)

    update = gateway.parse_callback(body, headers)

    assert update.status == ours
    assert update.order_ref == "M7K3Q9D2F"
    assert update.gateway_ref == invoice_id
    assert update.event_id == f"{invoice_id}:{status}"
    assert (update.amount, update.currency) == (15_000, "IDR")


def test_callback_amount_prefers_paid_amount(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    fake.set_status(invoice_id, "PAID")
    body, headers = fake.callback(invoice_id, paid_amount=14_000)
    assert gateway.parse_callback(body, headers).amount == 14_000


def test_callback_header_lookup_ignores_case(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    body, headers = fake.callback(invoice_id)
    shouted = {key.upper(): value for key, value in headers.items()}
    assert gateway.parse_callback(body, shouted).order_ref == "M7K3Q9D2F"


def test_callback_with_wrong_token_is_forged(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    fake.set_status(invoice_id, "PAID")
    body, headers = fake.callback(invoice_id, token="guessed")
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, headers)


def test_callback_without_token_is_forged(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    body, headers = fake.callback(invoice_id)
    del headers["x-callback-token"]
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, headers)


def test_callback_refused_when_no_token_is_configured(fake, session):
    gateway = XenditGateway(settings_for(fake, XENDIT_CALLBACK_TOKEN=""), session)
    body = json.dumps({"id": "x", "external_id": "M1", "status": "PAID"}).encode()
    with pytest.raises(ForgedCallback, match="XENDIT_CALLBACK_TOKEN"):
        gateway.parse_callback(body, {"x-callback-token": ""})


def test_callback_reply_is_plain_200(gateway):
    reply = gateway.callback_reply(None)
    assert reply.status == 200 and reply.content_type == "text/plain"


# -- query and expire -----------------------------------------------------------------------

def test_query_follows_status_changes(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    assert gateway.query("M7K3Q9D2F", invoice_id).status == PENDING
    fake.set_status(invoice_id, "PAID")
    update = gateway.query("M7K3Q9D2F", invoice_id)
    assert (update.status, update.amount, update.currency) == (PAID, 15_000, "IDR")


def test_query_by_external_id_when_the_invoice_id_was_never_stored(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    fake.set_status(invoice_id, "SETTLED")
    update = gateway.query("M7K3Q9D2F", None)
    assert (update.status, update.gateway_ref) == (PAID, invoice_id)
    assert gateway.query("NEVER-SEEN", None) is None


def test_query_unknown_invoice_is_none(gateway):
    assert gateway.query("M7K3Q9D2F", "0123456789abcdef01234567") is None


def test_query_vendor_down_is_a_payment_error(gateway, fake):
    fake.mode = "down"
    with pytest.raises(PaymentError, match="500"):
        gateway.query("M7K3Q9D2F", "0123456789abcdef01234567")


def test_expire_expires_a_pending_invoice(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    gateway.expire("M7K3Q9D2F", invoice_id)
    assert fake.invoices[invoice_id]["status"] == "EXPIRED"
    assert gateway.query("M7K3Q9D2F", invoice_id).status == EXPIRED


def test_expire_leaves_a_paid_invoice_alone(gateway, fake):
    invoice_id = gateway.create_payment(order()).gateway_ref
    fake.set_status(invoice_id, "PAID")
    gateway.expire("M7K3Q9D2F", invoice_id)
    assert fake.invoices[invoice_id]["status"] == "PAID"


def test_adapter_makes_its_own_session_when_given_none(fake):
    gateway = XenditGateway(settings_for(fake))
    try:
        assert gateway.create_payment(order()).gateway_ref
    finally:
        gateway.session.close()
