"""Email receipts: one email per order event on a real SMTP server (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import delivered_order, failed_order, get_order, make_app
from fakes.smtp import FakeSmtp

from merchant.extensions import db
from merchant.models import Receipt
from merchant.receipts import email as email_receipts


@pytest.fixture
def smtp():
    server = FakeSmtp().start()
    yield server
    server.stop()


def smtp_config(server: FakeSmtp) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none",
            "SMTP_FROM": "Merchant Top-Up <receipts@shop.test>"}


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, **smtp_config(smtp))


def dispatch(app, ref: str, kind: str, event_id: int = 1):
    with app.app_context():
        order = get_order(app, ref)
        event = SimpleNamespace(id=event_id, order_id=order.id, kind=kind, attempts=0)
        return email_receipts.send_for_event(event)


def parts(message):
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_a_delivered_order_gets_one_email_with_its_receipt(app, client, smtp):
    ref = delivered_order(client, app)
    order = get_order(app, ref)

    assert dispatch(app, ref, "delivered") == "sent"
    assert dispatch(app, ref, "delivered") == "sent"        # the same event again: no 2nd mail

    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("buyer@example.com",)
    message = received.message
    assert message["To"] == "buyer@example.com"
    assert ref in message["Subject"] and "70 Coins" in message["Subject"]
    assert message["Message-ID"] == "<receipt.1.delivered@shop.test>"
    text, html = parts(message)
    for body in (text, html):
        assert ref in body and "70 Coins" in body and "TikTok" in body
        assert "happy_gamer" in body and order.nickname in body
        assert "Rp 15.000" in body and "Rp" in body
        assert order.delivery_proof in body
    assert "http" not in re.sub(r'href="[^"]*"', "", html).replace(order_link(order), "")
    assert "<img" not in html and "<link" not in html and "<style" not in html
    link = re.search(r"(http://shop\.test/o/\S+)", text).group(1)
    assert link == order_link(order)

    stranger = app.test_client()
    page = stranger.get(link.removeprefix("http://shop.test"))
    assert page.status_code == 200 and ref in page.text and "Delivered" in page.text


def order_link(order) -> str:
    return f"http://shop.test/o/{order.ref}?t={order.view_token}"


def test_a_failed_delivery_says_what_happens_next(app, client, smtp):
    ref = failed_order(client, app)
    assert dispatch(app, ref, "fulfillment_failed") == "sent"
    [received] = smtp.wait_for(1)
    text, html = parts(received.message)
    assert "could not deliver" in text and "refund you" in text
    assert "Proof of delivery" not in text


def test_a_refused_recipient_is_not_retried_and_is_in_the_history(app, client, smtp):
    ref = delivered_order(client, app)
    smtp.rcpt_reply = "550 5.1.1 No such mailbox"
    assert dispatch(app, ref, "delivered") == "failed"
    assert dispatch(app, ref, "delivered") == "failed"
    assert smtp.received == []
    with app.app_context():
        row = db.session.scalar(sa.select(Receipt))
        assert row.attempts == 1 and "550" in row.error


def test_a_temporary_refusal_is_retried_until_it_is_sent(app, client, smtp):
    ref = delivered_order(client, app)
    smtp.rcpt_reply = "451 4.3.0 Try again later"
    with pytest.raises(email_receipts.Retry):
        dispatch(app, ref, "delivered")
    smtp.rcpt_reply = None
    assert dispatch(app, ref, "delivered") == "sent"
    assert len(smtp.wait_for(1)) == 1
