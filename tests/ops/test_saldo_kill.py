"""A worker process SIGKILLed between the saldo debit and the delivery: after a restart the order
is delivered once, or refunded to saldo once, and the ledger still balances.

Real `flask --app merchant worker` processes on the test's database (SQLite, or PostgreSQL with
MERCHANT_TEST_DATABASE_URL) and the fake Digiflazz, which counts purchases per ref_id.
"""
from __future__ import annotations

import signal

import processes
import pytest
import sqlalchemy as sa
from conftest import get_order, history, order_ref
from shoppers import assert_books_balance, balance, buy_with_saldo, new_customer, signed_in

from merchant.core import money
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import LedgerTransaction
from merchant.customers import adjustments
from tests.fakes.digiflazz import FakeDigiflazz
from tests.ops.test_faults import WORKER, kill_at
from tests.orders.test_supplier_digiflazz import CUSTOMER_NO, ML, shop_app

FUNDS = 100_000
PRICE = 22_000          # Mobile Legends 86 Diamonds


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server)
    vendor_server.check_handler_errors()


def saldo_order(shop) -> tuple[int, str]:
    """A customer with saldo buys 86 Diamonds with it: debited and paid, nobody delivering."""
    customer = new_customer(shop)
    with shop.app_context():
        adjustments.adjust(customer, money.Money(FUNDS, "IDR"), True, "kill test funds",
                           "kill-test", Actor("test"))
    client = signed_in(shop, customer)
    ref = order_ref(buy_with_saldo(client, shop, slug="mobile-legends", package="86 Diamonds",
                                   **ML))
    assert get_order(shop, ref).status == "paid"
    assert balance(shop, customer) == FUNDS - PRICE
    return customer, ref


def across_a_kill(shop, fake, tmp_path, stage, final, answer=None):
    """Start a worker, SIGKILL it at `stage` of its supplier call, start another, and wait
    until the order is `final`. Returns the customer and the order's ref."""
    customer, ref = saldo_order(shop)
    workers: list = []
    fake.on_transaction, killed = kill_at(stage, workers, answer)
    workers.append(processes.worker(shop, tmp_path / "worker-1.log", **WORKER))
    try:
        assert killed.wait(60), workers[0].output()
        assert workers[0].popen.returncode == -signal.SIGKILL
        assert get_order(shop, ref).status == "fulfilling"       # debited, not yet delivered
        assert balance(shop, customer) == FUNDS - PRICE
        workers.append(processes.worker(shop, tmp_path / "worker-2.log", **WORKER))
        processes.eventually(lambda: get_order(shop, ref).status == final, 60,
                             f"the restarted worker settles {ref} as {final}")
    finally:
        for process in workers:
            process.stop()
    return customer, ref


def ledger_kinds(shop, ref) -> list[str]:
    order = get_order(shop, ref)
    with shop.app_context():
        return list(db.session.scalars(sa.select(LedgerTransaction.kind)
                                       .where(LedgerTransaction.order_id == order.id)
                                       .order_by(LedgerTransaction.id)))


@pytest.mark.process
def test_worker_killed_between_debit_and_delivery_delivers_once(tmp_path, fake):
    shop = shop_app(tmp_path, fake)
    # The request dies with the worker before Digiflazz processed it: nothing was bought.
    customer, ref = across_a_kill(shop, fake, tmp_path, "received", "delivered", answer="lost")
    assert fake.purchases[ref] == 1
    assert [(f, t) for f, t, *_ in history(shop, ref) if t] == [
        (None, "awaiting_payment"), ("awaiting_payment", "paid"), ("paid", "fulfilling"),
        ("fulfilling", "delivered")]
    assert ledger_kinds(shop, ref) == ["purchase"]
    assert balance(shop, customer) == FUNDS - PRICE
    assert_books_balance(shop)


@pytest.mark.process
def test_worker_killed_before_a_failure_is_recorded_refunds_to_saldo_once(tmp_path, fake):
    shop = shop_app(tmp_path, fake)
    fake.script(CUSTOMER_NO, "fail", rc="54")
    # Digiflazz formed the transaction as failed; the worker dies before reading the answer.
    customer, ref = across_a_kill(shop, fake, tmp_path, "formed", "refunded")
    assert fake.purchases[ref] == 1 and fake.transactions[ref]["status"] == "Gagal"
    assert [t for _, t, *_ in history(shop, ref) if t] == [
        "awaiting_payment", "paid", "fulfilling", "fulfillment_failed", "refunded"]
    assert get_order(shop, ref).refund_ref == "saldo"
    assert ledger_kinds(shop, ref) == ["purchase", "refund"]
    assert balance(shop, customer) == FUNDS
    assert_books_balance(shop)
