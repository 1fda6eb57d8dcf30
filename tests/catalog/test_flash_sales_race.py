"""Buyers at once over real HTTP for a flash sale with stock 10: exactly 10 orders at the sale
price, every other buyer told "habis" before any payment is opened at the gateway (a fake
Tripay on 127.0.0.1 counts the payments created). 100 buyers on PostgreSQL, 30 on SQLite
(one writer at a time: 100 would only measure the queue). Then an order that expires gives
its unit back, and a late payment keeps the sale price."""
from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from conftest import make_app, package_id
from werkzeug.serving import make_server

from merchant import orders
from merchant.catalog import flash_sales
from merchant.core.extensions import db
from merchant.core.models import FlashSaleItem, Order
from merchant.core.transactions import write_unit
from merchant.orders import reconciliation
from tests.catalog.test_flash_sales import PACKAGE, SLUG, add_sale
from tests.fakes.tripay import FakeTripay

STOCK = 10


@pytest.fixture
def tripay(vendor_server):
    return FakeTripay(vendor_server)


@pytest.fixture
def app(tmp_path, tripay):
    return make_app(tmp_path, GATEWAY="tripay", TRIPAY_API_KEY=tripay.api_key,
                    TRIPAY_PRIVATE_KEY=tripay.private_key,
                    TRIPAY_MERCHANT_CODE=tripay.merchant_code, TRIPAY_API_URL=tripay.base_url,
                    HTTP_TIMEOUT=10,
                    # A server's pool, a little larger: 100 requests share 30 connections.
                    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20,
                                               "pool_timeout": 120})


@pytest.fixture
def shop_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def buyers(app) -> int:
    return 100 if db_name(app) == "postgresql" else 30


def db_name(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def race(app, base: str, count: int) -> tuple[list[requests.Response], float]:
    """Each buyer opens the product page and checks the account, then all press Buy at the
    same moment, in Indonesian. The responses, and the seconds from the press to the last."""
    package = package_id(app, SLUG, PACKAGE)
    barrier = threading.Barrier(count + 1)

    def buyer(number: int) -> requests.Response:
        with requests.Session() as session:
            session.headers["Accept-Language"] = "id"
            page = session.get(f"{base}/p/{SLUG}", timeout=60)
            shown = re.search(r'name="flash" value="([^"]*)"', page.text)[1]
            check = session.post(f"{base}/p/{SLUG}/verify", data={"username": "racer_1"},
                                 headers={"HX-Request": "true"}, timeout=60)
            token = re.search(r'name="verification_token" value="([^"]+)"', check.text)[1]
            form = {"username": "racer_1", "verification_token": token, "package": package,
                    "method": "QRIS", "email": f"buyer{number}@example.com", "flash": shown,
                    "idempotency_key": os.urandom(8).hex()}
            barrier.wait()
            return session.post(f"{base}/p/{SLUG}/order", data=form, allow_redirects=False,
                                timeout=120)

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(buyer, number) for number in range(count)]
        barrier.wait()
        started = time.monotonic()
        responses = [future.result() for future in futures]
    return responses, time.monotonic() - started


def test_buyers_race_for_ten_units_and_exactly_ten_get_them(app, shop_url, tripay):
    sale_id = add_sale(app, price=14_000, stock=STOCK)
    count = buyers(app)
    responses, seconds = race(app, shop_url, count)

    codes = sorted(r.status_code for r in responses)
    assert codes == [303] * STOCK + [422] * (count - STOCK)
    refused = [r for r in responses if r.status_code == 422]
    assert all("Habis" in r.text for r in refused)
    # No payment opened for any of them: only the ten orders reached the gateway.
    assert len(tripay.requests) == STOCK
    with app.app_context():
        placed = db.session.execute(sa.select(Order.subtotal, Order.flash_counted)).all()
        assert sorted(placed) == [(14_000, True)] * STOCK
        assert db.session.scalar(sa.select(FlashSaleItem.sold)
                                 .where(FlashSaleItem.sale_id == sale_id)) == STOCK
    print(f"\n{db_name(app)}: {count} buyers, stock {STOCK}: {codes.count(303)} orders, "
          f"{codes.count(422)} told habis, {len(tripay.requests)} payments opened, "
          f"{seconds:.2f} s from the press to the last answer")

    # An order that expires unpaid gives its unit back: the next buyer gets it.
    with app.app_context():
        first = db.session.scalar(sa.select(Order).order_by(Order.id))
        order_id = first.id
        first.payment_expires_at = first.created_at
        db.session.commit()
        reconciliation.expire(db.session.get(Order, order_id))
        assert db.session.get(Order, order_id).status == "expired"
        assert db.session.get(FlashSaleItem, first.flash_item_id).sold == STOCK - 1
    again, _ = race(app, shop_url, 3)
    assert sorted(r.status_code for r in again) == [303, 422, 422]

    # Its late payment keeps the sale price, and its unit is counted again.
    with app.app_context():
        assert orders.transition(order_id, orders.PAID, source="webhook", detail="late")
        order = db.session.get(Order, order_id)
        assert (order.status, order.subtotal, order.flash_counted) == ("paid", 14_000, True)
        assert db.session.get(FlashSaleItem, order.flash_item_id).sold == STOCK + 1


def test_the_update_alone_never_sells_past_the_stock(app):
    """Every thread read the item while it had stock (the checkout's early check passes for
    all of them); the conditional UPDATE alone gives out the three units."""
    sale_id = add_sale(app, stock=3)
    threads, barrier, won, lost = 12, threading.Barrier(12), [], []

    def taker():
        with app.app_context():
            row = db.session.scalar(sa.select(FlashSaleItem)
                                    .where(FlashSaleItem.sale_id == sale_id))
            assert row.sold < row.stock
            barrier.wait()
            try:
                with write_unit():
                    flash_sales.take(row, [])
                won.append(1)
            except flash_sales.FlashRefused as exc:
                lost.append(str(exc))
            db.session.remove()

    workers = [threading.Thread(target=taker) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert (len(won), len(lost)) == (3, 9)
    assert all(message.startswith("Sold out") for message in lost)
    with app.app_context():
        assert db.session.scalar(sa.select(FlashSaleItem.sold)
                                 .where(FlashSaleItem.sale_id == sale_id)) == 3
