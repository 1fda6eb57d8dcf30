"""Callbacks: every change of an API order is POSTed to the reseller's URL, signed; a failing
receiver is tried again after growing pauses and then given up, in a log that can send it
again; deliveries never wait for it."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa
from resellers import call, make_reseller, ml_order
from werkzeug import Response

from merchant.core.extensions import db
from merchant.core.models import ApiCallback
from merchant.h2h import callbacks, signing
from tests.conftest import work


def _received(server) -> list[tuple[dict, dict]]:
    return [(json.loads(request.get_data()), dict(request.headers)) for request, _ in server.log]


def test_a_delivered_order_is_told_once_signed(app, client, vendor_server):
    vendor_server.expect_request("/cb", method="POST").respond_with_data("ok")
    dewi = make_reseller(app, callback_url=vendor_server.url_for("/cb"))
    placed = call(client, dewi, "POST", "/api/v1/orders", json=ml_order(client, dewi))
    order_id = placed.get_json()["order"]["order_id"]
    work(app, passes=3)
    received = _received(vendor_server)
    assert len(received) == 1
    body, sent = received[0]
    assert body["ref_id"] == "INV-1" and body["order_id"] == order_id
    assert body["status"] == "success" and body["sn"].startswith("SN ")
    assert body["balance_after"] == 200_000 - 22_000
    raw = vendor_server.log[0][0].get_data()
    assert signing.callback_valid(dewi.secret, sent["X-Signature"], raw, int(time.time()))
    assert not signing.callback_valid("sk_other", sent["X-Signature"], raw, int(time.time()))
    assert sent["X-Event-Id"] == body["event_id"]
    work(app, passes=2)
    assert len(vendor_server.log) == 1                  # told once


def test_the_order_callback_url_wins_over_the_key(app, client, vendor_server):
    vendor_server.expect_request("/order-cb", method="POST").respond_with_data("ok")
    dewi = make_reseller(app, callback_url="https://example.invalid/cb")
    body = ml_order(client, dewi) | {"callback_url": vendor_server.url_for("/order-cb")}
    call(client, dewi, "POST", "/api/v1/orders", json=body)
    work(app, passes=3)
    assert [b["status"] for b, _ in _received(vendor_server)] == ["success"]


def test_a_failing_receiver_is_tried_after_pauses_then_given_up(app, client, vendor_server,
                                                                  clock):
    answers = iter([500, 503])
    vendor_server.expect_request("/cb").respond_with_handler(
        lambda request: Response("no", status=next(answers, 200)))
    app.config["H2H_CALLBACK_PAUSES"] = (60, 300)
    dewi = make_reseller(app, sandbox=True, callback_url=vendor_server.url_for("/cb"))
    call(client, dewi, "POST", "/api/v1/orders", json=ml_order(client, dewi))
    work(app)
    assert len(vendor_server.log) == 1
    work(app)
    assert len(vendor_server.log) == 1                  # not before its pause
    clock.advance(61)
    work(app)
    assert len(vendor_server.log) == 2
    clock.advance(301)
    work(app)
    assert len(vendor_server.log) == 3
    with app.app_context():
        row = db.session.scalar(sa.select(ApiCallback))
        assert row.delivered_at is not None and row.attempts == 3
        assert row.last_http_status == 200


def test_given_up_and_sent_again(app, client, vendor_server, clock):
    vendor_server.expect_request("/cb").respond_with_data("down", status=500)
    app.config["H2H_CALLBACK_PAUSES"] = (60,)
    dewi = make_reseller(app, sandbox=True, callback_url=vendor_server.url_for("/cb"))
    call(client, dewi, "POST", "/api/v1/orders", json=ml_order(client, dewi))
    work(app)
    clock.advance(61)
    work(app)
    clock.advance(3600)
    work(app)
    assert len(vendor_server.log) == 2
    with app.app_context():
        row = db.session.scalar(sa.select(ApiCallback))
        assert row.next_attempt_at is None and row.delivered_at is None
        assert row.last_error == "HTTP 500"
    vendor_server.clear()
    vendor_server.expect_request("/cb").respond_with_data("ok")
    with app.app_context():
        callbacks.send_again(db.session.scalar(sa.select(ApiCallback)))
    work(app)
    assert len(vendor_server.log) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(ApiCallback)).delivered_at is not None


def test_a_slow_sandbox_order_is_told_when_it_finishes(app, client, vendor_server):
    vendor_server.expect_request("/cb").respond_with_data("ok")
    dewi = make_reseller(app, sandbox=True, callback_url=vendor_server.url_for("/cb"))
    placed = call(client, dewi, "POST", "/api/v1/orders",
                  json=ml_order(client, dewi, user_id="12345777"))
    assert placed.get_json()["order"]["status"] == "pending"
    work(app)
    assert vendor_server.log == []
    time.sleep(0.6)                                     # SANDBOX_SUPPLIER_SLOW_SECONDS
    work(app, passes=2)
    assert [b["status"] for b, _ in _received(vendor_server)] == ["success"]


def test_callbacks_to_private_addresses_are_refused_in_production(app, client, vendor_server):
    vendor_server.expect_request("/cb").respond_with_data("ok")
    app.config["H2H_CALLBACK_PRIVATE_OK"] = False
    dewi = make_reseller(app, sandbox=True, callback_url=vendor_server.url_for("/cb"))
    call(client, dewi, "POST", "/api/v1/orders", json=ml_order(client, dewi))
    work(app)
    assert vendor_server.log == []
    with app.app_context():
        assert "private address" in db.session.scalar(sa.select(ApiCallback)).last_error
