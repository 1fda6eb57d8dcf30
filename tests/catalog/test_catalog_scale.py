"""A catalog of hundreds of brands: shelves by category, featured first, instant search (htmx
and a plain form), lazy pictures, a constant number of queries and a small page."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import make_app, set_product
from test_admin_catalog import product_form, product_id

from merchant.core.extensions import db
from merchant.core.models import Package, Product
from tests.fakes.digiflazz import FakeDigiflazz

HX = {"HX-Request": "true"}
BIG = 200


def add_products(app, count: int) -> None:
    """`count` more brands, each with two packages, over the three categories."""
    with app.app_context():
        for n in range(count):
            product = Product(slug=f"brand-{n}", name=f"Brand {n:03d}", publisher="Publisher",
                              image="icons/logo.svg", category=("games", "apps", "phone")[n % 3],
                              account_fields=[{"name": "customer_id", "label": "Customer ID"}],
                              sort_order=10 + n)
            product.packages = [Package(name=f"{q} Points", quantity=q, price=q * 100)
                                for q in (10, 50)]
            db.session.add(product)
        db.session.commit()


class StatementCounter:
    """Counts the SQL statements the app sends while it is active."""

    def __init__(self, app):
        self.app, self.count = app, 0

    def _count(self, *args):
        self.count += 1

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def tiles(html: str) -> list[str]:
    """The product names on the page, in order."""
    return re.findall(r'<span class="tile-name">([^<]+)</span>', html)


def catalog_statements(app) -> tuple[int, str]:
    client = app.test_client()
    client.get("/")                       # warm: the first request of an app reads settings
    with StatementCounter(app) as counter:
        page = client.get("/").text
    return counter.count, page


def test_a_200_product_catalog_costs_the_same_queries_and_stays_light(tmp_path):
    small = make_app(tmp_path / "small")
    small_count, small_page = catalog_statements(small)
    big = make_app(tmp_path / "big")
    add_products(big, BIG)
    big_count, page = catalog_statements(big)
    assert big_count == small_count, (small_count, big_count)
    assert len(tiles(page)) == BIG + 5
    # Each extra tile is one short line of markup: 205 products fit in under 60 KB.
    assert (len(page.encode()) - len(small_page.encode())) / BIG < 260
    assert len(page.encode()) < 60_000
    tile_images = re.findall(r'<a class="tile"[^>]*><img ([^>]+)>', page)
    assert len(tile_images) == BIG + 5
    for n, image in enumerate(tile_images):
        assert 'width="72"' in image and 'height="72"' in image
        # The first screenful loads at once (it is the largest paint); the rest when scrolled to.
        assert ('loading="lazy"' in image) == (n >= 6), (n, image)


def test_shelves_by_category_with_the_featured_products_first(app, client):
    set_product(app, "genshin-impact", featured=True)
    page = client.get("/").text
    shelves = re.findall(r'<h2 id="shelf-(\w+)" class="shelf-title">([^<]+)</h2>', page)
    assert shelves == [("featured", "Popular"), ("games", "Games"),
                       ("apps", "Apps and vouchers")]
    assert tiles(page) == ["Mobile Legends", "Genshin Impact",           # featured
                           "Free Fire", "PUBG Mobile",                    # games
                           "TikTok Coins"]                                # apps and vouchers
    games = client.get("/?category=games").text
    assert tiles(games) == ["Mobile Legends", "Genshin Impact", "Free Fire", "PUBG Mobile"]
    assert 'href="/?category=games" aria-current="page"' in games
    assert tiles(client.get("/?category=phone").text) == []
    # An unknown category is the whole catalog, not an error.
    assert len(tiles(client.get("/?category=nope").text)) == 5


def test_operator_sets_category_and_featured_in_the_panel(app, owner, client):
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", category="phone", featured="y")
    assert owner.post(f"/admin/catalog/{pid}/edit", data=form).status_code == 303
    assert tiles(client.get("/?category=phone").text) == ["Free Fire"]
    assert tiles(client.get("/").text)[:2] == ["Mobile Legends", "Free Fire"]    # by position
    refused = owner.post(f"/admin/catalog/{pid}/edit",
                         data=product_form(app, "free-fire", category="toys"))
    assert refused.status_code == 422 and "Not a valid choice" in refused.text


def test_search_without_javascript_is_a_plain_get_form(client):
    page = client.get("/").text
    form = re.search(r'<form class="catalog-search" method="get" action="/" role="search">'
                     r'(.*?)</form>', page, re.S).group(1)
    assert '<label for="catalog-q">' in form and 'id="catalog-q" type="search" name="q"' in form
    assert 'hx-trigger="input changed delay:250ms, search"' in form
    assert 'type="submit"' in form
    results = client.get("/?q=LEGEND").text
    assert tiles(results) == ["Mobile Legends"]
    assert 'value="LEGEND"' in results and "<html" in results
    assert tiles(client.get("/?q=garena").text) == ["Free Fire"]        # the publisher too


def test_instant_search_answers_the_grid_alone(client):
    response = client.get("/?q=co", headers=HX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text and response.text.lstrip().startswith('<div id="catalog">')
    assert tiles(response.text) == ["TikTok Coins"]
    assert re.search(r'<p id="catalog-status"[^>]*aria-live="polite" hx-swap-oob="true">'
                     r'1 product found</p>', response.text)
    none = client.get("/?q=zzz", headers=HX).text
    assert tiles(none) == [] and "Nothing matches “zzz”" in none and "0 products found" in none


def test_search_within_a_category_and_wildcards_are_literal(app, client):
    add_products(app, 3)            # Brand 000 games, Brand 001 apps, Brand 002 phone
    assert tiles(client.get("/?q=brand&category=apps").text) == ["Brand 001"]
    assert tiles(client.get("/?q=%25").text) == []                  # '%' matches only '%'
    assert tiles(client.get("/?q=_").text) == []
    search = client.get("/?q=brand&category=apps").text
    assert '<input type="hidden" name="category" value="apps">' in search


@pytest.fixture
def fake(httpserver):
    return FakeDigiflazz(httpserver)


def test_the_price_import_shelves_new_brands_by_their_category(tmp_path, fake):
    app = make_app(tmp_path, **fake.settings())
    fake.add_product("DANA10", 10_200, product_name="DANA 10.000", brand="DANA",
                     category="E-Money")
    fake.add_product("VAL50", 50_000, product_name="Valorant 50 Points", brand="VALORANT",
                     category="Games")
    result = app.test_cli_runner().invoke(args=["import-prices", "digiflazz", "--markup", "5%"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        categories = dict(db.session.execute(sa.select(Product.slug, Product.category)).all())
    assert (categories["telkomsel"], categories["dana"], categories["valorant"]) == \
        ("phone", "apps", "games")
    assert categories["mobile-legends"] == "games"                  # existing: untouched
