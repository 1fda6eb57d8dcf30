"""The owner's first day, in a real phone-sized Chromium, from an empty database.

The setup link creates the owner; the owner adds a payment method, imports the fake
Digiflazz price list, renames the imported product and gives it a picture; a customer buys;
Digiflazz fails the delivery, so the order shows in Needs attention; the owner delivers it by
hand with a proof, and the customer's page shows Delivered.
"""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from conftest import make_app, served
from PIL import Image

from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.staff import admins
from tests.fakes.digiflazz import FakeDigiflazz

OWNER = "owner@example.com"
PASSWORD = "a long owner password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def fake(httpserver):
    return FakeDigiflazz(httpserver)


@pytest.fixture
def empty_shop(tmp_path, fake):
    """A shop with an empty database (no demo), served on a real port with a worker thread."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, **fake.settings())
    with app.app_context():
        db.drop_all()
        db.create_all()
    with served(app) as url:
        yield app, url


def become_owner(page, base: str, token: str) -> None:
    """Open the setup link `make run` prints for a shop without admin and create the owner."""
    from playwright.sync_api import expect
    page.goto(f"{base}/admin/setup/{token}")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()


def check_mobile_legends_account(page) -> None:
    """On a Mobile Legends product page: User ID 12345678, Zone ID 2345, typed twice, checked."""
    page.fill("input[name=user_id]", "12345678")
    page.fill("input[name=zone_id]", "2345")
    for confirm in page.locator("input[name^=confirm]").all():
        name = confirm.get_attribute("name")
        confirm.fill("12345678" if "user_id" in name else "2345")
    page.get_by_role("button", name="Check account").click()


def a_picture(path) -> str:
    """A PNG a phone camera might give: 600 x 400, not square."""
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 30, 90)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def open_area(page, name: str) -> None:
    """On a phone the panel's areas are behind its Menu button."""
    menu = page.locator("details.admin-menu")
    menu.locator("summary").click()
    menu.get_by_role("link", name=name, exact=True).click()


def test_owner_sets_up_an_empty_shop_and_delivers_a_failed_order_by_hand(empty_shop, fake,
                                                                        tmp_path, browser):
    from playwright.sync_api import expect
    app, base = empty_shop
    with app.app_context():
        token = admins.new_setup_token()          # what `make run` prints for a shop without admin
    # Digiflazz fails every delivery to this account (rc 02: a final failure).
    fake.script("123456782345", kind="fail", rc="02")

    errors: list[str] = []
    owner = browser.new_context(**PHONE).new_page()
    owner.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. The setup link creates the owner, once.
    become_owner(owner, base, token)

    # 2. Payment methods: the sandbox set is there; the owner adds one of their own.
    open_area(owner, "Payment methods")
    expect(owner.locator(".methods-table")).to_contain_text("QRIS")
    owner.get_by_role("link", name="Add a method of your own").click()
    owner.fill("#name", "Alfamart")
    owner.fill("#code", "alfamart")
    owner.fill("#fee_flat", "2500")
    owner.get_by_role("button", name="Add the method").click()
    expect(owner.locator(".methods-table")).to_contain_text("Alfamart")

    # 3. Import the price list from (the fake) Digiflazz: its preview, then the progress page.
    open_area(owner, "Catalog")
    owner.get_by_role("link", name="Import prices").click()
    owner.fill("#markup", "8%")
    owner.get_by_role("button", name="Preview the changes").click()
    expect(owner.get_by_role("button", name="Apply these changes")).to_be_visible(
        timeout=15_000)
    owner.get_by_role("button", name="Apply these changes").click()
    expect(owner.locator("#import-job")).to_contain_text("Done", timeout=15_000)

    # 4. Rename the imported product and give it a picture.
    owner.get_by_role("link", name="See the catalog").click()
    owner.get_by_role("link", name="Mobile Legends").first.click()
    owner.get_by_role("link", name="Edit product").click()
    owner.fill("#name", "Mobile Legends Diamonds")
    owner.set_input_files("#picture", a_picture(tmp_path / "ml.png"))
    owner.get_by_role("button", name="Save product").click()
    expect(owner.get_by_role("heading", name="Mobile Legends Diamonds")).to_be_visible()
    assert owner.evaluate("document.documentElement.scrollWidth") <= 390

    # 5. A customer buys 86 Diamonds with Alfamart and pays on the sandbox page.
    customer = browser.new_context(**PHONE).new_page()
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    customer.goto(base)
    tile = customer.get_by_role("link", name="Mobile Legends Diamonds")
    assert "/media/" in tile.locator("img").get_attribute("src")
    tile.click()
    check_mobile_legends_account(customer)
    expect(customer.locator("#account-check")).to_contain_text("match")
    customer.locator("label.card", has_text="86 Diamonds").click()
    customer.locator("label.method", has_text="Alfamart").click()
    expect(customer.locator("#summary")).to_contain_text("Rp 24.100")   # 21.600 + 2.500
    customer.fill("input[name=email]", "buyer@example.com")
    customer.get_by_role("button", name="Buy now").click()
    customer.get_by_role("link", name="Pay Rp 24.100").click()
    customer.get_by_role("button", name="Pay", exact=True).click()
    expect(customer.locator("#order-status")).to_contain_text("Delivery failed",
                                                              timeout=15_000)
    with app.app_context():
        ref = db.session.scalar(sa.select(Order.ref))

    # 6. The order is in Needs attention; the owner delivers it by hand with a proof.
    open_area(owner, "Needs attention")
    row = owner.locator(".attention-item", has_text=ref)
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    expect(owner.get_by_role("heading", name=ref)).to_be_visible()
    owner.fill("#proof", "Sent by hand, trx 55123")
    owner.get_by_role("button", name="Mark delivered").click()
    expect(owner.locator("body")).to_contain_text("Delivered")
    assert owner.evaluate("document.documentElement.scrollWidth") <= 390

    # 7. The customer's page shows Delivered, with the proof.
    expect(customer.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)
    expect(customer.locator(".proof")).to_contain_text("trx 55123")
    owner.screenshot(path=str(tmp_path / "owner-delivered.png"), full_page=True)
    assert errors == []
    assert fake.purchases["123456782345"] == 0 or sum(fake.purchases.values()) == 1
