"""The status poll every open order page sends each 2 s: cheap while nothing changes, exact
when something does, and no door for strangers."""
from __future__ import annotations

import contextlib
import sqlite3

import flask
import pytest
import sqlalchemy as sa

from merchant.core.extensions import db
from merchant.orders import status_read
from tests.conftest import (
    buy,
    delivered_order,
    get_order,
    make_app,
    order_ref,
    sandbox_pay,
)
from tests.fakes.xendit import FakeXendit

WAITING = "awaiting_payment"
HTMX = {"HX-Request": "true"}


@contextlib.contextmanager
def statements(app):
    """The SQL statements `app` sends through SQLAlchemy while the block runs."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@contextlib.contextmanager
def database_use(app):
    """What `app` sends to the database while the block runs: every SQL statement SQLAlchemy
    executes, every statement SQLite runs (its trace, which also sees a driver's own SQL), and
    how many connections are taken from the pool."""
    seen = {"sqlalchemy": [], "sqlite": [], "checkouts": 0}

    def executed(conn, cursor, statement, parameters, context, executemany):
        seen["sqlalchemy"].append(statement)

    def checkout(dbapi_connection, record, proxy):
        seen["checkouts"] += 1
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(seen["sqlite"].append)

    with app.app_context():
        engines = {db.engine, status_read.engine_for(app)}   # one on SQLite, two on a server
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", executed)
        sa.event.listen(engine, "checkout", checkout)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", executed)
            sa.event.remove(engine, "checkout", checkout)


@contextlib.contextmanager
def work_done(app, monkeypatch):
    """What Flask did beyond the view while the block ran: templates rendered and locales
    chosen (Flask-Babel's locale selector called)."""
    done = {"templates": [], "locales": 0}

    def rendered(sender, template, context, **extra):
        done["templates"].append(template.name)

    babel = app.extensions["babel"]
    selector = babel.locale_selector

    def selecting():
        done["locales"] += 1
        return selector()

    monkeypatch.setattr(babel, "locale_selector", selecting)
    flask.template_rendered.connect(rendered, app)
    try:
        yield done
    finally:
        flask.template_rendered.disconnect(rendered, app)


def unchanged(answer) -> bool:
    """The unchanged poll's answer: empty, and htmx told to swap nothing."""
    return (answer.status_code, answer.data, answer.headers.get("HX-Reswap")) == (200, b"", "none")


def vendor_queries(server) -> int:
    return sum(1 for request, _ in server.log if request.method == "GET")


@pytest.fixture
def xendit(vendor_server):
    return FakeXendit(vendor_server)


@pytest.fixture
def xendit_app(tmp_path, xendit):
    return make_app(tmp_path, GATEWAY="xendit", XENDIT_SECRET_KEY=xendit.secret_key,
                    XENDIT_CALLBACK_TOKEN=xendit.callback_token, XENDIT_API_URL=xendit.base_url)


def test_unchanged_poll_is_empty_from_one_read_without_rendering_or_locale(
        xendit_app, vendor_server, clock, monkeypatch):
    client = xendit_app.test_client()
    ref = order_ref(buy(client, xendit_app))
    first = client.get(f"/o/{ref}/status?since={WAITING}", headers=HTMX)
    assert unchanged(first) and vendor_queries(vendor_server) == 1   # never asked yet

    clock.advance(5)
    with database_use(xendit_app) as sent, work_done(xendit_app, monkeypatch) as done:
        poll = client.get(f"/o/{ref}/status?since={WAITING}", headers=HTMX)
    assert unchanged(poll)
    # A length, so the server keeps the connection for the next poll; the session untouched.
    assert poll.headers["Content-Length"] == "0" and "Set-Cookie" not in poll.headers
    assert poll.headers["Cache-Control"] == "no-store"
    assert vendor_queries(vendor_server) == 1
    # One connection from the pool, one SELECT of the order's row (on the driver itself).
    assert sent["checkouts"] == 1 and sent["sqlalchemy"] == [], sent
    if xendit_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert len(sent["sqlite"]) == 1 and "FROM orders WHERE ref" in sent["sqlite"][0], sent
    assert done == {"templates": [], "locales": 0}


def test_poll_asks_the_gateway_again_once_10_seconds_have_passed(
        xendit_app, vendor_server, xendit, clock):
    client = xendit_app.test_client()
    ref = order_ref(buy(client, xendit_app))
    client.get(f"/o/{ref}/status?since={WAITING}")
    clock.advance(10)
    xendit.set_status(xendit.only(ref)["id"], "PAID")
    poll = client.get(f"/o/{ref}/status?since={WAITING}")
    assert vendor_queries(vendor_server) == 2
    assert poll.status_code == 200 and "Payment received" in poll.text
    assert get_order(xendit_app, ref).status == "paid"


def test_a_changed_status_answers_the_new_block_polling_from_the_new_status(client, app):
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref)
    poll = client.get(f"/o/{ref}/status?since={WAITING}", headers=HTMX)
    assert poll.status_code == 200 and "Payment received" in poll.text
    assert "since=paid" in poll.text and poll.headers["Vary"]
    assert unchanged(client.get(f"/o/{ref}/status?since=paid", headers=HTMX))


def test_final_status_stops_the_polling_and_is_cached_by_its_etag(client, app):
    ref = delivered_order(client, app)
    poll = client.get(f"/o/{ref}/status?since={WAITING}",
                      headers={**HTMX, "Accept-Encoding": "br, gzip"})
    assert poll.status_code == 286 and "delivered to" in poll.text
    assert "Content-Encoding" not in poll.headers and poll.headers["ETag"]
    again = client.get(f"/o/{ref}/status?since=delivered",
                       headers={**HTMX, "If-None-Match": poll.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The ETag is the block's bytes: the same order in another language is another block.
    other = client.get(f"/o/{ref}/status?since=delivered&lang=id",
                       headers={**HTMX, "If-None-Match": poll.headers["ETag"]})
    assert other.status_code == 286 and other.headers["ETag"] != poll.headers["ETag"]


def test_poll_of_an_order_this_browser_never_opened_is_not_found(client, app):
    ref = order_ref(buy(client, app))
    token = get_order(app, ref).view_token
    stranger = app.test_client()
    assert stranger.get(f"/o/{ref}/status?since={WAITING}").status_code == 404
    assert stranger.get(f"/o/{ref}/status?since={WAITING}&t=wrong-token").status_code == 404
    assert stranger.get(f"/o/NOSUCHREF/status?since={WAITING}").status_code == 404
    assert stranger.get(f"/o/NOSUCHREF/status?since={WAITING}&t={token}").status_code == 404


def test_a_link_token_viewer_is_answered_and_remembered(client, app):
    ref = order_ref(buy(client, app))
    token = get_order(app, ref).view_token
    viewer = app.test_client()
    with_link = viewer.get(f"/o/{ref}/status?since={WAITING}&t={token}")
    assert unchanged(with_link) and "Set-Cookie" in with_link.headers   # remembered
    assert unchanged(viewer.get(f"/o/{ref}/status?since={WAITING}"))
    sandbox_pay(client, app, ref)
    changed = viewer.get(f"/o/{ref}/status?since={WAITING}", headers=HTMX)
    assert changed.status_code == 200 and "Payment received" in changed.text


def test_a_forged_session_cookie_gets_no_answer_about_the_order(client, app):
    ref = order_ref(buy(client, app))
    url = f"/o/{ref}/status?since={WAITING}"
    assert unchanged(client.get(url))
    cookie = client.get_cookie("session").value
    payload, _, signature = cookie.rpartition(".")
    forger = app.test_client()
    forger.set_cookie("session", f"{payload}.{'A' * len(signature)}")
    assert forger.get(url).status_code == 404


def test_the_poll_is_exempt_from_rate_limits(tmp_path):
    app = make_app(tmp_path, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    ref = order_ref(buy(client, app))
    answers = [unchanged(client.get(f"/o/{ref}/status?since={WAITING}")) for _ in range(5)]
    assert answers == [True] * 5
    assert [client.get("/track").status_code for _ in range(3)][-1] == 429   # the default bites
