"""Saldo under concurrency, over real HTTP on the test's database (SQLite, or PostgreSQL with
MERCHANT_TEST_DATABASE_URL): many purchases from one balance, a deposit's callback replayed
at once, a refund to saldo racing a hand delivery. PostgreSQL gets the issue's numbers; SQLite,
whose writers take turns on one file, smaller ones."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from conftest import buy, get_order, order_ref, package_id, sandbox_pay, verify, work
from shoppers import (
    assert_books_balance,
    balance,
    deposit,
    get_deposit,
    new_customer,
    signed_in,
)
from werkzeug.serving import make_server

from merchant.core import money
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import LedgerTransaction, Order, SaldoBalance
from merchant.customers import adjustments
from merchant.orders import operator_actions
from merchant.vendors.payments.sandbox import SandboxGateway

PRICE = 15_000        # TikTok 70 Coins


def on_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


class Served:
    """The app on a real port (threaded, as gunicorn's threads would be)."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture
def served(app):
    server = Served(app)
    yield server
    server.close()


def _fund(app, customer: int, amount: int) -> None:
    """Give the customer `amount` of saldo through the owner's adjustment (one ledger row)."""
    with app.app_context():
        adjustments.adjust(customer, money.Money(amount, "IDR"), True, "race test funds",
                           os.urandom(8).hex(), Actor("test"))


def test_parallel_purchases_never_take_the_balance_below_zero(app, served):
    parallel, covered = (30, 10) if on_postgresql(app) else (12, 4)
    customer = new_customer(app)
    client = signed_in(app, customer)
    _fund(app, customer, covered * PRICE)
    token = verify(client, "tiktok-coins", username="demo_user")
    cookie = client.get_cookie("session").value
    form = {"username": "demo_user", "verification_token": token, "method": "SALDO",
            "package": package_id(app, "tiktok-coins", "70 Coins"),
            "email": "buyer@example.com"}

    # Every few milliseconds during the race, the balance as another connection reads it.
    seen, racing = [], threading.Event()

    def watch():
        with app.app_context():
            while racing.is_set():
                seen.append(db.session.scalar(sa.select(SaldoBalance.balance)))
                db.session.rollback()
                time.sleep(0.002)

    barrier = threading.Barrier(parallel)

    def press(i):
        barrier.wait()
        return requests.post(f"{served.url}/p/tiktok-coins/order",
                             data={**form, "idempotency_key": f"race-buy-{i:04d}"},
                             cookies={"session": cookie}, allow_redirects=False, timeout=60)

    racing.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(parallel) as pool:
            answers = list(pool.map(press, range(parallel)))
    finally:
        racing.clear()
        watcher.join(10)
    seconds = time.monotonic() - started

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [303] * covered + [422] * (parallel - covered)
    refused = [a.text.replace("\xa0", " ") for a in answers if a.status_code == 422]
    assert all("does not cover Rp 15.000" in text for text in refused)
    with app.app_context():
        statuses = db.session.scalars(sa.select(Order.status)).all()
        purchases = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)
                                      .where(LedgerTransaction.kind == "purchase"))
    assert statuses == ["paid"] * covered and purchases == covered
    assert balance(app, customer) == 0
    assert seen and min(seen) >= 0
    assert_books_balance(app)
    print(f"\n{parallel} parallel saldo purchases, balance for {covered}: "
          f"{codes.count(303)} orders, {codes.count(422)} refused, final balance "
          f"{balance(app, customer)}, lowest seen {min(seen)} ({len(seen)} reads), "
          f"{seconds:.2f} s")


def test_a_deposit_callback_replayed_at_once_credits_once(app, served):
    replays, distinct = (20, 10) if on_postgresql(app) else (20, 5)
    customer = new_customer(app)
    client = signed_in(app, customer)
    assert deposit(client, "50.000", "QRIS").status_code == 303
    with app.app_context():
        ref = db.session.scalar(sa.text("SELECT ref FROM deposits"))
    found = get_deposit(app, ref)
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
    same = gateway.callback(ref, found.gateway_ref, "paid", found.total, "IDR")
    forged = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "forger"}).callback(
        ref, found.gateway_ref, "paid", found.total, "IDR")
    callbacks = [same] * replays + [
        gateway.callback(ref, found.gateway_ref, "paid", found.total, "IDR")
        for _ in range(distinct)] + [forged] * 5
    barrier = threading.Barrier(len(callbacks))

    def send(callback):
        body, headers = callback
        barrier.wait()
        return requests.post(f"{served.url}/webhooks/sandbox", data=body, headers=headers,
                             timeout=60).status_code

    with ThreadPoolExecutor(len(callbacks)) as pool:
        codes = list(pool.map(send, callbacks))
    assert codes == [200] * (replays + distinct) + [401] * 5
    assert get_deposit(app, ref).status == "paid"
    assert balance(app, customer) == 50_000
    with app.app_context():
        credits = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction))
    assert credits == 1
    assert_books_balance(app)
    print(f"\n{replays} replays + {distinct} re-deliveries + 5 forged callbacks of one "
          f"deposit at once: {credits} credit, balance {balance(app, customer)}")


def test_a_refund_to_saldo_racing_a_hand_delivery_does_one_of_them(app):
    rounds = 6 if on_postgresql(app) else 3
    customer = new_customer(app)
    client = signed_in(app, customer)
    refs = []
    for i in range(rounds):
        ref = order_ref(buy(client, app, username=f"race{i}_fail"))
        sandbox_pay(client, app, ref)
        refs.append(ref)
    work(app, passes=2)
    assert {get_order(app, ref).status for ref in refs} == {"fulfillment_failed"}
    actor = Actor("owner@example.com", role="owner")
    outcomes = {}

    def act(ref, what, barrier):
        with app.app_context():
            barrier.wait()
            try:
                if what == "refund":
                    operator_actions.refund_to_saldo(ref, actor)
                else:
                    operator_actions.deliver_by_hand(ref, "SN-HAND-1", actor)
                outcomes[(ref, what)] = "done"
            except operator_actions.ActionRefused:
                outcomes[(ref, what)] = "refused"

    for ref in refs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=act, args=(ref, what, barrier))
                   for what in ("refund", "deliver")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    refunded = 0
    for ref in refs:
        done = [what for (r, what), result in outcomes.items() if r == ref and result == "done"]
        assert len(done) == 1, outcomes
        order = get_order(app, ref)
        assert order.status == {"refund": "refunded", "deliver": "delivered"}[done[0]]
        with app.app_context():
            rows = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)
                                     .where(LedgerTransaction.order_id == order.id))
        assert rows == (1 if done[0] == "refund" else 0)
        refunded += done[0] == "refund"
    assert balance(app, customer) == refunded * get_order(app, refs[0]).total
    assert_books_balance(app)
    print(f"\n{rounds} refunds to saldo racing hand deliveries: {refunded} refunded, "
          f"{rounds - refunded} delivered, none both")

