"""Refunds through each gateway's own refund API, against fakes built from the vendors' docs.

Xendit: POST /refunds by invoice_id; Midtrans: POST /v2/{order_id}/refund; Stripe: POST
/v1/refunds on the Checkout Session's PaymentIntent; Tripay publishes no refund endpoint.
"""
from __future__ import annotations

import base64
import datetime as dt

import pytest
import requests

from merchant.vendors.payments.base import (
    PENDING,
    REFUNDED,
    PaymentError,
    PaymentRequest,
    RefundRequest,
)
from merchant.vendors.payments.midtrans import MidtransGateway
from merchant.vendors.payments.stripe import StripeGateway
from merchant.vendors.payments.tripay import TripayGateway
from merchant.vendors.payments.xendit import XenditGateway
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.stripe import FakeStripe
from tests.fakes.xendit import FakeXendit

REF = "R8K2M4Q7T"


def payment(method: str, amount: int = 15_000, currency: str = "IDR") -> PaymentRequest:
    return PaymentRequest(
        ref=REF, amount=amount, currency=currency, method=method,
        description="70 Coins for @alice",
        expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=60),
        callback_url="http://shop.test/webhooks/x", return_url=f"http://shop.test/o/{REF}",
        email="alice@example.com",
    )


def refund_of(gateway_ref: str | None, method: str, amount: int = 15_000,
              currency: str = "IDR", reason: str = "delivery failed: ID not found"):
    return RefundRequest(ref=REF, gateway_ref=gateway_ref, amount=amount, currency=currency,
                         method=method, reason=reason)


# -- Xendit -------------------------------------------------------------------------------------

@pytest.fixture
def xendit(httpserver):
    fake = FakeXendit(httpserver)
    gateway = XenditGateway({"XENDIT_SECRET_KEY": fake.secret_key,
                             "XENDIT_CALLBACK_TOKEN": fake.callback_token,
                             "XENDIT_API_URL": fake.base_url, "HTTP_TIMEOUT": 2})
    return fake, gateway


def xendit_paid(fake, gateway, method="QRIS", channel="QRIS") -> str:
    invoice_id = gateway.create_payment(payment(method)).gateway_ref
    fake.set_status(invoice_id, "PAID", channel=channel)
    return invoice_id


def test_xendit_refunds_a_paid_invoice_with_the_documented_request(xendit):
    fake, gateway = xendit
    invoice_id = xendit_paid(fake, gateway)

    refund = gateway.refund(refund_of(invoice_id, "QRIS"))

    [sent] = fake.refund_requests
    assert sent["body"] == {"invoice_id": invoice_id, "reference_id": f"{REF}-refund",
                            "amount": 15_000, "currency": "IDR", "reason": "CANCELLATION"}
    assert sent["headers"]["Idempotency-Key"] == f"{REF}-refund"
    user = base64.b64decode(sent["headers"]["Authorization"][6:]).decode()
    assert user == f"{fake.secret_key}:"
    [stored] = fake.refunds.values()
    assert refund.refund_ref == stored["id"] and refund.refund_ref.startswith("rfd-")
    assert refund.status == REFUNDED
    assert stored["amount"] == 15_000 and stored["invoice_id"] == invoice_id


def test_xendit_takes_two_decimal_currencies_in_major_units(xendit):
    fake, gateway = xendit
    invoice_id = gateway.create_payment(payment("GCASH", 12_345, "PHP")).gateway_ref
    fake.set_status(invoice_id, "PAID", channel="GCASH")

    assert gateway.refund(refund_of(invoice_id, "GCASH", 12_345, "PHP")).status == REFUNDED
    sent = fake.refund_requests[-1]["body"]
    assert (sent["amount"], sent["currency"]) == (123.45, "PHP")


def test_xendit_retry_gets_the_same_refund_not_a_second_one(xendit):
    fake, gateway = xendit
    invoice_id = xendit_paid(fake, gateway)

    first = gateway.refund(refund_of(invoice_id, "QRIS"))
    again = gateway.refund(refund_of(invoice_id, "QRIS"))

    assert again.refund_ref == first.refund_ref
    assert len(fake.refunds) == 1


def test_xendit_pending_refund_is_reported_pending(xendit):
    fake, gateway = xendit
    fake.refund_status = "PENDING"       # e-wallet refunds finish later, by callback
    invoice_id = xendit_paid(fake, gateway, "DANA", "DANA")

    assert gateway.refund(refund_of(invoice_id, "DANA")).status == PENDING


@pytest.mark.parametrize("method", ["BCA_VA", "ALFAMART", "OVO", "ASTRAPAY"])
def test_xendit_cannot_refund_transfers_stores_ovo_or_astrapay(xendit, method):
    fake, gateway = xendit
    invoice_id = gateway.create_payment(payment(method)).gateway_ref

    assert gateway.can_refund(method) is False
    with pytest.raises(PaymentError, match=f"cannot refund {method}.*manual refund"):
        gateway.refund(refund_of(invoice_id, method))
    assert fake.refund_requests == []


def test_xendit_refusal_reaches_the_operator_in_its_words(xendit):
    fake, gateway = xendit
    invoice_id = xendit_paid(fake, gateway)
    fake.refund_refusals[invoice_id] = ("REFUND_NOT_SUPPORTED", "Refund feature is not "
                                        "available for this QRIS issuer")

    with pytest.raises(PaymentError, match="HTTP 400: REFUND_NOT_SUPPORTED: Refund feature is "
                                           "not available for this QRIS issuer"):
        gateway.refund(refund_of(invoice_id, "QRIS"))


def test_xendit_refuses_an_unpaid_invoice(xendit):
    fake, gateway = xendit
    invoice_id = gateway.create_payment(payment("QRIS")).gateway_ref

    with pytest.raises(PaymentError, match="INELIGIBLE_TRANSACTION.*PENDING"):
        gateway.refund(refund_of(invoice_id, "QRIS"))


def test_xendit_outage_is_a_payment_error(xendit):
    fake, gateway = xendit
    invoice_id = xendit_paid(fake, gateway)
    fake.mode = "down"

    with pytest.raises(PaymentError, match="POST /refunds: HTTP 500"):
        gateway.refund(refund_of(invoice_id, "QRIS"))
    assert fake.refunds == {}


# -- Midtrans -----------------------------------------------------------------------------------

@pytest.fixture
def midtrans(httpserver):
    fake = FakeMidtrans(httpserver)
    return fake, MidtransGateway(fake.settings)


def refund_calls(fake):
    return [r for r in fake.requests if r["path"].endswith("/refund")]


@pytest.mark.parametrize("method,payment_type", [("GOPAY", "gopay"), ("CARD", "credit_card"),
                                                 ("QRIS", "qris")])
def test_midtrans_refunds_a_settled_payment_with_the_documented_request(midtrans, method,
                                                                        payment_type):
    fake, gateway = midtrans
    gateway_ref = gateway.create_payment(payment(method)).gateway_ref
    fake.pay(REF, payment_type=payment_type)

    refund = gateway.refund(refund_of(gateway_ref, method))

    [sent] = refund_calls(fake)
    assert sent["method"] == "POST" and sent["path"] == f"/v2/{REF}/refund"
    assert sent["json"] == {"refund_key": f"{REF}-refund", "amount": 15_000,
                            "reason": "delivery failed: ID not found"}
    expected = base64.b64encode(f"{fake.server_key}:".encode()).decode()
    assert sent["headers"]["Authorization"] == f"Basic {expected}"
    assert refund.refund_ref == f"{REF}-refund" and refund.status == REFUNDED
    assert fake.transactions[REF]["transaction_status"] == "refund"
    assert fake.refunds[REF][0]["refund_amount"] == "15000.00"


def test_midtrans_retry_with_the_same_refund_key_is_the_same_refund(midtrans):
    fake, gateway = midtrans
    gateway.create_payment(payment("GOPAY"))
    fake.pay(REF)

    first = gateway.refund(refund_of(REF, "GOPAY"))
    again = gateway.refund(refund_of(REF, "GOPAY"))

    assert again == first
    assert len(fake.refunds[REF]) == 1


@pytest.mark.parametrize("method", ["BCA_VA", "MANDIRI_BILL", "INDOMARET"])
def test_midtrans_cannot_refund_transfers_or_stores(midtrans, method):
    fake, gateway = midtrans

    assert gateway.can_refund(method) is False
    with pytest.raises(PaymentError, match=f"cannot refund {method}.*manual refund"):
        gateway.refund(refund_of(REF, method))
    assert refund_calls(fake) == []


def test_midtrans_refusal_carries_its_status_message(midtrans):
    fake, gateway = midtrans
    gateway.create_payment(payment("GOPAY"))
    fake.pay(REF, transaction_status="pending")     # not settled: Midtrans says cancel instead

    with pytest.raises(PaymentError, match="status 412.*cannot modify the status"):
        gateway.refund(refund_of(REF, "GOPAY"))


def test_midtrans_outage_is_a_payment_error(midtrans):
    fake, gateway = midtrans
    gateway.create_payment(payment("GOPAY"))
    fake.pay(REF)
    fake.down = True

    with pytest.raises(PaymentError, match="HTTP 502"):
        gateway.refund(refund_of(REF, "GOPAY"))
    assert REF not in fake.refunds


# -- Stripe -------------------------------------------------------------------------------------

@pytest.fixture
def stripe(httpserver):
    fake = FakeStripe(httpserver)
    return fake, StripeGateway(fake.settings)


def stripe_paid(fake, gateway) -> tuple[str, str]:
    session_id = gateway.create_payment(payment("CARD")).gateway_ref
    return session_id, fake.complete(session_id)["payment_intent"]


def test_stripe_refunds_the_sessions_payment_intent_with_the_documented_request(stripe):
    fake, gateway = stripe
    session_id, intent = stripe_paid(fake, gateway)

    refund = gateway.refund(refund_of(session_id, "CARD"))

    [sent] = [r for r in fake.requests if r["path"] == "/v1/refunds"]
    assert sent["form"] == {"payment_intent": intent, "amount": "1500000",   # Rp 15.000 x 100
                            "metadata[order_ref]": REF}
    assert sent["headers"]["Idempotency-Key"] == f"{REF}-refund"
    assert sent["headers"]["Authorization"] == f"Bearer {fake.secret_key}"
    [stored] = fake.refunds.values()
    assert refund.refund_ref == stored["id"] and refund.refund_ref.startswith("re_")
    assert refund.status == REFUNDED
    assert stored["payment_intent"] == intent and stored["amount"] == 1_500_000


def test_stripe_retry_replays_the_first_refund(stripe):
    fake, gateway = stripe
    session_id, _ = stripe_paid(fake, gateway)

    first = gateway.refund(refund_of(session_id, "CARD"))
    again = gateway.refund(refund_of(session_id, "CARD"))

    assert again.refund_ref == first.refund_ref
    assert len(fake.refunds) == 1


def test_stripe_pending_refund_is_reported_pending(stripe):
    fake, gateway = stripe
    fake.refund_status = "pending"
    session_id, _ = stripe_paid(fake, gateway)

    assert gateway.refund(refund_of(session_id, "CARD")).status == PENDING


def test_stripe_says_when_the_payment_was_already_refunded(stripe):
    fake, gateway = stripe
    session_id, intent = stripe_paid(fake, gateway)
    # refunded from the Stripe dashboard before the operator pressed Refund here
    requests.post(fake.settings["STRIPE_API_URL"] + "/v1/refunds", data={"payment_intent": intent},
                  headers={"Authorization": f"Bearer {fake.secret_key}"}, timeout=2)

    with pytest.raises(PaymentError, match="charge_already_refunded.*has already been refunded"):
        gateway.refund(refund_of(session_id, "CARD"))


def test_stripe_unpaid_session_has_nothing_to_refund(stripe):
    fake, gateway = stripe
    session_id = gateway.create_payment(payment("CARD")).gateway_ref

    with pytest.raises(PaymentError, match="no payment to refund"):
        gateway.refund(refund_of(session_id, "CARD"))
    assert fake.refunds == {}


def test_stripe_outage_is_a_payment_error(stripe):
    fake, gateway = stripe
    session_id, _ = stripe_paid(fake, gateway)
    fake.down = True

    with pytest.raises(PaymentError, match="HTTP 500"):
        gateway.refund(refund_of(session_id, "CARD"))
    assert fake.refunds == {}


# -- Tripay -------------------------------------------------------------------------------------

def test_tripay_has_no_refund_api():
    gateway = TripayGateway({"TRIPAY_API_KEY": "k", "TRIPAY_PRIVATE_KEY": "p",
                             "TRIPAY_MERCHANT_CODE": "T0001"})

    assert not any(gateway.can_refund(m) for m in ("QRIS", "BCA_VA", "OVO", "DANA"))
    with pytest.raises(PaymentError, match="does not refund through its API"):
        gateway.refund(refund_of("T0001-REF", "QRIS"))
