"""An empty shop on the first start (MERCHANT_DEMO=0), and the owner removing the demo catalog
from the panel once they are in."""
from __future__ import annotations

import sqlalchemy as sa
from conftest import buy, empty_database, make_app, order_ref, set_package
from flask_migrate import downgrade

from merchant.catalog import payment_presets
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Package, PaymentMethod, Product

DEMO_NAMES = ["TikTok Coins", "Mobile Legends", "Free Fire", "PUBG Mobile", "Genshin Impact"]


def products(app) -> dict[str, tuple[bool, list[bool]]]:
    """slug -> (product active, its packages' active flags)."""
    with app.app_context():
        return {p.slug: (p.active, [k.active for k in p.packages])
                for p in db.session.scalars(sa.select(Product))}


def test_make_run_with_demo_off_starts_an_empty_shop_with_payment_methods(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
    try:
        # The Makefile's first step, as `MERCHANT_DEMO=0 make run` runs it.
        result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"],
                                              env={"MERCHANT_DEMO": "0"})
        assert result.exit_code == 0, result.output
        assert "No demo catalog" in result.output
        assert "Added 7 payment methods for the sandbox gateway" in result.output
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
            codes = list(db.session.scalars(
                sa.select(PaymentMethod.code).order_by(PaymentMethod.sort_order)))
        assert codes == [p.code for p in payment_presets.PRESETS["sandbox"]]
        shop = app.test_client().get("/")
        assert shop.status_code == 200 and "TikTok Coins" not in shop.text
        # The next start keeps it empty.
        again = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"],
                                             env={"MERCHANT_DEMO": "0"})
        assert again.exit_code == 0 and "payment methods" not in again.output
        assert products(app) == {}
    finally:
        with app.app_context():
            downgrade(revision="base")
            db.create_all()


def test_the_owner_removes_the_demo_catalog_and_products_with_orders_stay_switched_off(
        app, client, owner):
    ref = order_ref(buy(client, app))                                   # a TikTok Coins order
    set_package(app, "free-fire", "5 Diamonds", supplier="manual")      # the owner's own now

    home = owner.get("/admin/")
    assert "The demo catalog is still in your shop" in home.text
    confirm = owner.get("/admin/demo")
    assert confirm.status_code == 200
    deleted, kept = confirm.text.split("will be switched off")
    for name in ("Mobile Legends", "PUBG Mobile", "Genshin Impact"):
        assert f"<li>{name}</li>" in deleted
    assert "<li>TikTok Coins</li>" in kept and "Free Fire" not in confirm.text
    assert products(app)["mobile-legends"][0] is True                  # nothing done yet

    done = owner.post("/admin/demo/remove")
    assert done.status_code == 303
    catalog = owner.get(done.headers["Location"]).text
    assert "Removed the demo catalog: 3 products deleted." in catalog
    assert "1 product with orders is switched off and kept for them." in catalog

    left = products(app)
    assert set(left) == {"tiktok-coins", "free-fire"}
    assert left["tiktok-coins"][0] is False and not any(left["tiktok-coins"][1])
    assert left["free-fire"][0] is True and all(left["free-fire"][1])
    with app.app_context():
        orphans = db.session.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.product_id.not_in(sa.select(Product.id))))
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "demo.remove"))
    assert orphans == 0
    assert entry.actor == "owner@example.com"
    assert entry.after == {"deleted": ["Mobile Legends", "PUBG Mobile", "Genshin Impact"],
                           "switched_off": ["TikTok Coins"]}

    shop = client.get("/").text
    assert "TikTok Coins" not in shop and "Free Fire" in shop
    assert "TikTok Coins" in client.get(f"/o/{ref}").text           # its order still shows it
    assert client.get("/p/tiktok-coins").status_code == 404
    assert "The demo catalog is still in your shop" not in owner.get("/admin/").text
    assert "nothing to remove" in owner.get("/admin/demo").text


def test_staff_cannot_remove_the_demo_catalog(app, staff):
    assert "The demo catalog" not in staff.get("/admin/").text
    assert staff.get("/admin/demo").status_code == 403
    assert staff.post("/admin/demo/remove").status_code == 403
    assert set(products(app)) == {"tiktok-coins", "mobile-legends", "free-fire", "pubg-mobile",
                                  "genshin-impact"}
