"""Promo codes in the shop: the summary (htmx and without JavaScript), every refusal, the
discounted order and its payment, and the use given back when the order dies unpaid."""
from __future__ import annotations

import datetime as dt
import os
import re
import threading

import pytest
import sqlalchemy as sa
from conftest import get_order, history, order_ref, package_id, sandbox_pay, verify, work

from merchant import orders
from merchant.catalog import promos
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import Order, PaymentMethod, Product, Promo, PromoContactUse, utcnow
from merchant.orders import reconciliation

HX = {"HX-Request": "true"}
SLUG = "tiktok-coins"


def add_promo(app, code="SAVE10", **values) -> int:
    """A promo through the service the panel and the CLI use; returns its id.

    The demo's packages cost 92 % of their price, so these tests' 10 % codes sell below cost:
    allowed here unless a test says otherwise (tests/catalog/test_promos_cost.py is about that)."""
    with app.app_context():
        product = values.pop("product", None)
        fields = {"code": code, "percent_bp": None, "amount_off": None, "currency": "IDR",
                  "product_id": None, "min_spend": 0, "starts_at": None, "ends_at": None,
                  "max_uses": None, "max_per_contact": None, "active": True,
                  "allow_below_cost": True}
        if product:
            fields["product_id"] = db.session.scalar(
                sa.select(Product.id).where(Product.slug == product))
        fields.update(values)
        if fields["percent_bp"] is None and fields["amount_off"] is None:
            fields["percent_bp"] = 1000
        return promos.create(fields, audit.CLI).id


def set_promo(app, promo_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(Promo).where(Promo.id == promo_id).values(**values))
        db.session.commit()


def uses(app, promo_id: int) -> int:
    with app.app_context():
        return db.session.get(Promo, promo_id).uses


def contact_uses(app, promo_id: int) -> dict[str, int]:
    with app.app_context():
        return {row.contact: row.uses for row in db.session.scalars(
            sa.select(PromoContactUse).where(PromoContactUse.promo_id == promo_id))}


def count_orders(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


def summary(client, app, promo="SAVE10", package="70 Coins", method="QRIS", htmx=True,
            **extra):
    query = {"package": package_id(app, SLUG, package), "method": method, "promo": promo,
             **extra}
    return client.get(f"/p/{SLUG}/summary", query_string=query, headers=HX if htmx else {})


def buy_with(client, app, promo="SAVE10", package="70 Coins", method="QRIS",
             email="buyer@example.com", whatsapp="", username="demo_user", key=None):
    token = verify(client, SLUG, username=username)
    form = {"username": username, "verification_token": token,
            "package": package_id(app, SLUG, package), "method": method, "email": email,
            "whatsapp": whatsapp, "promo": promo, "idempotency_key": key or os.urandom(8).hex()}
    return client.post(f"/p/{SLUG}/order", data=form)


def amounts(response) -> list[str]:
    """The summary's lines as 'label: amount', in order."""
    pairs = re.findall(r"<dt[^>]*>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", response.text)
    return [f"{label.strip()}: {value.strip()}" for label, value in pairs]


def test_summary_partial_takes_ten_percent_off_before_the_fee(client, app):
    add_promo(app, "SAVE10", percent_bp=1000)
    response = summary(client, app, promo="  save10 ")       # any case, spaces trimmed
    assert response.status_code == 200
    assert "✔ SAVE10: 10% off" in response.text
    # 15.000 - 1.500 = 13.500; QRIS 0.7 % of 13.500 = 94.5, rounded half up to 95.
    assert amounts(response) == ["70 Coins: Rp 15.000", "Discount (SAVE10): -Rp 1.500",
                                 "QRIS fee: Rp 95", "Total: Rp 13.595"]


def test_flat_discount_stops_at_the_methods_smallest_amount(client, app):
    add_promo(app, "BIGFLAT", percent_bp=None, amount_off=6_000)
    response = summary(client, app, promo="BIGFLAT", package="30 Coins")
    # 6.500 - 6.000 would be 500, under QRIS's Rp 1.000: the price stops at Rp 1.000.
    assert amounts(response) == ["30 Coins: Rp 6.500", "Discount (BIGFLAT): -Rp 5.500",
                                 "QRIS fee: Rp 7", "Total: Rp 1.007"]
    assert "the smallest amount QRIS takes" in response.text
    plain = summary(client, app, promo="BIGFLAT", package="70 Coins")
    assert "Discount (BIGFLAT): -Rp 6.000" in amounts(plain)
    assert "smallest amount" not in plain.text


def test_summary_without_a_code_is_unchanged(client, app):
    response = summary(client, app, promo="")
    assert amounts(response) == ["70 Coins: Rp 15.000", "QRIS fee: Rp 105", "Total: Rp 15.105"]
    assert "promo-result" not in response.text


def refusal_cases():
    now = utcnow()
    return [
        ("NOSUCH", {}, {}, "We do not know this code. Check its spelling."),
        ("OLD", {"ends_at": now - dt.timedelta(minutes=1)}, {}, "This code has expired."),
        ("SOON", {"starts_at": now + dt.timedelta(days=2)}, {}, "This code starts on "),
        ("BIG", {"min_spend": 50_000}, {}, "Minimum spend Rp 50.000."),
        ("MLBB", {"product": "mobile-legends"}, {}, "Not valid for this product."),
        ("GONE", {"max_uses": 3, "uses": 3}, {}, "This code has been used up."),
        ("OFF", {"active": False}, {}, "This code is no longer valid."),
        ("ONCE", {"max_per_contact": 1}, {"held": 1}, "You have already used this code."),
    ]


def _refused_promo(app, code, values, setup):
    values = dict(values)
    used = values.pop("uses", None)
    if code != "NOSUCH":
        promo_id = add_promo(app, code, **values)
        if used is not None:
            set_promo(app, promo_id, uses=used)
        if setup.get("held"):
            with app.app_context():
                db.session.add(PromoContactUse(promo_id=promo_id, contact="buyer@example.com",
                                               uses=setup["held"]))
                db.session.commit()


@pytest.mark.parametrize("code, values, setup, message", refusal_cases(),
                         ids=[case[0] for case in refusal_cases()])
def test_each_refusal_is_said_in_the_partial_the_no_js_page_and_at_buy(
        client, app, code, values, setup, message):
    _refused_promo(app, code, values, setup)
    contact = {"email": "Buyer@Example.com"}
    partial = summary(client, app, promo=code.lower(), **contact)
    assert message in partial.text and 'id="promo-result"' in partial.text
    # The price stays the undiscounted one.
    assert "Total: Rp 15.105" in amounts(partial)

    page = summary(client, app, promo=code, htmx=False, **contact)
    assert page.status_code == 200 and "<html" in page.text
    assert message in page.text
    assert re.search(r'<input id="promo" name="promo" value="' + code, page.text)
    assert 'aria-invalid="true"' in page.text.split('id="promo"')[1].split(">")[0]

    before = count_orders(app)
    response = buy_with(client, app, promo=f" {code.lower()} ")
    assert response.status_code == 422 and message in response.text
    assert count_orders(app) == before


def test_order_keeps_code_discount_and_discounted_amounts(client, app):
    promo_id = add_promo(app, "SAVE10", percent_bp=1000, max_uses=5)
    ref = order_ref(buy_with(client, app, promo="save10"))
    order = get_order(app, ref)
    assert (order.promo_code, order.discount, order.subtotal, order.fee, order.total) == (
        "SAVE10", 1_500, 13_500, 95, 13_595)
    assert order.promo_id == promo_id and order.promo_counted
    assert uses(app, promo_id) == 1
    assert contact_uses(app, promo_id) == {"buyer@example.com": 1}
    assert "with promo code SAVE10 (-Rp 1.500)" in history(app, ref)[0][3]

    page = client.get(f"/o/{ref}?t={order.view_token}", follow_redirects=True).text
    assert "Rp 15.000" in page and "Discount (SAVE10)" in page and "-Rp 1.500" in page
    assert "Rp 13.595" in page

    # The gateway is asked for the discounted total; paying it delivers.
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert uses(app, promo_id) == 1


def test_no_js_show_total_then_buy(client, app):
    """Without JavaScript: Apply (the form's summary path) shows the discount, Buy keeps it."""
    add_promo(app, "FLAT5K", percent_bp=None, amount_off=5_000)
    page = summary(client, app, promo="flat5k", htmx=False)
    assert "Discount (FLAT5K)" in page.text and "-Rp 5.000" in page.text
    assert 'value="flat5k"' in page.text              # the field keeps what was typed
    ref = order_ref(buy_with(client, app, promo="flat5k"))
    assert get_order(app, ref).total == 10_000 + 70    # 10.000 + QRIS 0.7 %


def test_per_contact_limit_counts_email_and_whatsapp(client, app):
    promo_id = add_promo(app, "ONCE", max_per_contact=1)
    order_ref(buy_with(client, app, promo="ONCE", email="a@example.com",
                       whatsapp="0812 3456 7890"))
    assert contact_uses(app, promo_id) == {"a@example.com": 1, "+6281234567890": 1}
    # The same number with another email, and the same email with another number: refused.
    for email, whatsapp in (("b@example.com", "+62 812-3456-7890"), ("A@example.com", "")):
        response = buy_with(client, app, promo="ONCE", email=email, whatsapp=whatsapp)
        assert response.status_code == 422
        assert "You have already used this code." in response.text
    order_ref(buy_with(client, app, promo="ONCE", email="c@example.com"))
    assert uses(app, promo_id) == 2


def test_double_tapped_buy_with_the_last_use_gives_the_one_order(client, app):
    promo_id = add_promo(app, "LAST", max_uses=1)
    first = buy_with(client, app, promo="LAST", key="same-key-0001")
    again = buy_with(client, app, promo="LAST", key="same-key-0001")
    assert order_ref(first) == order_ref(again)
    assert uses(app, promo_id) == 1 and count_orders(app) == 1


def place_with_code(client, app, code="LAST", email="buyer@example.com") -> str:
    return order_ref(buy_with(client, app, promo=code, email=email))


@pytest.mark.parametrize("action, status", [("expire", "expired"), ("fail", "payment_failed")])
def test_an_order_that_dies_unpaid_gives_its_use_back(client, app, action, status):
    promo_id = add_promo(app, "LAST", max_uses=1, max_per_contact=1)
    ref = place_with_code(client, app)
    assert buy_with(client, app, promo="LAST", email="other@example.com").status_code == 422
    sandbox_pay(client, app, ref, action)
    assert get_order(app, ref).status == status
    assert uses(app, promo_id) == 0
    assert contact_uses(app, promo_id) == {"buyer@example.com": 0}
    assert not get_order(app, ref).promo_counted
    assert any("Promo code LAST: its use is given back" in e[3] for e in history(app, ref))
    # Free again, for someone else or for the same customer.
    assert place_with_code(client, app)


def test_racing_expiry_paths_give_the_use_back_once(client, app, clock):
    """The sandbox's Expire callbacks and the worker's expiry race: one transition, one
    use back (another order's use stays counted)."""
    promo_id = add_promo(app, "TWO", max_uses=2)
    ref = place_with_code(client, app, "TWO")
    keep = place_with_code(client, app, "TWO", email="keeper@example.com")
    assert uses(app, promo_id) == 2
    clock.advance(31 * 60)
    order = get_order(app, ref)
    barrier = threading.Barrier(8)
    errors = []

    def sandbox_expire():
        barrier.wait()
        response = app.test_client().post(f"/sandbox/pay/{order.gateway_ref}",
                                          data={"action": "expire"})
        if response.status_code != 303:
            errors.append(response.status_code)

    def worker_expire():
        with app.app_context():
            barrier.wait()
            reconciliation.expire(db.session.get(Order, order.id))
            db.session.remove()

    threads = [threading.Thread(target=sandbox_expire) for _ in range(4)] + [
        threading.Thread(target=worker_expire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert get_order(app, ref).status == "expired"
    assert uses(app, promo_id) == 1
    notes = [e for e in history(app, ref) if "given back" in e[3]]
    assert len(notes) == 1
    assert get_order(app, keep).promo_counted


def test_a_late_payment_keeps_the_discount_and_counts_the_use_again(client, app):
    """Decided: the money was taken at the discounted price, so the order is honoured and its
    use counted again, even when that passes the limit (the counter is what orders hold)."""
    promo_id = add_promo(app, "LAST", max_uses=1)
    ref = place_with_code(client, app)
    sandbox_pay(client, app, ref, "expire")
    taker = place_with_code(client, app, email="second@example.com")
    assert uses(app, promo_id) == 1
    with app.app_context():
        # A late "paid" from the gateway, for the discounted total the customer was asked.
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        assert orders.transition(order.id, orders.PAID, source="webhook", detail="late")
    assert get_order(app, ref).total == 13_595
    assert uses(app, promo_id) == 2
    assert get_order(app, ref).promo_counted and get_order(app, taker).promo_counted
    assert buy_with(client, app, promo="LAST", email="third@example.com").status_code == 422


def test_an_order_whose_payment_cannot_be_opened_gives_its_use_back(client, app):
    promo_id = add_promo(app, "LAST", max_uses=1)
    with app.app_context():
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == "QRIS")
                           .values(gateway="tripay"))
        db.session.commit()
    # Tripay at an address nothing answers on: the payment cannot be opened.
    app.config.update(TRIPAY_API_KEY="DEV-key", TRIPAY_PRIVATE_KEY="private",
                      TRIPAY_MERCHANT_CODE="T0001", TRIPAY_API_URL="http://127.0.0.1:9/")
    response = buy_with(client, app, promo="LAST")
    assert response.status_code == 422 and "not responding" in response.text
    assert count_orders(app) == 0 and uses(app, promo_id) == 0
    assert contact_uses(app, promo_id) == {"buyer@example.com": 0}


def test_a_code_disabled_after_the_summary_is_refused_at_buy(client, app):
    promo_id = add_promo(app, "SAVE10")
    assert "Discount (SAVE10)" in summary(client, app).text
    set_promo(app, promo_id, active=False)
    response = buy_with(client, app)
    assert response.status_code == 422 and "This code is no longer valid." in response.text


def test_admin_order_page_shows_the_discount(client, app, owner):
    add_promo(app, "SAVE10")
    ref = place_with_code(client, app, "SAVE10")
    page = owner.get(f"/admin/orders/{ref}").text
    assert "Discount" in page and "-Rp 1.500" in page and ">SAVE10</a>" in page
    assert "Rp 15.000" in page and "Rp 13.595" in page


def test_the_summary_speaks_indonesian(client, app):
    add_promo(app, "SAVE10")
    add_promo(app, "OLD", ends_at=utcnow() - dt.timedelta(minutes=1))
    client.get("/?lang=id")
    assert "Diskon (SAVE10): -Rp 1.500" in amounts(summary(client, app))
    assert "Potongan 10%" in summary(client, app).text
    assert "Kode ini sudah kedaluwarsa." in summary(client, app, promo="old").text
    page = client.get(f"/p/{SLUG}").text
    assert "Kode promo" in page and ">Pakai</button>" in page
