"""The status poll's one SELECT (order_pages.POLL), read as cheaply as each database allows.

On PostgreSQL through psycopg the SQL round trip is the cheap part: SQLAlchemy's connection,
pool checkout (its pre-ping, its reset) and result objects cost about three times the SELECT
itself. So each serving thread keeps one autocommit psycopg connection of its own, with the
statement prepared on it: one round trip and about 90 us of CPU per poll. A failed read closes
that connection (the next poll opens another) and hands the poll to Flask. On SQLite, a file
with no round trips to save, the app's own engine reads it.
"""
from __future__ import annotations

import os
import threading

import sqlalchemy as sa

from . import order_pages

APPLICATION_NAME = "merchant status poll"    # how its connections show in pg_stat_activity


def for_engine(engine: sa.Engine):
    if engine.dialect.driver == "psycopg":
        return PsycopgQuery(engine)
    return EngineQuery(engine)


class EngineQuery:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.errors = (sa.exc.SQLAlchemyError,)

    def row(self, ref: str):
        with self.engine.connect() as connection:
            return connection.execute(order_pages.POLL, {"ref": ref}).first()

    def close(self) -> None:
        """Nothing of its own: the engine is the app's."""


class PsycopgQuery:
    def __init__(self, engine: sa.Engine):
        import psycopg
        from psycopg.rows import namedtuple_row

        self._connect = lambda: psycopg.connect(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True, row_factory=namedtuple_row, application_name=APPLICATION_NAME)
        self._sql = str(order_pages.POLL.compile(dialect=engine.dialect))
        self.errors = (psycopg.Error,)
        self._mine = threading.local()
        self._opened: list = []
        self._opened_lock = threading.Lock()

    def row(self, ref: str):
        connection = self._connection()
        try:
            return connection.execute(self._sql, {"ref": ref}, prepare=True).fetchone()
        except self.errors:
            connection.close()
            raise

    def _connection(self):
        connection = getattr(self._mine, "connection", None)
        # A forked process (gunicorn) must not share its parent's socket.
        if connection is None or connection.closed or self._mine.pid != os.getpid():
            connection = self._connect()
            self._mine.connection, self._mine.pid = connection, os.getpid()
            with self._opened_lock:
                self._opened = [c for c in self._opened if not c.closed] + [connection]
        return connection

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
