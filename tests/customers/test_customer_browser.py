"""A 390 x 844 Chromium signs up with a code from the SMTP test server, is moved to a price
level, buys at that level's price and pays; the account page lists the order and Buy again
works; the same sign-in works without JavaScript."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import make_app, served
from playwright.sync_api import expect
from signing_in import code_in, sign_in_on, smtp_config

from merchant.core.extensions import db
from merchant.core.models import Customer, Order, PriceLevel
from tests.web.test_browser import phone  # noqa: F401  (the phone fixture)


@pytest.fixture
def shop(tmp_path, smtp):
    """The shop on a real port with a worker thread, email codes and a Reseller level."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, **smtp_config(smtp))
    with app.app_context():
        db.session.add(PriceLevel(name="Reseller", kind="discount", percent_bp=500))
        db.session.commit()
    with served(app) as url:
        yield app, url


def put_at_reseller(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(Customer).values(
            level_id=db.session.scalar(sa.select(PriceLevel.id))))
        db.session.commit()


def test_phone_signs_up_by_email_code_and_buys_at_its_level_price(shop, smtp,
                                                                    phone):  # noqa: F811
    app, url = shop
    page = phone
    page.goto(f"{url}/p/tiktok-coins")
    expect(page.locator("label.card", has_text="70 Coins")).to_contain_text("Reseller: Rp 14.300")
    sign_in_on(page, url, smtp, "dewi@example.com")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    put_at_reseller(app)

    page.goto(f"{url}/p/tiktok-coins")
    card = page.locator("label.card", has_text="70 Coins")
    expect(card).to_contain_text("Reseller price")
    expect(card.locator(".card-price")).to_have_text("Rp 14.300")
    page.fill("input[name=username]", "dewi_plays")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("Account found")
    card.click()
    page.locator("label.method", has_text="QRIS").click()
    expect(page.locator("#summary")).to_contain_text("Rp 14.300")
    expect(page.locator("input[name=email]")).to_have_value("dewi@example.com")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Buy now").click()
    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    page.get_by_role("link", name="Pay Rp").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)
    with app.app_context():
        order = db.session.scalar(sa.select(Order))
        assert (order.subtotal, order.customer_id is not None) == (14_300, True)

    # The account page: the order, and one tap to buy it again.
    page.goto(f"{url}/account")
    expect(page.locator(".account-order").first).to_contain_text("70 Coins")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Buy again").first.click()
    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 2


def test_signing_in_works_without_javascript(shop, smtp, browser):
    app, url = shop
    page = browser.new_context(java_script_enabled=False,
                               viewport={"width": 360, "height": 740}).new_page()
    sign_in_on(page, url, smtp, "rina@example.com")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


AXE = Path(__file__).parent.parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_axe_finds_nothing_serious_on_the_account_pages(shop, smtp, browser, lang):
    app, url = shop
    page = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                               has_touch=True, bypass_csp=True).new_page()
    found = {}
    page.goto(f"{url}/account/sign-in?lang={lang}")
    found["sign in"] = serious_violations(page)
    page.fill("input[name=contact]", "dewi@example.com")
    page.locator("button.primary").click()
    page.wait_for_url("**/account/code")
    code = code_in(smtp.wait_for(1)[-1].message["Subject"])
    page.fill("input[name=code]", "000000" if code != "000000" else "111111")
    page.locator("button.primary").click()
    found["wrong code"] = serious_violations(page)
    page.fill("input[name=code]", code)
    page.locator("button.primary").click()
    page.wait_for_url("**/account")
    put_at_reseller(app)
    found["account"] = serious_violations(page)
    page.goto(f"{url}/p/tiktok-coins")
    found["product, signed in"] = serious_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert {name: v for name, v in found.items() if v} == {}
