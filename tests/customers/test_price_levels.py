"""Price levels: the owner's rules and hand prices, what a guest and a signed-in customer see
on the product page, what checkout charges, the cost floor, promo codes against level prices,
and customers moving up by their spend."""
from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa
from conftest import (
    buy,
    create_admin,
    get_order,
    make_app,
    order_ref,
    package_id,
    paid_order,
    verify,
    work,
)
from conftest import (
    sign_in as admin_sign_in,
)
from signing_in import customer, sign_in, smtp_config

from merchant.core import money
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Customer, LevelPrice, PriceLevel, Promo

# The demo's TikTok 70 Coins: Rp 15.000, costing the shop Rp 13.800.
RETAIL, COST = 15_000, 13_800


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, LEVEL_REVIEW_SECONDS=0, **smtp_config(smtp))


@pytest.fixture
def owner(app):
    create_admin(app)
    client = app.test_client()
    assert admin_sign_in(client).status_code == 303
    return client


def rupiah(app, amount: int) -> str:
    with app.test_request_context():
        return money.Money(amount, "IDR").format()


def add_level(owner, name="Reseller", **values) -> int:
    form = {"name": name, "sort_order": "1", "kind": "discount", "percent": "5",
            "currency": "IDR", "flat": "0", "round_to": "100", "spend_days": "30", **values}
    response = owner.post("/admin/levels/new", data=form)
    assert response.status_code == 303, response.text
    with owner.application.app_context():
        return db.session.scalar(sa.select(PriceLevel.id).where(PriceLevel.name == name))


def put_at_level(app, level_id: int | None, email="dewi@example.com") -> None:
    with app.app_context():
        db.session.execute(sa.update(Customer).where(Customer.email == email)
                           .values(level_id=level_id))
        db.session.commit()


def buy_70_coins(client, app, **form) -> str:
    token = verify(client, "tiktok-coins", username="dewi_plays")
    return order_ref(client.post("/p/tiktok-coins/order", data={
        "username": "dewi_plays", "verification_token": token, "method": "QRIS",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "email": "dewi@example.com",
        "idempotency_key": os.urandom(8).hex(), **form}))


def test_a_guest_sees_the_retail_price_and_what_a_level_would_pay(app, client, owner):
    before = client.get("/p/tiktok-coins")          # the shared copy, kept before any level
    assert "Reseller" not in before.text
    add_level(owner)                 # 5 % off: 14.250, rounded up to 14.300
    page = client.get("/p/tiktok-coins", headers={"If-None-Match": before.headers["ETag"]})
    assert f"Reseller: {rupiah(app, 14_300)}" in page.text
    assert rupiah(app, RETAIL) in page.text
    assert page.headers["Cache-Control"].startswith("public")    # still the shared page


def test_a_signed_in_customer_sees_and_pays_their_levels_price(app, client, owner, smtp):
    level = add_level(owner)
    sign_in(client, smtp)
    put_at_level(app, level)
    page = client.get("/p/tiktok-coins")
    assert "Reseller price" in page.text and rupiah(app, 14_300) in page.text
    summary = client.get("/p/tiktok-coins/summary", query_string={
        "package": package_id(app, "tiktok-coins", "70 Coins"), "method": "QRIS"},
        headers={"HX-Request": "true"})
    assert rupiah(app, 14_300) in summary.text
    order = get_order(app, buy_70_coins(client, app))
    assert order.subtotal == 14_300 and order.total == order.subtotal + order.fee
    # Charged from the live rows: a price typed into the form changes nothing, and a level
    # taken away before Buy is the retail price again.
    put_at_level(app, None)
    order = get_order(app, buy_70_coins(client, app, price="1"))
    assert order.subtotal == RETAIL


def test_a_level_price_never_goes_below_cost_unless_allowed(app, client, owner, smtp):
    level = add_level(owner, percent="20")          # 12.000 by the rule: below the cost
    sign_in(client, smtp)
    put_at_level(app, level)
    assert get_order(app, buy_70_coins(client, app)).subtotal == COST
    # A hand price below cost is refused, saying why; nothing is saved.
    package = package_id(app, "tiktok-coins", "70 Coins")
    refused = owner.post(f"/admin/levels/{level}/prices",
                         data={"package": package, "price": "13.000"})
    assert refused.status_code == 422
    assert "is below the supplier&#39;s cost" in refused.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LevelPrice)) == 0
    # Allowed on purpose: the hand price stands, and is charged.
    edit = {"name": "Reseller", "sort_order": "1", "kind": "discount", "percent": "20",
            "currency": "IDR", "flat": "0", "round_to": "100", "spend_days": "30",
            "allow_below_cost": "y"}
    assert owner.post(f"/admin/levels/{level}", data=edit).status_code == 303
    assert owner.post(f"/admin/levels/{level}/prices",
                      data={"package": package, "price": "13.000"}).status_code == 303
    assert get_order(app, buy_70_coins(client, app, note="2")).subtotal == 13_000
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"level.create", "level.update", "level.price"} <= actions


def test_a_markup_level_prices_from_cost_rounded_up(app, client, owner, smtp):
    level = add_level(owner, name="VIP", kind="markup", percent="3", round_to="500")
    sign_in(client, smtp)
    put_at_level(app, level)
    # 13.800 + 3 % = 14.214, rounded up to 14.500
    assert get_order(app, buy_70_coins(client, app)).subtotal == 14_500


def test_a_promo_code_and_a_level_price_do_not_add_up(app, client, owner, smtp):
    level = add_level(owner, percent="2")           # 14.700
    sign_in(client, smtp)
    put_at_level(app, level)
    with app.app_context():
        db.session.add(Promo(code="HEMAT5", percent_bp=500, currency="IDR"))   # 14.250
        db.session.add(Promo(code="HEMAT1", percent_bp=100, currency="IDR"))   # 14.850
        db.session.commit()
    summary = client.get("/p/tiktok-coins/summary", query_string={
        "package": package_id(app, "tiktok-coins", "70 Coins"), "method": "QRIS",
        "promo": "HEMAT1"}, headers={"HX-Request": "true"})
    assert "Your level price is lower than the code" in summary.text
    assert rupiah(app, 14_700) in summary.text
    better = get_order(app, buy_70_coins(client, app, promo="HEMAT5"))
    assert (better.subtotal, better.promo_code) == (14_250, "HEMAT5")
    worse = get_order(app, buy_70_coins(client, app, promo="HEMAT1"))
    assert (worse.subtotal, worse.promo_code, worse.discount) == (14_700, None, 0)
    with app.app_context():
        uses = dict(db.session.execute(sa.select(Promo.code, Promo.uses)).all())
    assert uses == {"HEMAT5": 1, "HEMAT1": 0}       # the unused code's use is not counted


def test_customers_move_up_by_their_spend_and_never_down(app, client, owner, smtp, clock):
    level = add_level(owner, spend_threshold="25.000", spend_days="30")
    sign_in(client, smtp)
    paid_order(client, app, "dewi_one", "delivered")              # 15.000 delivered
    assert customer(app).level_id is None
    paid_order(client, app, "dewi_two", "delivered")              # 30.000 in 30 days
    assert customer(app).level_id == level
    # A month later nothing was bought: the level stays.
    clock.advance(dt.timedelta(days=40).total_seconds())
    paid_order(client, app, "dewi_three", "delivered")
    assert customer(app).level_id == level
    # Another customer whose first order is out of the window: not moved.
    other = app.test_client()
    sign_in(other, smtp, "rina@example.com")
    paid_order(other, app, "rina_one", "delivered")
    clock.advance(dt.timedelta(days=31).total_seconds())
    paid_order(other, app, "rina_two", "delivered")
    assert customer(app, "rina@example.com").level_id is None
    # Unpaid and failed orders count for nothing.
    order_ref(buy(other, app, username="rina_three"))
    paid_order(other, app, "rina_fail", "fulfillment_failed")
    work(app)
    assert customer(app, "rina@example.com").level_id is None


def test_the_owner_sets_a_level_by_hand_audited_and_staff_cannot(app, owner, client, smtp):
    level = add_level(owner)
    sign_in(client, smtp)
    dewi = customer(app).id
    listed = owner.get("/admin/customers", query_string={"q": "dewi"})
    assert "dewi@example.com" in listed.text
    assert "dewi@example.com" not in owner.get("/admin/customers",
                                               query_string={"q": "rina"}).text
    page = owner.get(f"/admin/customers/{dewi}")
    assert page.status_code == 200 and "Save level" in page.text
    assert owner.post(f"/admin/customers/{dewi}/level",
                      data={"level": str(level)}).status_code == 303
    assert customer(app).level_id == level
    assert "Level of customer" in owner.get(f"/admin/customers/{dewi}").text
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry)
                                  .where(AuditEntry.action == "customer.level"))
        assert entry.actor == "owner@example.com" and entry.after == {"level": "Reseller"}
    create_admin(app, "staff@example.com", role="staff")
    staff = app.test_client()
    admin_sign_in(staff, "staff@example.com")
    assert staff.get("/admin/customers").status_code == 200
    assert staff.post(f"/admin/customers/{dewi}/level", data={"level": ""}).status_code == 403
    assert staff.get("/admin/levels").status_code == 403
    assert customer(app).level_id == level
    # Sign out everywhere from the panel.
    assert client.get("/account").status_code == 200
    owner.post(f"/admin/customers/{dewi}/sign-out")
    assert client.get("/account").status_code == 303


def test_the_panel_filters_customers_by_level(app, owner, client, smtp):
    level = add_level(owner)
    sign_in(client, smtp)
    sign_in(app.test_client(), smtp, "rina@example.com")
    put_at_level(app, level)
    at_level = owner.get("/admin/customers", query_string={"level": str(level)}).text
    assert "dewi@example.com" in at_level and "rina@example.com" not in at_level
    no_level = owner.get("/admin/customers", query_string={"level": "none"}).text
    assert "rina@example.com" in no_level and "dewi@example.com" not in no_level


def test_levels_keep_working_without_a_signed_in_customer(tmp_path):
    app = make_app(tmp_path)
    assert app.test_client().get("/p/tiktok-coins").status_code == 200


def test_the_panel_finds_a_customer_by_whatsapp_number_however_typed(app, owner):
    with app.app_context():
        db.session.add(Customer(whatsapp="+6281234567890", name="Budi"))
        db.session.commit()
    for typed in ("0812 3456 7890", "+62 812-3456", "81234567890", "budi"):
        page = owner.get("/admin/customers", query_string={"q": typed})
        assert "+6281234567890" in page.text, typed
    assert "+6281234567890" not in owner.get("/admin/customers",
                                             query_string={"q": "0899 1111"}).text
