"""The Tripay adapter against a fake Tripay API on 127.0.0.1."""
from __future__ import annotations

import calendar
import datetime as dt
import json

import pytest
import requests

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
from merchant.vendors.payments.tripay import TripayGateway, signature
from tests.fakes.tripay import FakeTripay


@pytest.fixture
def fake(httpserver):
    return FakeTripay(httpserver)


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def settings_for(fake, **extra):
    return {
        "TRIPAY_API_KEY": fake.api_key,
        "TRIPAY_PRIVATE_KEY": fake.private_key,
        "TRIPAY_MERCHANT_CODE": fake.merchant_code,
        "TRIPAY_API_URL": fake.base_url,
        "HTTP_TIMEOUT": 2,
        **extra,
    }


@pytest.fixture
def gateway(fake, session):
    return TripayGateway(settings_for(fake), session)


EXPIRES = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).replace(tzinfo=None, microsecond=0)


def order(ref="M7K3Q9D2F", amount=50_000, currency="IDR", method="QRIS", email="a@example.com"):
    return PaymentRequest(
        ref=ref, amount=amount, currency=currency, method=method,
        description="257 Diamonds for 12345678 (1234)", expires_at=EXPIRES,
        callback_url="http://shop.test/webhooks/tripay", return_url=f"http://shop.test/o/{ref}",
        email=email, phone="081234567890", customer_name="Alice",
    )


def test_registered_under_its_name():
    assert gateway_class("tripay") is TripayGateway
    assert TripayGateway.name == "tripay"


def test_signature_matches_tripays_published_check_value():
    digest = signature("ytf6ooi2gmlNPfpchd94jDOk8hRWOu", "T0001INV555671500000")
    assert digest.startswith("9f167eba")
    assert digest == "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"


def test_create_qris_sends_the_documented_fields(gateway, fake):
    checkout = gateway.create_payment(order())

    sent = fake.requests[-1]
    assert sent["method"] == "QRIS"
    assert sent["merchant_ref"] == "M7K3Q9D2F"
    assert sent["amount"] == 50_000
    assert sent["customer_email"] == "a@example.com"
    assert sent["customer_phone"] == "081234567890"
    assert sent["order_items"] == [{"sku": "M7K3Q9D2F", "name": "257 Diamonds for 12345678 (1234)",
                                    "price": 50_000, "quantity": 1}]
    assert sent["callback_url"] == "http://shop.test/webhooks/tripay"
    assert sent["expired_time"] == calendar.timegm(EXPIRES.utctimetuple())
    assert sent["signature"] == signature(fake.private_key, "T0001M7K3Q9D2F50000")
    transaction = fake.only("M7K3Q9D2F")
    assert checkout.gateway_ref == transaction["reference"]
    assert checkout.qr_string == transaction["qr_string"] and checkout.qr_string
    assert checkout.checkout_url == transaction["checkout_url"]
    assert checkout.pay_code is None
    assert checkout.expires_at == EXPIRES
    assert fake.created["M7K3Q9D2F"] == 1


def test_create_virtual_account_returns_the_pay_code(gateway, fake):
    checkout = gateway.create_payment(order(method="BCA_VA"))
    assert fake.requests[-1]["method"] == "BCAVA"
    assert checkout.pay_code == fake.only("M7K3Q9D2F")["pay_code"]
    assert checkout.qr_string is None


@pytest.mark.parametrize("ours, theirs", [("BRI_VA", "BRIVA"), ("MANDIRI_VA", "MANDIRIVA"),
                                          ("BNI_VA", "BNIVA"), ("OVO", "OVO"), ("DANA", "DANA"),
                                          ("SHOPEEPAY", "SHOPEEPAY")])
def test_method_codes_map_to_tripay_channels(gateway, fake, ours, theirs):
    gateway.create_payment(order(method=ours))
    assert fake.requests[-1]["method"] == theirs


def test_unknown_method_names_the_method(gateway, fake):
    with pytest.raises(PaymentError, match="GOPAY"):
        gateway.create_payment(order(method="GOPAY"))
    assert fake.requests == []


def test_method_override_from_settings(fake, session):
    gateway = TripayGateway(settings_for(fake, TRIPAY_METHODS={"QRIS": "QRISC"}), session)
    gateway.create_payment(order())
    assert fake.requests[-1]["method"] == "QRISC"


def test_wrong_private_key_gives_a_signature_the_vendor_refuses(fake, session):
    gateway = TripayGateway(settings_for(fake, TRIPAY_PRIVATE_KEY="not-the-key"), session)
    with pytest.raises(PaymentError, match="400.*Invalid signature"):
        gateway.create_payment(order())
    assert fake.created["M7K3Q9D2F"] == 0


def test_wrong_api_key_is_refused(fake, session):
    gateway = TripayGateway(settings_for(fake, TRIPAY_API_KEY="DEV-wrong"), session)
    with pytest.raises(PaymentError, match="401.*Invalid API Key"):
        gateway.create_payment(order())


def test_non_idr_and_missing_email_are_refused_before_calling(gateway, fake):
    with pytest.raises(PaymentError, match="IDR"):
        gateway.create_payment(order(currency="PHP"))
    with pytest.raises(PaymentError, match="TRIPAY_CUSTOMER_EMAIL"):
        gateway.create_payment(order(email=None))
    assert fake.requests == []


def test_missing_email_falls_back_to_the_configured_one(fake, session):
    gateway = TripayGateway(settings_for(fake, TRIPAY_CUSTOMER_EMAIL="shop@example.com"), session)
    gateway.create_payment(order(email=None))
    assert fake.requests[-1]["customer_email"] == "shop@example.com"


def test_vendor_down_is_a_payment_error_with_what_it_said(gateway, fake):
    fake.mode = "down"
    with pytest.raises(PaymentError, match="HTTP 500.*503 Service"):
        gateway.create_payment(order())


def test_garbage_reply_is_a_payment_error(gateway, fake):
    fake.mode = "garbage"
    with pytest.raises(PaymentError, match="maintenance"):
        gateway.create_payment(order())


def test_slow_vendor_hits_the_timeout(fake, session):
    fake.mode, fake.slow_seconds = "slow", 0.6
    gateway = TripayGateway(settings_for(fake, HTTP_TIMEOUT=0.1), session)
    with pytest.raises(PaymentError, match="no answer within 0.1 s"):
        gateway.create_payment(order())


# -- callbacks ------------------------------------------------------------------------------

@pytest.mark.parametrize("status, ours", [("PAID", PAID), ("FAILED", FAILED),
                                          ("EXPIRED", EXPIRED), ("REFUND", REFUNDED)])
def test_callback_status_translation(gateway, fake, status, ours):
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, status)
    body, headers = fake.callback(reference)

    update = gateway.parse_callback(body, headers)

    assert update.status == ours
    assert update.order_ref == "M7K3Q9D2F"
    assert update.gateway_ref == reference
    assert update.event_id == f"{reference}:{status}"
    assert (update.amount, update.currency) == (50_000, "IDR")


def test_callback_amount_is_what_we_asked_when_the_customer_pays_the_fee(gateway, fake):
    fake.fee_on_customer = True
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, "PAID")
    body, headers = fake.callback(reference)
    assert json.loads(body)["total_amount"] == 50_750     # the customer paid our 50,000 + fee

    assert gateway.parse_callback(body, headers).amount == 50_000
    assert gateway.query("M7K3Q9D2F", reference).amount == 50_000


def test_callback_amount_shows_an_underpayment(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, "PAID")
    body, headers = fake.callback(reference, total_amount=40_000)
    assert gateway.parse_callback(body, headers).amount == 40_000


def test_callback_header_lookup_ignores_case(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, "PAID")
    body, headers = fake.callback(reference)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert gateway.parse_callback(body, lowered).status == PAID


def test_forged_callback_is_refused(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, "PAID")
    body, headers = fake.callback(reference, signature=signature("guessed-key", b"x"))
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, headers)


def test_tampered_body_is_refused(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    body, headers = fake.callback(reference)
    tampered = body.replace(b'"UNPAID"', b'"PAID"')
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(tampered, headers)


def test_callback_without_signature_is_forged(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    body, headers = fake.callback(reference)
    del headers["X-Callback-Signature"]
    with pytest.raises(ForgedCallback):
        gateway.parse_callback(body, headers)


def test_callback_for_another_event_is_rejected(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    body, headers = fake.callback(reference, event="something_else")
    with pytest.raises(PaymentError, match="something_else"):
        gateway.parse_callback(body, headers)


def test_callback_reply_is_json_success(gateway):
    reply = gateway.callback_reply(None)
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {"success": True}


# -- query and expire -----------------------------------------------------------------------

def test_query_follows_status_changes(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    assert gateway.query("M7K3Q9D2F", reference).status == PENDING
    fake.set_status(reference, "PAID")
    update = gateway.query("M7K3Q9D2F", reference)
    assert (update.status, update.amount, update.event_id) == (PAID, 50_000, f"{reference}:PAID")


def test_query_by_merchant_ref_when_the_reference_was_never_stored(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    fake.set_status(reference, "PAID")
    update = gateway.query("M7K3Q9D2F", None)
    assert (update.status, update.gateway_ref) == (PAID, reference)
    assert gateway.query("NEVER-SEEN", None) is None


def test_query_unknown_reference_is_none(gateway):
    assert gateway.query("M7K3Q9D2F", "DEV-T0001000000000XXXXX") is None


def test_query_vendor_down_is_a_payment_error(gateway, fake):
    fake.mode = "down"
    with pytest.raises(PaymentError, match="500"):
        gateway.query("M7K3Q9D2F", "DEV-T0001000000000XXXXX")


def test_expire_is_a_no_op_without_calling_tripay(gateway, fake):
    reference = gateway.create_payment(order()).gateway_ref
    fake.mode = "down"                       # any call would now fail
    gateway.expire("M7K3Q9D2F", reference)
    assert fake.transactions[reference]["status"] == "UNPAID"
