"""The deposit gate under a crowd: buyers racing for a package whose supplier deposit covers
ten orders open at most ten payments, and every one of those is delivered. PostgreSQL takes
50 buyers; SQLite (one writer at a time) 12. Also what the supply sync costs a supplier."""
from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from conftest import get_order, package_id, sandbox_pay, work
from supply_shop import ML, NAME, SLUG, shop_app
from werkzeug.serving import make_server

from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.supply import sync
from tests.fakes.digiflazz import FakeDigiflazz

COST = 20_000
COVERED = 10


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0, deposit=COST * COVERED)
    vendor_server.check_handler_errors()


@pytest.fixture
def app(tmp_path, fake):
    return shop_app(tmp_path, fake)


@pytest.fixture
def shop_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def race(app, base: str, buyers: int) -> list[requests.Response]:
    """Each buyer checks the account, then all press Buy at the same moment."""
    package = package_id(app, SLUG, NAME)
    barrier = threading.Barrier(buyers)

    def buyer(number: int) -> requests.Response:
        with requests.Session() as session:
            check = session.post(f"{base}/p/{SLUG}/verify", data=ML,
                                 headers={"HX-Request": "true"}, timeout=60)
            token = re.search(r'name="verification_token" value="([^"]+)"', check.text)[1]
            form = {**ML, "verification_token": token, "package": package, "method": "QRIS",
                    "email": f"buyer{number}@example.com",
                    "idempotency_key": os.urandom(8).hex()}
            barrier.wait()
            return session.post(f"{base}/p/{SLUG}/order", data=form, allow_redirects=False,
                                timeout=120)

    with ThreadPoolExecutor(buyers) as pool:
        return list(pool.map(buyer, range(buyers)))


def test_buyers_racing_for_a_deposit_that_covers_ten_open_at_most_ten_payments(
        app, shop_url, client, fake, capsys):
    work(app)                               # the worker reads the deposit: ten orders' worth
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    buyers = 50 if postgres else 12
    started = time.monotonic()
    responses = race(app, shop_url, buyers)
    took = time.monotonic() - started

    codes = [r.status_code for r in responses]
    assert sorted(set(codes)) == [303, 422]
    assert codes.count(303) == COVERED
    assert all("cannot be bought right now" in r.text for r in responses if r.status_code == 422)
    with app.app_context():
        refs = list(db.session.scalars(sa.select(Order.ref).where(
            Order.gateway_ref.is_not(None))))
    assert len(refs) == COVERED                          # payments opened

    for ref in refs:                                     # every buyer pays ...
        sandbox_pay(client, app, ref)
    work(app, passes=3)
    statuses = [get_order(app, ref).status for ref in refs]
    assert statuses == ["delivered"] * COVERED           # ... and gets the top-up
    assert fake.deposit == 0
    with capsys.disabled():
        print(f"\n[deposit gate] {buyers} buyers on {'PostgreSQL' if postgres else 'SQLite'}: "
              f"{codes.count(303)} payments opened, {codes.count(422)} refused, "
              f"{statuses.count('delivered')} delivered, {took:.1f} s")


def test_the_supply_sync_asks_a_supplier_twelve_times_an_hour_for_each_list(app, fake, clock,
                                                                           capsys):
    """A worker pass every 10 s for an hour: the price list and the balance are asked for on
    Digiflazz's schedule, not per pass (and never per customer)."""
    with app.app_context():
        for _ in range(360):
            sync.run_due()
            clock.advance(10)
    assert fake.price_list_calls == 12
    assert fake.balance_calls == 12
    with capsys.disabled():
        print(f"\n[supply sync] per supplier per hour: {fake.price_list_calls} price-list "
              f"calls, {fake.balance_calls} balance calls")
