"""Every /api/v1 call is signed: a wrong key, a changed body, an old timestamp or a replay is
401 with a stable code and nothing written; a revoked key stops at once; an address outside
the allowlist is refused; a key over its rate gets 429 with Retry-After."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa
from resellers import call, headers, make_reseller, ml_order

from merchant.core.extensions import db
from merchant.core.models import ApiCall, ApiKey, ApiOrder, Order
from merchant.customers import ledger
from merchant.h2h import keys


def _nothing_written(app, reseller, saldo=200_000):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiOrder)) == 0
        assert ledger.balance(reseller.customer_id, "IDR").amount == saldo


def _code(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["error"]["code"]


def test_unsigned_and_unknown_keys_are_refused(app, client):
    dewi = make_reseller(app)
    assert _code(client.get("/api/v1/profile")) == (401, "MISSING_AUTH")
    stranger = type(dewi)(dewi.customer_id, "mk_live_00000000000000000000", dewi.secret)
    assert _code(call(client, stranger, "GET", "/api/v1/profile")) == (401, "UNKNOWN_KEY")


def test_wrong_secret_and_changed_body_are_refused_and_write_nothing(app, client):
    dewi = make_reseller(app)
    order = ml_order(client, dewi)
    wrong = call(client, dewi, "POST", "/api/v1/orders", json=order, secret="sk_guessed")
    assert _code(wrong) == (401, "INVALID_SIGNATURE")
    body = json.dumps(order).encode()
    signed = headers(dewi, "POST", "/api/v1/orders", body)
    changed = json.dumps(order | {"sku": "mobile-legends-3"}).encode()
    answer = client.post("/api/v1/orders", data=changed,
                         headers=signed | {"Content-Type": "application/json"})
    assert _code(answer) == (401, "INVALID_SIGNATURE")
    other_path = client.get("/api/v1/orders/INV-1",
                            headers=headers(dewi, "GET", "/api/v1/profile"))
    assert _code(other_path) == (401, "INVALID_SIGNATURE")
    _nothing_written(app, dewi)


def test_old_timestamp_is_refused(app, client):
    dewi = make_reseller(app)
    order = ml_order(client, dewi)
    old = call(client, dewi, "POST", "/api/v1/orders", json=order,
               timestamp=int(time.time()) - 301)
    assert _code(old) == (401, "TIMESTAMP_SKEW")
    future = call(client, dewi, "GET", "/api/v1/profile", timestamp=int(time.time()) + 400)
    assert _code(future) == (401, "TIMESTAMP_SKEW")
    _nothing_written(app, dewi)


def test_a_replayed_request_is_refused(app, client):
    dewi = make_reseller(app)
    order = ml_order(client, dewi)
    body = json.dumps(order).encode()
    signed = headers(dewi, "POST", "/api/v1/orders", body) | {"Content-Type": "application/json"}
    assert client.post("/api/v1/orders", data=body, headers=signed).status_code == 201
    replay = client.post("/api/v1/orders", data=body, headers=signed)
    assert _code(replay) == (401, "REPLAYED")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert ledger.balance(dewi.customer_id, "IDR").amount == 200_000 - 22_000


def test_a_revoked_key_stops_at_once(app, client):
    dewi = make_reseller(app)
    order = ml_order(client, dewi)
    assert call(client, dewi, "GET", "/api/v1/profile").status_code == 200
    with app.app_context():
        keys.revoke(keys.by_key_id(dewi.key_id))
    assert _code(call(client, dewi, "POST", "/api/v1/orders", json=order)) == \
        (401, "KEY_REVOKED")
    _nothing_written(app, dewi)


def test_an_address_outside_the_allowlist_is_refused(app, client):
    dewi = make_reseller(app, ip_allowlist="203.0.113.0/24")
    order = ml_order(client, make_reseller(app, email="budi@example.com", saldo=0))
    answer = call(client, dewi, "POST", "/api/v1/orders", json=order)
    assert _code(answer) == (403, "IP_NOT_ALLOWED")
    _nothing_written(app, dewi)
    body = json.dumps(order).encode()
    allowed = client.post("/api/v1/orders", data=body, environ_base={"REMOTE_ADDR": "203.0.113.9"},
                          headers=headers(dewi, "POST", "/api/v1/orders", body)
                          | {"Content-Type": "application/json"})
    assert allowed.status_code == 201


def test_a_key_over_its_rate_waits(app, client):
    dewi = make_reseller(app, rate_per_minute=3)
    answers = [call(client, dewi, "GET", "/api/v1/profile") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    other = make_reseller(app, email="budi@example.com")
    assert call(client, other, "GET", "/api/v1/profile").status_code == 200


def test_every_call_is_in_the_log(app, client):
    dewi = make_reseller(app)
    call(client, dewi, "GET", "/api/v1/profile")
    call(client, dewi, "GET", "/api/v1/profile", secret="sk_wrong")
    with app.app_context():
        logged = db.session.execute(sa.select(ApiCall.path, ApiCall.status, ApiCall.code,
                                              ApiCall.key_id).order_by(ApiCall.id)).all()
        key_id = keys.by_key_id(dewi.key_id).id
    assert [(path, status, code) for path, status, code, _ in logged] == [
        ("/api/v1/profile", 200, ""), ("/api/v1/profile", 401, "INVALID_SIGNATURE")]
    assert logged[0].key_id == key_id


def test_the_database_alone_cannot_sign(app):
    dewi = make_reseller(app)
    with app.app_context():
        row = keys.by_key_id(dewi.key_id)
        stored = " ".join(str(getattr(row, c.key)) for c in ApiKey.__table__.columns)
        assert dewi.secret not in stored
        assert keys.usable_secret(row) == dewi.secret
    other = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key"
    try:
        with app.app_context():
            assert keys.usable_secret(keys.by_key_id(dewi.key_id)) is None
    finally:
        app.config["SECRET_KEY"] = other


def test_an_address_guessing_keys_is_stopped_before_the_database(app, client):
    app.config["RATELIMIT_API_REFUSED"] = "3 per minute"
    dewi = make_reseller(app)
    for _ in range(3):
        assert _code(call(client, dewi, "GET", "/api/v1/profile", secret="sk_guess")) == \
            (401, "INVALID_SIGNATURE")
    stopped = call(client, dewi, "GET", "/api/v1/profile")       # even signed right
    assert _code(stopped) == (429, "RATE_LIMITED")
    elsewhere = client.get("/api/v1/profile", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                           headers=headers(dewi, "GET", "/api/v1/profile"))
    assert elsewhere.status_code == 200
    with app.app_context():
        logged = db.session.scalar(sa.select(sa.func.count()).select_from(ApiCall)
                                   .where(ApiCall.status == 401))
    assert logged == 3


def test_signed_calls_do_not_count_against_the_address(app, client):
    app.config["RATELIMIT_API_REFUSED"] = "3 per minute"
    dewi = make_reseller(app)
    assert all(call(client, dewi, "GET", "/api/v1/profile").status_code == 200
               for _ in range(6))
