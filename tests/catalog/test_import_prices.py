"""`flask import-prices digiflazz`: the fake's price list becomes products and packages."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from conftest import get_order, make_app, order_ref, sandbox_pay, verify, work

from merchant.catalog import prices
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Package, Product, SupplierPriceCache, utcnow
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(httpserver):
    return FakeDigiflazz(httpserver)


@pytest.fixture
def app(tmp_path, fake):
    app = make_app(tmp_path, **fake.settings())
    return app


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-prices", "digiflazz", *args])


def imported(app) -> dict[str, tuple]:
    """sku -> (product slug, package name, price, supplier cost, active)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Package).where(Package.supplier == "digiflazz"))
        return {p.supplier_sku: (p.product.slug, p.name, p.price, p.supplier_cost, p.active)
                for p in rows}


def expire_cache(app):
    """Six minutes pass: the cached price list is stale."""
    with app.app_context():
        db.session.execute(sa.update(SupplierPriceCache).values(
            fetched_at=utcnow() - dt.timedelta(minutes=6)))
        db.session.commit()


def test_import_adds_products_and_packages_with_a_rounded_markup(app, fake):
    result = run(app, "--markup", "8%")
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output                       # the progress bar
    assert "Added 2, changed 0, deactivated 0, unchanged 0 packages; 1 new products" \
        in result.output
    assert imported(app) == {
        # 20.000 + 8 % = 21.600; 5.100 + 8 % = 5.508 -> rounded up to 5.600
        "ML86": ("mobile-legends", "86 Diamonds", 21_600, 20_000, True),
        "S5": ("telkomsel", "Pulsa 5.000", 5_600, 5_100, True),
    }
    with app.app_context():
        telkomsel = db.session.scalar(sa.select(Product).where(Product.slug == "telkomsel"))
        assert [f["name"] for f in telkomsel.account_fields] == ["phone"]
        assert telkomsel.verifier == "none"
        entry = db.session.scalar(sa.select(AuditEntry))
        assert (entry.actor, entry.action, entry.target_id) == ("cli", "prices.import",
                                                                "digiflazz")
        assert entry.summary.startswith("Added 2, changed 0")


def test_flat_markup_and_round_to(app, fake):
    assert run(app, "--markup", "500").exit_code == 0
    assert imported(app)["ML86"][2] == 20_500
    expire_cache(app)
    assert run(app, "--markup", "500", "--round-to", "1000").exit_code == 0
    assert imported(app)["ML86"][2] == 21_000 and imported(app)["S5"][2] == 6_000


def test_rerun_adds_changes_and_deactivates_and_uses_the_cache_within_5_minutes(app, fake):
    assert run(app, "--markup", "8%").exit_code == 0
    fake.change_product("ML86", price=21_000)
    fake.drop_product("S5")
    fake.add_product("FF70", 9_000, brand="FREE FIRE", product_name="Free Fire 70 Diamonds")
    fake.add_product("ML172", 40_000, brand="MOBILE LEGENDS", seller_product_status=False)

    cached = run(app, "--markup", "8%")
    assert "cached" in cached.output
    assert "Added 0, changed 0, deactivated 0, unchanged 2" in cached.output
    assert fake.price_list_calls == 1

    expire_cache(app)
    result = run(app, "--markup", "8%")
    assert fake.price_list_calls == 2
    assert "Added 1, changed 1, deactivated 1, unchanged 0" in result.output, result.output
    packages = imported(app)
    assert packages["ML86"] == ("mobile-legends", "86 Diamonds", 22_700, 21_000, True)
    assert packages["S5"][4] is False                                 # dropped
    assert packages["FF70"] == ("free-fire", "70 Diamonds", 9_800, 9_000, True)
    assert "ML172" not in packages                  # disabled by the seller: not added

    fake.change_product("ML172", seller_product_status=True)
    fake.change_product("ML86", seller_product_status=False)
    expire_cache(app)
    result = run(app, "--markup", "8%")
    assert "Added 1, changed 0, deactivated 1" in result.output
    assert imported(app)["ML86"][4] is False


def test_price_is_never_below_cost_and_bad_markups_are_explained(app, fake):
    assert prices.parse_markup("7.5%").apply(1_001, 1) == 1_077    # 1.001 + 75.075 -> up
    assert prices.Markup().apply(5_101, 100) == 5_200
    for bad in ("-5%", "abc", "1.5", "8%%"):
        result = run(app, "--markup", bad)
        assert result.exit_code == 1 and "is not a markup" in result.output
    assert run(app, "--markup", "8%", "--round-to", "0").exit_code == 1
    assert fake.price_list_calls <= 1


def test_supplier_refusal_is_a_clear_error(app, fake):
    fake.price_list_limited = True
    result = run(app, "--markup", "8%")
    assert result.exit_code == 1 and "rc 83" in result.output


def test_imported_package_sells_and_is_delivered_by_digiflazz(app, fake):
    assert run(app, "--markup", "8%").exit_code == 0
    client = app.test_client()
    account = {"user_id": "123456789", "zone_id": "1234"}
    with app.app_context():
        package = db.session.scalar(sa.select(Package.id).where(Package.supplier_sku == "ML86"))
    form = {**account, "verification_token": verify(client, "mobile-legends", **account),
            "package": package, "method": "QRIS", "email": "buyer@example.com"}
    ref = order_ref(client.post("/p/mobile-legends/order", data=form))
    order = get_order(app, ref)
    assert (order.subtotal, order.supplier, order.supplier_cost) == (21_600, "digiflazz", 20_000)
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert fake.purchases[ref] == 1
    assert fake.transactions[ref]["price"] == 20_000


def test_imported_and_demo_games_ask_for_the_same_fields(app, fake):
    """One preset table: a Free Fire product imported into an empty shop takes the demo's
    8-12 digit Player ID rule, not a rule of its own."""
    with app.app_context():
        demo_fields = {p.slug: p.account_fields for p in db.session.scalars(sa.select(Product))}
        db.session.execute(sa.delete(Package))
        db.session.execute(sa.delete(Product))
        db.session.commit()
    fake.add_product("FF70", 9_000, brand="FREE FIRE", product_name="Free Fire 70 Diamonds")
    fake.add_product("PUBG60", 14_000, brand="PUBG MOBILE", product_name="PUBG Mobile 60 UC")
    assert run(app, "--markup", "8%").exit_code == 0
    with app.app_context():
        imported = {p.slug: p.account_fields for p in db.session.scalars(sa.select(Product))}
    for slug in ("free-fire", "pubg-mobile", "mobile-legends"):
        assert imported[slug] == demo_fields[slug], slug
    assert imported["free-fire"][0]["pattern"] == "[0-9]{8,12}"


def test_the_import_keeps_prices_set_by_hand_and_says_so_but_never_below_cost(app, fake):
    assert run(app, "--markup", "8%").exit_code == 0
    with app.app_context():
        db.session.execute(sa.update(Package).where(Package.supplier_sku == "ML86")
                           .values(price=25_000, price_by_hand=True))
        db.session.commit()
    fake.change_product("ML86", price=21_000)
    fake.change_product("S5", price=5_500)
    expire_cache(app)
    result = run(app, "--markup", "8%")
    assert result.exit_code == 0, result.output
    assert "Added 0, changed 2, deactivated 0, unchanged 0 packages; kept 1 prices set by hand" \
        in result.output
    assert "Kept these prices set by hand" in result.output
    assert "Mobile Legends 86 Diamonds: Rp 25.000 (the import's price Rp 22.700, cost " \
        "Rp 21.000)" in result.output
    packages = imported(app)
    assert packages["ML86"][2:4] == (25_000, 21_000)        # the price kept, the cost updated
    assert packages["S5"][2:4] == (6_000, 5_500)            # not set by hand: repriced

    fake.change_product("ML86", price=26_000)
    expire_cache(app)
    result = run(app, "--markup", "8%")
    assert "Repriced these prices set by hand, because the new cost is above them:" \
        in result.output
    assert "Mobile Legends 86 Diamonds: Rp 25.000 -> Rp 28.100" in result.output
    assert imported(app)["ML86"][2:4] == (28_100, 26_000)
    with app.app_context():
        assert db.session.scalar(sa.select(Package.price_by_hand)
                                 .where(Package.supplier_sku == "ML86")) is False
