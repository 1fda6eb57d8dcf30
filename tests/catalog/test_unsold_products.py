"""A product with no package on sale is not in the shop: no empty packages step for customers,
and the owner is told on the panel's first page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import create_admin, sign_in

from merchant.core.extensions import db
from merchant.core.models import Package, Product


def packages_off(app, slug: str) -> None:
    with app.app_context():
        product_id = db.session.scalar(sa.select(Product.id).where(Product.slug == slug))
        db.session.execute(sa.update(Package).where(Package.product_id == product_id)
                           .values(active=False))
        db.session.commit()


def test_a_product_with_no_package_on_sale_is_hidden_from_customers(app, client):
    assert "PUBG Mobile" in client.get("/").text          # cached before the change
    packages_off(app, "pubg-mobile")
    assert "PUBG Mobile" not in client.get("/").text
    assert "PUBG Mobile" not in client.get("/?q=pubg").text
    assert "PUBG Mobile" not in client.get("/?category=games").text
    assert "/p/pubg-mobile" not in client.get("/sitemap.xml").text
    assert client.get("/p/pubg-mobile").status_code == 404
    assert client.get("/p/pubg-mobile/summary").status_code == 404
    assert client.post("/p/pubg-mobile/order", data={}).status_code == 404
    assert "Free Fire" in client.get("/").text and client.get("/p/free-fire").status_code == 200


@pytest.mark.parametrize("lang, said", [
    ("en", "PUBG Mobile is on, but none of its packages is on sale, so customers do not see "
           "it: add a package or turn one on."),
    ("id", "PUBG Mobile aktif, tetapi tidak ada paketnya yang dijual, jadi pelanggan tidak "
           "melihatnya: tambahkan paket atau aktifkan salah satunya."),
])
def test_needs_attention_names_the_product_nobody_can_buy(app, lang, said):
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    assert "PUBG Mobile" not in owner.get(f"/admin/?lang={lang}").text
    packages_off(app, "pubg-mobile")
    page = owner.get(f"/admin/?lang={lang}").text
    assert said in page
    assert "Free Fire" not in page
