"""Twenty buyers at once over real HTTP: the code's last use and a contact's one use each go
to exactly one order (SQLite file or PostgreSQL, whichever the suite runs on)."""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from conftest import package_id
from werkzeug.serving import make_server

from merchant.core.extensions import db
from merchant.core.models import Order
from tests.catalog.test_promos import add_promo, contact_uses, set_promo, uses

BUYERS = 20
SLUG = "tiktok-coins"


@pytest.fixture
def shop_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def race(app, base: str, emails: list[str]) -> list[requests.Response]:
    """Each buyer checks the account, then all press Buy with the code at the same moment."""
    package = package_id(app, SLUG, "70 Coins")
    barrier = threading.Barrier(len(emails))

    def buyer(email: str) -> requests.Response:
        with requests.Session() as session:
            check = session.post(f"{base}/p/{SLUG}/verify", data={"username": "racer_1"},
                                 headers={"HX-Request": "true"}, timeout=30)
            token = re.search(r'name="verification_token" value="([^"]+)"', check.text)[1]
            form = {"username": "racer_1", "verification_token": token, "package": package,
                    "method": "QRIS", "email": email, "promo": "lastone",
                    "idempotency_key": os.urandom(8).hex()}
            barrier.wait()
            return session.post(f"{base}/p/{SLUG}/order", data=form, allow_redirects=False,
                                timeout=60)

    with ThreadPoolExecutor(len(emails)) as pool:
        return list(pool.map(buyer, emails))


def discounted_orders(app) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(Order.promo_code, Order.discount, Order.total))]


def test_twenty_buyers_for_the_last_use_give_one_winner(app, shop_url):
    promo_id = add_promo(app, "LASTONE", max_uses=10)
    set_promo(app, promo_id, uses=9)
    responses = race(app, shop_url, [f"buyer{i}@example.com" for i in range(BUYERS)])

    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [422] * (BUYERS - 1)
    refused = [r for r in responses if r.status_code == 422]
    assert all("This code has been used up." in r.text for r in refused)
    assert discounted_orders(app) == [("LASTONE", 1_500, 13_595)]
    assert uses(app, promo_id) == 10


def test_twenty_tabs_of_one_customer_use_a_once_per_customer_code_once(app, shop_url):
    promo_id = add_promo(app, "LASTONE", max_per_contact=1)
    responses = race(app, shop_url, ["same@example.com"] * BUYERS)

    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [422] * (BUYERS - 1)
    refused = [r for r in responses if r.status_code == 422]
    assert all("You have already used this code." in r.text for r in refused)
    assert discounted_orders(app) == [("LASTONE", 1_500, 13_595)]
    assert uses(app, promo_id) == 1
    assert contact_uses(app, promo_id) == {"same@example.com": 1}
