"""Faults: the database connection lost mid-request; a worker process killed mid-delivery.

The kills use real `flask --app merchant worker` processes on the test's database and the fake
Digiflazz, which counts purchases per ref_id the way Digiflazz keeps its transactions.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import buy, order_ref

from merchant.extensions import db
from merchant.models import Order, OrderEvent


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


class DatabaseLost:
    """Cuts the request's database connection just before a chosen statement runs.

    PostgreSQL: another connection terminates the request's backend (pg_terminate_backend), as
    a server restart or a failover does. SQLite has no server to lose: a progress handler makes
    the statement fail as a locked or vanished file does (sqlite3.OperationalError).
    """

    def __init__(self, app, statement: str):
        self.app, self.statement, self.fired = app, statement, False
        with app.app_context():
            self.engine = db.engine
        sa.event.listen(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired or not statement.lstrip().upper().startswith(self.statement):
            return
        self.fired = True
        dbapi = conn.connection.dbapi_connection
        if self.engine.dialect.name == "postgresql":
            with sa.create_engine(self.engine.url, poolclass=sa.pool.NullPool).connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                              {"pid": dbapi.info.backend_pid})
        else:
            dbapi.set_progress_handler(lambda: 1, 1)
            sa.event.listen(self.engine, "handle_error",
                            lambda _: dbapi.set_progress_handler(None, 1), once=True)

    def close(self):
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

