"""WhatsApp receipts over a fake Fonnte, and the click-to-chat link to the shop's support."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from conftest import get_order, history, make_app, order_ref, package_id, sandbox_pay, verify, work
from fakes.fonnte import TOKEN, FakeFonnte

from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Receipt
from merchant.receipts import records

NUMBER = "0812 3456 7890"


@pytest.fixture
def fonnte(vendor_server):
    return FakeFonnte(vendor_server)


@pytest.fixture
def app(tmp_path, fonnte):
    return make_app(tmp_path, FONNTE_TOKEN=TOKEN, FONNTE_URL=fonnte.url, HTTP_TIMEOUT=5,
                    RECEIPT_MAX_ATTEMPTS=3)


def buy_with_whatsapp(client, app, username="happy_gamer", email="") -> str:
    """Verify, buy with a WhatsApp number for the receipt, pay: the order's reference."""
    token = verify(client, "tiktok-coins", username=username)
    response = client.post("/p/tiktok-coins/order", data={
        "username": username, "verification_token": token, "method": "QRIS",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "email": email,
        "whatsapp": NUMBER, "idempotency_key": os.urandom(8).hex()})
    ref = order_ref(response)
    sandbox_pay(client, app, ref)
    return ref


def receipt(app) -> Receipt:
    with app.app_context():
        row = db.session.scalars(sa.select(Receipt)).one()
        db.session.expunge(row)
        return row


def retry_later(app, clock, passes: int = 1) -> None:
    """Move past the outbox's longest backoff, then run the worker."""
    for _ in range(passes):
        clock.advance(app.config["OUTBOX_RETRY_MAX_SECONDS"])
        work(app)


def test_a_delivered_order_gets_one_whatsapp_message(app, client, fonnte, clock):
    ref = buy_with_whatsapp(client, app)
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered"
    [sent] = fonnte.requests
    assert sent.target == "6281234567890" and sent.country_code == "0"
    for fact in (ref, "70 Coins", "TikTok Coins", "happy_gamer", order.nickname, "Rp 15.105",
                 order.delivery_proof, f"http://shop.test/o/{ref}?t={order.view_token}"):
        assert fact in sent.message
    row = receipt(app)
    assert row.state == "sent" and row.message_id == "80367170" and row.body == sent.message
    assert "Receipt sent by WhatsApp to +6281234567890." in [d for *_, d in history(app, ref)]

    retry_later(app, clock, passes=2)
    assert len(fonnte.requests) == 1


def test_status_false_is_retried_with_backoff_then_sent(app, client, fonnte, clock):
    fonnte.script = ["refuse", "refuse"]
    buy_with_whatsapp(client, app)
    work(app)
    assert len(fonnte.requests) == 1 and receipt(app).state == "pending"
    assert "device disconnected" in receipt(app).error
    work(app)
    assert len(fonnte.requests) == 1                     # not due yet: backoff
    retry_later(app, clock, passes=3)
    assert [s.answered for s in fonnte.requests] == ["refuse", "refuse", "ok"]
    assert len(fonnte.delivered) == 1 and receipt(app).state == "sent"


def test_status_false_every_time_is_given_up_and_shown_on_needs_attention(
        app, client, fonnte, clock, owner):
    fonnte.script = ["refuse"] * 10
    ref = buy_with_whatsapp(client, app)
    work(app)
    retry_later(app, clock, passes=5)
    assert len(fonnte.requests) == 3                     # RECEIPT_MAX_ATTEMPTS
    assert receipt(app).state == "failed" and fonnte.delivered == []
    assert any("WhatsApp receipt to +6281234567890 not sent: Fonnte refused: device "
               "disconnected" in d for *_, d in history(app, ref))
    attention = owner.get("/admin/").text
    assert "Receipts that may not have arrived" in attention and ref in attention
    assert "The WhatsApp receipt to +6281234567890 was not sent (Fonnte refused: device " \
        "disconnected" in attention
    row = receipt(app)
    assert owner.post(f"/admin/orders/{ref}/receipts/{row.id}/arrived").status_code == 303
    assert "Receipts that may not have arrived" not in owner.get("/admin/").text


def test_a_lost_answer_is_sent_once_more_and_no_more(app, client, fonnte, clock):
    fonnte.script = ["drop"]
    buy_with_whatsapp(client, app)
    work(app)
    assert receipt(app).state == "pending" and receipt(app).lost_answers == 1
    retry_later(app, clock, passes=3)
    assert [s.answered for s in fonnte.requests] == ["drop", "ok"]
    assert fonnte.requests[0].message == fonnte.requests[1].message   # the recorded text
    assert receipt(app).state == "sent"


def test_two_lost_answers_leave_it_in_doubt(app, client, fonnte, clock):
    fonnte.script = ["drop", "drop"]
    ref = buy_with_whatsapp(client, app)
    work(app)
    retry_later(app, clock, passes=4)
    assert [s.answered for s in fonnte.requests] == ["drop", "drop"]   # one duplicate at most
    assert receipt(app).state == "in_doubt"
    assert any("may not have arrived" in d for *_, d in history(app, ref))


def test_a_worker_that_died_waiting_for_fonnte_counts_as_a_lost_answer(
        app, client, fonnte, clock):
    fonnte.script = ["drop"]
    buy_with_whatsapp(client, app)
    work(app)                                   # 1st send: answer lost, one resend allowed
    with app.app_context():                     # the resend's worker dies mid-request
        assert records.claim(receipt(app).id, 60, lost_on_takeover=True) is not None
    retry_later(app, clock, passes=3)
    assert len(fonnte.requests) == 1            # a 3rd send could be a 2nd duplicate
    assert receipt(app).state == "in_doubt" and receipt(app).lost_answers == 2


def test_without_a_token_nothing_is_sent(tmp_path, client, fonnte):
    app = make_app(tmp_path)
    client = app.test_client()
    buy_with_whatsapp(client, app)
    work(app, passes=2)
    assert fonnte.requests == []


def test_the_order_page_links_to_the_shops_whatsapp_with_the_reference(app, client):
    ref = buy_with_whatsapp(client, app)
    page = client.get(f"/o/{ref}")
    assert "wa.me" not in page.text                 # no support number set: no link
    set_support_whatsapp(app, "+6281122223333")
    page = client.get(f"/o/{ref}")
    link = chat_link(page.text)
    parts = urlsplit(link)
    assert parts.netloc == "wa.me" and parts.path == "/6281122223333"
    assert ref in parse_qs(parts.query)["text"][0]


def test_the_whatsapp_receipt_and_the_chat_are_in_the_orders_language(app, client, fonnte):
    set_support_whatsapp(app, "+6281122223333")
    client.get("/?lang=id")
    ref = buy_with_whatsapp(client, app)
    work(app)
    [sent] = fonnte.requests
    assert "Top up Anda sudah masuk" in sent.message and "Total dibayar: Rp 15.105" in sent.message
    text = parse_qs(urlsplit(chat_link(client.get(f"/o/{ref}").text)).query)["text"][0]
    assert text == f"Halo, saya butuh bantuan untuk pesanan {ref}."


def test_track_offers_the_chat_link_when_no_order_is_found(app, client):
    set_support_whatsapp(app, "+6281122223333")
    page = client.post("/track", data={"ref": "MZZZZZZZZ", "contact": "a@example.com"})
    assert page.status_code == 422
    text = parse_qs(urlsplit(chat_link(page.text)).query)["text"][0]
    assert "MZZZZZZZZ" in text


def set_support_whatsapp(app, number: str) -> None:
    with app.app_context():
        shop_settings.update({"support_whatsapp": number}, audit.CLI)


def chat_link(html: str) -> str:
    import re
    found = re.search(r'href="(https://wa\.me/[^"]+\?text=[^"]+)"', html)
    assert found, "no click-to-chat link"
    return found.group(1).replace("&amp;", "&")
