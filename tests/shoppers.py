"""Signed-in customers for the saldo tests: an account, a browser signed in to it, a deposit
paid on the sandbox gateway, and the ledger's own checks."""
from __future__ import annotations

import datetime as dt
import os
import re

import sqlalchemy as sa
from conftest import package_id, verify

from merchant.core.extensions import db
from merchant.core.models import Customer, Deposit, LedgerEntry, LedgerTransaction, SaldoBalance
from merchant.customers import ledger, sessions
from merchant.web.customer_session import SESSION_KEY


def new_customer(app, email="dewi@example.com", name="Dewi") -> int:
    with app.app_context():
        customer = Customer(email=email, name=name)
        db.session.add(customer)
        db.session.commit()
        return customer.id


def signed_in(app, customer_id: int, client=None):
    """A test client whose session signs `customer_id` in (a server-side session, as the
    sign-in pages make it)."""
    client = client or app.test_client()
    with app.app_context():
        token = sessions.start(db.session.get(Customer, customer_id), dt.timedelta(days=1))
    with client.session_transaction() as session:
        session[SESSION_KEY] = token
    return client


def deposit(client, amount="50.000", method="QRIS", key=None):
    """Press Top up on the saldo page: the response (303 to the gateway's page)."""
    return client.post("/saldo/deposit", data={"amount": amount, "method": method,
                                               "idempotency_key": key or os.urandom(8).hex()})


def paid_deposit(client, amount="50.000", method="QRIS") -> str:
    """A deposit opened and paid on the sandbox gateway; its ref."""
    response = deposit(client, amount, method)
    assert response.status_code == 303, response.text
    page = response.headers["Location"]
    assert page.startswith("/sandbox/pay/"), page
    done = client.post(page, data={"action": "pay"})
    assert done.status_code == 303
    return re.search(r"/saldo/d/(D[A-Z0-9]+)", done.headers["Location"]).group(1)


def get_deposit(app, ref: str) -> Deposit:
    with app.app_context():
        found = db.session.scalar(sa.select(Deposit).where(Deposit.ref == ref))
        db.session.expunge(found)
        return found


def buy_with_saldo(client, app, slug="tiktok-coins", package="70 Coins", key=None, **account):
    """Verify the account and press Buy with Saldo chosen: the response."""
    account = account or {"username": "demo_user"}
    token = verify(client, slug, **account)
    form = {**account, "verification_token": token, "package": package_id(app, slug, package),
            "method": "SALDO", "email": "buyer@example.com",
            "idempotency_key": key or os.urandom(8).hex()}
    return client.post(f"/p/{slug}/order", data=form)


def balance(app, customer_id: int) -> int:
    with app.app_context():
        return ledger.balance(customer_id, "IDR").amount


def assert_books_balance(app) -> None:
    """The ledger's invariants: every transaction sums to zero, so does the whole ledger, and
    every cached balance equals the sum of its customer's rows (and is never negative)."""
    with app.app_context():
        unbalanced = db.session.scalars(
            sa.select(LedgerTransaction.key)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .group_by(LedgerTransaction.key).having(sa.func.sum(LedgerEntry.amount) != 0)).all()
        assert unbalanced == []
        assert ledger.ledger_sum() == 0
        cached = {row.customer_id: row.balance for row in db.session.scalars(
            sa.select(SaldoBalance))}
        from_rows = dict(db.session.execute(
            sa.select(LedgerEntry.customer_id, sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.account == ledger.CUSTOMER)
            .group_by(LedgerEntry.customer_id)).all())
        assert cached == {k: int(v) for k, v in from_rows.items()}
        assert all(value >= 0 for value in cached.values())
