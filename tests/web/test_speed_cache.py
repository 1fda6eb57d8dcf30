"""The storefront reads the catalog from memory, and sees every edit on the next request, even
one made by another process."""
from __future__ import annotations

import contextlib

import flask
import pytest
import sqlalchemy as sa

from merchant import create_app
from merchant.catalog import payment_methods
from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Package, PaymentMethod, Product
from merchant.web import page_cache
from tests.conftest import buy, make_app, package_id, set_product
from tests.web.test_speed_poll import statements


@pytest.fixture
def second(app):
    """Another app on the same database: a second server process."""
    other = create_app(dict(app.config), instance_path=app.instance_path)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def rename_product(app):
    set_product(app, "free-fire", name="Free Fire MAX")
    return "/", "Free Fire MAX"


def reprice_in_bulk(app):
    with app.app_context():
        db.session.execute(sa.update(Package), [
            {"id": package_id(app, "free-fire", "5 Diamonds"), "price": 1_234}])
        db.session.commit()
    return "/p/free-fire", "Rp 1.234"


def add_a_package(app):
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == "free-fire"))
        db.session.add(Package(product=product, name="9,999 Diamonds", quantity=9_999,
                               price=999_000))
        db.session.commit()
    return "/p/free-fire", "9,999 Diamonds"


def rename_a_method(app):
    with app.app_context():
        method = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == "QRIS"))
        payment_methods.update(method, {**payment_methods.snapshot(method), "name": "QRIS Kilat"},
                               audit.CLI)
    return "/p/free-fire", "QRIS Kilat"


def rename_the_shop(app):
    with app.test_request_context():
        shop_settings.update({"shop_name": "Toko Kilat"}, audit.CLI)
    return "/", "Toko Kilat"


@pytest.mark.parametrize("edit", [rename_product, reprice_in_bulk, add_a_package,
                                  rename_a_method, rename_the_shop])
def test_an_edit_in_one_process_is_seen_by_another_within_half_a_second(
        app, second, edit, clock):
    shopper = second.test_client()
    for path in ("/", "/p/free-fire"):
        assert shopper.get(path).status_code == 200      # both pages now kept in memory
    path, seen = edit(app)
    clock.advance(0.5)
    assert seen in shopper.get(path).text


def test_an_edit_landing_while_a_page_is_made_is_not_kept_as_the_new_catalogs_page(
        app, second, clock, monkeypatch):
    """Another process's edit commits after the product page's view read the product and
    before the page is rendered: the page of the old rows must not be kept, nor tagged, as
    the new catalog's (browsers would get 304s for it until the next edit)."""
    shopper = second.test_client()
    assert "Free Fire MAX" not in shopper.get("/p/free-fire").text
    share = page_cache.shared

    def edit_then_share(*args, **kwargs):
        monkeypatch.setattr(page_cache, "shared", share)         # this request only
        rename_product(app)         # the other process's edit ...
        clock.advance(0.5)          # ... due to be seen by this one
        return share(*args, **kwargs)

    clock.advance(0.5)
    monkeypatch.setattr(page_cache, "shared", edit_then_share)
    during = shopper.get("/p/free-fire")
    assert during.status_code == 200
    after = shopper.get("/p/free-fire", headers={"If-None-Match": during.headers["ETag"]})
    assert after.status_code == 200 and "Free Fire MAX" in after.text
    assert shopper.get("/p/free-fire").text == after.text


def test_pages_read_from_memory_cost_one_query_per_half_second(app, client, clock):
    client.get("/p/free-fire")
    client.get("/")
    with statements(app) as sent:
        assert client.get("/p/free-fire").status_code == 200
        assert client.get("/").status_code == 200
        assert sent == []
        clock.advance(0.5)
        assert client.get("/p/free-fire").status_code == 200
        assert client.get("/").status_code == 200
    assert len(sent) == 1, sent      # the catalog's version number


def test_an_edit_made_by_this_process_is_seen_at_once(app, client, clock):
    assert "Free Fire" in client.get("/").text
    rename_product(app)
    assert "Free Fire MAX" in client.get("/").text


def test_the_product_page_costs_the_same_queries_with_many_packages(tmp_path):
    def cold_queries(app) -> int:
        with app.app_context():
            db.session.execute(sa.update(Product).where(Product.slug == "free-fire")
                               .values(help_text="changed"))      # drops the cache
            db.session.commit()
        with statements(app) as sent:
            assert app.test_client().get("/p/free-fire").status_code == 200
        return len(sent)

    app = make_app(tmp_path)
    few = cold_queries(app)
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == "free-fire"))
        db.session.add_all(Package(product=product, name=f"{n} Gems", quantity=n, price=n * 100)
                           for n in range(1, 60))
        db.session.commit()
    assert cold_queries(app) == few


def test_an_edit_that_is_rolled_back_changes_nothing(app, second, clock):
    shopper = second.test_client()
    shopper.get("/")
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == "free-fire"))
        product.name = "Never Saved"
        db.session.flush()
        db.session.rollback()
    clock.advance(0.5)
    page = shopper.get("/")
    assert "Never Saved" not in page.text and "Free Fire" in page.text


@contextlib.contextmanager
def renders(app):
    """The templates rendered while the block runs."""
    names: list[str] = []

    def rendered(sender, template, context, **extra):
        names.append(template.name)

    flask.template_rendered.connect(rendered, app)
    try:
        yield names
    finally:
        flask.template_rendered.disconnect(rendered, app)


def test_a_kept_page_is_rendered_once_for_every_visitor(app):
    first, second = app.test_client(), app.test_client()
    assert first.get("/p/free-fire").status_code == 200
    with renders(app) as rendered:
        pages = [first.get("/p/free-fire").data, second.get("/p/free-fire").data]
    assert rendered == []                      # both from memory
    assert pages[0] == pages[1]


def test_a_page_with_the_visitors_own_values_is_rendered_for_them(app, client):
    client.get("/p/free-fire")
    with renders(app) as rendered:
        page = client.get("/p/free-fire?player_id=55501234").text
        search = client.get("/?q=free").text
    assert rendered == ["shop/product.html", "shop/index.html"]
    assert 'value="55501234"' in page and "Free Fire" in search


def test_a_request_holding_a_connection_reads_the_version_through_it(tmp_path):
    """A busy server once ran out of connections: twenty Buy presses each held one and asked
    the pool for another to read the catalog's version. One connection is enough here."""
    app = make_app(tmp_path, CATALOG_CHECK_SECONDS=0, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 1, "max_overflow": 0, "pool_timeout": 1})
    client = app.test_client()

    assert client.get("/p/tiktok-coins").status_code == 200
    placed = buy(client, app)
    assert placed.status_code == 303, placed.text
    refused = buy(client, app, email="not an email")
    assert refused.status_code == 422
    assert "Enter an email address like name@example.com." in refused.text
