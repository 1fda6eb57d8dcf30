"""The Midtrans adapter against a fake Midtrans built from Midtrans's documentation."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from merchant.vendors.payments import gateway_class
from merchant.vendors.payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    ForgedCallback,
    PaymentError,
    PaymentRequest,
)
from merchant.vendors.payments.midtrans import MidtransGateway, parse_rupiah, signature, status_of
from tests.fakes.midtrans import FakeMidtrans


@pytest.fixture
def fake(httpserver):
    return FakeMidtrans(httpserver)


@pytest.fixture
def gateway(fake):
    return MidtransGateway(fake.settings)


def order(method="GOPAY", ref="M7K3Q9D2F", amount=650000, **kw):
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=30)
    fields = dict(ref=ref, amount=amount, currency="IDR", method=method,
                  description="Mobile Legends 86 Diamonds", expires_at=expires,
                  callback_url="https://shop.example/webhooks/midtrans",
                  return_url="https://shop.example/o/M7K3Q9D2F", email="a@example.com")
    fields.update(kw)
    return PaymentRequest(**fields)


def test_registered_by_name():
    assert gateway_class("midtrans") is MidtransGateway
    assert MidtransGateway.required_settings == ("MIDTRANS_SERVER_KEY",)


def test_published_signature_check_value():
    # Inputs from Midtrans's "Receiving Notifications" page (order 1111, status 200,
    # 100000.00, its sample server key); the page prints the recipe, not the digest.
    assert signature("1111", "200", "100000.00", "askvnoibnosifnboseofinbofinfgbiufglnbfg") == (
        "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265"
        "ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231")


def test_snap_redirect_for_ewallet(fake, gateway):
    checkout = gateway.create_payment(order("GOPAY"))
    assert checkout.gateway_ref == "M7K3Q9D2F"      # Snap returns only a token
    assert checkout.checkout_url == f"{fake.settings['MIDTRANS_SNAP_URL']}" \
        f"/snap/v4/redirection/{fake.snaps['M7K3Q9D2F']['token']}"
    assert checkout.qr_string is None
    sent = fake.snaps["M7K3Q9D2F"]
    assert sent["transaction_details"] == {"order_id": "M7K3Q9D2F", "gross_amount": 650000}
    assert sent["enabled_payments"] == ["gopay"]
    assert sent["expiry"]["unit"] == "minute" and 29 <= sent["expiry"]["duration"] <= 30
    assert sent["expiry"]["start_time"].endswith("+0700")
    assert sent["callbacks"] == {"finish": "https://shop.example/o/M7K3Q9D2F"}
    headers = fake.requests[-1]["headers"]
    assert headers["X-Override-Notification"] == "https://shop.example/webhooks/midtrans"


@pytest.mark.parametrize("method,channel", [("SHOPEEPAY", "shopeepay"), ("BCA_VA", "bca_va"),
                                            ("CARD", "credit_card"), ("OVO", "ovo"),
                                            ("DANA", "dana")])
def test_snap_enabled_payments_mapping(fake, gateway, method, channel):
    gateway.create_payment(order(method))
    assert fake.snaps["M7K3Q9D2F"]["enabled_payments"] == [channel]


def test_unknown_method_is_refused_by_name(fake, gateway):
    with pytest.raises(PaymentError, match="GCASH"):
        gateway.create_payment(order("GCASH"))
    assert fake.requests == []


def test_expiry_already_past(fake, gateway):
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    with pytest.raises(PaymentError, match="already passed"):
        gateway.create_payment(order(expires_at=past))
    assert fake.requests == []


def test_only_idr(gateway):
    with pytest.raises(PaymentError, match="IDR"):
        gateway.create_payment(order(currency="USD"))


def test_qris_uses_core_api_charge(fake, gateway):
    checkout = gateway.create_payment(order("QRIS"))
    tx = fake.transactions["M7K3Q9D2F"]
    assert checkout.gateway_ref == tx["transaction_id"]
    assert checkout.qr_string == tx["qr_string"] and checkout.qr_string.startswith("000201")
    assert checkout.checkout_url is None
    # expiry_time (WIB, no offset) came back as naive UTC about 30 minutes ahead
    ahead = checkout.expires_at - dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert dt.timedelta(minutes=28) < ahead <= dt.timedelta(minutes=31)
    sent = fake.requests[-1]
    assert sent["path"] == "/v2/charge" and sent["json"]["payment_type"] == "qris"
    assert sent["json"]["transaction_details"]["gross_amount"] == 650000
    assert sent["json"]["custom_expiry"]["unit"] == "minute"


def test_wrong_server_key_is_refused_with_midtrans_words(fake):
    gateway = MidtransGateway({**fake.settings, "MIDTRANS_SERVER_KEY": "SB-Mid-server-wrong"})
    with pytest.raises(PaymentError, match="Access denied"):
        gateway.create_payment(order("GOPAY"))
    with pytest.raises(PaymentError, match="401.*Access denied"):
        gateway.create_payment(order("QRIS"))
    assert not fake.snaps and not fake.transactions


def test_auth_header_is_basic_server_key_colon(fake, gateway):
    gateway.create_payment(order())
    token = fake.requests[-1]["headers"]["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(token).decode() == fake.server_key + ":"


def test_reused_order_id_reports_midtrans_message(fake, gateway):
    gateway.create_payment(order("QRIS"))
    with pytest.raises(PaymentError, match="406.*utilized"):
        gateway.create_payment(order("QRIS"))
    assert fake.created["M7K3Q9D2F"] == 1


def test_vendor_down(fake, gateway):
    fake.down = True
    with pytest.raises(PaymentError, match="HTTP 502"):
        gateway.create_payment(order())


def test_vendor_garbage(fake, gateway):
    fake.garbage = True
    with pytest.raises(PaymentError, match="not a JSON object"):
        gateway.create_payment(order("QRIS"))


def test_vendor_slow_honours_http_timeout(fake):
    fake.delay = 1.0
    gateway = MidtransGateway({**fake.settings, "HTTP_TIMEOUT": 0.2})
    with pytest.raises(PaymentError, match="within 0.2 s"):
        gateway.query("M7K3Q9D2F", None)


def test_vendor_unreachable():
    gateway = MidtransGateway({"MIDTRANS_SERVER_KEY": "k", "MIDTRANS_API_URL":
                               "http://127.0.0.1:9", "HTTP_TIMEOUT": 2})
    with pytest.raises(PaymentError, match="could not reach Midtrans"):
        gateway.query("X1", None)


def test_missing_server_key_says_what_to_set():
    with pytest.raises(PaymentError, match="MIDTRANS_SERVER_KEY"):
        MidtransGateway({}).create_payment(order())


# -- notifications -----------------------------------------------------------------------------
def test_callback_settlement_is_paid(fake, gateway):
    gateway.create_payment(order("QRIS"))
    fake.pay("M7K3Q9D2F", "qris", "settlement")
    body, headers = fake.notification("M7K3Q9D2F")
    update = gateway.parse_callback(body, headers)
    assert update.status == PAID
    assert update.order_ref == "M7K3Q9D2F"
    assert update.amount == 650000 and update.currency == "IDR"
    assert update.event_id == "M7K3Q9D2F:settlement"
    assert update.gateway_ref == fake.transactions["M7K3Q9D2F"]["transaction_id"]
    assert "settlement" in update.detail


def test_callback_published_example_verifies():
    gateway = MidtransGateway({"MIDTRANS_SERVER_KEY": "askvnoibnosifnboseofinbofinfgbiufglnbfg"})
    note = {"order_id": "1111", "status_code": "200", "gross_amount": "100000.00",
            "transaction_status": "settlement", "fraud_status": "accept", "currency": "IDR",
            "signature_key": signature("1111", "200", "100000.00",
                                       "askvnoibnosifnboseofinbofinfgbiufglnbfg")}
    update = gateway.parse_callback(json.dumps(note).encode(), {})
    assert (update.status, update.amount) == (PAID, 100000)


def test_callback_forged_signature(fake, gateway):
    gateway.create_payment(order("QRIS"))
    body, headers = fake.notification("M7K3Q9D2F", "settlement", server_key="someone-else")
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, headers)


def test_callback_tampered_amount(fake, gateway):
    gateway.create_payment(order("QRIS"))
    body, headers = fake.notification("M7K3Q9D2F", "settlement")
    tampered = body.replace(b'"650000.00"', b'"1000.00"')
    assert tampered != body
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(tampered, headers)


@pytest.mark.parametrize("drop", ["signature_key", "status_code", "gross_amount", "order_id"])
def test_callback_missing_fields(fake, gateway, drop):
    gateway.create_payment(order("QRIS"))
    body, headers = fake.notification("M7K3Q9D2F", "settlement")
    note = json.loads(body)
    del note[drop]
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(json.dumps(note).encode(), headers)


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b"\xff\xfe"])
def test_callback_garbage_is_refused(gateway, body):
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, {})


def test_callback_fractional_rupiah_is_garbage(fake, gateway):
    gateway.create_payment(order("QRIS"))
    body, headers = fake.notification("M7K3Q9D2F", "settlement", gross_amount="650000.50")
    with pytest.raises(PaymentError, match="whole rupiah"):
        gateway.parse_callback(body, headers)


@pytest.mark.parametrize("text,value", [("650000.00", 650000), ("100000", 100000),
                                        ("12345678901234.00", 12345678901234)])
def test_parse_rupiah_exact(text, value):
    assert parse_rupiah(text) == value


@pytest.mark.parametrize("text", ["650000.01", "abc", "", "1e3.5", "NaN", "-5.00", "Infinity"])
def test_parse_rupiah_rejects(text):
    with pytest.raises(PaymentError):
        parse_rupiah(text)


@pytest.mark.parametrize("transaction_status,fraud_status,expected", [
    ("settlement", "accept", PAID),
    ("capture", "accept", PAID),
    ("capture", "challenge", PENDING),
    ("capture", "deny", FAILED),
    ("pending", "accept", PENDING),
    ("authorize", "accept", PENDING),
    ("deny", "deny", FAILED),
    ("cancel", "accept", FAILED),
    ("failure", "accept", FAILED),
    ("expire", "accept", EXPIRED),
    ("refund", "accept", REFUNDED),
    ("partial_refund", "accept", REFUNDED),
    ("something_new", "accept", PENDING),
])
def test_status_mapping(fake, gateway, transaction_status, fraud_status, expected):
    assert status_of(transaction_status, fraud_status) == expected
    gateway.create_payment(order("CARD"))
    fake.pay("M7K3Q9D2F", "credit_card", transaction_status, fraud_status)
    body, headers = fake.notification("M7K3Q9D2F")
    update = gateway.parse_callback(body, headers)
    assert update.status == expected
    assert update.event_id == f"M7K3Q9D2F:{transaction_status}"


# -- query and expire --------------------------------------------------------------------------
def test_query_unknown_until_customer_picks_a_method(fake, gateway):
    gateway.create_payment(order("BCA_VA"))
    assert gateway.query("M7K3Q9D2F", "M7K3Q9D2F") is None
    fake.pay("M7K3Q9D2F", "bank_transfer", "pending")
    assert gateway.query("M7K3Q9D2F", "M7K3Q9D2F").status == PENDING
    fake.set_status("M7K3Q9D2F", "settlement")
    update = gateway.query("M7K3Q9D2F", "M7K3Q9D2F")
    assert (update.status, update.amount, update.currency) == (PAID, 650000, "IDR")
    assert fake.requests[-1]["path"] == "/v2/M7K3Q9D2F/status"


def test_expire_pending_qris(fake, gateway):
    checkout = gateway.create_payment(order("QRIS"))
    gateway.expire("M7K3Q9D2F", checkout.gateway_ref)
    assert fake.transactions["M7K3Q9D2F"]["transaction_status"] == "expire"
    assert fake.requests[-1]["path"] == "/v2/M7K3Q9D2F/expire"
    assert gateway.query("M7K3Q9D2F", checkout.gateway_ref).status == EXPIRED


def test_expire_without_transaction_is_quiet(fake, gateway):
    gateway.create_payment(order("GOPAY"))
    gateway.expire("M7K3Q9D2F", "M7K3Q9D2F")


def test_expire_paid_transaction_reports_refusal(fake, gateway):
    gateway.create_payment(order("QRIS"))
    fake.pay("M7K3Q9D2F", "qris", "settlement")
    with pytest.raises(PaymentError, match="412"):
        gateway.expire("M7K3Q9D2F", None)


def test_callback_reply_is_plain_200(gateway):
    reply = gateway.callback_reply(None)
    assert (reply.status, reply.body, reply.content_type) == (200, "OK", "text/plain")
