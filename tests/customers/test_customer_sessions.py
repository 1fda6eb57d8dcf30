"""A customer's signed-in browsers: the cookie carries a server-side session's token."""
from __future__ import annotations

import datetime as dt

from merchant.core.extensions import db
from merchant.core.models import Customer
from merchant.customers import sessions

DAY = dt.timedelta(days=30)


def _customer() -> Customer:
    customer = Customer(email="dewi@example.com")
    db.session.add(customer)
    db.session.commit()
    return customer


def test_a_session_signs_its_customer_in_until_it_ends(app):
    with app.app_context():
        customer = _customer()
        token = sessions.start(customer, DAY)
        assert sessions.load(token).email == "dewi@example.com"
        sessions.end(token)
        assert sessions.load(token) is None
        assert sessions.load("made-up") is None


def test_sign_out_everywhere_ends_every_browser(app):
    with app.app_context():
        customer = _customer()
        phone, laptop = sessions.start(customer, DAY), sessions.start(customer, DAY)
        sessions.end_everywhere(customer)
        assert sessions.load(phone) is None and sessions.load(laptop) is None
        # A new sign-in after it works.
        assert sessions.load(sessions.start(db.session.get(Customer, customer.id), DAY))


def test_a_switched_off_account_signs_nobody_in(app):
    with app.app_context():
        customer = _customer()
        token = sessions.start(customer, DAY)
        customer.active = False
        db.session.commit()
        assert sessions.load(token) is None
