"""Resellers for the H2H panel tests: an account with saldo, keys made through the core, API
orders placed through merchant/h2h/orders.place, and the worker run until they settle."""
from __future__ import annotations

import sqlalchemy as sa
from conftest import package_id

from merchant.core import money
from merchant.core.extensions import db
from merchant.core.models import ApiCallback, ApiKey, ApiOrder, Customer, PriceLevel
from merchant.core.transactions import write_unit
from merchant.customers import ledger
from merchant.h2h import keys, orders

ACCOUNT = {"username": "demo_user"}     # a TikTok account the sandbox verifier finds


def reseller(app, email="reseller@example.com", level: str | None = None,
             self_service: bool = False) -> int:
    """A customer (at a new level `level`, which may or may not allow own keys); their id."""
    with app.app_context():
        customer = Customer(email=email, name="Reseller")
        if level:
            customer.level = PriceLevel(name=level, kind="discount", percent_bp=0,
                                        api_self_service=self_service)
        db.session.add(customer)
        db.session.commit()
        return customer.id


def give_saldo(app, customer_id: int, amount: int, key: str = "gift") -> None:
    with app.app_context(), write_unit():
        ledger.credit(customer_id, money.Money(amount, "IDR"), ledger.ADJUSTMENT,
                      f"test:{customer_id}:{key}", source=ledger.ADJUSTMENTS)


def make_key(app, customer_id: int, **options) -> tuple[str, str]:
    """A key made through the core (as the panel makes it): (key_id, secret)."""
    with app.app_context():
        key, secret = keys.create(db.session.get(Customer, customer_id), **options)
        return key.key_id, secret


def get_key(app, key_id: str) -> ApiKey:
    with app.app_context():
        key = keys.by_key_id(key_id)
        db.session.expunge(key)
        return key


def sku(app, slug="tiktok-coins", package="70 Coins") -> str:
    return f"{slug}-{package_id(app, slug, package)}"


def place(app, key_id: str, ref_id: str, callback_url: str | None = None,
          package: str = "70 Coins", account: dict | None = None) -> int:
    """An API order for TikTok coins (70 unless told) under `ref_id`; its id."""
    with app.app_context():
        api_order, again = orders.place(keys.by_key_id(key_id), ref_id,
                                        sku(app, package=package), account or ACCOUNT,
                                        callback_url=callback_url)
        assert not again
        return api_order.id


def callback_of(app, ref_id: str) -> ApiCallback:
    with app.app_context():
        callback = db.session.scalar(
            sa.select(ApiCallback).join(ApiOrder, ApiOrder.id == ApiCallback.api_order_id)
            .where(ApiOrder.ref_id == ref_id))
        db.session.expunge(callback)
        return callback
