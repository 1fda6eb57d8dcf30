"""/admin/orders: the list (filters, search, pages), the order page's timeline, and the actions
an operator takes there, as an owner or staff sees them."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from conftest import (
    buy,
    delivered_order,
    failed_order,
    get_order,
    order_ref,
    set_package,
    work,
)

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import Order, Product

ZONE = ZoneInfo("Asia/Jakarta")          # the default SHOP_TIMEZONE


def refs_listed(response) -> list[str]:
    return re.findall(r'href="/admin/orders/(M[A-Z0-9]+)"', response.text)


def audit_log(app, ref) -> list[tuple]:
    with app.app_context():
        return [(e.actor, e.action) for e in audit.entries_for("order", ref)]


@pytest.fixture
def three(client, app):
    """An unpaid TikTok order by QRIS, an unpaid Mobile Legends one by GoPay (with WhatsApp),
    and a TikTok order whose delivery failed; created in that order."""
    unpaid = order_ref(buy(client, app, username="alpha_fan", email="alpha@example.com"))
    legends = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds",
                            method="GOPAY", email="", whatsapp="0812-3456-7890",
                            user_id="12345678", zone_id="2345"))
    failed = failed_order(client, app)
    return unpaid, legends, failed


def product_id(app, slug) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Product.id).where(Product.slug == slug))


def test_the_list_shows_the_newest_first_and_filters(owner, app, three):
    unpaid, legends, failed = three
    assert refs_listed(owner.get("/admin/orders")) == [failed, legends, unpaid]
    assert refs_listed(owner.get("/admin/orders?status=fulfillment_failed")) == [failed]
    ml = product_id(app, "mobile-legends")
    assert refs_listed(owner.get(f"/admin/orders?product={ml}")) == [legends]
    assert refs_listed(owner.get("/admin/orders?method=GOPAY")) == [legends]
    assert refs_listed(owner.get("/admin/orders?method=QRIS&status=awaiting_payment")) == [unpaid]
    none = owner.get("/admin/orders?status=refunded")
    assert refs_listed(none) == [] and "No orders match these filters." in none.text


def test_the_date_filter_uses_the_shops_days(owner, app, three):
    unpaid, legends, failed = three
    # 23:30 in Jakarta ten days ago is 16:30 UTC: the order belongs to that Jakarta day.
    day = dt.datetime.now(ZONE).date() - dt.timedelta(days=10)
    late_evening = dt.datetime.combine(day, dt.time(23, 30), tzinfo=ZONE)
    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == unpaid).values(
            created_at=late_evening.astimezone(dt.UTC).replace(tzinfo=None)))
        db.session.commit()
    assert refs_listed(owner.get(f"/admin/orders?date_from={day}&date_to={day}")) == [unpaid]
    next_day = day + dt.timedelta(days=1)
    assert refs_listed(owner.get(f"/admin/orders?date_from={next_day}&date_to={next_day}")) == []
    today = dt.datetime.now(ZONE).date()
    assert refs_listed(owner.get(f"/admin/orders?date_from={today}")) == [failed, legends]

    backwards = owner.get(f"/admin/orders?date_from={today}&date_to={day}")
    assert backwards.status_code == 422
    assert "The end date is before the start date." in backwards.text


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01",
                                   "date_from=0001-01-01&date_to=9999-12-31"])
def test_a_day_out_of_range_is_refused_in_both_languages(owner, three, query):
    refused = owner.get(f"/admin/orders?{query}")
    assert refused.status_code == 422
    assert "Enter a day from 2000-01-01 to 2999-12-31." in refused.text
    assert refs_listed(refused) == [three[2], three[1], three[0]]   # the list, unfiltered
    in_indonesian = owner.get(f"/admin/orders?{query}&lang=id")
    assert in_indonesian.status_code == 422
    assert "Masukkan tanggal dari 2000-01-01 sampai 2999-12-31." in in_indonesian.text
    owner.get("/admin/?lang=en")
    # The dashboard has no date filter: such days are ignored there, never an error.
    assert owner.get(f"/admin/dashboard?{query}").status_code == 200


@pytest.mark.parametrize("key", ["ref", "account_id", "nickname", "email", "whatsapp"])
def test_search_by_each_key(owner, app, three, key):
    unpaid, legends, failed = three
    target = {"ref": unpaid, "account_id": legends, "nickname": unpaid, "email": unpaid,
              "whatsapp": legends}[key]
    order = get_order(app, target)
    q = {"ref": target.lower(),                          # typed in lower case
         "account_id": order.account_id,                 # the User ID
         "nickname": order.nickname.swapcase(),          # any case
         "email": "ALPHA@example.com",
         "whatsapp": "+62 812 3456 7890"}[key]           # any spelling of the number
    assert refs_listed(owner.get("/admin/orders", query_string={"q": q})) == [target]


@pytest.mark.parametrize("key", ["ref", "account_id", "nickname", "email", "whatsapp"])
def test_search_by_part_of_each_key(owner, app, three, key):
    unpaid, legends, failed = three
    target = {"ref": unpaid, "account_id": unpaid, "nickname": legends, "email": unpaid,
              "whatsapp": legends}[key]
    order = get_order(app, target)
    q = {"ref": target[:6].lower(),                      # the start of a reference
         "account_id": "PHA_F",                          # inside alpha_fan, any case
         "nickname": order.nickname[-4:].lower(),        # the end of Player-XXXX
         "email": "LPHA@",
         "whatsapp": "3456 7890"}[key]                   # part of the number, as typed
    assert refs_listed(owner.get("/admin/orders", query_string={"q": q})) == [target]


def test_a_search_with_many_matches_pages_through_all_of_them(owner, app, client):
    first = order_ref(buy(client, app, username="alpha_fan"))
    everyone = [first] + clone(app, first, 54)
    page = owner.get("/admin/orders?q=PHA_F")
    shown = refs_listed(page)
    older = re.search(r'href="([^"]+)"[^>]*rel="next"', page.text).group(1).replace("&amp;", "&")
    rest = refs_listed(owner.get(older))
    assert (len(shown), len(rest)) == (50, 5) and sorted(shown + rest) == sorted(everyone)


def test_search_wildcards_are_plain_characters(owner, three):
    unpaid, legends, failed = three
    expected = {"%": [], "M%": [], "%%%": [], "a_f": [unpaid],     # alph(a_f)an only
                "_fa": [failed, unpaid]}                          # buyer_fail, alpha_fan
    for q, refs in expected.items():
        assert refs_listed(owner.get("/admin/orders", query_string={"q": q})) == refs, q


def test_a_search_that_finds_nothing_says_so(owner, three):
    response = owner.get("/admin/orders?q=nobody-at-all")
    assert response.status_code == 200 and refs_listed(response) == []
    assert "No orders match these filters." in response.text


def clone(app, ref: str, count: int) -> list[str]:
    """`count` copies of an order, all created at the same instant (ties in the sort)."""
    with app.app_context():
        row = db.session.execute(
            sa.select(Order.__table__).where(Order.ref == ref)).mappings().one()
        refs = [f"MC{n:07d}" for n in range(count)]
        db.session.execute(sa.insert(Order), [
            {**{k: v for k, v in row.items() if k != "id"}, "ref": r,
             "idempotency_key": f"clone-{r}"} for r in refs])
        db.session.commit()
    return refs


def test_older_pages_carry_on_where_the_last_one_stopped(owner, app, client):
    first = order_ref(buy(client, app))
    everyone = [first] + clone(app, first, 54)
    page = owner.get("/admin/orders?status=awaiting_payment")
    shown = refs_listed(page)
    assert len(shown) == 50
    older = re.search(r'href="([^"]+)"[^>]*rel="next"', page.text).group(1).replace("&amp;", "&")
    assert "status=awaiting_payment" in older and "before=" in older
    second = owner.get(older)
    rest = refs_listed(second)
    assert len(rest) == 5 and 'rel="next"' not in second.text
    assert sorted(shown + rest) == sorted(everyone)
    assert "Newest" in second.text


def test_the_order_page_shows_the_whole_timeline(owner, app, client):
    ref = failed_order(client, app)
    assert owner.post(f"/admin/orders/{ref}/note",
                      data={"text": "Asked the customer for another ID"}).status_code == 303
    page = owner.get(f"/admin/orders/{ref}")
    assert page.status_code == 200
    text = page.text
    assert "buyer_fail" in text and "buyer@example.com" in text
    assert f"{ref}-2 <span class=\"muted\">(earlier: {ref})</span>" in text
    steps = ["Created: waiting for payment", "Callback from sandbox", "Waiting for payment → Paid",
             "Paid → Delivering", "Delivering → Delivery failed",
             "Note from owner@example.com: Asked the customer for another ID"]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "destination account rejected" in text
    assert text.count("Asked the customer for another ID") == 1      # once, not as its audit too
    assert "Added a note" not in text
    assert owner.get("/admin/orders/MNOSUCH00").status_code == 404


def test_a_failed_order_says_why_at_the_top_with_what_to_do(owner, app, client):
    ref = failed_order(client, app)
    page = owner.get(f"/admin/orders/{ref}").text
    top = page[page.index("Why the delivery failed"):page.index('id="facts-order"')]
    assert "sandbox: Sandbox supplier: destination account rejected" in top
    assert "What to do:</b> sandbox will not deliver this order" in top
    assert "Mengapa pengiriman gagal" in owner.get(f"/admin/orders/{ref}?lang=id").text
    owner.get("/admin/?lang=en")
    delivered = owner.get(f"/admin/orders/{delivered_order(client, app)}").text
    assert "Why the delivery failed" not in delivered


def test_deliver_by_hand_from_the_order_page(owner, app, client):
    ref = failed_order(client, app)
    empty = owner.post(f"/admin/orders/{ref}/deliver", data={"proof": " "})
    assert empty.status_code == 422 and "Enter the proof of delivery" in empty.text
    done = owner.post(f"/admin/orders/{ref}/deliver", data={"proof": "Sent 70 coins, TT-77"})
    assert done.status_code == 303 and done.headers["Location"] == f"/admin/orders/{ref}"
    assert f"Order {ref} is delivered" in owner.get(done.headers["Location"]).text
    assert get_order(app, ref).status == "delivered"
    assert audit_log(app, ref) == [("owner@example.com", "order.deliver")]
    assert "TT-77" in client.get(f"/o/{ref}/status").text


def test_retry_and_retry_with_the_fallback_supplier(owner, app, client):
    ref = failed_order(client, app)
    page = owner.get(f"/admin/orders/{ref}").text
    assert ">Retry with sandbox</button>" in page and "fallback supplier" not in page

    set_package(app, "tiktok-coins", "70 Coins", fallback_supplier="manual")
    page = owner.get(f"/admin/orders/{ref}").text
    assert ">Retry with the fallback supplier (manual)</button>" in page
    moved = owner.post(f"/admin/orders/{ref}/retry", data={"fallback": "Retry with the fallback"})
    assert moved.status_code == 303
    order = get_order(app, ref)
    assert (order.status, order.supplier) == ("paid", "manual")
    assert "will be delivered again with manual" in owner.get(f"/admin/orders/{ref}").text
    work(app)
    assert "Delivering" in client.get(f"/o/{ref}/status").text
    assert audit_log(app, ref) == [("owner@example.com", "order.retry")]


def test_refund_through_the_gateway_or_by_hand(owner, app, client):
    ref = failed_order(client, app)
    done = owner.post(f"/admin/orders/{ref}/refund", data={"api": "Refund", "note": "no stock"})
    assert done.status_code == 303
    order = get_order(app, ref)
    assert order.status == "refunded" and order.refund_ref.startswith("sbx_rf_")
    assert f"through sandbox (refund {order.refund_ref})" in owner.get(f"/admin/orders/{ref}").text
    assert "we refunded Rp" in client.get(f"/o/{ref}/status").text

    other = failed_order(client, app, username="second_fail")
    no_note = owner.post(f"/admin/orders/{other}/refund", data={"manual": "Record"})
    assert no_note.status_code == 422 and "Say how the money went back" in no_note.text
    assert get_order(app, other).status == "fulfillment_failed"
    by_hand = owner.post(f"/admin/orders/{other}/refund",
                         data={"manual": "Record", "note": "DANA transfer"})
    assert by_hand.status_code == 303 and get_order(app, other).status == "refunded"
    assert audit_log(app, ref) == audit_log(app, other) == [("owner@example.com",
                                                             "order.refund")]


def test_the_customer_sees_when_how_much_and_where_the_refund_went(owner, app, client):
    ref = failed_order(client, app)
    owner.post(f"/admin/orders/{ref}/refund", data={"api": "1", "note": "no stock"})
    order = get_order(app, ref)
    when = order.refunded_at.replace(tzinfo=dt.UTC).astimezone(ZONE).strftime("%H.%M")  # . or :
    page = client.get(f"/o/{ref}/status").text
    assert re.search(rf"On [^<]*{when}[^<]* we refunded Rp[^<]+ to the "
                     rf"{order.payment_method_name} payment you made \(refund "
                     rf"{order.refund_ref}\)", page)
    assert "no stock" not in page                       # the operator's reason stays inside
    in_indonesian = client.get(f"/o/{ref}/status?lang=id").text
    assert "kami mengembalikan Rp" in in_indonesian
    client.get("/?lang=en")

    other = failed_order(client, app, username="second_fail")
    owner.post(f"/admin/orders/{other}/refund", data={"manual": "1", "note": "DANA to 0812-555"})
    page = client.get(f"/o/{other}/status").text
    assert re.search(r"we gave Rp[^<]+ back to you another way: <strong[^>]*>DANA to 0812-555<",
                     page)
    assert "cara lain" in client.get(f"/o/{other}/status?lang=id").text


def test_a_gateway_refund_is_confirmed_first_with_amount_method_and_gateway(owner, app, client):
    ref = failed_order(client, app)
    page = owner.get(f"/admin/orders/{ref}").text
    assert 'name="api"' not in page             # no one-tap refund on the order page
    assert f'href="/admin/orders/{ref}/refund">Refund through sandbox…</a>' in page
    confirm = owner.get(f"/admin/orders/{ref}/refund")
    assert confirm.status_code == 200 and get_order(app, ref).status == "fulfillment_failed"
    order = get_order(app, ref)
    facts = re.sub(r"\s+", " ", confirm.text)
    assert "Amount</dt><dd><b>Rp" in facts and "Through</dt><dd>sandbox" in facts
    assert f"Back to</dt><dd>{order.payment_method_name}" in facts and 'name="note"' in facts
    assert re.search(r'name="api" value="1">Refund Rp[^<]+ through sandbox</button>', confirm.text)
    in_indonesian = owner.get(f"/admin/orders/{ref}/refund?lang=id").text
    assert "Dikembalikan ke" in in_indonesian and "Refund pesanan" in in_indonesian
    owner.get("/admin/?lang=en")
    done = owner.post(f"/admin/orders/{ref}/refund", data={"api": "1", "note": ""})
    assert done.status_code == 303 and get_order(app, ref).status == "refunded"


def test_the_confirmation_step_says_why_a_gateway_refund_does_not_apply(owner, app, client):
    ref = delivered_order(client, app)
    refused = owner.get(f"/admin/orders/{ref}/refund")
    assert refused.status_code == 422 and "only an order whose delivery failed" in refused.text


def test_staff_refund_only_when_the_owner_allows_it(owner, staff, app, client):
    ref = failed_order(client, app)
    page = staff.get(f"/admin/orders/{ref}").text
    assert f"/admin/orders/{ref}/refund" not in page and "Record a manual refund" not in page
    assert staff.get(f"/admin/orders/{ref}/refund").status_code == 403
    for data in ({"api": "1"}, {"manual": "1", "note": "DANA transfer"}):
        refused = staff.post(f"/admin/orders/{ref}/refund", data=data)
        assert refused.status_code == 403
        assert "has not allowed staff to refund orders" in refused.text
    assert get_order(app, ref).status == "fulfillment_failed" and audit_log(app, ref) == []

    assert owner.post("/admin/settings", data={"staff_may_refund": "y"}).status_code == 303
    assert f"/admin/orders/{ref}/refund" in staff.get(f"/admin/orders/{ref}").text
    assert staff.get(f"/admin/orders/{ref}/refund").status_code == 200
    done = staff.post(f"/admin/orders/{ref}/refund", data={"api": "1", "note": "no stock"})
    assert done.status_code == 303 and get_order(app, ref).status == "refunded"
    assert audit_log(app, ref) == [("staff@example.com", "order.refund")]


def test_a_refused_action_says_why_and_changes_nothing(owner, app, client):
    ref = delivered_order(client, app)
    page = owner.get(f"/admin/orders/{ref}").text
    for action in ("retry", "refund", "deliver", "clear-flag"):
        assert f"/admin/orders/{ref}/{action}" not in page     # only forms that apply
    refused = owner.post(f"/admin/orders/{ref}/retry", data={"retry": "Retry"})
    assert refused.status_code == 422
    assert f"Order {ref} is delivered: there is nothing to retry." in refused.text
    refused = owner.post(f"/admin/orders/{ref}/refund", data={"api": "Refund", "note": "x"})
    assert refused.status_code == 422 and "only an order whose delivery failed" in refused.text
    assert get_order(app, ref).status == "delivered" and audit_log(app, ref) == []


def test_clear_a_flag(owner, app, client):
    ref = delivered_order(client, app)
    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == ref)
                           .values(flag="sandbox: the gateway reports a refund"))
        db.session.commit()
    page = owner.get(f"/admin/orders/{ref}").text
    assert "sandbox: the gateway reports a refund" in page and f"/{ref}/clear-flag" in page
    assert owner.post(f"/admin/orders/{ref}/clear-flag", data={"note": ""}).status_code == 422
    done = owner.post(f"/admin/orders/{ref}/clear-flag", data={"note": "a test refund, ignore"})
    assert done.status_code == 303 and get_order(app, ref).flag is None
    assert audit_log(app, ref) == [("owner@example.com", "order.clear_flag")]


def test_staff_work_on_orders_too(staff, app, client):
    ref = failed_order(client, app)
    assert refs_listed(staff.get("/admin/orders")) == [ref]
    assert staff.post(f"/admin/orders/{ref}/deliver", data={"proof": "done"}).status_code == 303
    assert audit_log(app, ref) == [("staff@example.com", "order.deliver")]


def test_filters_answer_htmx_with_the_results_only(owner, three):
    response = owner.get("/admin/orders?q=&status=fulfillment_failed&product=&method=",
                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.headers["HX-Push-Url"] == "/admin/orders?status=fulfillment_failed"
    assert "<html" not in response.text and 'id="order-results"' in response.text
    assert refs_listed(response) == [three[2]]


def test_signed_out_visitors_are_sent_to_sign_in(client, app, three):
    for response in (client.get("/admin/orders"), client.get(f"/admin/orders/{three[0]}"),
                     client.post(f"/admin/orders/{three[2]}/refund", data={"api": "x"})):
        assert response.status_code in (302, 303) and "/admin/login" in response.headers["Location"]
    assert get_order(app, three[2]).status == "fulfillment_failed"
