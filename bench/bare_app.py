"""The yardsticks: a bare Flask app under the shop's own server.

- `/`: a fixed string (the budgets' yardstick);
- `/o/<ref>/status`: the same one-row SELECT the shop's status poll makes (orders by ref, on
  the driver's connection from a pool, autocommit and no pre-ping on PostgreSQL), answered
  with an empty body: what the database read alone costs a Flask app, measured beside it.

    python bench/bare_app.py PORT            (waitress, as `flask --app merchant serve`)
    gunicorn --chdir bench bare_app:app      (as deploy/merchant-web.service)
"""
from __future__ import annotations

import os
import sys

import sqlalchemy as sa
from flask import Flask

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from merchant.web.edge import server  # noqa: E402

app = Flask(__name__)
DATABASE_URL = os.environ.get("MERCHANT_DATABASE_URL", "sqlite://")
_engine = None
_SQL = "SELECT id, ref, view_token, status, gateway_ref, gateway_checked_at FROM orders " \
       "WHERE ref = {}"


def engine() -> sa.Engine:
    global _engine
    if _engine is None:     # made in the process that serves (after gunicorn's fork)
        options = {} if DATABASE_URL.startswith("sqlite") else {"isolation_level": "AUTOCOMMIT"}
        _engine = sa.create_engine(DATABASE_URL, **options)
    return _engine


@app.get("/")
def hello():
    return "Hello, World!"


@app.get("/o/<ref>/status")
def status(ref):
    connection = engine().raw_connection()
    try:
        cursor = connection.cursor()
        mark = "?" if engine().dialect.paramstyle == "qmark" else "%s"
        cursor.execute(_SQL.format(mark), (ref,))
        found = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()
    return ("", 200) if found else ("", 404)


if __name__ == "__main__":
    server.run(app, "127.0.0.1", int(sys.argv[1]))
