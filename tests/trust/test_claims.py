"""Problem reports: the customer reports on their order page within the window, it lands in
Needs attention, the owner answers from the order's page, and the customer sees the answer on
the page and gets it by email (a real SMTP server on 127.0.0.1), in their language."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa
from conftest import buy, delivered_order, get_order, make_app, order_ref, work

from merchant.core.extensions import db
from merchant.core.models import Claim
from merchant.ops import worker

SENDER = "Merchant Top-Up <receipts@shop.test>"

WORDS = {
    "en": {"title": "A problem with this order?", "sent": "We have your report",
           "subject": "Our answer about order {ref}", "answer": "Our answer",
           "history": "The customer reports the top-up did not arrive: {message}",
           "answered": "owner@example.com answered the customer's report: {answer}",
           "moment": "<b>Problem report</b>"},
    "id": {"title": "Ada masalah dengan pesanan?", "sent": "Laporan Anda sudah kami terima",
           "subject": "Jawaban kami tentang pesanan {ref}", "answer": "Jawaban kami",
           "history": "Pelanggan melaporkan top-up tidak masuk: {message}",
           "answered": "owner@example.com menjawab laporan pelanggan: {answer}",
           "moment": "<b>Laporan masalah</b>"},
}


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                    SMTP_FROM=SENDER)


def report(client, app, ref, kind="not_received", message="Diamond belum masuk", token=None):
    token = get_order(app, ref).view_token if token is None else token
    return client.post(f"/o/{ref}/claim", data={"t": token, "kind": kind, "message": message})


def claims_of(app) -> list[Claim]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Claim).order_by(Claim.id)))
        db.session.expunge_all()
        return rows


def attention_group(owner) -> str:
    html = owner.get("/admin/").text
    found = re.search(r'<section class="box attention attention-claims".*?</section>', html, re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_claim_round_trip(app, client, owner, smtp, lang):
    words = WORDS[lang]
    with app.app_context():
        worker.beat("test-worker")
    client.get(f"/?lang={lang}")                       # the footer's language switch
    ref = delivered_order(client, app)
    smtp.wait_for(1)                                   # the delivery receipt
    page = client.get(f"/o/{ref}?t={get_order(app, ref).view_token}", follow_redirects=True)
    assert words["title"] in page.text

    message = "Diamond belum masuk ke akun saya"
    sent = report(client, app, ref, message=message)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#claim")
    page = client.get(f"/o/{ref}").text
    assert message in page and words["sent"] in page

    # In Needs attention, with the order.
    waiting = attention_group(owner)
    assert ref in waiting and message in waiting and f"/admin/orders/{ref}" in waiting

    panel = owner.get(f"/admin/orders/{ref}?lang={lang}").text
    answer_url = re.search(r'action="(/admin/orders/[A-Z0-9]+/claims/\d+/answer)"', panel).group(1)
    assert owner.post(answer_url, data={"answer": ""}).status_code == 422
    answer = "Sudah kami kirim ulang: SN 88912345, silakan cek lagi."
    assert owner.post(answer_url, data={"answer": answer}).status_code == 303
    assert attention_group(owner) == ""
    assert owner.post(answer_url, data={"answer": "again"}).status_code == 422   # answered

    # The customer sees it on the page ...
    page = client.get(f"/o/{ref}").text
    assert answer in page and words["answer"] in page
    # ... and gets it by email, sent by the worker's outbox pass, in the order's language.
    work(app)
    received = smtp.wait_for(2)[1].message
    assert received["Subject"] == words["subject"].format(ref=ref)
    assert received["To"] == "buyer@example.com"
    text = received.get_body(("plain",)).get_content()
    assert answer in text and message in text and ref in text
    # The claim's history is on the order's timeline, in the reader's language.
    timeline = html.unescape(owner.get(f"/admin/orders/{ref}?lang={lang}").text)
    assert words["history"].format(message=message) in timeline
    assert words["answered"].format(answer=answer) in timeline
    assert timeline.count(words["moment"]) == 2


def test_a_claim_outside_the_window_is_refused(app, client, clock, owner):
    ref = delivered_order(client, app)
    clock.advance(dt.timedelta(days=7, minutes=1).total_seconds())
    refused = report(client, app, ref)
    assert refused.status_code == 422
    assert "Problems can be reported up to 7 days after delivery" in refused.text
    assert claims_of(app) == []
    assert "Report a problem" not in client.get(f"/o/{ref}?lang=en").text

    # The owner's window counts: 14 days make it in time again.
    saved = owner.post("/admin/settings", data={"claim_window_days": "14", "currency": "",
                                                "default_locale": ""})
    assert saved.status_code == 303, saved.text
    assert report(client, app, ref).status_code == 303
    assert len(claims_of(app)) == 1


def test_one_open_claim_per_order(app, client):
    ref = delivered_order(client, app)
    assert report(client, app, ref).status_code == 303
    second = report(client, app, ref, kind="other", message="dan satu lagi")
    assert second.status_code == 422 and "reported a problem with this order already" in second.text
    assert len(claims_of(app)) == 1
    # The database holds the rule: a second open claim for the order cannot be stored.
    with app.app_context():
        order_id = claims_of(app)[0].order_id
        db.session.add(Claim(order_id=order_id, open_order_id=order_id, kind="other",
                             message="x"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


def test_a_claim_needs_a_delivered_order_its_link_and_a_message(app, client):
    unpaid = order_ref(buy(client, app))
    assert "can be reported once the order is delivered" in report(client, app, unpaid).text
    ref = delivered_order(client, app)
    assert report(app.test_client(), app, ref, token="wrong").status_code == 404
    assert "Choose what went wrong." in report(client, app, ref, kind="refund_me").text
    assert "Tell us what happened" in report(client, app, ref, message="   ").text
    assert claims_of(app) == []
