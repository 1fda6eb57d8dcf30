"""The order status poll's read: a few columns of one order by its ref, one indexed SELECT.

Every open order page asks every 2 s, so this read is written for its cost:
- on the driver's own connection and cursor (`engine.raw_connection()`), the statement written
  once per paramstyle: through SQLAlchemy's Core the same read costs several times the
  database's own time;
- on PostgreSQL, on an engine of its own in autocommit and without the pool's pre-ping: the
  app's engine pings every connection it hands out (a `SELECT 1` round trip) and psycopg would
  wrap the read in a transaction. Here the read itself is the ping: a connection the server
  dropped fails it, and the read is made again, once, on a new connection (every connection
  of that pool older than the failure is dropped too: after a restart they are all dead).
  On SQLite the app's engine is used as it is: a file has no server to lose.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app

from merchant.core.extensions import db

_COLUMNS = "id, ref, view_token, status, gateway_ref, gateway_checked_at"
_SQL = {"qmark": f"SELECT {_COLUMNS} FROM orders WHERE ref = ?",
        "format": f"SELECT {_COLUMNS} FROM orders WHERE ref = %s"}
_EXTENSION = "merchant.status_read"
_lock = threading.Lock()


class StatusRow(NamedTuple):
    id: int
    ref: str
    view_token: str
    status: str
    gateway_ref: str | None
    gateway_checked_at: dt.datetime | None


def read(ref: str) -> StatusRow | None:
    """Order `ref`'s status columns, or None when there is no such order.

    :raise sqlalchemy.exc.OperationalError: the database cannot be read (the app's 503).
    """
    engine = engine_for(current_app)
    sql = _SQL.get(engine.dialect.paramstyle) or _SQL["format"]
    ref = ref.upper()
    try:
        found = _select(engine, sql, ref)
    except sa.exc.OperationalError as exc:
        if not (exc.connection_invalidated and _own(engine)):
            raise
        engine.dispose()        # its other connections are from before the loss as well
        found = _select(engine, sql, ref)
    if found is None:
        return None
    checked = found[5]
    if isinstance(checked, str):            # SQLite keeps datetimes as ISO text
        checked = dt.datetime.fromisoformat(checked)
    return StatusRow(*found[:5], checked)


def _select(engine: sa.Engine, sql: str, ref: str):
    """The row, or None. A driver error invalidates the connection (never handed out again)
    and is raised as SQLAlchemy's OperationalError, `connection_invalidated` when the
    connection was lost."""
    connection = engine.raw_connection()
    cursor = None
    try:
        cursor = connection.cursor()
        cursor.execute(sql, (ref,))
        found = cursor.fetchone()
        cursor.close()
        return found
    except engine.dialect.loaded_dbapi.Error as exc:
        lost = engine.dialect.is_disconnect(exc, connection.driver_connection, cursor)
        connection.invalidate()
        raise sa.exc.OperationalError(sql, (ref,), exc, connection_invalidated=lost) from exc
    finally:
        connection.close()                  # back to the pool (or discarded, if invalidated)


def _own(engine: sa.Engine) -> bool:
    return engine.dialect.name != "sqlite"


def engine_for(app: Flask) -> sa.Engine:
    """The engine the status read uses in `app`: its own on a database server (made in this
    process at its first read, so never shared across a fork), else the app's."""
    engine = app.extensions.get(_EXTENSION)
    if engine is not None:
        return engine
    with _lock:
        engine = app.extensions.get(_EXTENSION)
        if engine is None:
            engine = _made_for(app)
            app.extensions[_EXTENSION] = engine
    return engine


def _made_for(app: Flask) -> sa.Engine:
    main = db.engine
    if main.dialect.name == "sqlite":
        return main
    options = {key: value for key, value in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items()
               if key not in ("pool_pre_ping", "isolation_level")}
    engine = sa.create_engine(main.url, **options, pool_pre_ping=False,
                              isolation_level="AUTOCOMMIT")
    # Its connections are closed whenever the app's are (Engine.dispose: the tests do it).
    sa.event.listen(main, "engine_disposed", lambda _: engine.dispose())
    return engine
