"""A shop selling Mobile Legends 86 Diamonds through the fake Digiflazz, for the supply tests."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from conftest import buy, make_app, order_ref, package_id, sandbox_pay, set_package, work

from merchant.core.extensions import db
from merchant.core.models import Order, Package
from merchant.supply import offers
from merchant.supply.offers import Offer

ML = {"user_id": "123456789", "zone_id": "1234"}
CUSTOMER_NO = "1234567891234"          # Digiflazz's customer_no: user id then zone
SLUG, NAME = "mobile-legends", "86 Diamonds"
LIST_EVERY = 300                       # Digiflazz: one price list per 5 minutes


def shop_app(tmp_path, fake, **config):
    app = make_app(tmp_path, **fake.settings(), HTTP_TIMEOUT=5, SUPPLIER_RETRY_BASE_SECONDS=0.5,
                   FULFILLMENT_LEASE_SECONDS=0.3, **config)
    set_package(app, SLUG, NAME, supplier="digiflazz", supplier_sku="ML86",
                supplier_cost=20_000)
    return app


def set_offers(app, *entries: tuple[str, str, int | None], rule: str = "") -> None:
    """Give 86 Diamonds these offers (supplier, sku, cost), tried in this order."""
    with app.app_context():
        package = db.session.get(Package, package_id(app, SLUG, NAME))
        offers.replace(package, [Offer(*entry) for entry in entries])
        package.offer_rule = rule
        db.session.commit()


def sync(app, clock) -> None:
    """Time for the next price list and balance call, then one worker pass."""
    clock.advance(LIST_EVERY + 1)
    work(app)


def buy_ml(client, app, key=None):
    return buy(client, app, slug=SLUG, package=NAME, key=key, **ML)


def paid_order(client, app) -> str:
    ref = order_ref(buy_ml(client, app))
    sandbox_pay(client, app, ref)
    return ref


def order_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


def package_state(app) -> tuple[str | None, str | None]:
    with app.app_context():
        package = db.session.get(Package, package_id(app, SLUG, NAME))
        return package.unavailable_reason, package.unavailable_until


def seconds_until_utc(clock, hour: int, minute: int) -> float:
    """Seconds from the clock's now to the next hour:minute UTC."""
    now = clock.now()
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    return (target - now).total_seconds()
