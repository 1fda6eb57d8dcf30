"""A 360 px wide Chromium types a promo code: htmx shows the refusal and the discount as they
type, and the order is paid at the discounted total."""
from __future__ import annotations

import pytest
from conftest import make_app, served
from playwright.sync_api import expect

from tests.catalog.test_promos import add_promo
from tests.web.test_browser import phone  # noqa: F401  (the phone fixture)


@pytest.fixture
def promo_shop(tmp_path):
    """The shop on a real port with a worker thread and the code SAVE10 (10 % off)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_promo(app, "SAVE10", percent_bp=1000)
    with served(app) as url:
        yield url


def test_phone_applies_a_code_and_pays_the_discounted_total(promo_shop, phone):  # noqa: F811
    page = phone
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{promo_shop}/p/tiktok-coins")
    page.fill("input[name=username]", "demo_user")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("Account found")
    page.locator("label.card", has_text="70 Coins").click()
    page.locator("label.method", has_text="QRIS").click()
    expect(page.locator("#summary")).to_contain_text("Rp 15.105")

    page.locator("#promo").press_sequentially("save1")
    expect(page.locator("#promo-result")).to_contain_text("We do not know this code")
    page.locator("#promo").press_sequentially("0")
    expect(page.locator("#promo-result")).to_contain_text("SAVE10")
    expect(page.locator("#summary")).to_contain_text("Discount (SAVE10)")
    expect(page.locator("#summary")).to_contain_text("Rp 13.595")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.fill("input[name=email]", "buyer@example.com")
    page.get_by_role("button", name="Buy now").click()
    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    expect(page.locator(".summary-list")).to_contain_text("Discount (SAVE10)")
    page.get_by_role("link", name="Pay Rp 13.595").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)
