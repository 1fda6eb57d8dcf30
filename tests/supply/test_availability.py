"""Live availability from the fake Digiflazz's price list and deposit: a package no offer can
sell shows why on the product page and in the panel, and Buy opens no payment for it."""
from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from conftest import get_order, order_ref, package_id, sandbox_pay, verify, work
from supply_shop import (
    ML,
    NAME,
    SLUG,
    buy_ml,
    order_count,
    package_state,
    seconds_until_utc,
    set_offers,
    shop_app,
    sync,
)

from merchant.core.extensions import db
from merchant.core.models import AlertEpisode, Product
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0)
    vendor_server.check_handler_errors()


@pytest.fixture
def app(tmp_path, fake):
    return shop_app(tmp_path, fake)


def card(page: str, app) -> str:
    """The product page's card of 86 Diamonds."""
    pid = package_id(app, SLUG, NAME)
    found = re.search(rf'<label class="card[^"]*">\s*<input[^>]*value="{pid}".*?</label>',
                      page, re.S)
    assert found, page
    return found.group(0)


def test_an_empty_deposit_stops_the_sale_before_any_payment_and_a_top_up_restores_it(
        client, app, fake, clock, caplog):
    fake.deposit = 0
    with caplog.at_level(logging.WARNING, "merchant.supply.transitions"):
        work(app)                               # the first pass reads the list and the deposit
        work(app)
    assert package_state(app) == ("deposit", None)
    shown = card(client.get(f"/p/{SLUG}").text, app)
    assert "disabled" in shown and "Temporarily unavailable" in shown

    # Buy, with the page's script (it sends a key) and without JavaScript (no key): no order,
    # so no payment was opened.
    for refused in (buy_ml(client, app), buy_without_script(client, app)):
        assert refused.status_code == 422
        assert "86 Diamonds cannot be bought right now: Temporarily unavailable." \
            in refused.text
    assert order_count(app) == 0
    # One record per change, however many passes see it.
    assert caplog.text.count("digiflazz deposit is short") == 1
    assert caplog.text.count("unavailable: deposit") == 1
    # The owner is told once: the package's alert and the deposit's, each one episode.
    assert alerts_open(app) == {("deposit_low", "digiflazz"),
                                ("package_unavailable", str(package_id(app, SLUG, NAME)))}

    fake.deposit = 1_000_000
    sync(app, clock)                            # within one sync it sells again
    assert package_state(app) == (None, None)
    assert "disabled" not in card(client.get(f"/p/{SLUG}").text, app)
    ref = order_ref(buy_ml(client, app))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert caplog.text.count("digiflazz deposit recovered") == 1
    assert caplog.text.count("available again") == 1
    assert alerts_open(app) == set()


def alerts_open(app) -> set[tuple[str, str]]:
    with app.app_context():
        return set(db.session.execute(sa.select(AlertEpisode.kind, AlertEpisode.key)
                                      .where(AlertEpisode.closed_at.is_(None))).all())


def test_a_cut_off_window_shows_when_it_ends_in_both_languages(client, app, fake, clock):
    fake.change_product("ML86", start_cut_off="23:45", end_cut_off="0:30")
    clock.advance(seconds_until_utc(clock, 16, 50))      # 23:50 WIB
    work(app)
    assert package_state(app) == ("cutoff", "00:30 WIB")
    assert "Cut-off until 00:30 WIB" in card(client.get(f"/p/{SLUG}?lang=en").text, app)
    assert "Cut-off sampai 00.30 WIB" in card(client.get(f"/p/{SLUG}?lang=id").text, app)
    refused = buy_ml(client, app)
    assert refused.status_code == 422 and order_count(app) == 0

    clock.advance(41 * 60)                              # 00:31 WIB: the window is over
    work(app)
    assert package_state(app) == (None, None)
    assert order_ref(buy_ml(client, app))


def test_out_of_stock_is_unavailable_and_another_offer_keeps_it_on_sale(client, app, fake,
                                                                        clock, owner):
    fake.change_product("ML86", unlimited_stock=False, stock=0)
    work(app)
    assert package_state(app) == ("stock", None)
    assert "Out of stock" in card(client.get(f"/p/{SLUG}?lang=en").text, app)
    panel = owner.get(f"/admin/catalog/{_product_id(app)}").text
    assert "Unavailable" in panel and "Out of stock" in panel

    fake.add_product("ML86B", 20_500)
    set_offers(app, ("digiflazz", "ML86", 20_000), ("digiflazz", "ML86B", 20_500))
    sync(app, clock)
    assert package_state(app) == (None, None)
    ref = order_ref(buy_ml(client, app))
    order = get_order(app, ref)
    assert (order.supplier, order.supplier_sku, order.supplier_cost) == \
        ("digiflazz", "ML86B", 20_500)


def test_a_seller_switched_off_is_unavailable_until_the_list_says_otherwise(client, app, fake,
                                                                          clock):
    fake.change_product("ML86", seller_product_status=False)
    work(app)
    assert package_state(app) == ("off", None)
    fake.change_product("ML86", seller_product_status=True)
    work(app)                                   # the list is not asked again within 5 minutes
    assert package_state(app) == ("off", None)
    sync(app, clock)
    assert package_state(app) == (None, None)


def test_a_supplier_without_a_price_list_or_balance_counts_as_on_and_the_panel_says_so(
        client, app, owner):
    set_offers(app, ("manual", "", 19_000))
    work(app)
    assert package_state(app) == (None, None)
    assert order_ref(buy_ml(client, app))
    dashboard = owner.get("/admin/dashboard").text
    assert "Balance unknown for manual" in dashboard


def _product_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Product.id).where(Product.slug == SLUG))


def buy_without_script(client, app):
    """Buy as a browser without JavaScript posts the form: no idempotency key."""
    token = verify(client, SLUG, **ML)
    form = {**ML, "verification_token": token, "package": package_id(app, SLUG, NAME),
            "method": "QRIS", "email": "buyer@example.com"}
    return client.post(f"/p/{SLUG}/order", data=form)
