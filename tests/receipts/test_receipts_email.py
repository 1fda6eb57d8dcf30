"""Email receipts: one email per order event on a real SMTP server (aiosmtpd on 127.0.0.1),
sent by the worker's outbox pass, also when the worker is SIGKILLed mid-send."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
import trustme
from conftest import (
    buy,
    delivered_order,
    failed_order,
    get_order,
    history,
    make_app,
    order_ref,
    sandbox_pay,
    work,
)
from fakes.smtp import FakeSmtp

from merchant import create_app
from merchant.core import outbox
from merchant.core.extensions import db
from merchant.core.models import OutboxDelivery, OutboxEvent, Receipt
from merchant.receipts import listeners

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SENDER = "Merchant Top-Up <receipts@shop.test>"


def smtp_config(server: FakeSmtp) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none",
            "SMTP_FROM": SENDER}


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, **smtp_config(smtp))


def receipts(app) -> list[Receipt]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Receipt).order_by(Receipt.id)))
        db.session.expunge_all()
        return rows


def rerun(app, listener, event: outbox.Event) -> None:
    """Call a listener again for an event, as an outbox whose worker died after the call would."""
    with app.app_context():
        listener(event)


def event_of(app, ref: str, kind: str) -> outbox.Event:
    """The order's outbox event of `kind`, as the outbox hands it to a listener again."""
    with app.app_context():
        order = get_order(app, ref)
        row = db.session.scalars(sa.select(OutboxEvent).where(
            OutboxEvent.order_id == order.id, OutboxEvent.kind == kind)).one()
        return outbox.Event(row.id, row.order_id, row.kind, row.created_at, attempts=2)


def parts(message) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def order_link(order) -> str:
    return f"http://shop.test/o/{order.ref}?t={order.view_token}"


def test_a_delivered_order_gets_one_email_with_its_receipt(app, client, smtp):
    ref = delivered_order(client, app)
    order = get_order(app, ref)
    work(app, passes=2)

    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("buyer@example.com",)
    message = received.message
    assert message["From"] == SENDER and message["To"] == "buyer@example.com"
    assert message["Subject"] == f"Delivered: 70 Coins · order {ref}"
    event = event_of(app, ref, "delivered")
    assert message["Message-ID"] == f"<receipt.{event.id}.delivered@shop.test>"
    text, html = parts(message)
    for body in (text, html):
        assert ref in body and "70 Coins" in body and "TikTok Coins" in body
        assert "happy_gamer" in body and order.nickname in body
        assert "Rp 15.000" in body and "QRIS fee" in body and "Rp 15.105" in body
        assert order.delivery_proof in body
        assert order_link(order) in body
    # Inline styles only, nothing fetched from elsewhere.
    assert not re.search(r"<(img|link|style|script)\b", html)
    # Only the order page: the review invitation opens it at its review form.
    assert re.findall(r'(?:href|src)="([^"]+)"', html) == [order_link(order) + "#review",
                                                            order_link(order)]

    page = app.test_client().get(order_link(order).removeprefix("http://shop.test"),
                                 follow_redirects=True)
    assert page.status_code == 200 and ref in page.text and order.delivery_proof in page.text
    assert receipts(app)[0].state == "sent"
    assert ("Receipt email sent to buyer@example.com.") in [d for *_, d in history(app, ref)]


def test_the_receipt_is_in_the_language_the_order_was_placed_in(app, client, smtp):
    client.get("/?lang=id")                            # the footer's switch
    ref = delivered_order(client, app)
    [received] = smtp.wait_for(1)
    assert received.message["Subject"] == f"Terkirim: 70 Coins · pesanan {ref}"
    text, html = parts(received.message)
    assert "Total dibayar: Rp 15.105" in text and "Biaya QRIS: Rp 105" in text
    assert "Username TikTok: happy_gamer" in text            # the preset's label, translated
    assert "Bukti pengiriman" in html and '<html lang="id">' in html
    assert "sudah dikirim ke" in html and "delivered" not in text.lower()


def test_a_listener_run_again_for_the_same_event_sends_nothing_more(app, client, smtp):
    ref = delivered_order(client, app)
    rerun(app, listeners.send_email_receipt, event_of(app, ref, "delivered"))
    assert len(smtp.received) == 1 and len(receipts(app)) == 1


def test_a_failed_delivery_and_its_refund_each_get_their_email(app, client, smtp, owner):
    ref = failed_order(client, app)
    [failed] = smtp.wait_for(1)
    assert failed.message["Subject"] == f"We could not deliver order {ref} yet"
    text, _ = parts(failed.message)
    assert "Your payment is safe" in text and "refund you" in text
    assert "Proof of delivery" not in text

    response = owner.post(f"/admin/orders/{ref}/refund",
                          data={"note": "out of stock", "manual": "1"})
    assert response.status_code == 303, response.text
    work(app)
    refunded = smtp.wait_for(2)[1].message
    assert refunded["Subject"] == f"Refunded: order {ref}"
    text, html = parts(refunded)
    assert "We refunded Rp 15.105 to your QRIS" in text and "working days" in html
    assert [r.kind for r in receipts(app)] == ["fulfillment_failed", "refunded"]


def test_an_order_without_email_gets_none(app, client, smtp):
    ref = order_ref(buy(client, app, username="happy_gamer", email="",
                        whatsapp="0812 3456 7890"))
    sandbox_pay(client, app, ref)
    work(app, passes=2)
    assert get_order(app, ref).status == "delivered"
    assert smtp.received == [] and receipts(app) == []


def test_a_refused_recipient_is_given_up_at_once_and_shown_in_the_history(app, client, smtp):
    smtp.rcpt_reply = "550 5.1.1 No such mailbox"
    ref = delivered_order(client, app)
    [row] = receipts(app)
    assert row.state == "failed" and row.attempts == 1 and "550 5.1.1" in row.error
    assert any("not sent: 550 5.1.1 No such mailbox" in d for *_, d in history(app, ref))
    assert smtp.received == []


def test_a_receipt_given_up_is_on_needs_attention_until_it_is_resent(app, client, smtp, owner):
    smtp.rcpt_reply = "550 5.1.1 No such mailbox"
    ref = delivered_order(client, app)
    [row] = receipts(app)
    attention = owner.get("/admin/?lang=en").text
    assert "Receipts that may not have arrived" in attention and ref in attention
    assert "The email receipt to buyer@example.com was not sent (550 5.1.1 No such mailbox" \
        in attention
    assert "Struk email ke buyer@example.com tidak terkirim (550 5.1.1 No such mailbox" \
        in owner.get("/admin/?lang=id").text

    smtp.rcpt_reply = None                    # the customer's mailbox works again
    owner.get("/admin/?lang=en")
    assert owner.post(f"/admin/orders/{ref}/receipts/{row.id}/resend").status_code == 303
    assert len(smtp.wait_for(1)) == 1 and receipts(app)[0].state == "sent"
    assert "Receipts that may not have arrived" not in owner.get("/admin/").text


def test_a_temporary_refusal_is_sent_at_the_retry(app, client, smtp, clock):
    smtp.rcpt_reply = "451 4.3.0 Try again later"
    delivered_order(client, app)
    assert receipts(app)[0].state == "pending" and smtp.received == []
    smtp.rcpt_reply = None
    work(app)
    assert smtp.received == []                          # the outbox's backoff: not due yet
    clock.advance(app.config["OUTBOX_RETRY_BASE_SECONDS"])
    work(app)
    assert len(smtp.wait_for(1)) == 1
    assert receipts(app)[0].state == "sent" and receipts(app)[0].attempts == 2


def test_an_unreachable_server_is_tried_again_later(tmp_path, smtp):
    with refusing_port() as port:
        app = make_app(tmp_path, **{**smtp_config(smtp), "SMTP_PORT": port})
        delivered_order(app.test_client(), app)
    [row] = receipts(app)
    assert row.state == "pending" and "ConnectionRefusedError" in row.error
    with app.app_context():
        job = db.session.get(OutboxDelivery, (row.event_id, "email_receipt"))
        assert job.done_at is None and job.next_attempt_at is not None
        assert "email receipt not sent yet" in job.last_error


@contextlib.contextmanager
def refusing_port():
    """A port bound but never listening: connections to it are refused, and no other process
    (another xdist worker's server) can take it while the block runs."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def test_a_connection_lost_during_data_is_left_in_doubt_and_never_resent(
        app, client, smtp, clock, owner):
    smtp.drop_during_data = True
    ref = delivered_order(client, app)
    [row] = receipts(app)
    assert row.state == "in_doubt"
    assert len(smtp.received) == 1                     # the server did get it
    clock.advance(3600)
    work(app, passes=2)
    rerun(app, listeners.send_email_receipt, event_of(app, ref, "delivered"))
    assert len(smtp.received) == 1
    assert any("may not have arrived" in d for *_, d in history(app, ref))

    page = owner.get(f"/admin/orders/{ref}").text
    assert "May not have arrived" in page and "Resend receipt" in page
    page_id = owner.get(f"/admin/orders/{ref}?lang=id").text
    assert "Mungkin belum sampai" in page_id and "Kirim ulang struk" in page_id
    owner.get("/admin/?lang=en")
    attention = owner.get("/admin/").text
    assert "Receipts that may not have arrived" in attention and ref in attention

    smtp.drop_during_data = False
    response = owner.post(f"/admin/orders/{ref}/receipts/{row.id}/resend")
    assert response.status_code == 303, response.text
    first, second = smtp.wait_for(2)
    assert second.message["Message-ID"] == first.message["Message-ID"]   # mail stores collapse
    assert receipts(app)[0].state == "sent"
    assert "Receipts that may not have arrived" not in owner.get("/admin/").text
    assert any("Resent the email receipt (delivered) to buyer@example.com" in d
               for *_, d in history(app, ref))
    refused = owner.post(f"/admin/orders/{ref}/receipts/{row.id}/resend")
    assert refused.status_code == 422 and "was sent" in refused.text
    owner.get("/admin/?lang=id")
    refused = owner.post(f"/admin/orders/{ref}/receipts/{row.id}/resend")
    assert refused.status_code == 422 and "Struk itu sudah terkirim" in refused.text


@pytest.fixture
def tls_smtp(tmp_path, monkeypatch):
    """A fake SMTP server that wants STARTTLS (a certificate from a throwaway CA, which the
    client trusts alone) and then the sign-in shop / s3cret."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = FakeSmtp(tls=server_tls, login=("shop", "s3cret")).start()
    yield server
    server.stop()


def tls_config(server: FakeSmtp, password: str) -> dict:
    return {**smtp_config(server), "SMTP_SECURITY": "starttls", "SMTP_USERNAME": "shop",
            "SMTP_PASSWORD": password}


def test_starttls_and_a_sign_in_are_used_when_configured(tmp_path, tls_smtp):
    app = make_app(tmp_path, **tls_config(tls_smtp, "s3cret"))
    delivered_order(app.test_client(), app)
    assert len(tls_smtp.wait_for(1)) == 1 and tls_smtp.logins == ["shop"]
    assert receipts(app)[0].state == "sent"


def test_a_wrong_password_is_tried_again_later_not_given_up(tmp_path, tls_smtp):
    app = make_app(tmp_path, **tls_config(tls_smtp, "wrong"))
    delivered_order(app.test_client(), app)
    [row] = receipts(app)
    assert row.state == "pending" and "535" in row.error and tls_smtp.received == []


def test_without_smtp_settings_no_email_and_one_line_at_start(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="merchant.receipts"):
        app = make_app(tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.name == "merchant.receipts"]
    assert lines == ["receipts off: email (set MERCHANT_SMTP_HOST and MERCHANT_SMTP_FROM); "
                     "WhatsApp (set MERCHANT_FONNTE_TOKEN)"]
    client = app.test_client()
    delivered_order(client, app)
    assert receipts(app) == []


def test_smtp_host_without_a_sender_refuses_to_start(tmp_path):
    with pytest.raises(Exception, match="MERCHANT_SMTP_FROM"):
        create_app({"SECRET_KEY": "k", "SANDBOX_WEBHOOK_SECRET": "s",
                    "SMTP_HOST": "mail.example.com"}, instance_path=str(tmp_path))
    with pytest.raises(Exception, match="MERCHANT_SMTP_SECURITY is 'tls'"):
        create_app({"SECRET_KEY": "k", "SANDBOX_WEBHOOK_SECRET": "s", "SMTP_SECURITY": "tls",
                    "SMTP_HOST": "mail.example.com", "SMTP_FROM": SENDER},
                   instance_path=str(tmp_path))


class Worker:
    """`flask --app merchant worker` in its own process, on the test's database, its log
    lines (stderr) read by a thread so the test can wait for one."""

    def __init__(self, app, cwd):
        env = {**os.environ, **{f"MERCHANT_{key}": str(value) for key, value in {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"],
            "PUBLIC_URL": app.config["PUBLIC_URL"],
            "INSTANCE_PATH": app.instance_path,
            "SMTP_HOST": app.config["SMTP_HOST"], "SMTP_PORT": app.config["SMTP_PORT"],
            "SMTP_SECURITY": "none", "SMTP_FROM": app.config["SMTP_FROM"],
            # A dead worker's claims run out quickly, and a retry comes soon after.
            "OUTBOX_LEASE_SECONDS": 2, "RECEIPT_LEASE_SECONDS": 2,
            "OUTBOX_RETRY_BASE_SECONDS": 0.5, "WORKER_POLL_SECONDS": 0.2,
        }.items()}}
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "merchant", "worker"], cwd=cwd, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float = 60) -> None:
        with self._changed:
            found = self._changed.wait_for(lambda: any(text in line for line in self.lines),
                                           timeout)
        assert found, f"no {text!r} in the worker's log:\n{''.join(self.lines)}"

    def stop(self) -> int:
        """SIGTERM unless it already ended, then wait for it; its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        self.process.stderr.close()
        return code


@pytest.fixture
def workers(app):
    """Start worker processes on the test's app; every one is stopped at the end."""
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(app, ROOT))
        return started[-1]
    yield start
    for worker in started:
        worker.stop()


def paid_not_delivered(client, app) -> str:
    """An order paid on the sandbox: delivering it (and its receipt) is the worker's job."""
    ref = order_ref(buy(client, app, username="happy_gamer"))
    sandbox_pay(client, app, ref)
    return ref


@pytest.mark.process
def test_a_worker_killed_during_data_is_not_resent_and_is_left_in_doubt(
        app, client, smtp, workers, owner):
    ref = paid_not_delivered(client, app)
    first = workers()
    smtp.kill(first.pid, at="DATA")
    assert smtp.killed.wait(60), "".join(first.lines)
    assert first.stop() == -signal.SIGKILL
    assert len(smtp.received) == 1                      # the server has it; no 250 was read
    assert receipts(app)[0].state == "data_started"

    second = workers()
    second.wait_for_line("its worker stopped during the data transfer; not resent")
    second.stop()
    assert len(smtp.received) == 1
    assert receipts(app)[0].state == "in_doubt"
    assert get_order(app, ref).status == "delivered"
    assert any("may not have arrived" in d for *_, d in history(app, ref))
    assert "Receipts that may not have arrived" in owner.get("/admin/").text
    receipt_id = receipts(app)[0].id
    response = owner.post(f"/admin/orders/{ref}/receipts/{receipt_id}/arrived")
    assert response.status_code == 303, response.text
    assert receipts(app)[0].state == "sent" and len(smtp.received) == 1
    assert "Receipts that may not have arrived" not in owner.get("/admin/").text


@pytest.mark.process
def test_a_worker_killed_before_data_is_sent_exactly_once_after_a_restart(
        app, client, smtp, workers):
    paid_not_delivered(client, app)
    first = workers()
    smtp.kill(first.pid, at="RCPT")
    assert smtp.killed.wait(60), "".join(first.lines)
    assert first.stop() == -signal.SIGKILL
    assert smtp.received == [] and receipts(app)[0].state == "sending"

    second = workers()
    second.wait_for_line("email sent")
    second.stop()
    [received] = smtp.received
    assert received.rcpt_tos == ("buyer@example.com",)
    [row] = receipts(app)
    assert row.state == "sent" and row.attempts == 2
