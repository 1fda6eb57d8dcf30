"""Saldo on a phone (390 x 844, headless Chromium): a customer signs up with a code from the
SMTP test server, deposits Rp 50.000 on the sandbox gateway, buys with saldo (Delivered, no
payment page), and a failed delivery comes back to the saldo at once; the balance is read
after each step."""
from __future__ import annotations

import re

import pytest
from conftest import make_app, served
from playwright.sync_api import expect
from test_browser import phone  # noqa: F401  (the phone fixture)

from tests.customers.signing_in import sign_in_on, smtp_config


@pytest.fixture
def shop(tmp_path, smtp):
    app = make_app(tmp_path, **smtp_config(smtp))
    with served(app) as url:
        yield app, url


def balance_on_saldo_page(page, url) -> str:
    page.goto(f"{url}/saldo")
    return page.locator("#saldo-balance").inner_text().replace("\xa0", " ")


def buy(page, url, username: str) -> None:
    page.goto(f"{url}/p/tiktok-coins")
    page.fill("input[name=username]", username)
    page.get_by_role("button", name="Check account").click()
    page.locator("label.card", has_text="70 Coins").click()
    saldo = page.locator("label.method", has_text="Saldo")
    saldo.click()
    page.fill("input[name=email]", "dewi@example.com")
    page.get_by_role("button", name="Buy now").click()


def test_a_phone_deposits_buys_with_saldo_and_gets_a_failed_delivery_back(
        shop, smtp, phone, tmp_path):  # noqa: F811
    app, url = shop
    page = phone
    sign_in_on(page, url, smtp, "dewi@example.com")      # signs up: a new account
    assert balance_on_saldo_page(page, url) == "Rp 0"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # 1. Deposit Rp 50.000 by QRIS on the sandbox gateway: the fee is shown, then paid.
    page.fill("input[name=amount]", "50.000")
    page.locator("label.method", has_text="QRIS").click()
    page.get_by_role("button", name="Top up now").click()
    expect(page).to_have_url(re.compile(r"/sandbox/pay/"))
    expect(page.locator("h1")).to_contain_text("Rp 50.350")       # 50.000 + QRIS 0,7 %
    page.locator("button[name=action][value=pay]").click()
    expect(page).to_have_url(re.compile(r"/saldo/d/D[A-Z0-9]+"))
    expect(page.locator(".status")).to_contain_text("Rp 50.000 was added to your saldo")
    page.screenshot(path=str(tmp_path / "1-deposit.png"), full_page=True)
    assert balance_on_saldo_page(page, url) == "Rp 50.000"

    # 2. Buy with saldo: straight to delivery, no payment page on the way.
    payment_pages = []
    page.on("request", lambda request: "/sandbox/" in request.url
            and payment_pages.append(request.url))
    buy(page, url, "dewi_gamer")
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)
    page.screenshot(path=str(tmp_path / "2-delivered.png"), full_page=True)
    assert payment_pages == []
    assert balance_on_saldo_page(page, url) == "Rp 35.000"

    # 3. A delivery that fails: the Rp 15.000 is back in the saldo at once.
    buy(page, url, "dewi_fail")
    expect(page.locator("#order-status")).to_contain_text(
        "we returned Rp 15.000 to your saldo", timeout=10_000)
    expect(page.locator("#order-status")).to_contain_text("Refunded")
    page.screenshot(path=str(tmp_path / "3-refunded.png"), full_page=True)
    assert payment_pages == []
    assert balance_on_saldo_page(page, url) == "Rp 35.000"
    history = page.locator("#saldo-history").inner_text().replace("\xa0", " ")
    assert [line for line in history.splitlines() if line.startswith(("+", "−"))] == [
        "+Rp 15.000", "−Rp 15.000", "−Rp 15.000", "+Rp 50.000"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "4-saldo.png"), full_page=True)
