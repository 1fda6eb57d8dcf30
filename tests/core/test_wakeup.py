"""A commit that gives the worker work wakes it at once, in this process or another one."""
from __future__ import annotations

import os
import time

import processes
import pytest
import sqlalchemy as sa
from conftest import buy, get_order, make_app, order_ref, sandbox_pay

from merchant import orders
from merchant.core import wakeup
from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.core.transactions import write_unit


def order_id(app, ref: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Order.id).where(Order.ref == ref))


def test_a_paid_commit_wakes_a_waiting_worker_and_a_rolled_back_one_does_not(client, app):
    ref = order_ref(buy(client, app))
    with app.app_context():
        waiter = wakeup.waiter()
        try:
            with pytest.raises(RuntimeError), write_unit():
                orders.move(order_id(app, ref), orders.PAID, "webhook", "test")
                raise RuntimeError("the callback's unit failed after the transition")
            assert not waiter.wait(0.3)
            assert orders.transition(order_id(app, ref), orders.PAID, source="webhook")
            assert waiter.wait(10)
            assert not waiter.wait(0.3)        # one commit, one wake-up
        finally:
            waiter.close()


def test_a_change_that_gives_the_worker_nothing_to_do_does_not_wake_it(client, app):
    ref = order_ref(buy(client, app))
    with app.app_context():
        waiter = wakeup.waiter()
        try:
            assert orders.transition(order_id(app, ref), orders.EXPIRED, source="worker")
            assert not waiter.wait(0.3)
        finally:
            waiter.close()


def sqlite_app(folder):
    """The shop on a SQLite file in `folder`, whatever database the suite runs on."""
    folder.mkdir(parents=True, exist_ok=True)
    return make_app(folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'merchant.db'}")


def test_sqlite_workers_are_woken_through_a_long_instance_path(tmp_path):
    # A unix socket path holds ~100 bytes: a deep instance folder must still work.
    app = sqlite_app(tmp_path / ("deep-folder-" * 10))
    client = app.test_client()
    ref = order_ref(buy(client, app))
    with app.app_context():
        waiter = wakeup.waiter()
        try:
            assert orders.transition(order_id(app, ref), orders.PAID, source="webhook")
            assert waiter.wait(10)
        finally:
            waiter.close()


def test_a_dead_workers_socket_is_removed_and_the_live_worker_still_woken(tmp_path):
    app = sqlite_app(tmp_path)
    client = app.test_client()
    refs = [order_ref(buy(client, app)) for _ in range(2)]
    with app.app_context():
        dead, alive = wakeup.waiter(), wakeup.waiter()
        dead.sock.close()                    # SIGKILLed: its socket file stays behind
        try:
            assert os.path.exists(dead.path)
            assert orders.transition(order_id(app, refs[0]), orders.PAID, source="webhook")
            assert alive.wait(10)
            assert not os.path.exists(dead.path)
            assert orders.transition(order_id(app, refs[1]), orders.PAID, source="webhook")
            assert alive.wait(10)
        finally:
            alive.close()


@pytest.fixture
def worker_process(app, tmp_path):
    """`flask --app merchant worker` in its own process on the test's database, polling only
    every 30 s: anything it does sooner, a wake-up made it do."""
    # Its ^C waits up to max(SMTP_TIMEOUT, FONNTE_TIMEOUT) + 1 s for the receipt lane, which
    # polls every 30 s too: receipts are off here, so 1 s each.
    process = processes.worker(app, tmp_path / "worker.log", WORKER_POLL_SECONDS="30",
                               SMTP_TIMEOUT="1", FONNTE_TIMEOUT="1")
    yield process.popen
    process.stop()             # ^C: it closes its LISTEN connection / socket


def delivered_within(app, ref: str, seconds: float) -> bool:
    """Watch the order's status in the database until it is delivered or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while get_order(app, ref).status != orders.DELIVERED:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.process
def test_a_paid_callback_wakes_a_worker_in_another_process(client, app, tmp_path,
                                                           worker_process):
    # The first order is delivered by the worker's first pass or by a wake-up; after it the
    # worker has nothing to do and waits its 30 s poll.
    first = order_ref(buy(client, app))
    sandbox_pay(client, app, first)
    assert delivered_within(app, first, 30), (tmp_path / "worker.log").read_text()

    second = order_ref(buy(client, app))
    sandbox_pay(client, app, second)
    assert delivered_within(app, second, 5), (tmp_path / "worker.log").read_text()
    assert worker_process.poll() is None
