"""The Alerts page: linking the owner's Telegram chat by a one-time /start code (read by the
worker's getUpdates, or posted to the webhook), and the channel chosen for each alert."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import failed_order, make_app, work
from fakes.fonnte import TOKEN as FONNTE_TOKEN
from fakes.fonnte import FakeFonnte
from fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram

from merchant.alerts import DEPOSIT_LOW, preferences, raise_alert, telegram_link
from merchant.core.extensions import db
from merchant.core.models import AlertSettings, AuditEntry


@pytest.fixture
def telegram(vendor_server):
    return FakeTelegram(vendor_server)


@pytest.fixture
def fonnte(vendor_server):
    return FakeFonnte(vendor_server)


@pytest.fixture
def app(tmp_path, telegram, fonnte, smtp):
    return make_app(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=telegram.api_url,
                    ALERT_CHECK_SECONDS=0, FONNTE_TOKEN=FONNTE_TOKEN, FONNTE_URL=fonnte.url,
                    SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                    SMTP_FROM="Shop <alerts@shop.test>")


def linked(app) -> tuple[int | None, str]:
    with app.app_context():
        row = db.session.get(AlertSettings, 1)
        return (row.telegram_chat_id, row.telegram_name) if row else (None, "")


def new_link(owner) -> str:
    """Press "Link Telegram": the one-time code in the page's t.me link."""
    page = owner.post("/admin/alerts/telegram/link")
    assert page.status_code == 200, page.text
    found = re.search(rf'href="https://t.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)"', page.text)
    assert found, page.text
    assert f"/start {found.group(1)}" in page.text
    return found.group(1)


def test_the_owner_links_a_chat_by_start_code(app, owner, telegram, clock):
    assert "No Telegram chat is linked yet." in owner.get("/admin/alerts").text
    code = new_link(owner)
    telegram.user_sends(f"/start {code}", chat_id=5550001)
    work(app)
    assert linked(app) == (5550001, "@toko_owner")
    assert telegram.texts(5550001) == ["This chat now gets the shop's alerts."]
    assert "Alerts go to the Telegram chat of @toko_owner." in owner.get("/admin/alerts").text
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry.action).where(
            AuditEntry.action == "alerts.telegram_linked")) is not None

    # The code is used: someone else sending it later links nothing (read while the owner
    # links another chat, so the worker polls again).
    telegram.user_sends(f"/start {code}", chat_id=6660002, username="stranger")
    new_link(owner)
    work(app)
    assert linked(app) == (5550001, "@toko_owner")
    assert telegram.texts(6660002)[0].startswith("This code is wrong, used or expired.")
    work(app)
    assert len(telegram.texts(6660002)) == 1          # each update read once (the offset)


def test_wrong_and_expired_codes_are_refused(app, owner, telegram, clock):
    code = new_link(owner)
    telegram.user_sends(f"/start {code[:-2]}xx")
    telegram.user_sends(f"/start {code}", chat_type="group")     # only a private chat
    work(app)
    assert linked(app) == (None, "")
    clock.advance(telegram_link.LINK_CODE_MINUTES * 60 + 1)
    telegram.user_sends(f"/start {code}")
    work(app)           # no code waits any more: the worker does not even poll
    assert linked(app) == (None, "")
    fresh = new_link(owner)
    clock.advance(telegram_link.LINK_CODE_MINUTES * 60 + 1)
    with app.app_context():
        outcome = telegram_link.handle_update(telegram.user_sends(f"/start {fresh}"))
    assert outcome == telegram_link.REFUSED and linked(app) == (None, "")


def test_the_webhook_links_with_the_secret_token_only(app, owner, telegram, clock):
    result = app.test_cli_runner().invoke(args=["alerts", "telegram-webhook"])
    assert result.exit_code == 0, result.output
    assert telegram.webhook["url"] == "http://shop.test/telegram/webhook"
    secret = telegram.webhook["secret_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
    code = new_link(owner)
    update = telegram.user_sends(f"/start {code}")
    client = app.test_client()
    assert client.post("/telegram/webhook", json=update).status_code == 403
    assert client.post("/telegram/webhook", json=update, headers={
        "X-Telegram-Bot-Api-Secret-Token": secret + "x"}).status_code == 403
    assert linked(app) == (None, "")
    answer = client.post("/telegram/webhook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": secret})
    assert answer.status_code == 200 and answer.json["outcome"] == "linked"
    assert linked(app) == (5550001, "@toko_owner")


def test_each_alert_goes_where_the_owner_chose(app, owner, client, telegram, fonnte, smtp, clock):
    code = new_link(owner)
    telegram.user_sends(f"/start {code}")
    work(app)
    form = {"whatsapp": "0812 3456 7890", "email": "owner@tokodewi.id", "deposit_threshold": "",
            "spike_failures": "5", "spike_minutes": "15", "summary_hour": "",
            "send_deposit_low_whatsapp": "y", "send_delivery_failed_email": "y"}
    saved = owner.post("/admin/alerts", data=form)
    assert saved.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)', saved.text)
    with app.app_context():
        prefs = preferences.current()
        assert prefs.channels["deposit_low"] == ("whatsapp",)
        assert prefs.channels["delivery_failed"] == ("email",)
        assert prefs.whatsapp == "+6281234567890"
        assert db.session.scalar(sa.select(AuditEntry.summary).where(
            AuditEntry.action == "alerts.update")).startswith("Changed the alerts")
        raise_alert(DEPOSIT_LOW, "digiflazz", supplier="digiflazz", balance=1_000,
                    pending_cost=5_000, threshold=None)
    ref = failed_order(client, app)
    work(app)
    work(app)
    assert telegram.texts() == ["This chat now gets the shop's alerts."]     # nothing else
    [whatsapp] = fonnte.requests
    assert whatsapp.target == "6281234567890" and "Deposit at digiflazz" in whatsapp.message
    [mail] = [m.message for m in smtp.received if m.rcpt_tos == ("owner@tokodewi.id",)]
    assert f"Order {ref}" in mail["Subject"] and f"/admin/orders/{ref}" in mail.get_content()


def test_bad_settings_are_refused_and_the_page_is_the_owners(app, owner, staff):
    form = {"whatsapp": "12", "email": "not an email", "deposit_threshold": "lots",
            "spike_failures": "0", "spike_minutes": "15", "summary_hour": "21"}
    page = owner.post("/admin/alerts", data=form)
    assert page.status_code == 422
    assert "Enter a WhatsApp number like 0812 3456 7890" in page.text
    assert "Enter an email address like owner@example.com." in page.text
    assert "Enter an amount in IDR" in page.text
    with app.app_context():
        assert db.session.get(AlertSettings, 1) is None
    assert staff.get("/admin/alerts").status_code == 403
    assert staff.post("/admin/alerts/telegram/link").status_code == 403
