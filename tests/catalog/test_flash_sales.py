"""Flash sales in the shop: the shelf, the sale price, the countdown's end time and the stock
left on the shared pages (never a sale price after the end), the unit taken at Buy and given
back when the order dies unpaid, a late payment at the sale price, the per-customer limit,
the rule for promo codes, and the owner's panel (below-cost refusal, audit)."""
from __future__ import annotations

import datetime as dt
import os
import re

import pytest
import sqlalchemy as sa
from conftest import get_order, history, order_ref, package_id, sandbox_pay, verify

from merchant import orders
from merchant.catalog import flash_sales
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, FlashSaleContactUse, FlashSaleItem, Order, utcnow
from tests.catalog.test_promos import add_promo

SLUG = "tiktok-coins"
PACKAGE = "70 Coins"        # Rp 15.000, costs Rp 13.800 (the demo's 92 %)


def add_sale(app, price=14_000, stock=10, starts_in=0, lasts=3600, name="Flash Sale 12.12",
             package=PACKAGE, **values) -> int:
    """A sale on one TikTok package through the service the panel uses; returns its id."""
    with app.app_context():
        now = utcnow()
        fields = {"name": name, "starts_at": now + dt.timedelta(seconds=starts_in),
                  "ends_at": now + dt.timedelta(seconds=starts_in + lasts),
                  "max_per_contact": None, "with_promo": False, "allow_below_cost": False,
                  "active": True, **values}
        items = [flash_sales.ItemValues(package_id(app, SLUG, package), price, stock)]
        return flash_sales.create(fields, items, audit.CLI).id


def item(app, sale_id: int) -> FlashSaleItem:
    with app.app_context():
        row = db.session.scalar(sa.select(FlashSaleItem).where(FlashSaleItem.sale_id == sale_id))
        db.session.expunge(row)
        return row


def buy(client, app, email="buyer@example.com", promo="", shown=None, whatsapp="",
        package=PACKAGE, lang=None):
    """Check the account, then Buy with the sale items the product page shows now."""
    token = verify(client, SLUG, username="demo_user")
    if shown is None:
        page = client.get(f"/p/{SLUG}")
        shown = re.search(r'name="flash" value="([^"]*)"', page.text)[1]
    form = {"username": "demo_user", "verification_token": token,
            "package": package_id(app, SLUG, package), "method": "QRIS", "email": email,
            "whatsapp": whatsapp, "promo": promo, "flash": shown,
            "idempotency_key": os.urandom(8).hex()}
    return client.post(f"/p/{SLUG}/order", data=form,
                       query_string={"lang": lang} if lang else None)


def card(page_text: str, name=PACKAGE) -> str:
    """The package's card on the product page, as text."""
    start = page_text.index(f'<span class="card-name">{name}</span>')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text[start:start + 900]))


def test_a_scheduled_sale_shows_only_while_it_runs(client, app, clock):
    add_sale(app, starts_in=600, lasts=3600)
    before = client.get(f"/p/{SLUG}")
    assert "Flash sale" not in before.text and "Rp 14.000" not in card(before.text)
    assert "Flash sale" not in client.get("/").text

    clock.advance(600)
    page = client.get(f"/p/{SLUG}")
    assert "Flash sale: Flash Sale 12.12" in page.text
    assert "Rp 15.000 Rp 14.000" in card(page.text)
    assert "10 left" in card(page.text)
    ends = (utcnow() + dt.timedelta(hours=1)).replace(tzinfo=dt.UTC) \
        .astimezone(dt.timezone(dt.timedelta(hours=7)))
    # The end time written by the server (Jakarta time): right without JavaScript.
    assert f"Ends {ends.day} {ends.strftime('%b')} {ends.year} {ends:%H.%M} WIB" in page.text
    assert 'data-sale-ends="' in page.text
    assert '"price": "14000"' in page.text          # the JSON-LD offer too
    catalog = client.get("/")
    assert "⚡ Flash sale" in catalog.text
    shelf = catalog.text[catalog.text.index('id="shelf-flash"'):]
    assert "TikTok Coins" in shelf[:2000] and "Rp 14.000" in shelf[:2000]

    clock.advance(3600)
    after = client.get(f"/p/{SLUG}")
    assert "Flash sale" not in after.text
    assert "Rp 14.000" not in card(after.text) and "Rp 15.000" in card(after.text)
    assert "shelf-flash" not in client.get("/").text


def test_indonesian_pages_say_tersisa_and_habis(client, app):
    add_sale(app, stock=1)
    page = client.get(f"/p/{SLUG}?lang=id")
    assert "tersisa 1" in card(page.text)
    assert buy(client, app, email="one@example.com").status_code == 303
    page = client.get(f"/p/{SLUG}?lang=id")
    assert "Habis" in card(page.text)
    assert "Rp 14.000" not in card(page.text)


def test_buying_takes_a_unit_at_the_sale_price_and_moves_the_stock_bar(client, app):
    sale_id = add_sale(app, stock=12)
    first = client.get(f"/p/{SLUG}")
    assert "12 left" in card(first.text)
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    # Rp 14.000 + the 0.7 % QRIS fee (98): the sale price, not the package's Rp 15.000.
    assert (order.subtotal, order.fee, order.total) == (14_000, 98, 14_098)
    assert order.flash_item_id == item(app, sale_id).id and order.flash_counted
    assert item(app, sale_id).sold == 1
    assert any("Flash sale Flash Sale 12.12: Rp 14.000 instead of Rp 15.000" in e[3]
               for e in history(app, ref))
    order_page = client.get(f"/o/{ref}?t={order.view_token}", follow_redirects=True).text
    assert "Flash sale" in order_page and "Rp 14.000" in order_page
    again = app.test_client().get(f"/p/{SLUG}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert "11 left" in card(again.text)


def test_the_summary_shows_the_sale_price_struck_through(client, app):
    add_sale(app)
    query = {"package": package_id(app, SLUG, PACKAGE), "method": "QRIS"}
    partial = client.get(f"/p/{SLUG}/summary", query_string=query,
                         headers={"HX-Request": "true"})
    text = re.sub(r"<[^>]+>", " ", partial.text)
    assert "Flash sale" in text and "Rp 15.000" in text and "Rp 14.098" in text


@pytest.mark.parametrize("action, status", [("expire", "expired"), ("fail", "payment_failed")])
def test_an_order_that_dies_unpaid_gives_its_unit_back(client, app, action, status):
    sale_id = add_sale(app, stock=1, max_per_contact=1)
    ref = order_ref(buy(client, app))
    refused = buy(client, app, email="other@example.com", shown=str(item(app, sale_id).id))
    assert refused.status_code == 422 and "Sold out" in refused.text
    sandbox_pay(client, app, ref, action)
    assert get_order(app, ref).status == status
    assert item(app, sale_id).sold == 0 and not get_order(app, ref).flash_counted
    with app.app_context():
        assert db.session.scalar(sa.select(FlashSaleContactUse.uses)) == 0
    assert any("its unit is given back" in e[3] for e in history(app, ref))
    assert "1 left" in card(client.get(f"/p/{SLUG}").text)
    # Free again, for someone else or for the same customer.
    assert get_order(app, order_ref(buy(client, app))).total == 14_098


def test_a_late_payment_keeps_the_sale_price_and_counts_its_unit_again(client, app, clock):
    """Decided, as for promo codes: the money was taken at the sale price, so the order is
    honoured at it (even after the sale ended) and its unit counted again, past the stock."""
    sale_id = add_sale(app, stock=1, lasts=3600)
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref, "expire")
    taker = order_ref(buy(client, app, email="second@example.com"))
    clock.advance(2 * 3600)         # the sale is over when the late payment comes
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        assert orders.transition(order.id, orders.PAID, source="webhook", detail="late")
    assert get_order(app, ref).status == "paid"
    assert get_order(app, ref).total == 14_098
    assert item(app, sale_id).sold == 2
    assert get_order(app, ref).flash_counted and get_order(app, taker).flash_counted
    assert any("paid late, it keeps the sale price" in e[3] for e in history(app, ref))


def test_sold_out_is_said_before_any_payment_and_nothing_is_kept(client, app):
    add_sale(app, stock=1)
    assert buy(client, app, email="first@example.com").status_code == 303
    page_shown = str(item(app, 1).id)
    refused = buy(client, app, email="late@example.com", shown=page_shown, lang="id")
    assert refused.status_code == 422
    assert "Habis" in refused.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    # The page drawn after it sold out shows the normal price, and buys at it.
    order = get_order(app, order_ref(buy(client, app, email="later@example.com")))
    assert order.total == 15_105 and order.flash_item_id is None


def test_a_buyer_who_saw_the_sale_price_is_told_it_ended(client, app, clock):
    add_sale(app, lasts=600)
    shown = re.search(r'name="flash" value="([^"]*)"', client.get(f"/p/{SLUG}").text)[1]
    clock.advance(601)
    refused = buy(client, app, shown=shown)
    assert refused.status_code == 422
    assert "The flash sale for this package has ended: it costs Rp 15.000 again" in refused.text
    # The page it answers with shows the normal price and no longer holds the sale.
    assert 'name="flash" value=""' in refused.text
    assert get_order(app, order_ref(buy(client, app))).total == 15_105


def test_per_customer_limit_counts_email_and_whatsapp(client, app):
    sale_id = add_sale(app, stock=10, max_per_contact=1)
    assert buy(client, app, email="dewi@example.com").status_code == 303
    again = buy(client, app, email="DEWI@example.com")
    assert again.status_code == 422
    assert "You have bought as many as this flash sale allows per customer" in again.text
    by_phone = buy(client, app, email="other@example.com", whatsapp="0812 3456 7890")
    assert by_phone.status_code == 303
    same_phone = buy(client, app, email="third@example.com", whatsapp="+6281234567890")
    assert same_phone.status_code == 422
    assert item(app, sale_id).sold == 2


def test_a_promo_code_is_refused_on_a_sale_price_by_default(client, app):
    add_promo(app, "SAVE10", percent_bp=1000)
    add_sale(app)
    refused = buy(client, app, promo="save10")
    assert refused.status_code == 422
    assert "Promo codes cannot be used with the flash sale price" in refused.text
    partial = client.get(f"/p/{SLUG}/summary", headers={"HX-Request": "true"}, query_string={
        "package": package_id(app, SLUG, PACKAGE), "method": "QRIS", "promo": "SAVE10"})
    assert "Promo codes cannot be used with the flash sale price" in partial.text
    assert "Rp 14.098" in partial.text
    # Without the code: the sale price.
    assert get_order(app, order_ref(buy(client, app))).total == 14_098


def test_a_sale_that_allows_codes_takes_the_code_off_the_sale_price(client, app):
    add_promo(app, "SAVE10", percent_bp=1000, allow_below_cost=True)
    add_sale(app, price=14_000, with_promo=True)
    order = get_order(app, order_ref(buy(client, app, promo="SAVE10")))
    # 10 % off Rp 14.000 = Rp 12.600, + 0.7 % fee (88).
    assert (order.discount, order.subtotal, order.total) == (1_400, 12_600, 12_688)
    assert order.promo_code == "SAVE10" and order.flash_item_id is not None


def test_a_code_that_takes_a_sale_price_below_cost_is_refused_unless_allowed(client, app):
    add_promo(app, "FIVE", amount_off=500, product=SLUG, allow_below_cost=False)
    add_sale(app, price=14_000, with_promo=True)
    refused = buy(client, app, promo="FIVE")       # Rp 13.500 < the Rp 13.800 cost
    assert refused.status_code == 422
    assert "This code cannot be used for this package" in refused.text


def test_a_sale_price_below_cost_is_refused_unless_the_owner_allows_it(app):
    with pytest.raises(flash_sales.FlashSaleError) as refused:
        add_sale(app, price=13_000)
    assert "below its cost: TikTok Coins 70 Coins at Rp 13.000 costs Rp 13.800" \
        in refused.value.errors["allow_below_cost"]
    sale_id = add_sale(app, price=13_000, allow_below_cost=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.target_type == "flash_sale", AuditEntry.target_id == str(sale_id)))
        assert entry.action == "flash_sale.below_cost"


def test_a_package_cannot_be_in_two_sales_at_once(app):
    add_sale(app, lasts=3600)
    with pytest.raises(flash_sales.FlashSaleError) as refused:
        add_sale(app, starts_in=1800, name="Another")
    assert "already in the flash sale Flash Sale 12.12" in refused.value.errors["items"]
    add_sale(app, starts_in=3600, name="Next one")


def test_the_shared_page_never_shows_a_sale_price_after_the_end(client, app, clock):
    add_sale(app, lasts=30)
    during = client.get(f"/p/{SLUG}")
    assert "Rp 14.000" in card(during.text)
    # A proxy may keep the page only until the sale ends, not its usual 5 seconds past it.
    clock.advance(27)
    kept = client.get(f"/p/{SLUG}", headers={"If-None-Match": during.headers["ETag"]})
    assert kept.status_code == 304
    assert "s-maxage=3" in kept.headers["Cache-Control"]
    clock.advance(3)
    # The same catalog version, nothing written: the clock alone changes what is served.
    after = client.get(f"/p/{SLUG}", headers={"If-None-Match": during.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != during.headers["ETag"]
    assert "Rp 14.000" not in after.text
    assert "Rp 14.000" not in client.get("/").text


def test_the_owner_schedules_a_sale_in_the_panel_without_javascript(app, owner, client):
    page = owner.get("/admin/flash-sales/new")
    assert page.status_code == 200 and "Packages on sale" in page.text
    pid = package_id(app, SLUG, PACKAGE)
    form = {"name": "Payday", "starts_at": "2026-01-01T10:00", "ends_at": "2036-01-01T10:00",
            "max_per_contact": "2", "active": "y", f"price-{pid}": "13.000",
            f"stock-{pid}": "5"}
    refused = owner.post("/admin/flash-sales/new", data=form)
    assert refused.status_code == 422
    assert "Allow below cost" in refused.text and "Rp 13.800" in refused.text
    assert 'value="13.000"' in refused.text           # what was typed comes back
    saved = owner.post("/admin/flash-sales/new", data={**form, f"price-{pid}": "14.500"})
    assert saved.status_code == 303
    listing = owner.get("/admin/flash-sales")
    assert "Payday" in listing.text and "0 of 5" in listing.text
    assert "Rp 14.500" in card(client.get(f"/p/{SLUG}").text)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "flash_sale.create"))
        assert entry.actor == "owner@example.com"
    sale_id = int(re.search(r"/admin/flash-sales/(\d+)\"", listing.text)[1])
    owner.post(f"/admin/flash-sales/{sale_id}/active", data={"active": "0"})
    assert "Rp 14.500" not in card(client.get(f"/p/{SLUG}").text)


def test_staff_cannot_open_flash_sales(staff):
    assert staff.get("/admin/flash-sales").status_code in (403, 404)


def test_the_owner_edits_a_sale_and_an_ordered_package_stays_in_it(app, owner, client):
    sale_id = add_sale(app, price=14_000, stock=10)
    ref = order_ref(buy(client, app))
    pid = package_id(app, SLUG, PACKAGE)
    order_page = owner.get(f"/admin/orders/{ref}", follow_redirects=True).text
    assert "<dt>Flash sale</dt><dd>Rp 14.000</dd>" in order_page
    page = owner.get(f"/admin/flash-sales/{sale_id}")
    assert 'value="14.000"' in page.text and 'value="10"' in page.text and "1 sold" in page.text
    other = package_id(app, SLUG, "140 Coins")
    form = {"name": "Flash Sale 12.12", "starts_at": "2026-01-01T10:00",
            "ends_at": "2036-01-01T10:00", "active": "y", f"price-{other}": "28.000",
            f"stock-{other}": "3"}
    refused = owner.post(f"/admin/flash-sales/{sale_id}", data=form)
    assert refused.status_code == 422
    assert "A package that was ordered in this sale cannot leave it" in refused.text
    too_few = owner.post(f"/admin/flash-sales/{sale_id}", data={
        **form, f"price-{pid}": "14.000", f"stock-{pid}": "0"})
    assert "at least the 1 units orders already hold" in too_few.text
    saved = owner.post(f"/admin/flash-sales/{sale_id}", data={
        **form, f"price-{pid}": "14.200", f"stock-{pid}": "4"})
    assert saved.status_code == 303
    text = card(app.test_client().get(f"/p/{SLUG}").text)
    assert "Rp 14.200" in text and "3 left" in text
    assert "Rp 28.000" in card(app.test_client().get(f"/p/{SLUG}").text, "140 Coins")
    history = owner.get(f"/admin/flash-sales/{sale_id}").text
    assert "Changed the flash sale Flash Sale 12.12: ends_at, items, starts_at" in history
