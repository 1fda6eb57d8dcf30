"""The order state machine: every allowed and every refused transition."""
from __future__ import annotations

import datetime as dt
import itertools
import secrets

import pytest
import sqlalchemy as sa

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, Package

STATUSES = sorted(orders.LABELS)


def make_order(status: str) -> int:
    package = db.session.scalars(sa.select(Package)).first()
    order = Order(
        ref="T" + secrets.token_hex(4).upper(), view_token="t",
        idempotency_key=secrets.token_hex(8),
        status=status, product_id=package.product_id, package_id=package.id,
        product_name="P", package_name=package.name, quantity=1, account={"username": "x"},
        payment_method="QRIS", payment_method_name="QRIS", gateway="sandbox", subtotal=1, fee=0,
        total=1, currency="IDR", payment_expires_at=dt.datetime(2030, 1, 1), supplier="sandbox",
    )
    db.session.add(order)
    db.session.commit()
    return order.id


@pytest.mark.parametrize("start, to", list(itertools.product(STATUSES, orders.ALLOWED_FROM)))
def test_every_transition_is_allowed_or_refused_as_designed(app, start, to):
    with app.app_context():
        order_id = make_order(start)
        won = orders.transition(order_id, to, source="admin", detail="test")
        status = db.session.scalar(sa.select(Order.status).where(Order.id == order_id))
        events = db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id))
        events = [(e.from_status, e.to_status) for e in events]
        if start in orders.ALLOWED_FROM[to]:
            assert won and status == to and events == [(start, to)]
        else:
            assert not won and status == start and events == []


def test_the_designed_paths():
    allowed = {(f, t) for t, froms in orders.ALLOWED_FROM.items() for f in froms}
    assert allowed == {
        ("awaiting_payment", "paid"), ("expired", "paid"), ("payment_failed", "paid"),
        ("fulfillment_failed", "paid"),
        ("paid", "fulfilling"), ("fulfilling", "delivered"), ("fulfillment_failed", "delivered"),
        ("fulfilling", "fulfillment_failed"), ("fulfillment_failed", "refunded"),
        ("awaiting_payment", "expired"), ("awaiting_payment", "payment_failed"),
    }
    # Nothing ever leaves delivered or refunded.
    assert not any(f in ("delivered", "refunded") for f, _ in allowed)


def test_a_second_identical_transition_loses(app):
    with app.app_context():
        order_id = make_order("paid")
        assert orders.transition(order_id, "fulfilling", source="worker")
        assert not orders.transition(order_id, "fulfilling", source="worker")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                                 .where(OrderEvent.order_id == order_id)) == 1
