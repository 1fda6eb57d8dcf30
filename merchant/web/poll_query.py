"""The status poll's one SELECT (order_pages.POLL), read as cheaply as each database allows.

For a statement this small, SQLAlchemy's connection, pool checkout (on PostgreSQL its pre-ping
and reset: five round trips) and result objects cost two to three times the SELECT itself. So
each serving thread keeps one database connection of its own, opened as SQLAlchemy would open
it (the same URL and driver arguments), in autocommit, and runs the compiled statement on it:
on PostgreSQL one round trip, prepared by psycopg after its first few runs. Values come back
through SQLAlchemy's own result processors (SQLite's datetime text). A failed read closes that
connection (the next read opens another) and raises, and the poll goes to Flask.

An in-memory SQLite database or another driver is read through the app's engine: a connection
of its own would not see the same data, or has not been tried.
"""
from __future__ import annotations

import collections
import os
import threading

import sqlalchemy as sa

from merchant.web import order_pages

APPLICATION_NAME = "merchant status poll"    # how its connections show in pg_stat_activity

OWN_CONNECTION_ARGUMENTS = {
    "psycopg": {"autocommit": True, "application_name": APPLICATION_NAME},
    "pysqlite": {"isolation_level": None},
}


def for_engine(engine: sa.Engine):
    driver = engine.dialect.driver
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if driver in OWN_CONNECTION_ARGUMENTS and not in_memory:
        return OwnConnectionQuery(engine, OWN_CONNECTION_ARGUMENTS[driver])
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


class OwnConnectionQuery:
    def __init__(self, engine: sa.Engine, arguments: dict):
        dialect = engine.dialect
        args, kwargs = dialect.create_connect_args(engine.url)
        self._connect = lambda: dialect.loaded_dbapi.connect(*args, **kwargs, **arguments)
        self.errors = (dialect.loaded_dbapi.Error,)
        compiled = order_pages.POLL.compile(dialect=dialect)
        self._sql = str(compiled)
        self._positional = compiled.positional
        columns = order_pages.POLL.selected_columns
        self._row = collections.namedtuple("PollRow", [column.key for column in columns])
        self._processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in columns]
        self._mine = threading.local()
        self.opened: list = []
        self._generation = 0              # close() ends every connection opened before it
        self._lock = threading.Lock()

    def row(self, ref: str):
        connection = self._connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self._sql, (ref,) if self._positional else {"ref": ref})
            values = cursor.fetchone()
            cursor.close()
        except self.errors:
            self._forget(connection)
            raise
        if values is None:
            return None
        return self._row(*(value if process is None else process(value)
                           for process, value in zip(self._processors, values, strict=True)))

    def _connection(self):
        # A forked process (gunicorn) must not share its parent's socket or file handle.
        owner = (os.getpid(), self._generation)
        connection = getattr(self._mine, "connection", None)
        if connection is None or self._mine.owner != owner:
            connection = self._connect()
            self._mine.connection, self._mine.owner = connection, owner
            with self._lock:
                self.opened.append(connection)
        return connection

    def _forget(self, connection) -> None:
        self._mine.connection = None
        with self._lock:
            if connection in self.opened:
                self.opened.remove(connection)
        connection.close()

    def close(self) -> None:
        with self._lock:
            opened, self.opened = self.opened, []
            self._generation += 1
        for connection in opened:
            connection.close()
