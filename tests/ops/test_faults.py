"""Faults: the database connection lost mid-request; a worker process killed mid-delivery.

The kills use real `flask --app merchant worker` processes on the test's database and the fake
Digiflazz, which counts purchases per ref_id the way Digiflazz keeps its transactions.
"""
from __future__ import annotations

import signal
import threading

import processes
import pytest
import sqlalchemy as sa
from conftest import buy, get_order, history, order_ref

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent
from merchant.orders import status_read
from tests.fakes.digiflazz import FakeDigiflazz
from tests.orders.test_supplier_digiflazz import paid_order, shop_app


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


class DatabaseLost:
    """Cuts the request's database connection just before a chosen statement runs.

    PostgreSQL: another connection terminates the request's backend (pg_terminate_backend), as
    a server restart or a failover does. SQLite has no server to lose: a progress handler makes
    the statement fail as a locked or vanished file does (sqlite3.OperationalError).
    """

    def __init__(self, app, statement: str | None, engine=None):
        """`statement`: how the statement starts; None: the next connection taken from the
        pool is cut as it is handed out (a read on the driver itself, below SQLAlchemy).
        `engine`: the app's own unless given."""
        self.app, self.statement, self.fired = app, statement, False
        with app.app_context():
            self.engine = engine or db.engine
        if statement is None:
            sa.event.listen(self.engine, "checkout", self._checkout)
        else:
            sa.event.listen(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired or not statement.lstrip().upper().startswith(self.statement):
            return
        self.fired = True
        self._cut(conn.connection.dbapi_connection)

    def _checkout(self, dbapi, record, proxy):
        if not self.fired:
            self.fired = True
            self._cut(dbapi)

    def _cut(self, dbapi):
        if self.engine.dialect.name == "postgresql":
            with sa.create_engine(self.engine.url, poolclass=sa.pool.NullPool).connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                              {"pid": dbapi.info.backend_pid})
        else:
            dbapi.set_progress_handler(lambda: 1, 1)
            sa.event.listen(self.engine, "handle_error",
                            lambda _: dbapi.set_progress_handler(None, 1), once=True)

    def close(self):
        if self.statement is None:
            sa.event.remove(self.engine, "checkout", self._checkout)
        else:
            sa.event.remove(self.engine, "before_cursor_execute", self._before)


@pytest.mark.parametrize("statement", ["INSERT INTO ORDERS", "INSERT INTO ORDER_EVENTS"])
def test_database_lost_while_placing_an_order_is_a_503_and_leaves_nothing(
        client, app, statement):
    lost = DatabaseLost(app, statement)
    try:
        response = buy(client, app, key="dropped-connection-01")
    finally:
        lost.close()
    assert lost.fired
    assert response.status_code == 503
    assert "try again in a moment" in response.text
    assert response.headers["Retry-After"] == "5"
    assert (count(app, Order), count(app, OrderEvent)) == (0, 0)   # nothing half-written

    # The next try gets a fresh connection (pool_pre_ping) and one whole order.
    ref = order_ref(buy(client, app, key="dropped-connection-01"))
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        assert order.gateway_ref and [e.to_status for e in order.events][0] == "awaiting_payment"
    assert count(app, Order) == 1


def test_database_lost_under_the_status_poll_is_read_again_or_a_503_and_the_next_poll_is_answered(
        client, app):
    ref = order_ref(buy(client, app))
    poll = f"/o/{ref}/status?since=awaiting_payment"
    assert client.get(poll).data == b""
    with app.app_context():
        engine = status_read.engine_for(app)
    lost = DatabaseLost(app, None, engine)      # the poll's read, on the connection it takes
    try:
        answer = client.get(poll, headers={"HX-Request": "true"})
    finally:
        lost.close()
    assert lost.fired
    if engine.dialect.name == "postgresql":
        # The server dropped the connection (a restart, a failover): the read is made again
        # on a new one, and the poll is answered as if nothing happened.
        assert (answer.status_code, answer.data, answer.headers["HX-Reswap"]) == (200, b"", "none")
    else:
        # A file that cannot be read: not swapped by htmx (a 5xx), the block stays as it was,
        # and the page polls again.
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    again = client.get(poll, headers={"HX-Request": "true"})     # on a fresh connection
    assert again.status_code == 200 and again.data == b"" and again.headers["HX-Reswap"] == "none"


# -- a worker process SIGKILLed mid-delivery ------------------------------------------------

@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server)
    vendor_server.check_handler_errors()


@pytest.fixture
def shop(tmp_path, fake):
    return shop_app(tmp_path, fake)


# The worker processes: a lease short enough that the restarted one follows up at once, and an
# HTTP timeout long enough that only the kill interrupts the supplier call.
WORKER = {"FULFILLMENT_LEASE_SECONDS": 1, "WORKER_POLL_SECONDS": 0.2, "HTTP_TIMEOUT": 20}


def kill_at(stage: str, process_holder: list, answer=None):
    """A fake-Digiflazz hook: at `stage` of the first new request, SIGKILL the worker that sent
    it and wait until it is gone."""
    killed = threading.Event()

    def hook(at, ref_id):
        if at == stage and not killed.is_set():
            process_holder[0].kill()
            killed.set()
            return answer
        return None
    return hook, killed


def deliver_across_a_kill(shop, fake, tmp_path, stage, answer=None):
    ref = paid_order(shop.test_client(), shop)
    workers: list = []
    fake.on_transaction, killed = kill_at(stage, workers, answer)
    workers.append(processes.worker(shop, tmp_path / "worker-1.log", **WORKER))
    try:
        assert killed.wait(60), workers[0].output()
        assert workers[0].popen.returncode == -signal.SIGKILL
        assert get_order(shop, ref).status == "fulfilling"
        before_restart = fake.purchases[ref]
        workers.append(processes.worker(shop, tmp_path / "worker-2.log", **WORKER))
        processes.eventually(lambda: get_order(shop, ref).status == "delivered", 60,
                             f"the restarted worker delivers {ref}")
    finally:
        for process in workers:
            process.stop()
    return ref, before_restart, workers[1]


def assert_delivered_once(shop, fake, ref):
    assert fake.purchases[ref] == 1
    assert [(f, t) for f, t, *_ in history(shop, ref) if t] == [
        (None, "awaiting_payment"), ("awaiting_payment", "paid"), ("paid", "fulfilling"),
        ("fulfilling", "delivered")]
    assert get_order(shop, ref).delivery_proof == fake.transactions[ref]["sn"]


@pytest.mark.process
def test_worker_killed_between_claim_and_supplier_answer_delivers_once_after_restart(
        shop, fake, tmp_path):
    # The request dies with the worker before Digiflazz processed it: nothing was bought.
    ref, bought, restarted = deliver_across_a_kill(shop, fake, tmp_path, "received",
                                                   answer="lost")
    assert bought == 0
    assert_delivered_once(shop, fake, ref)
    assert fake.calls[ref] == 1          # the lost request was never processed
    lines = [line for line in restarted.json_lines() if line.get("ref") == ref]
    assert any("Transaksi Sukses" in line["message"] for line in lines)


@pytest.mark.process
def test_worker_killed_after_the_supplier_accepted_delivers_once_after_restart(
        shop, fake, tmp_path):
    # Digiflazz bought it and is answering; the worker dies before it can record the answer.
    ref, bought, _ = deliver_across_a_kill(shop, fake, tmp_path, "formed")
    assert bought == 1
    assert_delivered_once(shop, fake, ref)
    assert fake.calls[ref] == 2          # the restarted worker re-sent the same ref_id
