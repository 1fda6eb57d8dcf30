"""Archive and delete in the panel: products, packages, payment methods and promo codes leave
customers' sight and the panel's lists but stay for old orders; only what no order names can
be deleted. Owner only, audited, each asked first."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from conftest import buy, create_admin, order_ref, package_id, sign_in

from merchant.catalog import promos
from merchant.core.audit import CLI
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Order, Package, PaymentMethod, Product, Promo


def row_id(app, model, **where) -> int | None:
    with app.app_context():
        return db.session.scalar(sa.select(model.id).filter_by(**where))


def actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.summary) for e in db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id))
            if e.action.endswith((".archive", ".unarchive", ".delete"))]


def add_promo(app, code: str) -> int:
    with app.app_context():
        promo = promos.create({"code": code, "percent_bp": 500, "amount_off": None,
                               "currency": "IDR", "product_id": None, "min_spend": 0,
                               "starts_at": None, "ends_at": None, "max_uses": None,
                               "max_per_contact": None, "active": True}, CLI)
        return promo.id


def text(response) -> str:
    return html.unescape(response.text)


def test_an_archived_package_leaves_the_shop_and_the_list_and_comes_back_off(app, client,
                                                                             owner):
    package = package_id(app, "tiktok-coins", "70 Coins")
    product = row_id(app, Product, slug="tiktok-coins")
    ask = owner.get(f"/admin/archive/package/{package}")
    assert ask.status_code == 200
    assert "Archive the package TikTok Coins 70 Coins?" in text(ask)
    assert row_id(app, Package, id=package, archived_at=None) == package    # asking changes nothing

    done = owner.post(f"/admin/archive/package/{package}")
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/admin/catalog/{product}")
    assert "70 Coins" not in client.get("/p/tiktok-coins").text
    assert "TikTok Coins 70 Coins is archived" in owner.get(f"/admin/catalog/{product}").text
    page = owner.get(f"/admin/catalog/{product}").text
    current, archived = page.split('id="archived-packages"')
    assert "70 Coins" not in current and "70 Coins" in archived
    assert actions(app) == [("package.archive", "Archived the package TikTok Coins 70 Coins")]

    assert owner.post(f"/admin/archive/package/{package}/undo").status_code == 303
    assert 'id="archived-packages"' not in owner.get(f"/admin/catalog/{product}").text
    with app.app_context():
        restored = db.session.get(Package, package)
        assert restored.archived_at is None and restored.active is False    # off until turned on
    assert "70 Coins" not in client.get("/p/tiktok-coins").text
    assert actions(app)[-1] == ("package.unarchive",
                                "Unarchived the package TikTok Coins 70 Coins")


def test_an_archived_product_with_orders_is_kept_for_them_and_cannot_be_deleted(app, client,
                                                                                owner):
    ref = order_ref(buy(client, app))
    product = row_id(app, Product, slug="tiktok-coins")
    refused = owner.post(f"/admin/delete/product/{product}")
    assert refused.status_code == 422
    assert "TikTok Coins cannot be deleted: 1 order refers to it. Archive it instead" \
        in text(refused)
    assert row_id(app, Product, id=product) == product

    archived = owner.post(f"/admin/archive/product/{product}", follow_redirects=True)
    assert "TikTok Coins is archived: customers no longer see it" in archived.text
    assert "TikTok Coins" not in client.get("/").text
    assert client.get("/p/tiktok-coins").status_code == 404
    assert "TikTok Coins" not in owner.get("/admin/catalog").text
    assert "TikTok Coins" in owner.get("/admin/catalog?archived=1").text
    assert "TikTok Coins (archived)" in owner.get("/admin/promos/new").text
    # The old order still shows what was bought, to the owner and to the customer.
    assert "TikTok Coins" in owner.get(f"/admin/orders/{ref}").text
    with app.app_context():
        token = db.session.scalar(sa.select(Order.view_token).where(Order.ref == ref))
    assert "TikTok Coins" in client.get(f"/o/{ref}?t={token}", follow_redirects=True).text


@pytest.mark.parametrize("kind, model, where, name", [
    ("method", PaymentMethod, {"code": "DANA"}, "DANA"),
    ("package", Package, {"name": "Weekly Diamond Pass"}, "Mobile Legends Weekly Diamond Pass"),
    ("product", Product, {"slug": "genshin-impact"}, "Genshin Impact"),
])
def test_what_no_order_names_is_deleted_after_asking(app, owner, kind, model, where, name):
    found = row_id(app, model, **where)
    assert found is not None
    ask = owner.get(f"/admin/delete/{kind}/{found}")
    assert ask.status_code == 200 and "cannot be undone" in ask.text
    assert owner.post(f"/admin/delete/{kind}/{found}").status_code == 303
    assert row_id(app, model, **where) is None
    assert actions(app) == [(f"{kind}.delete", f"Deleted the "
                             f"{ {'method': 'payment method'}.get(kind, kind) } {name}")]
    if kind == "product":
        with app.app_context():
            assert not db.session.scalar(sa.select(sa.func.count()).select_from(Package)
                                         .where(Package.product_id == found))


def test_an_archived_promo_code_is_refused_and_then_deleted(app, client, owner):
    promo = add_promo(app, "OLD10")
    assert "OLD10" in owner.get("/admin/promos").text
    assert "OLD10 is archived" in owner.post(f"/admin/archive/promo/{promo}",
                                             follow_redirects=True).text
    assert "OLD10" not in owner.get("/admin/promos").text
    assert "OLD10" in owner.get("/admin/promos?archived=1").text
    summary = client.get("/p/tiktok-coins/summary", headers={"HX-Request": "true"},
                         query_string={"package": package_id(app, "tiktok-coins", "70 Coins"),
                                       "method": "QRIS", "promo": "OLD10"})
    assert "-Rp" not in summary.text
    assert owner.post(f"/admin/delete/promo/{promo}").status_code == 303
    assert row_id(app, Promo, code="OLD10") is None


def test_an_archived_method_is_not_offered(app, client, owner):
    dana = row_id(app, PaymentMethod, code="DANA")
    assert 'value="DANA"' in client.get("/p/tiktok-coins").text
    owner.post(f"/admin/archive/method/{dana}")
    assert 'value="DANA"' not in client.get("/p/tiktok-coins").text
    assert f'id="method-{dana}"' not in owner.get("/admin/methods").text
    assert f'id="method-{dana}"' in owner.get("/admin/methods?archived=1").text
    assert buy(client, app, method="DANA").status_code == 422


def test_the_refusal_is_in_the_panels_language(app, client):
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    order_ref(buy(client, app, method="QRIS"))
    qris = row_id(app, PaymentMethod, code="QRIS")
    page = text(owner.post(f"/admin/delete/method/{qris}?lang=id"))
    assert "QRIS tidak bisa dihapus: 1 pesanan merujuk padanya. Arsipkan saja" in page


def test_staff_can_neither_archive_nor_delete(app, staff):
    dana = row_id(app, PaymentMethod, code="DANA")
    assert staff.post(f"/admin/archive/method/{dana}").status_code == 403
    assert staff.post(f"/admin/delete/method/{dana}").status_code == 403
    assert row_id(app, PaymentMethod, code="DANA", archived_at=None) == dana
