"""Dashboard figures against a known set of orders spread over the shop's days (Asia/Jakarta)."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel import dates as babel_dates

from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Package, Product, ShopSettings, SupplierBalance
from merchant.ops import sales


def at(app, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    """Naive UTC for the shop's local time `hour:minute`, `days_ago` shop days before today."""
    with app.test_request_context():
        day = shop_settings.local_today() - dt.timedelta(days=days_ago)
        local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=shop_settings.zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def insert(app, slug: str, status: str, subtotal: int, cost: int | None = None,
           paid=None, delivered=None, refunded=None, updated=None, created=None) -> None:
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == slug))
        package = db.session.scalar(sa.select(Package).where(Package.product_id == product.id))
        created = created or paid or updated
        db.session.add(Order(
            ref=secrets.token_hex(4).upper(), view_token="t", idempotency_key=secrets.token_hex(8),
            status=status, product_id=product.id, package_id=package.id,
            product_name=product.name, package_name=package.name, quantity=1,
            account={"id": "12345678"}, payment_method="QRIS", payment_method_name="QRIS",
            gateway="sandbox", subtotal=subtotal, fee=100, total=subtotal + 100, currency="IDR",
            payment_expires_at=created + dt.timedelta(minutes=30), supplier="sandbox",
            supplier_cost=cost, created_at=created, paid_at=paid, delivered_at=delivered,
            refunded_at=refunded, updated_at=updated or delivered or refunded or created))
        db.session.commit()


@pytest.fixture
def seeded(app):
    """Delivered orders on today, yesterday, 6, 7, 29 and 30 days ago; one failed, one refunded,
    one unpaid, one still delivering."""
    def delivered(slug, subtotal, cost, days_ago, hour, minute=0):
        insert(app, slug, "delivered", subtotal, cost, paid=at(app, days_ago, hour, minute) -
               dt.timedelta(minutes=5), delivered=at(app, days_ago, hour, minute))

    delivered("tiktok-coins", 15_000, 13_800, 0, 10)
    delivered("mobile-legends", 44_000, 40_000, 0, 0, 30)       # just after local midnight
    delivered("mobile-legends", 22_000, None, 1, 23, 30)        # just before it: cost unknown
    delivered("free-fire", 100_000, 90_000, 6, 12)
    delivered("free-fire", 200_000, 150_000, 7, 12)
    delivered("genshin-impact", 79_000, 70_000, 29, 12)
    delivered("genshin-impact", 500_000, 400_000, 30, 12)       # outside every period
    insert(app, "tiktok-coins", "fulfillment_failed", 15_000, 13_800, paid=at(app, 3, 9),
           updated=at(app, 3, 9, 5))
    insert(app, "tiktok-coins", "refunded", 29_500, 27_000, paid=at(app, 2, 9),
           refunded=at(app, 2, 11))
    insert(app, "tiktok-coins", "awaiting_payment", 6_500, created=at(app, 0, 1))
    insert(app, "tiktok-coins", "fulfilling", 6_500, paid=at(app, 0, 2))
    return app


def figure(html: str, name: str) -> str:
    card = re.search(rf'<div class="figure" id="figure-{name}">(.*?)</div>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table class="data" id="{table_id}">.*?<tbody>(.*?)</tbody>', html,
                     re.S).group(1)
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def dashboard(client, period: str) -> str:
    response = client.get(f"/admin/dashboard?period={period}")
    assert response.status_code == 200
    return response.text


def test_today(seeded, owner):
    html = dashboard(owner, "today")
    assert figure(html, "revenue").startswith("Revenue Rp 59.000")
    assert figure(html, "orders") == "Orders paid 3"
    assert figure(html, "success") == ("Delivery success 100,0 % "
                                       "2 delivered, 0 failed, 0 refunded")
    assert figure(html, "margin") == "Margin Rp 5.200"
    assert table(html, "top-products") == [["Mobile Legends", "1", "Rp 44.000"],
                                           ["TikTok Coins", "1", "Rp 15.000"]]
    assert '<a href="/admin/dashboard?period=today" aria-current="page">Today</a>' in html


def test_last_7_days(seeded, owner):
    html = dashboard(owner, "7d")
    assert figure(html, "revenue").startswith("Revenue Rp 181.000")
    assert figure(html, "orders") == "Orders paid 7"
    assert figure(html, "success") == ("Delivery success 66,7 % "
                                       "4 delivered, 1 failed, 1 refunded")
    assert figure(html, "margin") == ("Margin Rp 15.200 1 delivered order without a known "
                                      "supplier cost left out")
    assert table(html, "top-products") == [["Free Fire", "1", "Rp 100.000"],
                                           ["Mobile Legends", "2", "Rp 66.000"],
                                           ["TikTok Coins", "1", "Rp 15.000"]]


def test_last_30_days(seeded, owner):
    html = dashboard(owner, "30d")
    assert figure(html, "revenue").startswith("Revenue Rp 460.000")
    assert figure(html, "orders") == "Orders paid 9"
    assert figure(html, "success") == ("Delivery success 75,0 % "
                                       "6 delivered, 1 failed, 1 refunded")
    assert figure(html, "margin").startswith("Margin Rp 74.200")
    assert [row[0] for row in table(html, "top-products")] == [
        "Free Fire", "Genshin Impact", "Mobile Legends", "TikTok Coins"]


def test_the_default_period_is_7_days_and_unknown_ones_are_not_found(seeded, owner):
    assert figure(dashboard(owner, "7d"), "revenue") == figure(
        owner.get("/admin/dashboard").text, "revenue")
    assert owner.get("/admin/dashboard?period=year").status_code == 404


def test_chart_has_a_bar_per_shop_day_with_its_amount(seeded, owner):
    html = dashboard(owner, "today")          # the chart always shows 30 days
    bars = re.findall(r'<rect class="bar" x="[\d.]+" y="([\d.]+)" width="[\d.]+" '
                      r'height="([\d.]+)"><title>([^<]+)</title></rect>', html)
    assert len(bars) == 30

    def day(days_ago):
        with seeded.test_request_context():
            date = shop_settings.local_today() - dt.timedelta(days=days_ago)
            return babel_dates.format_date(date, "EEE dd MMM", locale="en_ID")
    titles = [title for _, _, title in bars]
    assert titles[-1] == f"{day(0)}: Rp 59.000"
    assert titles[-2] == f"{day(1)}: Rp 22.000"
    assert titles[-7] == f"{day(6)}: Rp 100.000"
    assert titles[-8] == f"{day(7)}: Rp 200.000"
    assert titles[0] == f"{day(29)}: Rp 79.000"
    assert sum(1 for t in titles if t.endswith(": Rp 0")) == 25
    heights = {title: float(height) for _, height, title in bars}
    # The highest day reaches the top of the axis (Rp 200k); the others are in proportion.
    assert heights[titles[-8]] == 152.0
    assert heights[titles[-7]] == 76.0
    assert heights[titles[-3]] == 0.0
    assert ">Rp 200k</text>" in html and ">Rp 100k</text>" in html
    assert "Revenue per day in IDR, last 30 days: Rp 460.000 in all" in html
    assert "style=" not in html                # the CSP forbids inline styles


def test_empty_shop_shows_zeros_and_no_chart(owner):
    html = dashboard(owner, "30d")
    assert figure(html, "revenue").startswith("Revenue 0")
    assert figure(html, "success").startswith("Delivery success –")
    assert "No orders were delivered in the last 30 days." in html
    assert '<rect class="bar"' not in html


def test_supplier_balances_and_their_warnings(app, owner):
    with app.app_context():
        db.session.add_all([
            SupplierBalance(supplier="digiflazz", balance=50_000, pending_cost=120_000),
            SupplierBalance(supplier="other", balance=None, pending_cost=0,
                            error="could not read the other balance: timeout")])
        db.session.commit()
    html = dashboard(owner, "7d")
    rows = table(html, "balances")
    assert [row[:3] for row in rows] == [["digiflazz", "Rp 50.000", "Rp 120.000"],
                                         ["other", "unknown", "Rp 0"]]
    assert "Digiflazz balance Rp 50.000 cannot cover Rp 120.000" in html
    assert "Could not read the other balance: timeout." in html


def test_export_link_and_staff_are_refused(seeded, owner, staff):
    assert 'href="/admin/export"' in dashboard(owner, "7d")
    response = staff.get("/admin/dashboard")
    assert response.status_code == 403 and "Rp 59.000" not in response.text


def test_days_follow_the_shop_zone_across_a_daylight_saving_change(app):
    """Berlin moves to summer time on 29 March 2026: that day has 23 hours."""
    with app.app_context():
        db.session.add(ShopSettings(id=1, timezone="Europe/Berlin"))
        db.session.commit()
    berlin = ZoneInfo("Europe/Berlin")

    def utc(local):
        return dt.datetime.fromisoformat(local).replace(tzinfo=berlin).astimezone(
            dt.UTC).replace(tzinfo=None)
    for local, amount in [("2026-03-29 00:30", 1_000), ("2026-03-29 23:30", 2_000),
                          ("2026-03-30 00:30", 4_000)]:
        insert(app, "tiktok-coins", "delivered", amount, paid=utc(local), delivered=utc(local))
    with app.test_request_context():
        days = sales.daily_revenue(now=utc("2026-03-30 12:00"))["IDR"]
    assert [(day.date.isoformat(), day.amount) for day in days[-3:]] == [
        ("2026-03-28", 0), ("2026-03-29", 3_000), ("2026-03-30", 4_000)]


@pytest.mark.parametrize("lang, words", [("en", "Day by day"), ("id", "Per hari")])
def test_each_days_revenue_is_there_to_tap_not_to_hover(seeded, owner, lang, words):
    """A phone cannot point at a bar: the days with sales are listed under the chart."""
    owner.get(f"/admin/dashboard?lang={lang}")
    html = dashboard(owner, "today")
    assert "Point at" not in html and "hover" not in html.lower()
    days = re.search(r'<details class="chart-days">\s*<summary>([^<]+)</summary>(.*?)</details>',
                     html, re.S)
    assert days and words in days.group(1)
    listed = re.findall(r"<li>([^<]+)</li>", days.group(2))
    assert len(listed) == 5 and listed[0].endswith("59.000")           # newest first
    assert not any(item.endswith(" 0") for item in listed)             # days with sales only
