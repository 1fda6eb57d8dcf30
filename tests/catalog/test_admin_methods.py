"""Payment methods in the panel: a new shop's preset set, add, edit, turn off, refusals."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from conftest import (
    ADMIN_PASSWORD,
    create_admin,
    empty_database,
    make_app,
    package_id,
    sign_in,
    verify,
)
from flask_migrate import downgrade
from PIL import Image

from merchant.catalog import payment_presets
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Order, Package, PaymentMethod, Product
from merchant.staff import admins
from merchant.vendors import payments
from merchant.vendors.payments import ADAPTERS

XENDIT = {"GATEWAY": "xendit", "XENDIT_SECRET_KEY": "xnd_test", "XENDIT_CALLBACK_TOKEN": "cb"}
CUSTOM = {"name": "LinkAja", "code": "linkaja", "kind": "ewallet", "gateway": "",
          "currency": "IDR", "fee_flat": "1.000", "fee_percent": "1,5", "min_amount": "1000",
          "max_amount": "", "icon": "icons/pay/dana.svg", "sort_order": "10", "active": "y"}


def method(app, code: str) -> PaymentMethod | None:
    with app.app_context():
        found = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == code))
        if found is not None:
            db.session.expunge(found)
        return found


def codes(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(PaymentMethod.code).order_by(PaymentMethod.sort_order)))


def audit_actions(app) -> list[tuple]:
    with app.app_context():
        return [(e.actor, e.action, e.before, e.after) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.target_type.in_(
                ("payment_method", "gateway"))).order_by(AuditEntry.id))]


def edit_form(app, which: str, **changes) -> dict:
    """The edit form as the page shows it for method `which`, with `changes` typed over it."""
    found = method(app, which)
    form = {"name": found.name, "code": found.code, "kind": found.kind,
            "gateway": found.gateway or "", "currency": found.currency,
            "fee_flat": str(found.fee_flat), "fee_percent": str(found.fee_percent_bp / 100),
            "min_amount": str(found.min_amount), "max_amount": str(found.max_amount or ""),
            "icon": found.icon, "sort_order": str(found.sort_order), "active": "y"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def total(client, app, code: str, package: str = "70 Coins") -> str:
    response = client.get("/p/tiktok-coins/summary", headers={"HX-Request": "true"},
                          query_string={"package": package_id(app, "tiktok-coins", package),
                                        "method": code})
    found = re.search(r'<dd class="total">([^<]+)</dd>', response.text)
    return found.group(1) if found else response.text


def without_methods(app) -> None:
    with app.app_context():
        db.session.execute(sa.delete(PaymentMethod))
        db.session.commit()


# --- a new shop ------------------------------------------------------------------------------

@pytest.mark.parametrize("gateway", list(ADAPTERS))
def test_every_preset_has_a_channel_at_its_gateway(gateway):
    presets = payment_presets.PRESETS[gateway]
    assert presets
    for preset in presets:
        assert payments.unserved(gateway, preset.code, {}) is None, preset.code
        assert preset.max_amount is None or preset.max_amount >= preset.min_amount


def test_the_setup_link_gives_a_shop_without_methods_its_gateways_set(tmp_path):
    app = make_app(tmp_path, **XENDIT)
    without_methods(app)
    with app.app_context():
        token = admins.new_setup_token()
    client = app.test_client()
    response = client.post(f"/admin/setup/{token}", data={
        "email": "owner@example.com", "password": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD})
    assert response.status_code == 303
    expected = [p.code for p in payment_presets.PRESETS["xendit"]]
    assert codes(app) == expected and "GOPAY" not in expected
    page = client.get("/admin/methods").text
    assert "Mandiri Virtual Account" in page and "Rp 4.000" in page
    assert method(app, "QRIS").gateway is None          # follows MERCHANT_GATEWAY
    [(actor, action, _, after)] = audit_actions(app)
    assert (actor, action) == ("owner@example.com", "method.install_defaults")
    assert after["methods"] == expected
    # The customer can pay with them: the product page offers them.
    product = app.test_client().get("/p/tiktok-coins").text
    assert 'value="BNI_VA"' in product and 'value="GOPAY"' not in product


def test_init_db_and_seed_demo_give_a_shop_without_methods_the_gateways_set(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
    try:
        first = app.test_cli_runner().invoke(args=["init-db"])
        assert first.exit_code == 0, first.output
        assert "Added 7 payment methods for the sandbox gateway" in first.output
        assert "payment methods" not in app.test_cli_runner().invoke(args=["init-db"]).output
        # After a price import: products, and no method (the operator removed them by SQL).
        without_methods(app)
        with app.app_context():
            db.session.add(Product(slug="imported", name="Imported", packages=[
                Package(name="10", price=1000)]))
            db.session.commit()
        result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
        assert result.exit_code == 0 and "Added 7 payment methods" in result.output
        assert codes(app) == [p.code for p in payment_presets.PRESETS["sandbox"]]
    finally:
        with app.app_context():
            downgrade(revision="base")
            db.create_all()


def test_a_shop_with_methods_gets_no_presets_added(app):
    with app.app_context():
        before = codes(app)
        assert payment_presets.install_defaults("xendit") == 0
        assert codes(app) == before


# --- add, edit, turn off -------------------------------------------------------------------

def test_a_custom_method_reaches_the_product_page_and_the_total(app, owner):
    response = owner.post("/admin/methods/new", data=CUSTOM)
    assert response.status_code == 303, response.text
    added = method(app, "LINKAJA")
    assert (added.fee_flat, added.fee_percent_bp, added.max_amount) == (1000, 150, None)
    assert "LinkAja" in owner.get("/admin/methods").text
    shop = app.test_client()
    page = shop.get("/p/tiktok-coins").text
    assert "LinkAja" in page and "fee Rp 1.000 + 1,5%" in page
    # 15.000 + 1.000 + 1.5 % of 15.000 (225)
    assert total(shop, app, "LINKAJA") == "Rp 16.225"
    [(actor, action, before, after)] = audit_actions(app)
    assert (actor, action, before) == ("owner@example.com", "method.create", None)
    assert after["code"] == "LINKAJA" and after["fee_percent_bp"] == 150


def test_a_new_fee_changes_the_customers_total_and_is_audited(app, owner):
    shop = app.test_client()
    assert total(shop, app, "QRIS") == "Rp 15.105"        # 0.7 %
    response = owner.post(f"/admin/methods/{method(app, 'QRIS').id}",
                          data=edit_form(app, "QRIS", fee_percent="1.25", fee_flat="100"))
    assert response.status_code == 303, response.text
    assert method(app, "QRIS").fee_percent_bp == 125
    assert total(shop, app, "QRIS") == "Rp 15.288"        # 15.000 + 100 + 187.5 rounded up
    [(_, action, before, after)] = audit_actions(app)
    assert action == "method.update"
    assert before == {"fee_flat": 0, "fee_percent_bp": 70}
    assert after == {"fee_flat": 100, "fee_percent_bp": 125}
    assert "Changed the payment method QRIS" in owner.get(
        f"/admin/methods/{method(app, 'QRIS').id}").text


def test_turning_a_method_off_with_one_tap_hides_it_from_customers(app, owner):
    ovo = method(app, "OVO")
    row = owner.post(f"/admin/methods/{ovo.id}/active", data={"active": "0"},
                     headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert row.text.strip().startswith(f'<tr id="method-{ovo.id}"') and "Turn on" in row.text
    shop = app.test_client()
    assert 'value="OVO"' not in shop.get("/p/tiktok-coins").text
    token = verify(shop, "tiktok-coins", username="demo_user")
    refused = shop.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "method": "OVO",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "email": "a@example.com",
        "idempotency_key": "k1"})
    assert refused.status_code == 422
    # Without JavaScript: the same form, a full page back.
    plain = owner.post(f"/admin/methods/{ovo.id}/active", data={"active": "1"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/admin/methods")
    assert "OVO is on." in owner.get("/admin/methods").text
    assert 'value="OVO"' in shop.get("/p/tiktok-coins").text
    assert [a[1] for a in audit_actions(app)] == ["method.disable", "method.enable"]


def test_a_preset_the_shop_lacks_is_one_tap_away(app, owner):
    with app.app_context():
        db.session.execute(sa.delete(PaymentMethod).where(PaymentMethod.code == "DANA"))
        db.session.commit()
    assert "Add DANA" in owner.get("/admin/methods").text
    assert owner.post("/admin/methods/presets", data={"code": "DANA"}).status_code == 303
    dana = method(app, "DANA")
    assert (dana.fee_percent_bp, dana.active) == (150, True)
    assert "Add DANA" not in owner.get("/admin/methods").text
    assert owner.post("/admin/methods/presets", data={"code": "DANA"}).status_code == 303
    assert "is not one of the sandbox methods this shop lacks" in owner.get(
        "/admin/methods").text
    assert codes(app).count("DANA") == 1


# --- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"fee_percent": "abc"}, "Enter a percentage from 0 to 50, like 1.5"),
    ({"fee_percent": "1.555"}, "at most two decimals"),
    ({"fee_percent": "-1"}, "Enter a percentage"),
    ({"fee_flat": "-5"}, "Enter an amount in IDR, like 14.000."),
    ({"min_amount": "50000", "max_amount": "10000"}, "The largest total must be at least"),
    ({"code": "bad code!"}, "Use 2-32 capital letters, digits or _"),
    ({"code": "GOPAY"}, "Another payment method already has the code GOPAY."),
    ({"name": ""}, "Enter the name customers see"),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_changes(app, owner, changes, message):
    qris = method(app, "QRIS")
    response = owner.post(f"/admin/methods/{qris.id}", data=edit_form(app, "QRIS", **changes))
    assert response.status_code == 422
    assert message in response.text
    after = method(app, "QRIS")
    assert (after.code, after.name, after.fee_flat, after.fee_percent_bp, after.max_amount) == (
        qris.code, qris.name, qris.fee_flat, qris.fee_percent_bp, qris.max_amount)
    assert audit_actions(app) == []


def test_a_gateway_without_its_settings_is_refused_naming_the_variables(app, owner):
    qris = method(app, "QRIS")
    response = owner.post(f"/admin/methods/{qris.id}",
                          data=edit_form(app, "QRIS", gateway="xendit"))
    assert response.status_code == 422
    assert "The xendit payment gateway is not configured: set MERCHANT_XENDIT_SECRET_KEY, " \
           "MERCHANT_XENDIT_CALLBACK_TOKEN" in response.text
    assert method(app, "QRIS").gateway is None
    assert audit_actions(app) == []


def test_a_gateway_without_a_channel_for_the_method_is_refused(tmp_path):
    app = make_app(tmp_path, **{k: v for k, v in XENDIT.items() if k != "GATEWAY"})
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    gopay = method(app, "GOPAY")
    response = owner.post(f"/admin/methods/{gopay.id}",
                          data=edit_form(app, "GOPAY", gateway="xendit"))
    assert response.status_code == 422
    assert "xendit has no channel for GOPAY" in response.text
    assert "MERCHANT_XENDIT_METHODS" in response.text
    ok = owner.post(f"/admin/methods/{method(app, 'OVO').id}",
                    data=edit_form(app, "OVO", gateway="xendit"))
    assert ok.status_code == 303
    assert method(app, "OVO").gateway == "xendit"


TRIPAY = {"GATEWAY": "tripay", "TRIPAY_API_KEY": "DEV-key", "TRIPAY_PRIVATE_KEY": "private",
          "TRIPAY_MERCHANT_CODE": "T0001", "TRIPAY_API_URL": "http://127.0.0.1:9/",
          "SANDBOX_ENABLED": False, "PUBLIC_URL": "https://shop.example.com"}


@pytest.mark.parametrize("lang, refused", [
    ("en", "GoPay cannot be used in this shop. Choose another payment method."),
    ("id", "GoPay tidak bisa dipakai di toko ini. Pilih metode pembayaran lain."),
])
def test_a_method_the_gateway_has_no_channel_for_is_not_offered(tmp_path, caplog, lang,
                                                                  refused):
    """A demo shop switched to Tripay keeps GoPay and card: Tripay has no channel for them."""
    app = make_app(tmp_path, **TRIPAY)
    client = app.test_client()
    page = client.get(f"/p/tiktok-coins?lang={lang}").text
    assert 'value="QRIS"' in page
    assert 'value="GOPAY"' not in page and 'value="CARD"' not in page
    summary = client.get("/p/tiktok-coins/summary", headers={"HX-Request": "true"},
                         query_string={"package": package_id(app, "tiktok-coins", "70 Coins"),
                                       "method": "GOPAY"})
    assert 'class="total"' not in summary.text

    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post(f"/p/tiktok-coins/order?lang={lang}", data={
        "username": "demo_user", "verification_token": token, "email": "b@example.com",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "method": "GOPAY"})
    assert response.status_code == 422 and refused in response.text
    assert "not responding" not in response.text and "tidak merespons" not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0

    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    page = owner.get("/admin/methods").text
    row = re.search(rf'<tr id="method-{method(app, "GOPAY").id}".*?</tr>', page, re.S).group(0)
    assert "Not offered to customers" in row and "tripay has no channel for GOPAY" in row
    qris = re.search(rf'<tr id="method-{method(app, "QRIS").id}".*?</tr>', page, re.S).group(0)
    assert "Not offered" not in qris
    home = owner.get("/admin/").text
    assert "GoPay is on, but customers are not offered it" in home
    assert "Credit / debit card is on, but customers are not offered it" in home
    assert "QRIS is on" not in home


@pytest.mark.parametrize("lang, refused", [
    ("en", "QRIS cannot take this order. Choose another payment method."),
    ("id", "QRIS tidak bisa menerima pesanan ini. Pilih metode pembayaran lain."),
])
def test_a_payment_the_settings_keep_from_opening_is_not_called_an_outage(tmp_path, lang,
                                                                            refused):
    """Tripay needs an email: a customer who leaves only WhatsApp, in a shop without
    MERCHANT_TRIPAY_CUSTOMER_EMAIL, is not told the provider is down."""
    app = make_app(tmp_path, **TRIPAY)
    client = app.test_client()
    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post(f"/p/tiktok-coins/order?lang={lang}", data={
        "username": "demo_user", "verification_token": token, "whatsapp": "0812 3456 7890",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "method": "QRIS"})
    assert response.status_code == 422 and refused in response.text
    assert "not responding" not in response.text and "tidak merespons" not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_staff_cannot_see_or_change_payment_methods(app, staff):
    qris = method(app, "QRIS")
    assert staff.get("/admin/methods").status_code == 403
    assert staff.get(f"/admin/methods/{qris.id}").status_code == 403
    assert staff.post(f"/admin/methods/{qris.id}/active", data={"active": "0"}).status_code == 403
    assert staff.post("/admin/methods/new", data=CUSTOM).status_code == 403
    assert method(app, "QRIS").active and method(app, "LINKAJA") is None


def test_an_uploaded_icon_is_shown_to_customers(app, owner):
    picture = io.BytesIO()
    Image.new("RGB", (120, 80), (0, 120, 200)).save(picture, "PNG")
    picture.seek(0)
    qris = method(app, "QRIS")
    response = owner.post(f"/admin/methods/{qris.id}", content_type="multipart/form-data",
                          data={**edit_form(app, "QRIS"), "icon_upload": (picture, "qris.png")})
    assert response.status_code == 303, response.text
    icon = method(app, "QRIS").icon
    assert re.fullmatch(r"media/[0-9a-f]{32}\.webp", icon)
    assert f'src="/{icon}"' in app.test_client().get("/p/tiktok-coins").text
    # The edit page offers the upload as the current choice, so saving again keeps it.
    assert owner.post(f"/admin/methods/{qris.id}", data=edit_form(app, "QRIS")).status_code == 303
    assert method(app, "QRIS").icon == icon
