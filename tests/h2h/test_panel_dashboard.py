"""The dashboard's API line: live orders resellers placed through the API and delivered in the
period, as a count and revenue and as a share of every delivered order; sandbox orders and
undelivered ones are not sales."""
from __future__ import annotations

import re

from conftest import delivered_order, failed_order, work
from reseller_accounts import give_saldo, make_key, place, reseller

from merchant.core.extensions import db
from merchant.core.models import ApiOrder, Order
from merchant.ops import api_share, sales


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return re.sub(r"\s+", " ", page[start:page.index("</div>", start)].replace("\xa0", " "))


def test_the_dashboard_shows_the_apis_share_of_delivered_orders(app, owner, client):
    empty = owner.get("/admin/dashboard?period=today").text
    assert 'id="api-share"' in empty and "Nothing delivered in this period yet" in empty

    customer = reseller(app)
    give_saldo(app, customer, 100_000)
    live, _ = make_key(app, customer)
    sandbox, _ = make_key(app, customer, sandbox=True)
    place(app, live, "api-1")                                   # Rp 15.000
    place(app, live, "api-2", package="30 Coins")               # Rp 6.500
    place(app, live, "api-3", account={"username": "reseller_fail"})    # fails: refunded to saldo
    place(app, sandbox, "play-1")                               # play saldo: not a sale
    work(app, 2)
    delivered_order(client, app)                                # Rp 15.000 each, storefront
    delivered_order(client, app)
    failed_order(client, app)
    with app.app_context():
        statuses = {api.ref_id: api.order.status if api.order else api.status
                    for api in db.session.scalars(db.select(ApiOrder))}
        assert statuses == {"api-1": "delivered", "api-2": "delivered",
                            "api-3": "refunded", "play-1": "success"}
        assert db.session.scalar(db.select(db.func.count()).select_from(Order).where(
            Order.status == "delivered")) == 4
        share, = api_share.of_period(sales.period("today"))
        assert (share.currency, share.orders, share.revenue, share.api_orders,
                share.api_revenue) == ("IDR", 4, 51_500, 2, 21_500)
        assert round(share.orders_percent, 1) == 50.0
        assert round(share.revenue_percent, 1) == 41.7

    page = owner.get("/admin/dashboard?period=today").text
    orders = section(page, "figure-api-orders-IDR")
    assert "<b>2</b>" in orders and "50,0 % of 4 delivered orders" in orders
    revenue = section(page, "figure-api-revenue-IDR")
    assert "<b>Rp 21.500</b>" in revenue and "41,7 % of Rp 51.500" in revenue
    # The other periods count the same orders (all delivered today).
    assert "<b>Rp 21.500</b>" in section(owner.get("/admin/dashboard?period=30d").text,
                                           "figure-api-revenue-IDR")


def test_staff_do_not_see_the_dashboard(staff):
    assert staff.get("/admin/dashboard").status_code == 403
