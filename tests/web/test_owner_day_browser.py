"""The owner's day on a phone (390 x 844 Chromium), from a shop started empty with the documented
switch: the setup link, Settings with a logo saved twice, a price import through its preview,
a customer's failed order refunded after its confirmation, and the order found again by part
of the customer's username."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from conftest import bare_app, empty_database, served
from PIL import Image
from test_admin_journey import PHONE, become_owner, check_mobile_legends_account

from merchant.core.extensions import db
from merchant.core.models import Order, Product, ShopSettings
from merchant.staff import admins
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(httpserver):
    return FakeDigiflazz(httpserver)


@pytest.fixture
def started_empty(tmp_path, fake, monkeypatch):
    """`MERCHANT_DEMO=0 make run`: the same command on a new database, then served."""
    app = bare_app(tmp_path, WTF_CSRF_ENABLED=True, **fake.settings())
    with app.app_context():
        empty_database()
    monkeypatch.setenv("MERCHANT_DEMO", "0")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    with served(app) as url:
        yield app, url


def a_logo(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (20, 120, 90)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def money(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_owner_day_on_a_phone_from_an_empty_shop(started_empty, fake, tmp_path, browser):
    from playwright.sync_api import expect
    app, base = started_empty
    with app.app_context():
        token = admins.new_setup_token()
    fake.script("123456782345", kind="fail", rc="02")       # Digiflazz fails this account

    errors: list[str] = []
    owner = browser.new_context(**PHONE).new_page()
    owner.on("pageerror", lambda exc: errors.append(str(exc)))

    # The setup link makes the owner.
    become_owner(owner, base, token)
    no_sideways_scroll(owner)

    # Settings: a logo, then the name changed with the logo kept (once a 500).
    owner.goto(f"{base}/admin/settings")
    owner.fill("#shop_name", "Dewi Top Up")
    owner.set_input_files("#logo", a_logo(tmp_path / "logo.png"))
    owner.get_by_role("button", name="Save settings").click()
    expect(owner.locator("body")).to_contain_text("Settings saved")
    owner.fill("#shop_name", "Dewi Top Up Murah")
    owner.get_by_role("button", name="Save settings").click()
    expect(owner.locator("body")).to_contain_text("Settings saved")
    with app.app_context():
        settings = db.session.get(ShopSettings, 1)
        assert settings.shop_name == "Dewi Top Up Murah" and settings.logo
    no_sideways_scroll(owner)

    # The price import: its preview first, then applied.
    owner.goto(f"{base}/admin/catalog/import")
    owner.fill("#markup", "8%")
    owner.get_by_role("button", name="Preview the changes").click()
    apply = owner.get_by_role("button", name="Apply these changes")
    expect(apply).to_be_visible(timeout=15_000)
    expect(owner.locator("body")).to_contain_text("86 Diamonds")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    no_sideways_scroll(owner)
    apply.click()
    expect(owner.locator("#import-job")).to_contain_text("Done", timeout=15_000)

    # A customer buys for an account Digiflazz refuses: the delivery fails.
    customer = browser.new_context(**PHONE).new_page()
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    customer.goto(base)
    customer.get_by_role("link", name="Mobile Legends").first.click()
    check_mobile_legends_account(customer)
    customer.locator("label.card", has_text="86 Diamonds").click()
    customer.locator("label.method", has_text="QRIS").click()
    customer.fill("input[name=email]", "dewi.shop@example.com")
    customer.get_by_role("button", name="Buy now").click()
    customer.get_by_role("link", name="Pay").first.click()
    customer.get_by_role("button", name="Pay", exact=True).click()
    expect(customer.locator("#order-status")).to_contain_text("Delivery failed",
                                                              timeout=15_000)
    with app.app_context():
        order = db.session.scalar(sa.select(Order))
        ref, total = order.ref, order.total

    # The owner finds it by part of the customer's address and of the account ID.
    owner.goto(f"{base}/admin/orders")
    for part in ("dewi", "345678"):
        owner.fill("input[name=q]", part)
        owner.locator("input[name=q]").press("Enter")
        expect(owner.locator("main")).to_contain_text(ref)
    no_sideways_scroll(owner)
    owner.locator("main").get_by_role("link", name=ref).first.click()
    expect(owner.get_by_role("heading", name=ref)).to_be_visible()

    # The refund asks first, with the amount and where the money goes.
    owner.get_by_role("link", name="Refund through sandbox…").click()
    facts = owner.locator(".refund-facts")
    expect(facts).to_contain_text(money(total))
    expect(facts).to_contain_text("QRIS")
    no_sideways_scroll(owner)
    owner.fill("#note", "Account refused by the supplier")
    owner.get_by_role("button", name=f"Refund {money(total)} through sandbox").click()
    expect(owner.locator("body")).to_contain_text("Refunded")
    with app.app_context():
        assert db.session.scalar(sa.select(Order.status)) == "refunded"
    expect(customer.locator("#order-status")).to_contain_text("Refunded", timeout=10_000)
    expect(customer.locator("#order-status")).to_contain_text(money(total))
    assert errors == []
