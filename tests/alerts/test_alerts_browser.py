"""The owner links Telegram from the Alerts page on a 360 px phone without JavaScript, with the
shop served on a real port and its worker running, and the next alert reaches the chat."""
from __future__ import annotations

import re
import time

import pytest
from conftest import ADMIN_PASSWORD, create_admin, make_app, served
from fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram

from merchant.alerts import DEPOSIT_LOW, raise_alert


@pytest.fixture
def telegram(vendor_server):
    return FakeTelegram(vendor_server)


def until(check, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)


def test_the_owner_links_telegram_on_a_phone_without_javascript(tmp_path, telegram, browser):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, TELEGRAM_BOT_TOKEN=TOKEN,
                   TELEGRAM_API_URL=telegram.api_url)
    create_admin(app)
    page = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                               java_script_enabled=False).new_page()
    with served(app) as url:
        page.goto(f"{url}/admin/login")
        page.fill("input[name=email]", "owner@example.com")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/admin/")
        page.goto(f"{url}/admin/alerts")
        assert page.get_by_text("No Telegram chat is linked yet.").is_visible()
        page.get_by_role("button", name="Link Telegram").click()
        link = page.get_by_role("link", name="Open Telegram").get_attribute("href")
        code = re.fullmatch(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", link)[1]
        assert page.get_by_text(f"/start {code}").is_visible()

        telegram.user_sends(f"/start {code}")           # the owner presses Start
        until(lambda: telegram.texts() == ["This chat now gets the shop's alerts."])
        page.goto(f"{url}/admin/alerts")
        assert page.get_by_text("Alerts go to the Telegram chat of @toko_owner.").is_visible()

        page.get_by_label("Supplier deposit low by Email").uncheck()
        page.get_by_label("Daily summary at").select_option("7")
        page.get_by_role("button", name="Save alerts").click()
        assert page.get_by_text("Alerts saved.").is_visible()
        assert page.get_by_label("Daily summary at").input_value() == "7"

        with app.app_context():
            raise_alert(DEPOSIT_LOW, "digiflazz", supplier="digiflazz", balance=25_000,
                        pending_cost=60_000, threshold=None)
        until(lambda: len(telegram.sent) == 2)
        assert "Rp 25.000 left, Rp 60.000 needed" in telegram.texts()[1]
