"""Deposits through every real gateway against its fake vendor: the vendor's signed callback
credits the saldo once however often it comes, a forged one changes nothing, and a lost one is
found by asking the gateway when the customer looks at the deposit."""
from __future__ import annotations

import sqlalchemy as sa
from shoppers import assert_books_balance, balance, deposit, get_deposit, new_customer, signed_in

from merchant.core.extensions import db
from merchant.core.models import Deposit
from tests.orders.test_gateway_flows import app, deliver, driver  # noqa: F401  (fixtures)


def open_deposit(app, client, driver) -> str:  # noqa: F811
    response = deposit(client, "50.000", driver.method)
    assert response.status_code == 303, response.text
    with app.app_context():
        return db.session.scalar(sa.select(Deposit.ref).order_by(Deposit.id.desc()))


def test_a_gateway_deposit_is_credited_once_and_a_forged_callback_is_refused(
        app, driver):  # noqa: F811
    customer = new_customer(app)
    client = signed_in(app, customer)
    ref = open_deposit(app, client, driver)
    found = get_deposit(app, ref)
    assert (found.gateway, found.status) == (driver.name, "awaiting_payment")
    assert found.total == found.amount + found.fee and found.fee > 0
    forged = deliver(client, driver, driver.forged(ref))
    assert forged.status_code in (400, 401, 403)
    assert balance(app, customer) == 0
    callback = driver.paid(ref)
    for _ in range(3):
        assert driver.reply_ok(deliver(client, driver, callback))
    assert get_deposit(app, ref).status == "paid"
    assert balance(app, customer) == 50_000
    assert_books_balance(app)


def test_a_lost_deposit_callback_is_found_by_asking_the_gateway(app, driver):  # noqa: F811
    customer = new_customer(app)
    client = signed_in(app, customer)
    ref = open_deposit(app, client, driver)
    driver.mark_paid(ref)                   # paid at the vendor; the callback never comes
    page = client.get(f"/saldo/d/{ref}")
    assert page.status_code == 200
    assert get_deposit(app, ref).status == "paid"
    assert balance(app, customer) == 50_000
    assert_books_balance(app)
