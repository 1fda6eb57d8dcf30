"""The status poll every open order page sends each 2 s: cheap while nothing changes, exact
when something does, and no door for strangers."""
from __future__ import annotations

import contextlib
import time

import pytest
import sqlalchemy as sa

from merchant.core.extensions import db
from merchant.web import poll_query
from tests.conftest import (
    buy,
    delivered_order,
    flask_requests,
    get_order,
    make_app,
    order_ref,
    sandbox_pay,
)
from tests.fakes.xendit import FakeXendit

WAITING = "awaiting_payment"


@contextlib.contextmanager
def statements(app):
    """The SQL statements `app` sends while the block runs: through its engine, and through
    its status poll's own connections, which bypass SQLAlchemy."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    poll = app.extensions["status_poll"].query
    own = isinstance(poll, poll_query.OwnConnectionQuery)
    direct = poll.row

    def read(ref):
        sent.append(poll._sql)
        return direct(ref)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    if own:
        poll.row = read
    try:
        yield sent
    finally:
        if own:
            del poll.row
        sa.event.remove(engine, "before_cursor_execute", count)


def vendor_queries(server) -> int:
    return sum(1 for request, _ in server.log if request.method == "GET")


@pytest.fixture
def xendit(vendor_server):
    return FakeXendit(vendor_server)


@pytest.fixture
def xendit_app(tmp_path, xendit):
    return make_app(tmp_path, GATEWAY="xendit", XENDIT_SECRET_KEY=xendit.secret_key,
                    XENDIT_CALLBACK_TOKEN=xendit.callback_token, XENDIT_API_URL=xendit.base_url)


def test_unchanged_waiting_order_is_one_query_no_cookie_no_gateway_call(
        xendit_app, vendor_server, clock):
    client = xendit_app.test_client()
    ref = order_ref(buy(client, xendit_app))
    first = client.get(f"/o/{ref}/status?since={WAITING}", headers={"HX-Request": "true"})
    assert first.status_code == 204 and vendor_queries(vendor_server) == 1   # never asked yet

    clock.advance(5)
    with statements(xendit_app) as sent:
        poll = client.get(f"/o/{ref}/status?since={WAITING}", headers={"HX-Request": "true"})
    assert poll.status_code == 204 and poll.data == b""
    assert "Set-Cookie" not in poll.headers
    assert vendor_queries(vendor_server) == 1
    assert len(sent) == 1, sent


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


def test_a_changed_status_answers_the_new_block(client, app):
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref)
    poll = client.get(f"/o/{ref}/status?since={WAITING}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "Payment received" in poll.text


def test_final_status_stops_the_polling_and_is_cached_by_its_etag(client, app):
    ref = delivered_order(client, app)
    poll = client.get(f"/o/{ref}/status?since={WAITING}",
                      headers={"HX-Request": "true", "Accept-Encoding": "br, gzip"})
    assert poll.status_code == 286 and "delivered to" in poll.text
    assert "Content-Encoding" not in poll.headers and poll.headers["ETag"]
    again = client.get(f"/o/{ref}/status?since=delivered",
                       headers={"HX-Request": "true", "If-None-Match": poll.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_poll_of_an_order_this_browser_never_opened_is_not_found(client, app):
    ref = order_ref(buy(client, app))
    token = get_order(app, ref).view_token
    stranger = app.test_client()
    assert stranger.get(f"/o/{ref}/status?since={WAITING}").status_code == 404
    assert stranger.get(f"/o/{ref}/status?since={WAITING}&t=wrong-token").status_code == 404
    assert stranger.get(f"/o/NOSUCHREF/status?since={WAITING}").status_code == 404
    with_link = stranger.get(f"/o/{ref}/status?since={WAITING}&t={token}")
    assert with_link.status_code == 204 and "Set-Cookie" in with_link.headers   # remembered
    assert stranger.get(f"/o/{ref}/status?since={WAITING}").status_code == 204


def test_unchanged_polls_are_answered_before_flask_with_flasks_own_headers(client, app):
    ref = order_ref(buy(client, app))
    url = f"/o/{ref}/status?since={WAITING}"
    by_flask = client.get(url, headers={"HX-Request": "true"})
    with flask_requests(app) as handled:
        fast = client.get(url, headers={"HX-Request": "true"})
    assert handled == [] and fast.status_code == 204 and fast.data == b""
    assert sorted(fast.headers.items()) == sorted(by_flask.headers.items())
    sandbox_pay(client, app, ref)
    with flask_requests(app) as handled:
        changed = client.get(url, headers={"HX-Request": "true"})
    assert handled == [f"/o/{ref}/status"] and "Payment received" in changed.text


def test_a_forged_session_cookie_gets_no_answer_about_the_order(client, app):
    ref = order_ref(buy(client, app))
    url = f"/o/{ref}/status?since={WAITING}"
    assert client.get(url).status_code == 204
    cookie = client.get_cookie("session").value
    payload, _, signature = cookie.rpartition(".")
    forger = app.test_client()
    forger.set_cookie("session", f"{payload}.{'A' * len(signature)}")
    assert forger.get(url).status_code == 404


def test_a_remembered_cookie_still_expires_when_flasks_would(client, app, monkeypatch):
    ref = order_ref(buy(client, app))
    url = f"/o/{ref}/status?since={WAITING}"
    for _ in range(2):
        assert client.get(url).status_code == 204        # its signature checked and kept
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 60
    monkeypatch.setattr(time, "time", lambda: later)
    with flask_requests(app) as handled:
        expired = client.get(url)
    assert handled == [f"/o/{ref}/status"] and expired.status_code == 404
