"""A line break in a one-line catalog field: refused when typed in the panel, and harmless in a
receipt's header when it is already in the database (written before, or by an import)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import buy, get_order, make_app, order_ref, package_id, sandbox_pay, work
from fakes.smtp import FakeSmtp

from merchant.core.extensions import db
from merchant.core.models import Package, Product, Receipt
from tests.catalog.test_admin_catalog import package_form, product_form, product_id


def names(app) -> tuple[str, str]:
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == "free-fire"))
        package = db.session.get(Package, package_id(app, "free-fire", "70 Diamonds"))
        return product.name, package.name


@pytest.mark.parametrize("lang, message", [
    ("en", "Write this on one line: line breaks, tabs and other control characters cannot be "
           "used here."),
    ("id", "Tulis dalam satu baris: baris baru, tab dan karakter kontrol lain tidak bisa dipakai "
           "di sini."),
])
@pytest.mark.parametrize("value", ["Free Fire\nMAX", "Free Fire\r\n", "Free\tFire",
                                   "Free Fire\u2028MAX"])
def test_a_line_break_in_a_one_line_field_is_refused_and_nothing_changes(
        app, owner, lang, message, value):
    owner.get(f"/admin/?lang={lang}")
    pid = product_id(app, "free-fire")
    response = owner.post(f"/admin/catalog/{pid}/edit",
                          data=product_form(app, "free-fire", name=value))
    assert response.status_code == 422 and message in response.text
    package = package_id(app, "free-fire", "70 Diamonds")
    form = {**package_form(app, "free-fire", "70 Diamonds", badge="Hot\nDeal"), "name": value}
    response = owner.post(f"/admin/catalog/packages/{package}/edit", data=form)
    assert response.status_code == 422 and response.text.count(message) == 2
    assert names(app) == ("Free Fire", "70 Diamonds")


def test_other_panel_forms_refuse_it_too(app, owner):
    response = owner.post("/admin/settings", data={"shop_name": "Kilat\nTop-Up"})
    assert response.status_code == 422 and "Write this on one line" in response.text
    response = owner.post("/admin/promos/new", data={"code": "HEMAT\n10", "kind": "percent",
                                                     "value": "10"})
    assert response.status_code == 422 and "Write this on one line" in response.text


def test_an_existing_name_with_a_line_break_still_gets_its_email_receipt(tmp_path):
    smtp = FakeSmtp().start()
    try:
        app = make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                       SMTP_SECURITY="none", SMTP_FROM="Shop <receipts@shop.test>")
        with app.app_context():              # as an older version or an import left it
            db.session.execute(sa.update(Package).where(
                Package.id == package_id(app, "tiktok-coins", "70 Coins")).values(
                name="70 Coins\r\nBcc: everyone@example.com"))
            db.session.commit()
        client = app.test_client()
        ref = order_ref(buy(client, app, package="70 Coins\r\nBcc: everyone@example.com",
                            username="happy_gamer"))
        sandbox_pay(client, app, ref)
        work(app, passes=3)
        assert get_order(app, ref).status == "delivered"
        [received] = smtp.wait_for(1)
        assert received.rcpt_tos == ("buyer@example.com",)
        message = received.message
        assert message["Subject"] == (f"Delivered: 70 Coins Bcc: everyone@example.com · order "
                                      f"{ref}")
        assert message["Bcc"] is None
        with app.app_context():
            assert [r.state for r in db.session.scalars(sa.select(Receipt))] == ["sent"]
    finally:
        smtp.stop()
