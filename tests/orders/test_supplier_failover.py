"""A final failure fails over to the package's second supplier; pending and unknown do not.

Also the crash cases: a worker dies after claiming an order, or after Digiflazz accepted it;
when the lease runs out another pass re-sends the same ref_id and Digiflazz buys once.
"""
from __future__ import annotations

import threading

import pytest
from conftest import buy, get_order, history, order_ref, sandbox_pay, set_package, work
from test_supplier_digiflazz import CUSTOMER_NO, callback, paid_order, shop_app, work_until

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.orders import fulfillment
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0)
    vendor_server.check_handler_errors()


@pytest.fixture
def app(tmp_path, fake):
    app = shop_app(tmp_path, fake)
    return app


def test_final_failure_fails_over_to_the_second_supplier(client, app, fake):
    set_package(app, "mobile-legends", "86 Diamonds", fallback_supplier="sandbox",
                fallback_sku="ML86-SBX", fallback_cost=20_500)
    fake.script(CUSTOMER_NO, "fail", rc="54")
    ref = paid_order(client, app)
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered"
    assert (order.supplier, order.supplier_sku, order.supplier_ref_id, order.supplier_cost) == \
        ("sandbox", "ML86-SBX", f"{ref}-2", 20_500)
    assert order.delivery_proof.startswith("SN ")
    assert fake.purchases[ref] == 1            # the failed one (refunded by Digiflazz)
    steps = [(f, t, d) for f, t, s, d in history(app, ref)]
    failover = [d for f, t, d in steps if "failing over" in d]
    assert len(failover) == 1
    assert "rc 54" in failover[0] and f"sandbox (ML86-SBX) with ref_id {ref}-2" in failover[0]
    assert [(f, t) for f, t, d in steps if t] == [
        (None, "awaiting_payment"), ("awaiting_payment", "paid"), ("paid", "fulfilling"),
        ("fulfilling", "delivered")]         # never left fulfilling while switching
    assert "Sandbox supplier: success" in steps[-1][2]


def test_failover_from_sandbox_to_digiflazz_uses_a_derived_ref_id(client, app, fake):
    set_package(app, "mobile-legends", "86 Diamonds", supplier="sandbox", supplier_sku="SBX",
                fallback_supplier="digiflazz", fallback_sku="ML86", fallback_cost=20_000)
    account = {"user_id": "123456999", "zone_id": "1234"}     # the sandbox fails ...999
    ref = order_ref(buy(client, app, slug="mobile-legends", package="86 Diamonds", **account))
    sandbox_pay(client, app, ref)
    work(app)
    order = get_order(app, ref)
    assert order.status == "delivered" and order.supplier == "digiflazz"
    assert fake.purchases == {f"{ref}-2": 1}
    assert fake.transactions[f"{ref}-2"]["price"] == 20_000


def test_failure_reported_by_callback_fails_over_through_the_worker(client, app, fake, clock):
    set_package(app, "mobile-legends", "86 Diamonds", fallback_supplier="sandbox",
                fallback_sku="ML86-SBX")
    fake.script(CUSTOMER_NO, "pending")
    ref = paid_order(client, app)
    work(app)
    fake.fail(ref, rc="54")
    body, headers = fake.callback(ref)
    assert callback(client, body, headers).status_code == 200
    order = get_order(app, ref)
    assert (order.status, order.supplier, order.supplier_ref_id) == \
        ("fulfilling", "sandbox", f"{ref}-2")
    assert callback(client, *fake.callback(ref)).json["outcome"] == "no such order"
    assert work_until(app, clock, ref, "delivered").status == "delivered"
    assert sum(1 for *_, d in history(app, ref) if "failing over" in d) == 1


def test_no_failover_when_the_outcome_is_unknown(client, app, fake, clock):
    app.config["SUPPLIER_MAX_ATTEMPTS"] = 2
    set_package(app, "mobile-legends", "86 Diamonds", fallback_supplier="sandbox",
                fallback_sku="ML86-SBX")
    fake.down = True
    ref = paid_order(client, app)
    order = work_until(app, clock, ref, "fulfillment_failed")
    assert order.status == "fulfillment_failed"
    assert (order.supplier, order.supplier_ref_id) == ("digiflazz", ref)   # same ref kept
    assert not any("failing over" in d for *_, d in history(app, ref))


def test_failed_without_a_fallback_ends_in_delivery_failed(client, app, fake):
    fake.script(CUSTOMER_NO, "fail", rc="54")
    ref = paid_order(client, app)
    work(app)
    order = get_order(app, ref)
    assert order.status == "fulfillment_failed" and order.supplier_ref_id == f"{ref}-2"


def test_crash_after_claim_before_the_supplier_call_buys_once(client, app, fake):
    ref = paid_order(client, app)
    order = get_order(app, ref)
    lease = fulfillment.utcnow()
    with app.app_context():         # what dispatch_paid does before it calls the supplier
        assert orders.transition(order.id, orders.FULFILLING, source="worker",
                                 detail="Claimed for delivery", next_check_at=lease)
    # ... and the worker process dies here. The lease has run out: another pass follows up.
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert (fake.purchases[ref], fake.calls[ref]) == (1, 1)


def test_crash_after_the_supplier_accepted_buys_once(client, app, fake, monkeypatch, clock):
    fake.script(CUSTOMER_NO, "pending")
    ref = paid_order(client, app)

    def worker_killed(*args, **kwargs):
        raise SystemExit("worker killed between the supplier's answer and our commit")

    monkeypatch.setattr(fulfillment, "settle", worker_killed)
    with pytest.raises(SystemExit):
        work(app)
    monkeypatch.undo()
    with app.app_context():
        db.session.remove()
    assert fake.purchases[ref] == 1
    order = get_order(app, ref)
    assert order.status == "fulfilling" and order.supplier_ref_id == ref
    clock.advance(0.35)              # FULFILLMENT_LEASE_SECONDS is 0.3 in these tests
    fake.complete(ref)
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert (fake.purchases[ref], fake.calls[ref]) == (1, 2)


def test_two_workers_never_place_one_order_twice(client, app, fake):
    ref = paid_order(client, app)
    barrier = threading.Barrier(2)

    def one_worker():
        with app.app_context():
            barrier.wait()
            fulfillment.dispatch_paid()
            db.session.remove()

    threads = [threading.Thread(target=one_worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert get_order(app, ref).status == "delivered"
    assert (fake.purchases[ref], fake.calls[ref]) == (1, 1)
    with app.app_context():
        assert db.session.get(Order, get_order(app, ref).id).supplier_attempts == 0
