"""Every real gateway through the real app, against its fake vendor server on 127.0.0.1.

The shop is configured with MERCHANT_* settings pointing at the fake; callbacks are built and
signed by the fake exactly as the vendor sends them, then POSTed to /webhooks/<gateway> with
the same raw body and headers. Each driver below gives the tests one vocabulary for the five
ways of paying: Xendit Invoices, Midtrans Snap, Midtrans QRIS, Stripe Checkout, Tripay QRIS.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import segno
import sqlalchemy as sa
from conftest import buy, get_order, history, make_app, order_ref, work
from pytest_httpserver import HTTPServer

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, WebhookEvent, utcnow
from merchant.orders import reconciliation
from merchant.orders.checkout import GATEWAY_DOWN
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.stripe import FakeStripe
from tests.fakes.tripay import FakeTripay
from tests.fakes.xendit import FakeXendit

Callback = tuple[bytes, dict]


class Driver:
    """One gateway as the tests see it: settings, vendor-side actions and signed callbacks."""

    name = ""          # the gateway (and webhook path)
    method = "QRIS"    # the payment method bought
    redirect = True    # the customer is sent to the vendor's page
    qr = False         # the order page draws a QR code

    def __init__(self, server: HTTPServer):
        self.server = server

    def reply_ok(self, response) -> bool:
        """The answer the vendor counts as delivered."""
        return response.status_code == 200

    def late_paid(self, ref: str) -> Callback:
        return self.paid(ref)


class Xendit(Driver):
    name = "xendit"

    def __init__(self, server):
        super().__init__(server)
        self.fake = FakeXendit(server)

    def settings(self):
        return {"GATEWAY": "xendit", "XENDIT_SECRET_KEY": self.fake.secret_key,
                "XENDIT_CALLBACK_TOKEN": self.fake.callback_token,
                "XENDIT_API_URL": self.fake.base_url}

    def _id(self, ref):
        return self.fake.only(ref)["id"]

    def mark_paid(self, ref):
        self.fake.set_status(self._id(ref), "PAID")

    def paid(self, ref):
        self.mark_paid(ref)
        return self.fake.callback(self._id(ref))

    def pending(self, ref):
        return self.fake.callback(self._id(ref), status="PENDING")

    def expired(self, ref):
        self.fake.set_status(self._id(ref), "EXPIRED")
        return self.fake.callback(self._id(ref))

    def forged(self, ref):
        self.mark_paid(ref)
        return self.fake.callback(self._id(ref), token="someone-elses-token")

    def wrong_amount(self, ref):
        self.mark_paid(ref)
        invoice = self.fake.only(ref)
        return self.fake.callback(invoice["id"], paid_amount=invoice["amount"] - 1000)

    def wrong_currency(self, ref):
        self.mark_paid(ref)
        return self.fake.callback(self._id(ref), currency="PHP")

    def return_url(self, ref):
        return self.fake.only(ref)["success_redirect_url"]

    def created(self, ref):
        return self.fake.created[ref]

    def down(self):
        self.fake.mode = "down"

    def up(self):
        self.fake.mode = "ok"

    def slow(self, seconds):
        self.fake.mode, self.fake.slow_seconds = "slow", seconds

    def closed(self, ref):
        return self.fake.only(ref)["status"] == "EXPIRED"


class MidtransSnap(Driver):
    name = "midtrans"
    method = "GOPAY"
    payment_type = "gopay"

    def __init__(self, server):
        super().__init__(server)
        self.fake = FakeMidtrans(server)

    def settings(self):
        return {"GATEWAY": "midtrans", **self.fake.settings}

    def mark_paid(self, ref):
        self.fake.pay(ref, payment_type=self.payment_type)

    def paid(self, ref):
        self.mark_paid(ref)
        return self.fake.notification(ref)

    def pending(self, ref):
        return self.fake.notification(ref, transaction_status="pending")

    def expired(self, ref):
        if ref not in self.fake.transactions:
            self.fake.pay(ref, payment_type=self.payment_type, transaction_status="pending")
        self.fake.set_status(ref, "expire")
        return self.fake.notification(ref)

    def forged(self, ref):
        self.mark_paid(ref)
        return self.fake.notification(ref, server_key="SB-Mid-server-someone-else")

    def wrong_amount(self, ref):
        self.mark_paid(ref)
        paid = int(float(self.fake.transactions[ref]["gross_amount"])) - 1000
        return self.fake.notification(ref, gross_amount=f"{paid}.00")

    def wrong_currency(self, ref):
        self.mark_paid(ref)
        return self.fake.notification(ref, currency="USD")

    def return_url(self, ref):
        return self.fake.snaps[ref]["callbacks"]["finish"]

    def created(self, ref):
        return self.fake.created[ref]

    def down(self):
        self.fake.down = True

    def up(self):
        self.fake.down = False

    def slow(self, seconds):
        self.fake.delay = seconds

    def closed(self, ref):
        tx = self.fake.transactions.get(ref)
        return None if tx is None else tx["transaction_status"] == "expire"


class MidtransQris(MidtransSnap):
    method = "QRIS"
    payment_type = "qris"
    redirect = False
    qr = True

    def return_url(self, ref):
        return None


class Stripe(Driver):
    name = "stripe"
    method = "CARD"

    def __init__(self, server):
        super().__init__(server)
        self.fake = FakeStripe(server)

    def settings(self):
        return {"GATEWAY": "stripe", **self.fake.settings}

    def _session(self, ref):
        found = [s for s in self.fake.sessions.values() if s["client_reference_id"] == ref]
        assert len(found) == 1, f"{len(found)} sessions for {ref}"
        return found[0]

    def mark_paid(self, ref):
        self.fake.complete(self._session(ref)["id"])

    def paid(self, ref):
        self.mark_paid(ref)
        return self.fake.event(self._session(ref)["id"], "checkout.session.completed")

    def pending(self, ref):
        # An async method (bank debit) completed Checkout but has not settled: unpaid.
        session = {**self._session(ref), "payment_status": "unpaid"}
        return self.fake.event(None, "checkout.session.completed", obj=session)

    def expired(self, ref):
        session_id = self._session(ref)["id"]
        self.fake.set_status(session_id, "expired", "unpaid")
        return self.fake.event(session_id, "checkout.session.expired")

    def late_paid(self, ref):
        session_id = self._session(ref)["id"]
        self.fake.set_status(session_id, "complete", "paid")
        return self.fake.event(session_id, "checkout.session.async_payment_succeeded")

    def forged(self, ref):
        self.mark_paid(ref)
        return self.fake.event(self._session(ref)["id"], "checkout.session.completed",
                               secret="whsec_someone_else")

    def wrong_amount(self, ref):
        self.mark_paid(ref)
        session = self._session(ref)
        obj = {**session, "amount_total": session["amount_total"] - 100_000}
        return self.fake.event(None, "checkout.session.completed", obj=obj)

    def wrong_currency(self, ref):
        self.mark_paid(ref)
        obj = {**self._session(ref), "currency": "usd"}
        return self.fake.event(None, "checkout.session.completed", obj=obj)

    def return_url(self, ref):
        return self._session(ref)["success_url"]

    def created(self, ref):
        return self.fake.created[ref]

    def down(self):
        self.fake.down = True

    def up(self):
        self.fake.down = False

    def slow(self, seconds):
        self.fake.delay = seconds

    def closed(self, ref):
        return self._session(ref)["status"] == "expired"


class Tripay(Driver):
    name = "tripay"
    qr = True

    def __init__(self, server):
        super().__init__(server)
        self.fake = FakeTripay(server)

    def settings(self):
        return {"GATEWAY": "tripay", "TRIPAY_API_KEY": self.fake.api_key,
                "TRIPAY_PRIVATE_KEY": self.fake.private_key,
                "TRIPAY_MERCHANT_CODE": self.fake.merchant_code,
                "TRIPAY_API_URL": self.fake.base_url}

    def reply_ok(self, response):
        # Tripay retries any delivery not answered with exactly this JSON.
        return response.status_code == 200 and response.get_json() == {"success": True}

    def _reference(self, ref):
        return self.fake.only(ref)["reference"]

    def mark_paid(self, ref):
        self.fake.set_status(self._reference(ref), "PAID")

    def paid(self, ref):
        self.mark_paid(ref)
        return self.fake.callback(self._reference(ref))

    def pending(self, ref):
        return self.fake.callback(self._reference(ref), status="UNPAID")

    def expired(self, ref):
        self.fake.set_status(self._reference(ref), "EXPIRED")
        return self.fake.callback(self._reference(ref))

    def forged(self, ref):
        self.mark_paid(ref)
        return self.fake.callback(self._reference(ref), signature="0" * 64)

    def wrong_amount(self, ref):
        self.mark_paid(ref)
        transaction = self.fake.only(ref)
        return self.fake.callback(transaction["reference"],
                                  total_amount=transaction["amount"] - 1000)

    def return_url(self, ref):
        return next(r["return_url"] for r in self.fake.requests if r["merchant_ref"] == ref)

    def created(self, ref):
        return self.fake.created[ref]

    def down(self):
        self.fake.mode = "down"

    def up(self):
        self.fake.mode = "ok"

    def slow(self, seconds):
        self.fake.mode, self.fake.slow_seconds = "slow", seconds

    def closed(self, ref):
        return None     # Tripay has no cancel call: the payment lapses at its own expiry


DRIVERS = {"xendit": Xendit, "midtrans-snap": MidtransSnap, "midtrans-qris": MidtransQris,
           "stripe": Stripe, "tripay": Tripay}


# -- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture(params=list(DRIVERS))
def driver(request, vendor_server) -> Driver:
    return DRIVERS[request.param](vendor_server)


@pytest.fixture
def app(tmp_path, driver):
    app = make_app(tmp_path, **{**driver.settings(), "HTTP_TIMEOUT": 3})
    return app


def deliver(client, driver, callback: Callback):
    body, headers = callback
    return client.post(f"/webhooks/{driver.name}", data=body, headers=headers)


def place(client, app, driver) -> str:
    return order_ref(buy(client, app, method=driver.method))


def moves(app, ref) -> list[tuple]:
    return [(f, t) for f, t, *_ in history(app, ref) if t]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def set_order(app, ref, **values) -> None:
    """Change an order's row directly: the tests' way of letting time pass."""
    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == ref).values(**values))
        db.session.commit()


def vendor_queries(server) -> int:
    """Status queries (GETs) the vendor received."""
    return sum(1 for request, _ in server.log if request.method == "GET")


# -- the purchase, per gateway ----------------------------------------------------------------

def test_paid_callback_leads_to_delivered(client, app, driver):
    ref = place(client, app, driver)
    order = get_order(app, ref)
    assert order.status == "awaiting_payment" and order.gateway == driver.name
    assert driver.created(ref) == 1
    # The shop's own 30 minutes stand, even where the vendor's page stays open longer.
    assert order.payment_expires_at - order.created_at <= dt.timedelta(minutes=30)

    response = deliver(client, driver, driver.paid(ref))
    assert driver.reply_ok(response), response.text
    assert get_order(app, ref).status == "paid"
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered" and order.delivery_proof
    assert moves(app, ref) == [(None, "awaiting_payment"), ("awaiting_payment", "paid"),
                               ("paid", "fulfilling"), ("fulfilling", "delivered")]
    assert client.get(f"/o/{ref}/status").status_code == 286


def test_forged_callback_is_refused_logged_and_changes_nothing(client, app, driver, caplog):
    ref = place(client, app, driver)
    before = history(app, ref)
    with caplog.at_level(logging.WARNING, logger="merchant.orders.payment_events"):
        response = deliver(client, driver, driver.forged(ref))
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid signature"}
    assert f"forged {driver.name} callback rejected" in caplog.text
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"
    assert history(app, ref) == before
    assert count(app, WebhookEvent) == 0


def test_replayed_callback_changes_nothing(client, app, driver):
    ref = place(client, app, driver)
    callback = driver.paid(ref)
    first, second = deliver(client, driver, callback), deliver(client, driver, callback)
    assert driver.reply_ok(first) and driver.reply_ok(second)
    work(app)
    deliver(client, driver, callback)         # once more, after delivery
    assert get_order(app, ref).status == "delivered"
    assert [m for m in moves(app, ref) if m[1] == "paid"] == [("awaiting_payment", "paid")]
    assert count(app, WebhookEvent) == 1


def test_pending_after_paid_is_ignored(client, app, driver):
    ref = place(client, app, driver)
    deliver(client, driver, driver.paid(ref))
    response = deliver(client, driver, driver.pending(ref))
    assert driver.reply_ok(response)
    assert get_order(app, ref).status == "paid"
    work(app)
    assert get_order(app, ref).status == "delivered"


def test_wrong_amount_flags_the_order_and_delivers_nothing(client, app, driver, caplog):
    ref = place(client, app, driver)
    response = deliver(client, driver, driver.wrong_amount(ref))
    assert driver.reply_ok(response)          # received: a retry would not change the amount
    work(app)
    order = get_order(app, ref)
    assert order.status == "awaiting_payment"
    assert "does not match the order total" in order.flag
    assert f"{order.total} IDR" in order.flag
    assert "does not match" in caplog.text
    assert ("awaiting_payment", "paid") not in moves(app, ref)


# Tripay's callbacks carry no currency: Tripay is IDR only.
@pytest.mark.parametrize("driver", ["xendit", "midtrans-snap", "midtrans-qris", "stripe"],
                         indirect=True)
def test_wrong_currency_flags_the_order_and_delivers_nothing(client, app, driver):
    ref = place(client, app, driver)
    assert driver.reply_ok(deliver(client, driver, driver.wrong_currency(ref)))
    work(app)
    order = get_order(app, ref)
    assert order.status == "awaiting_payment" and "does not match" in order.flag


def test_payment_after_expiry_is_honoured(client, app, driver):
    ref = place(client, app, driver)
    assert driver.reply_ok(deliver(client, driver, driver.expired(ref)))
    assert get_order(app, ref).status == "expired"
    assert driver.reply_ok(deliver(client, driver, driver.late_paid(ref)))
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert ("expired", "paid") in moves(app, ref)


def test_lost_callback_is_found_by_reconciliation(client, app, driver, vendor_server):
    ref = place(client, app, driver)
    driver.mark_paid(ref)                      # the customer paid; the callback never comes
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"   # too young to ask about
    assert vendor_queries(vendor_server) == 0
    set_order(app, ref, created_at=utcnow() - dt.timedelta(minutes=2))
    work(app, 2)
    assert get_order(app, ref).status == "delivered"
    assert vendor_queries(vendor_server) == 1
    assert ("awaiting_payment", "paid", "worker") in [e[:3] for e in history(app, ref)]


def test_unpaid_order_is_asked_about_then_expired_and_closed_at_the_vendor(
        client, app, driver, vendor_server):
    ref = place(client, app, driver)
    set_order(app, ref, payment_expires_at=utcnow() - dt.timedelta(seconds=1))
    work(app)
    assert get_order(app, ref).status == "expired"
    assert vendor_queries(vendor_server) == 1              # asked before expiring
    assert driver.closed(ref) in (True, None)               # None: the vendor has no cancel


def test_paid_order_past_its_expiry_is_not_expired(client, app, driver):
    ref = place(client, app, driver)
    driver.mark_paid(ref)
    set_order(app, ref, payment_expires_at=utcnow() - dt.timedelta(seconds=1))
    work(app, 2)
    assert get_order(app, ref).status == "delivered"
    assert "expired" not in [t for _, t in moves(app, ref)]


def test_expiry_waits_while_the_gateway_cannot_be_asked(client, app, driver, caplog):
    ref = place(client, app, driver)
    driver.down()
    set_order(app, ref, payment_expires_at=utcnow() - dt.timedelta(minutes=1))
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"
    assert "status query" in caplog.text and "failed" in caplog.text
    set_order(app, ref, payment_expires_at=utcnow() - dt.timedelta(hours=2),
              gateway_checked_at=utcnow() - dt.timedelta(minutes=1))
    work(app)
    assert get_order(app, ref).status == "expired"
    assert "did not answer" in history(app, ref)[-1][3]
    driver.up()
    deliver(client, driver, driver.late_paid(ref))
    work(app)
    assert get_order(app, ref).status == "delivered"


def test_reconciliation_does_not_spin_on_orders_it_just_asked_about(client, app, driver):
    ref = place(client, app, driver)
    set_order(app, ref, created_at=utcnow() - dt.timedelta(minutes=2))
    with app.app_context():
        assert reconciliation.sweep() == 1
        assert reconciliation.sweep() == 0     # asked a moment ago: the worker may sleep
    assert get_order(app, ref).status == "awaiting_payment"


@pytest.mark.parametrize("trouble", ["down", "slow"])
def test_vendor_trouble_at_checkout_leaves_no_order(client, app, driver, trouble, caplog):
    if trouble == "down":
        driver.down()
    else:
        app.config["HTTP_TIMEOUT"] = 0.3
        driver.slow(1.0)
    response = buy(client, app, method=driver.method, key="retry-key-0001")
    assert response.status_code == 422
    assert str(GATEWAY_DOWN) in response.text
    assert count(app, Order) == 0 and count(app, OrderEvent) == 0
    # The operator's log says what the vendor answered; the customer saw none of it.
    said = "HTTP 50" if trouble == "down" else "within 0.3 s"
    assert any(said in r.getMessage() and "could not create the payment" in r.getMessage()
               for r in caplog.records)
    assert said not in response.text

    driver.up()
    app.config["HTTP_TIMEOUT"] = 3
    if trouble == "slow":
        driver.slow(0)
    ref = order_ref(buy(client, app, method=driver.method, key="retry-key-0001"))
    assert count(app, Order) == 1 and get_order(app, ref).gateway_ref


# -- the order page ---------------------------------------------------------------------------

def test_status_poll_asks_the_gateway_at_most_once_per_10_seconds(
        client, app, driver, vendor_server, clock):
    ref = place(client, app, driver)
    for _ in range(5):
        assert client.get(f"/o/{ref}/status").status_code == 200
    assert vendor_queries(vendor_server) == 1
    clock.advance(9)
    client.get(f"/o/{ref}/status")
    assert vendor_queries(vendor_server) == 1
    clock.advance(1.5)
    client.get(f"/o/{ref}/status")
    assert vendor_queries(vendor_server) == 2


def test_status_poll_finds_a_payment_whose_callback_was_lost(client, app, driver):
    ref = place(client, app, driver)
    driver.mark_paid(ref)
    response = client.get(f"/o/{ref}/status?since=awaiting_payment")
    assert response.status_code == 200 and "Payment received" in response.text
    assert get_order(app, ref).status == "paid"


def svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG drawn by segno paints, read back from its path."""
    path = re.search(r'<path stroke="[^"]+" d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            row = int(y - 0.5)
            dark.update((int(x) + i, row) for i in range(int(float(a))))
            x += float(a)
    return dark


@pytest.mark.parametrize("driver", [name for name, kind in DRIVERS.items() if kind.qr],
                         indirect=True)
def test_qr_methods_draw_the_vendors_exact_payload_with_amount_and_countdown(
        client, app, driver):
    ref = place(client, app, driver)
    order = get_order(app, ref)
    assert order.qr_string
    page = client.get(f"/o/{ref}").text
    svg = re.search(r'<svg[^>]*class="qr".*?</svg>', page, re.S).group(0)
    assert "<img" not in svg and "style=" not in svg          # inline, and CSP-clean
    code = segno.make(order.qr_string, error="m")
    border = 2
    expected = {(c + border, r + border) for r, row in enumerate(code.matrix)
                for c, dark in enumerate(row) if dark}
    assert svg_modules(svg) == expected
    assert "Rp 15.105" in page                                 # 15.000 + QRIS 0.7 %
    # Whole seconds: HTML allows at most three fraction digits and some browsers no more.
    deadline = order.payment_expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{deadline}" data-countdown' in page
    assert svg in client.get(f"/o/{ref}/status").text          # the poll keeps drawing it


def test_redirect_methods_open_the_vendor_page_and_come_back_to_the_order(
        client, app, driver):
    ref = place(client, app, driver)
    order = get_order(app, ref)
    if not driver.redirect:
        assert order.checkout_url is None and driver.return_url(ref) is None
        return
    assert order.checkout_url.startswith(("http://", "https://"))
    page = client.get(f"/o/{ref}").text
    assert f'href="{order.checkout_url}"' in page
    deadline = order.payment_expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{deadline}" data-countdown' in page
    back = driver.return_url(ref)
    assert back == f"http://shop.test/o/{ref}?t={order.view_token}"
    returning = app.test_client()               # the vendor's page may open in another browser
    response = returning.get(back.removeprefix("http://shop.test"), follow_redirects=True)
    assert response.status_code == 200 and ref in response.text
    assert "Waiting for payment" in response.text   # coming back is no proof of payment


def test_callbacks_for_other_gateways_are_not_taken(client, app, driver):
    assert client.post("/webhooks/sandbox", data=b"{}").status_code == 404
    response = client.post("/webhooks/paypal", data=b"{}")
    assert response.status_code == 404 and "error" in response.get_json()


# -- quirks of one vendor ---------------------------------------------------------------------

@pytest.mark.parametrize("driver", ["xendit"], indirect=True)
def test_xendit_settled_after_paid_is_one_payment(client, app, driver):
    xendit = driver
    ref = place(client, app, xendit)
    deliver(client, xendit, xendit.paid(ref))
    invoice = xendit.fake.set_status(xendit.fake.only(ref)["id"], "SETTLED")
    assert xendit.reply_ok(deliver(client, xendit, xendit.fake.callback(invoice["id"])))
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert [m for m in moves(app, ref) if m[1] == "paid"] == [("awaiting_payment", "paid")]


@pytest.mark.parametrize("driver", ["stripe"], indirect=True)
def test_stripe_async_payment_waits_for_its_success_event(client, app, driver):
    stripe = driver
    ref = place(client, app, stripe)
    assert stripe.reply_ok(deliver(client, stripe, stripe.pending(ref)))   # completed, unpaid
    work(app)
    assert get_order(app, ref).status == "awaiting_payment"
    assert stripe.reply_ok(deliver(client, stripe, stripe.late_paid(ref)))  # async succeeded
    work(app)
    assert get_order(app, ref).status == "delivered"


@pytest.mark.parametrize("driver", ["tripay"], indirect=True)
def test_tripay_fee_charged_to_the_customer_is_not_a_mismatch(client, app, driver):
    tripay = driver
    tripay.fake.fee_on_customer = True
    ref = place(client, app, tripay)
    transaction = tripay.fake.only(ref)
    assert transaction["fee_customer"] > 0
    assert transaction["amount"] == get_order(app, ref).total + transaction["fee_customer"]
    deliver(client, tripay, tripay.paid(ref))
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered" and order.flag is None


@pytest.mark.parametrize("driver", ["stripe"], indirect=True)
def test_stripe_events_this_shop_does_not_act_on_are_acknowledged_quietly(
        client, app, driver, caplog):
    ref = place(client, app, driver)
    intent = {"id": "pi_123", "object": "payment_intent", "amount": 1743500, "currency": "idr",
              "status": "succeeded"}
    body, headers = driver.fake.event(None, "payment_intent.succeeded", obj=intent)
    with caplog.at_level(logging.WARNING):
        assert deliver(client, driver, (body, headers)).status_code == 200
    assert get_order(app, ref).status == "awaiting_payment"
    assert not [r for r in caplog.records if r.name.startswith("merchant")]
