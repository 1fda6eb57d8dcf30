"""A 390 x 844 phone in Chromium through a flash sale under the test clock: the sale starts,
the countdown ticks beside the end time, the buyer pays the sale price, the stock bar moves,
the sale ends and the normal price returns."""
from __future__ import annotations

import os
import re

import pytest
from conftest import make_app, served
from playwright.sync_api import expect

from tests.catalog.test_flash_sales import add_sale
from tests.web.test_browser import phone  # noqa: F401  (the phone fixture)


@pytest.fixture
def sale_shop(tmp_path, clock):
    """The shop on a real port with a worker thread; a sale of 70 Coins at Rp 14.000 (5 units)
    starts in ten minutes and lasts an hour, by the test's clock."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_sale(app, price=14_000, stock=5, starts_in=600, lasts=3600, name="Payday")
    with served(app) as url:
        yield url


def card(page):
    return page.locator("label.card", has_text="70 Coins")


def test_phone_buys_in_a_flash_sale_until_it_ends(sale_shop, phone, clock):  # noqa: F811
    page = phone
    page.goto(f"{sale_shop}/p/tiktok-coins")
    expect(page.locator(".flash-banner")).to_have_count(0)
    expect(card(page)).to_contain_text("Rp 15.000")

    clock.advance(600)
    page.goto(sale_shop)
    expect(page.locator("#shelf-flash")).to_contain_text("Flash sale")
    page.locator(".flash-shelf").get_by_role("link", name=re.compile("TikTok Coins")).click()
    banner = page.locator(".flash-banner")
    expect(banner).to_contain_text("Flash sale: Payday")
    expect(banner).to_contain_text("Ends")
    countdown = banner.locator(".sale-left")
    expect(countdown).to_be_visible()
    expect(countdown).to_have_text(re.compile(r"^1:0\d:\d\d left$"))
    first = countdown.text_content()
    expect(countdown).not_to_have_text(first, timeout=3_000)        # it ticks
    expect(card(page)).to_contain_text("Rp 14.000")
    expect(card(page)).to_contain_text("5 left")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.fill("input[name=username]", "demo_user")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("Account found")
    card(page).click()
    page.locator("label.method", has_text="QRIS").click()
    expect(page.locator("#summary")).to_contain_text("Flash sale")
    expect(page.locator("#summary")).to_contain_text("Rp 14.098")
    page.fill("input[name=email]", "buyer@example.com")
    page.get_by_role("button", name="Buy now").click()
    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    page.get_by_role("link", name="Pay Rp 14.098").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)

    page.goto(f"{sale_shop}/p/tiktok-coins")
    expect(card(page)).to_contain_text("4 left")
    expect(card(page).locator("meter")).to_have_attribute("value", "4")

    clock.advance(3600)
    page.reload()
    expect(page.locator(".flash-banner")).to_have_count(0)
    expect(card(page)).to_contain_text("Rp 15.000")
    expect(card(page)).not_to_contain_text("Rp 14.000")
    page.goto(sale_shop)
    expect(page.locator("#shelf-flash")).to_have_count(0)


AXE = os.path.join(os.path.dirname(__file__), "..", "vendor", "axe.min.js")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_360px_phone_reads_the_sale_and_axe_finds_nothing_serious(sale_shop, browser, clock,
                                                                     lang):
    # axe is injected as a script of its own: the shop's CSP (script-src 'self') would refuse it.
    page = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                               has_touch=True, bypass_csp=True).new_page()
    clock.advance(600)
    for path in ("/", "/p/tiktok-coins"):
        page.goto(f"{sale_shop}{path}?lang={lang}")
        expect(page.locator(".stock").first).to_contain_text(
            "5 left" if lang == "en" else "tersisa 5")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.add_script_tag(path=AXE)
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [f"{v['id']}: {v['help']}" for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, serious)
