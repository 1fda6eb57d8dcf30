"""Order events after commit: one per status change, handed to each listener once, retried."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from conftest import buy, history, make_app, order_ref, sandbox_pay, work

from merchant import orders, trust
from merchant.core import outbox
from merchant.core.extensions import db
from merchant.core.models import Order, OutboxDelivery, OutboxEvent
from merchant.core.transactions import write_unit


@pytest.fixture
def listeners():
    """Register listeners for one test only: `listeners(name, kinds)(function)`."""
    before = dict(outbox.LISTENERS)
    yield outbox.listener
    outbox.LISTENERS.clear()
    outbox.LISTENERS.update(before)


class Calls:
    """What a listener was handed, thread-safely."""

    def __init__(self, fail_times: int = 0):
        self.events: list[outbox.Event] = []
        self.fail_times = fail_times
        self.lock = threading.Lock()

    def __call__(self, event: outbox.Event) -> None:
        with self.lock:
            self.events.append(event)
            if len(self.events) <= self.fail_times:
                raise RuntimeError(f"listener down (call {len(self.events)})")


def outbox_kinds(app, ref: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(OutboxEvent.kind).join(Order, Order.id == OutboxEvent.order_id)
            .where(Order.ref == ref).order_by(OutboxEvent.id)))


def job(app, listener: str) -> OutboxDelivery:
    with app.app_context():
        row = db.session.scalars(sa.select(OutboxDelivery)
                                 .where(OutboxDelivery.listener == listener)).one()
        db.session.expunge(row)
        return row


def bought_and_paid(client, app, username="happy_gamer") -> str:
    """An order bought and paid; nothing dispatched yet."""
    ref = order_ref(buy(client, app, username=username))
    sandbox_pay(client, app, ref)
    return ref


def test_every_status_change_writes_one_event_with_it(client, app):
    ref = bought_and_paid(client, app)
    work(app)
    changes = [to for _, to, *_ in history(app, ref) if to][1:]   # after awaiting_payment
    assert changes == ["paid", "fulfilling", "delivered"]
    assert outbox_kinds(app, ref) == changes


def test_a_rolled_back_transition_leaves_no_event(client, app):
    ref = order_ref(buy(client, app))
    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.ref == ref))
        with pytest.raises(RuntimeError), write_unit():
            assert orders.move(order_id, orders.EXPIRED, "worker", "test") is not None
            raise RuntimeError("the rest of the unit failed")
        assert db.session.get(Order, order_id).status == orders.AWAITING_PAYMENT
    assert outbox_kinds(app, ref) == []


def test_a_refused_transition_writes_no_event(client, app):
    ref = order_ref(buy(client, app))
    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.ref == ref))
        assert not orders.transition(order_id, orders.DELIVERED, source="admin")
    assert outbox_kinds(app, ref) == []


def test_a_listener_gets_the_kinds_it_asked_for_once(client, app, listeners, clock):
    calls = Calls()
    listeners("test_receipt", kinds={"delivered", "refunded"})(calls)
    ref = bought_and_paid(client, app)
    work(app, passes=3)
    assert [(e.kind, e.attempts) for e in calls.events] == [("delivered", 1)]
    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.ref == ref))
        assert calls.events[0].order_id == order_id
        clock.advance(30 * 24 * 3600)
        assert outbox.dispatch() == 0
    assert len(calls.events) == 1
    assert job(app, "test_receipt").done_at is not None


def test_a_failing_listener_is_retried_with_backoff_and_never_after_success(
        client, app, listeners, clock):
    calls = Calls(fail_times=2)
    listeners("flaky", kinds={"paid"})(calls)
    bought_and_paid(client, app)
    base = app.config["OUTBOX_RETRY_BASE_SECONDS"]
    with app.app_context():
        assert outbox.dispatch() == 1                                   # 1st: fails
        failed_at = clock.now()
        assert job(app, "flaky").next_attempt_at == failed_at + dt.timedelta(seconds=base)
        assert "listener down (call 1)" in job(app, "flaky").last_error
        clock.advance(base - 1)
        assert outbox.dispatch() == 0                                   # not due yet
        clock.advance(1)
        assert outbox.dispatch() == 1                                   # 2nd: fails
        clock.advance(2 * base - 1)                                     # twice as long
        assert outbox.dispatch() == 0
        clock.advance(1)
        assert outbox.dispatch() == 1                                   # 3rd: works
        succeeded_at = clock.now()
        clock.advance(365 * 24 * 3600)
        assert outbox.dispatch() == 0
    assert [e.attempts for e in calls.events] == [1, 2, 3]
    done = job(app, "flaky")
    assert done.done_at == succeeded_at and done.next_attempt_at is None
    assert done.attempts == 3


def test_the_backoff_is_capped_and_a_listener_that_keeps_failing_is_given_up(
        tmp_path, listeners, clock, caplog):
    app = make_app(tmp_path, OUTBOX_MAX_ATTEMPTS=4, OUTBOX_RETRY_BASE_SECONDS=10,
                   OUTBOX_RETRY_MAX_SECONDS=25)
    client = app.test_client()
    calls = Calls(fail_times=100)
    listeners("broken", kinds={"paid"})(calls)
    bought_and_paid(client, app)
    waits = []
    with app.app_context():
        while outbox.dispatch():
            row = job(app, "broken")
            if row.next_attempt_at is None:
                break
            waits.append((row.next_attempt_at - clock.now()).total_seconds())
            clock.advance(waits[-1])
        clock.advance(365 * 24 * 3600)
        assert outbox.dispatch() == 0
    assert waits == [10, 20, 25]
    assert len(calls.events) == 4
    given_up = job(app, "broken")
    assert given_up.done_at is None and given_up.next_attempt_at is None
    assert "listener down (call 4)" in given_up.last_error
    assert "listener broken gave up on event" in caplog.text


def test_a_listener_whose_worker_died_runs_again_after_the_lease(client, app, listeners, clock):
    calls = []

    @listeners("crashy", kinds={"paid"})
    def crash_once(event):
        calls.append(event.attempts)
        if len(calls) == 1:
            raise SystemExit("the worker process dies mid-call")

    bought_and_paid(client, app)
    lease = app.config["OUTBOX_LEASE_SECONDS"]
    with app.app_context():
        with pytest.raises(SystemExit):
            outbox.dispatch()
        db.session.rollback()
        clock.advance(lease - 1)
        assert outbox.dispatch() == 0                                   # still held
        clock.advance(1)
        assert outbox.dispatch() == 1
    assert calls == [1, 2]
    assert job(app, "crashy").done_at is not None


def test_two_workers_racing_run_each_listener_job_once(client, app, listeners):
    first, second = Calls(), Calls()
    listeners("first", kinds={"expired"})(first)
    listeners("second", kinds={"expired"})(second)
    with app.app_context():
        ids = []
        for _ in range(12):
            ref = order_ref(buy(client, app))
            ids.append(db.session.scalar(sa.select(Order.id).where(Order.ref == ref)))
        for order_id in ids:
            assert orders.transition(order_id, orders.EXPIRED, source="worker")
    barrier = threading.Barrier(2)
    ran = []

    def race():
        with app.app_context():
            barrier.wait()
            total = 0
            while True:      # until there is nothing left for this worker
                done = outbox.dispatch(limit=5)
                if not done:
                    break
                total += done
            ran.append(total)
            db.session.remove()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(ran) == 24
    for calls in (first, second):
        assert sorted(e.order_id for e in calls.events) == sorted(ids)
        assert {e.attempts for e in calls.events} == {1}


def test_a_listener_for_a_kind_that_never_happens_is_refused(listeners):
    listeners("typo", kinds={"deliverd"})(Calls())
    with pytest.raises(ValueError, match="'typo' listens to \\['deliverd'\\]"):
        outbox.load_listeners({*orders.LABELS, *trust.EVENT_KINDS})


def test_two_listeners_of_one_name_are_refused(listeners):
    listeners("twice", kinds={"paid"})(Calls())
    with pytest.raises(ValueError, match="two listeners are called 'twice'"):
        listeners("twice", kinds={"paid"})(Calls())
