"""CSV export: the exact rows for a range of the shop's days, streamed, safe to open."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Package, Product, ShopSettings
from merchant.orders import export as order_export

WIB = dt.timezone(dt.timedelta(hours=7))         # the test shop's zone, Asia/Jakarta


def utc(local: str) -> dt.datetime:
    """'2026-11-10 00:10' in the shop's zone as naive UTC."""
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=WIB)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def insert(app, ref: str, created: str, **values) -> None:
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == "mobile-legends"))
        package = db.session.scalar(sa.select(Package).where(Package.name == "86 Diamonds"))
        fields = dict(
            ref=ref, view_token="t", idempotency_key=ref, status="awaiting_payment",
            product_id=product.id, package_id=package.id, product_name="Mobile Legends",
            package_name="86 Diamonds", quantity=78, account={"user_id": "12345678",
                                                              "zone_id": "2345"},
            account_id="12345678", nickname="Kagura", email="fan@example.com",
            whatsapp="+6281234567890", payment_method="QRIS", payment_method_name="QRIS",
            gateway="sandbox", subtotal=22_000, fee=154, total=22_154, currency="IDR",
            payment_expires_at=utc(created) + dt.timedelta(minutes=30), supplier="sandbox",
            supplier_cost=20_240, created_at=utc(created))
        fields.update(values)
        db.session.add(Order(**fields))
        db.session.commit()


def rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def shop(app):
    """Orders around the range 10-12 November 2026 (shop days): two just outside it."""
    insert(app, "MBEFORE01", "2026-11-09 23:59")
    insert(app, "MFIRST001", "2026-11-10 00:10", status="delivered",
           paid_at=utc("2026-11-10 00:12"), delivered_at=utc("2026-11-10 00:13"),
           supplier_ref="SBX-1", delivery_proof="SN 1234-5678")
    insert(app, "MLAST0001", "2026-11-12 23:59", status="fulfillment_failed",
           paid_at=utc("2026-11-13 00:01"), supplier_cost=None, flag="amount mismatch")
    insert(app, "MAFTER001", "2026-11-13 00:00")
    return app


HEADER = ["reference", "created", "paid", "delivered", "status", "product", "package", "account",
          "nickname", "email", "whatsapp", "payment method", "gateway", "promo code", "discount",
          "subtotal", "fee", "total", "currency", "supplier", "supplier cost", "supplier ref",
          "proof", "flag", "refunded amount", "refunded at", "refund method"]


def test_csv_has_exactly_the_orders_of_the_shop_days_in_the_range(shop, owner):
    response = owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-12")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.get_data().startswith(b"\xef\xbb\xbfreference,")    # UTF-8 for Excel
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="orders-2026-11-10-to-2026-11-12.csv"'
    assert rows(response) == [
        HEADER,
        ["MFIRST001", "2026-11-10T00:10:00+07:00", "2026-11-10T00:12:00+07:00",
         "2026-11-10T00:13:00+07:00", "Delivered", "Mobile Legends", "86 Diamonds",
         "12345678 / 2345", "Kagura", "fan@example.com", "'+6281234567890", "QRIS", "sandbox",
         "", "0", "22000", "154", "22154", "IDR", "sandbox", "20240", "SBX-1", "SN 1234-5678", "",
         "", "", ""],
        ["MLAST0001", "2026-11-12T23:59:00+07:00", "2026-11-13T00:01:00+07:00", "",
         "Delivery failed", "Mobile Legends", "86 Diamonds", "12345678 / 2345", "Kagura",
         "fan@example.com", "'+6281234567890", "QRIS", "sandbox", "", "0", "22000", "154",
         "22154", "IDR", "sandbox", "", "", "", "amount mismatch", "", "", ""],
    ]


def test_discounts_refunds_and_the_method_by_its_name(app, owner):
    insert(app, "MPROMO001", "2026-11-10 09:00", status="delivered", payment_method="GOPAY",
           payment_method_name="GoPay", promo_code="HEMAT10", discount=2_200, subtotal=19_800,
           total=19_954)
    insert(app, "MREFUND01", "2026-11-10 10:00", status="refunded", refund_ref="sbx_rf_1",
           refunded_at=utc("2026-11-10 11:30"))
    insert(app, "MREFUND02", "2026-11-10 12:00", status="refunded",
           refunded_at=utc("2026-11-11 08:00"), refund_note="DANA transfer")
    got = {row[0]: dict(zip(HEADER, row, strict=True)) for row in rows(
        owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-10"))[1:]}
    promo = got["MPROMO001"]
    assert (promo["payment method"], promo["promo code"], promo["discount"], promo["total"]) == \
        ("GoPay", "HEMAT10", "2200", "19954")
    assert (promo["refunded amount"], promo["refunded at"], promo["refund method"]) == ("", "", "")
    assert [got[ref][key] for ref in ("MREFUND01", "MREFUND02")
            for key in ("refunded amount", "refunded at", "refund method")] == [
        "22154", "2026-11-10T11:30:00+07:00", "through the gateway",
        "22154", "2026-11-11T08:00:00+07:00", "another way"]


def test_the_csv_is_in_the_panels_language(shop, owner):
    """Header, statuses and refund methods as the Indonesian panel words them."""
    owner.get("/admin/?lang=id")
    got = rows(owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-12"))
    assert got[0][:5] == ["referensi", "dibuat", "dibayar", "terkirim", "status"]
    assert [row[4] for row in got[1:]] == ["Berhasil dikirim", "Pengiriman gagal"]


def test_the_days_follow_the_time_zone_in_the_shop_settings(shop, owner):
    with shop.app_context():
        db.session.add(ShopSettings(id=1, timezone="UTC"))
        db.session.commit()
    got = rows(owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-12"))
    # 00:10 on the 10th in Jakarta is still the 9th in UTC; 00:00 on the 13th is the 12th.
    assert [(row[0], row[1]) for row in got[1:]] == [("MLAST0001", "2026-11-12T16:59:00+00:00"),
                                                    ("MAFTER001", "2026-11-12T17:00:00+00:00")]


def test_a_single_day_and_a_day_without_orders(shop, owner):
    one = rows(owner.get("/admin/export/orders.csv?from=2026-11-13&to=2026-11-13"))
    assert [row[0] for row in one] == ["reference", "MAFTER001"]
    none = rows(owner.get("/admin/export/orders.csv?from=2026-11-11&to=2026-11-11"))
    assert none == [HEADER]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(app, owner):
    insert(app, "MEVIL0001", "2026-11-10 12:00", nickname='=HYPERLINK("http://x.test","hi")',
           email="@SUM(A1)", account={"username": "-2+3"}, delivery_proof="\t=1+1",
           flag="+cmd|' /C calc'!A0")
    [_, row] = rows(owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-10"))
    cells = dict(zip(HEADER, row, strict=True))
    assert cells["nickname"] == '\'=HYPERLINK("http://x.test","hi")'
    assert cells["email"] == "'@SUM(A1)"
    assert cells["account"] == "'-2+3"
    assert cells["proof"] == "'\t=1+1"
    assert cells["flag"] == "'+cmd|' /C calc'!A0"
    assert cells["subtotal"] == "22000"              # numbers stay numbers


def test_the_response_is_streamed_in_batches_in_creation_order(app, owner, monkeypatch):
    monkeypatch.setattr(order_export, "BATCH", 2)
    # Two orders share a creation time across a batch boundary: neither is lost or repeated.
    for ref, created in [("MA", "2026-11-10 09:00"), ("MB", "2026-11-10 10:00"),
                         ("MC", "2026-11-10 10:00"), ("MD", "2026-11-10 11:00"),
                         ("ME", "2026-11-10 08:00")]:
        insert(app, ref, created)
    response = owner.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-10")
    assert response.is_streamed
    assert [row[0] for row in rows(response)[1:]] == ["ME", "MA", "MB", "MC", "MD"]


@pytest.mark.parametrize("query, message", [
    ("from=2026-11-12&to=2026-11-10", "The last day is before the first day."),
    ("to=2026-11-10", "Enter the first day, like 2026-11-01."),
    ("from=yesterday&to=2026-11-10", "Write the first day as a date, like 2026-11-01."),
    ("from=2026-11-10&to=", "Enter the last day, like 2026-11-30."),
    ("from=0001-01-01&to=2026-11-10", "Enter a day from 2000-01-01 to 2999-12-31."),
    ("from=2026-11-10&to=9999-12-31", "Enter a day from 2000-01-01 to 2999-12-31."),
])
def test_a_bad_range_is_refused_with_the_form_and_why(owner, query, message):
    response = owner.get(f"/admin/export/orders.csv?{query}")
    assert response.status_code == 422
    assert message in response.text and 'action="/admin/export/orders.csv"' in response.text


def test_the_form_offers_the_last_30_shop_days(app, owner):
    html = owner.get("/admin/export").text
    with app.test_request_context():
        today = shop_settings.local_today()
    assert f'name="from" required type="date" value="{today - dt.timedelta(days=29)}"' in html
    assert f'name="to" required type="date" value="{today}"' in html


def test_staff_cannot_export(shop, staff):
    assert staff.get("/admin/export").status_code == 403
    response = staff.get("/admin/export/orders.csv?from=2026-11-10&to=2026-11-12")
    assert response.status_code == 403 and "MFIRST001" not in response.text
