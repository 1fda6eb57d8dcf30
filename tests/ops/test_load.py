"""Load, in the production setup: 2 gunicorn processes and 3 `flask worker` processes on the
test's database. Buyers place orders through the real pages (CSRF on), the sandbox gateway's
signed callbacks arrive three times each in random order, and 50 buyers poll their order's
status meanwhile. Every order must be delivered exactly once, no request may get a 5xx, and the
money must reconcile. PostgreSQL takes 200 orders; SQLite (one writer at a time) 60.
"""
from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import processes
import pytest
import requests
import sqlalchemy as sa
from conftest import TEST_DATABASE_URL, make_app, package_id

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, WebhookEvent
from merchant.vendors.payments.sandbox import SandboxGateway

pytestmark = [pytest.mark.load, pytest.mark.process]

ORDERS = 200 if TEST_DATABASE_URL else 60
POLLERS = 50
SETTINGS = {
    "WTF_CSRF_ENABLED": "true",
    # Every simulated customer comes from 127.0.0.1: per-address limits would refuse them.
    "RATELIMIT_ENABLED": "false",
    "WORKER_POLL_SECONDS": 1,
}


class Traffic:
    """Status codes of every request the test sends, from any thread."""

    def __init__(self, base: str):
        self.base, self.codes, self.lock = base, Counter(), threading.Lock()

    def send(self, session: requests.Session, method: str, path: str, **kwargs):
        response = session.request(method, self.base + path, allow_redirects=False, timeout=60,
                                   **kwargs)
        with self.lock:
            self.codes[response.status_code] += 1
        assert response.status_code < 500, (path, response.status_code, response.text[:300])
        return response

    @property
    def total(self) -> int:
        return sum(self.codes.values())

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.codes.items() if code >= 500)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def place(traffic: Traffic, number: int, package: int):
    """One buyer: the product page, the account check, Buy. Returns (session, ref)."""
    buyer = requests.Session()
    page = traffic.send(buyer, "GET", "/p/tiktok-coins").text
    assert hidden(page, "idempotency_key") == ""      # the shop's script makes it on Buy
    account = {"username": f"loadbuyer{number:04d}"}
    checked = traffic.send(buyer, "POST", "/p/tiktok-coins/verify",
                           data=account, headers={"HX-Request": "true"})
    form = {**account, "idempotency_key": os.urandom(16).hex(), "package": package,
            "method": "QRIS", "email": f"load{number}@example.com",
            "verification_token": hidden(checked.text, "verification_token")}
    placed = traffic.send(buyer, "POST", "/p/tiktok-coins/order", data=form)
    assert placed.status_code == 303, placed.text[:500]
    # The buyer's session remembers the order: its address carries no view token.
    ref = re.search(r"/o/([A-Z0-9]+)$", placed.headers["Location"]).group(1)
    return buyer, ref


def poll(traffic: Traffic, buyer, ref: str, done: threading.Event) -> None:
    """The order page's status poll, every 2 s as htmx does, until the order is final."""
    since = ""
    while not done.is_set():
        answer = traffic.send(buyer, "GET", f"/o/{ref}/status",
                              params={"since": since})
        if answer.status_code == 286:
            return
        if answer.status_code == 200 and answer.headers.get("HX-Reswap") != "none":
            since = re.search(r'class="box status status-(\w+)"', answer.text).group(1)
        done.wait(2)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, SANDBOX_WEBHOOK_SECRET="load-test-webhook-secret")


def test_orders_paid_by_repeated_callbacks_while_buyers_poll_are_delivered_once(app, tmp_path):
    package = package_id(app, "tiktok-coins", "70 Coins")
    port = processes.free_port()
    web = processes.gunicorn(app, tmp_path / "gunicorn.log", port, workers=2, **SETTINGS)
    workers = [processes.worker(app, tmp_path / f"worker-{i}.log", **SETTINGS) for i in range(3)]
    traffic = Traffic(f"http://127.0.0.1:{port}")
    everyone_final = threading.Event()
    try:
        processes.eventually(lambda: _up(traffic.base), 60, "gunicorn answers")
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            placed = list(pool.map(lambda n: place(traffic, n, package), range(ORDERS)))
        refs = [ref for _, ref in placed]
        placing = time.monotonic() - started
        gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "load-test-webhook-secret"})
        callbacks = []
        for order in _orders(app, refs):
            # The same delivery twice, and a second delivery of the same payment.
            first = gateway.callback(order.ref, order.gateway_ref, "paid", order.total,
                                     order.currency)
            again = gateway.callback(order.ref, order.gateway_ref, "paid", order.total,
                                     order.currency)
            callbacks += [first, first, again]
        random.Random(9).shuffle(callbacks)

        pollers = threading.Thread(target=_poll_all, args=(traffic, placed[:POLLERS],
                                                           everyone_final))
        pollers.start()
        gateway_session = requests.Session()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda cb: traffic.send(gateway_session, "POST", "/webhooks/sandbox",
                                        data=cb[0], headers=cb[1]).status_code, callbacks))
        calling = time.monotonic() - started - placing
        processes.eventually(lambda: _count(app, Order.status == "delivered") == ORDERS, 240,
                             f"all {ORDERS} orders delivered")
        wall = time.monotonic() - started
        everyone_final.set()
        pollers.join(60)
    finally:
        everyone_final.set()
        for process in (web, *workers):
            process.stop()

    assert answers == [200] * len(callbacks)
    assert traffic.server_errors == 0
    lost = ORDERS - _count(app, Order.status == "delivered")
    duplicates = _duplicate_deliveries(app)
    figures = (f"load ({'postgresql' if TEST_DATABASE_URL else 'sqlite'}): {ORDERS} "
               f"orders, {len(callbacks)} callbacks, {POLLERS} pollers; {traffic.total} "
               f"requests in {wall:.1f} s ({traffic.total / wall:.0f} req/s; placing "
               f"{placing:.1f} s, callbacks {calling:.1f} s, last delivery "
               f"{wall - placing - calling:.1f} s later); 5xx "
               f"{traffic.server_errors}, duplicates {duplicates}, lost {lost}; "
               f"codes {dict(sorted(traffic.codes.items()))}")
    print(figures)
    (tmp_path.parent / "load-figures.txt").write_text(figures + "\n")
    assert (lost, duplicates) == (0, 0)
    for process in (web, *workers):
        assert "Traceback" not in process.output(), process.output()[-3000:]

    with app.app_context():
        # Each order: placed, paid (by a webhook), claimed, delivered; nothing more.
        moves = Counter()
        for source, before, after in db.session.execute(
                sa.select(OrderEvent.source, OrderEvent.from_status, OrderEvent.to_status)
                .where(OrderEvent.to_status.is_not(None))):
            moves[(before, after, source if after == "paid" else "")] += 1
        assert moves == {(None, "awaiting_payment", ""): ORDERS,
                         ("awaiting_payment", "paid", "webhook"): ORDERS,
                         ("paid", "fulfilling", ""): ORDERS,
                         ("fulfilling", "delivered", ""): ORDERS}
        delivered_total = db.session.scalar(
            sa.select(sa.func.sum(Order.total)).where(Order.status == "delivered"))
        accepted_total = db.session.scalar(
            sa.select(sa.func.sum(Order.total)).join(WebhookEvent, WebhookEvent.order_id ==
                                                     Order.id)
            .where(WebhookEvent.outcome == "paid"))
        ignored = db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent).where(
            WebhookEvent.outcome.like("paid ignored%")))
        assert delivered_total == accepted_total == sum(o.total for o in _orders(app, refs))
        assert ignored == ORDERS           # each order's second, distinct delivery changed nothing


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/", timeout=5).status_code == 200
    except requests.RequestException:   # not listening yet, or still loading the app
        return False


def _poll_all(traffic, buyers, done) -> None:
    threads = [threading.Thread(target=poll, args=(traffic, buyer, ref, done))
               for buyer, ref in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _orders(app, refs) -> list[Order]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Order).where(Order.ref.in_(refs))).all()
        db.session.expunge_all()
    assert len(rows) == len(refs)
    return rows


def _count(app, condition) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                                     .where(condition))
        finally:
            db.session.remove()


def _duplicate_deliveries(app) -> int:
    """Orders claimed or delivered more than once (each supplier call follows one claim)."""
    with app.app_context():
        per_order = db.session.execute(
            sa.select(OrderEvent.order_id, sa.func.count())
            .where(OrderEvent.to_status.in_(["fulfilling", "delivered"]))
            .group_by(OrderEvent.order_id)).all()
    return sum(1 for _, n in per_order if n != 2)
