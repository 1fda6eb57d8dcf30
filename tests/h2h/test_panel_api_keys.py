"""The owner's side of resellers' API keys: making a key on a customer's page (its secret shown
once, and it really signs), editing, revoking (refused from the next call), a sandbox key's
play saldo, staff kept out, and the API page's call and callback logs with Send again."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import sqlalchemy as sa
from conftest import make_app, work
from reseller_accounts import callback_of, get_key, make_key, place, reseller
from werkzeug import Response

from merchant.core import clock
from merchant.core.extensions import db
from merchant.core.models import ApiCallback, ApiKey, AuditEntry
from merchant.h2h import access, calls, keys, signing
from merchant.h2h.errors import ApiError


@pytest.fixture
def app(tmp_path):
    # One failed send and the callback is given up: Send again is what brings it back.
    return make_app(tmp_path, H2H_CALLBACK_PAUSES=())


def signed_call(app, key_id: str, secret: str) -> ApiKey:
    """A request signed with `secret` the way a reseller's program signs it, checked as the
    API checks every call: the key that signed it."""
    with app.app_context():
        timestamp, nonce = str(int(clock.timestamp())), uuid.uuid4().hex
        signature = signing.sign_request(secret, "GET", "/api/v1/profile", timestamp, nonce, b"")
        return access.authenticate(access.SignedRequest(
            key_id=key_id, timestamp=timestamp, nonce=nonce, signature=signature,
            method="GET", path="/api/v1/profile", body=b"", address="203.0.113.7"))


def keys_of(app, customer_id: int) -> list[ApiKey]:
    with app.app_context():
        found = keys.of_customer(customer_id)
        db.session.expunge_all()
        return found


def audit_actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(entry.action, entry.actor) for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("api_key.%"))
            .order_by(AuditEntry.id))]


def test_owner_makes_a_key_and_sees_its_secret_once(app, owner):
    customer = reseller(app)
    form = owner.get(f"/admin/customers/{customer}/api-keys/new")
    assert form.status_code == 200 and "Make the key" in form.text

    made = owner.post(f"/admin/customers/{customer}/api-keys/new", data={
        "label": "Website", "mode": "live", "ip_allowlist": "203.0.113.7, 198.51.100.0/24",
        "callback_url": "https://reseller.example/callback", "rate_per_minute": "30"})
    assert made.status_code == 200, made.text
    key_id = re.search(r'id="new-key-id">(mk_live_[0-9a-f]+)<', made.text).group(1)
    secret = re.search(r'id="new-key-secret">(sk_[A-Za-z0-9_-]+)<', made.text).group(1)
    assert "shown only this once" in made.text
    assert made.headers["Cache-Control"] == "no-store"

    key = get_key(app, key_id)
    assert (key.customer_id, key.label, key.sandbox, key.ip_allowlist, key.callback_url,
            key.rate_per_minute, key.created_by) == (
        customer, "Website", False, "203.0.113.7/32 198.51.100.0/24",
        "https://reseller.example/callback", 30, "owner@example.com")
    with app.app_context():
        assert keys.usable_secret(db.session.get(ApiKey, key.id)) == secret
    assert signed_call(app, key_id, secret).id == key.id        # the secret really signs

    # The customer's page lists the key, never its secret again.
    page = owner.get(f"/admin/customers/{customer}")
    assert key_id in page.text and "Website" in page.text
    assert secret not in page.text and secret not in owner.get(f"/admin/customers/{customer}").text
    assert "https://reseller.example/callback" in page.text
    assert audit_actions(app) == [("api_key.create", "owner@example.com")]


def test_a_refused_key_form_says_why_and_makes_nothing(app, owner):
    customer = reseller(app)
    response = owner.post(f"/admin/customers/{customer}/api-keys/new", data={
        "mode": "sandbox", "ip_allowlist": "203.0.113.300", "callback_url": "ftp://x"})
    assert response.status_code == 422
    assert "203.0.113.300 is not an IP address or network" in response.text
    assert "The callback URL must be a full http(s) address" in response.text
    assert keys_of(app, customer) == []
    assert owner.post("/admin/customers/999999/api-keys/new", data={}).status_code == 404


def test_revoking_stops_the_key_at_once(app, owner):
    customer = reseller(app)
    key_id, secret = make_key(app, customer, label="Bot")
    assert signed_call(app, key_id, secret).key_id == key_id
    key = get_key(app, key_id)

    response = owner.post(f"/admin/api-keys/{key.id}/revoke")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/customers/{customer}#api-keys")
    with app.app_context():
        with pytest.raises(ApiError) as refused:
            access.live_key(key_id, "203.0.113.7")
        assert refused.value.code == "KEY_REVOKED"
    with pytest.raises(ApiError) as refused:
        signed_call(app, key_id, secret)
    assert refused.value.code == "KEY_REVOKED"
    assert get_key(app, key_id).revoked_at is not None
    page = owner.get(f"/admin/customers/{customer}").text
    assert "revoked" in page and f"/admin/api-keys/{key.id}/revoke" not in page
    # Twice is harmless; one audit entry.
    assert owner.post(f"/admin/api-keys/{key.id}/revoke").status_code == 303
    assert audit_actions(app) == [("api_key.revoke", "owner@example.com")]


def test_revoke_through_htmx_is_answered_with_a_redirect(app, owner):
    customer = reseller(app)
    key = get_key(app, make_key(app, customer)[0])
    response = owner.post(f"/admin/api-keys/{key.id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith(f"/admin/customers/{customer}#api-keys")
    assert get_key(app, key.key_id).revoked_at is not None


def test_owner_edits_a_key_and_resets_its_play_saldo(app, owner):
    customer = reseller(app)
    key = get_key(app, make_key(app, customer, sandbox=True, label="Test")[0])
    form = owner.get(f"/admin/api-keys/{key.id}/edit")
    assert form.status_code == 200 and 'value="Test"' in form.text

    bad = owner.post(f"/admin/api-keys/{key.id}/edit", data={
        "label": "Renamed", "ip_allowlist": "not-an-address", "callback_url": ""})
    assert bad.status_code == 422 and "not-an-address is not an IP address" in bad.text
    assert get_key(app, key.key_id).label == "Test"

    saved = owner.post(f"/admin/api-keys/{key.id}/edit", data={
        "label": "Renamed", "ip_allowlist": "198.51.100.4", "callback_url":
        "https://reseller.example/cb", "rate_per_minute": "15"})
    assert saved.status_code == 303
    changed = get_key(app, key.key_id)
    assert (changed.label, changed.ip_allowlist, changed.callback_url,
            changed.rate_per_minute) == ("Renamed", "198.51.100.4/32",
                                         "https://reseller.example/cb", 15)

    place(app, key.key_id, "play-1")            # spends play saldo
    spent = get_key(app, key.key_id).play_balance
    assert spent < keys.PLAY_SALDO
    assert "Reset play saldo" in owner.get(f"/admin/customers/{customer}").text
    assert owner.post(f"/admin/api-keys/{key.id}/reset-play-saldo").status_code == 303
    assert get_key(app, key.key_id).play_balance == keys.PLAY_SALDO
    assert audit_actions(app) == [("api_key.update", "owner@example.com")]

    # A live key has no play saldo to reset.
    live = get_key(app, make_key(app, customer)[0])
    assert owner.post(f"/admin/api-keys/{live.id}/reset-play-saldo").status_code == 303
    assert "Only a sandbox key has play saldo" in owner.get(f"/admin/customers/{customer}").text


def test_staff_can_neither_make_nor_change_nor_revoke_keys(app, staff):
    customer = reseller(app)
    key_id, _secret = make_key(app, customer, sandbox=True, label="Owner's")
    key = get_key(app, key_id)
    before = keys_of(app, customer)

    for url, data in [(f"/admin/customers/{customer}/api-keys/new", {"mode": "live"}),
                      (f"/admin/api-keys/{key.id}/edit", {"label": "mine"}),
                      (f"/admin/api-keys/{key.id}/revoke", {}),
                      (f"/admin/api-keys/{key.id}/reset-play-saldo", {})]:
        response = staff.post(url, data=data)
        assert response.status_code == 403, url
        assert "Only the owner can open this" in response.text
    assert staff.get("/admin/api").status_code == 403

    after = keys_of(app, customer)
    assert [(k.key_id, k.label, k.revoked_at) for k in after] == \
        [(k.key_id, k.label, k.revoked_at) for k in before]
    assert audit_actions(app) == []
    # Staff see the customer's keys, without the owner's buttons.
    page = staff.get(f"/admin/customers/{customer}").text
    assert key_id in page
    assert "/revoke" not in page and "New API key" not in page


def test_the_api_page_lists_the_latest_calls_across_keys(app, owner):
    first = reseller(app, "one@example.com")
    second = reseller(app, "two@example.com")
    one = get_key(app, make_key(app, first)[0])
    two = get_key(app, make_key(app, second, sandbox=True)[0])
    with app.app_context():
        calls.record(db.session.get(ApiKey, one.id), "v1", "POST", "/api/v1/orders", 402,
                     "INSUFFICIENT_BALANCE", 38, "203.0.113.7")
        calls.record(db.session.get(ApiKey, two.id), "digiflazz", "POST",
                     "/api/digiflazz/v1/transaction", 200, "00", 12, "198.51.100.9")
        calls.record(None, "v1", "GET", "/api/v1/profile", 401, "UNKNOWN_KEY", 2, "192.0.2.1")

    menu = owner.get("/admin/").text
    assert 'href="/admin/api"' in menu
    page = owner.get("/admin/api")
    assert page.status_code == 200
    text = page.text
    for expected in [one.key_id, two.key_id, "one@example.com", "two@example.com",
                     "INSUFFICIENT_BALANCE", "POST /api/v1/orders", "/api/digiflazz/v1/transaction",
                     "203.0.113.7", "198.51.100.9", "UNKNOWN_KEY", "no key", "/api/v1/docs"]:
        assert expected in text, expected
    # Newest first.
    assert text.index("UNKNOWN_KEY") < text.index("/api/digiflazz/v1/transaction") \
        < text.index("INSUFFICIENT_BALANCE")
    # A customer's page shows that customer's calls only.
    mine = owner.get(f"/admin/customers/{first}").text
    assert "INSUFFICIENT_BALANCE" in mine and "/api/digiflazz/v1/transaction" not in mine


def test_send_again_brings_back_a_given_up_callback(app, owner, httpserver):
    customer = reseller(app)
    key_id, secret = make_key(app, customer, sandbox=True)
    httpserver.expect_request("/callback").respond_with_data("down", status=500)
    url = httpserver.url_for("/callback")
    place(app, key_id, "cb-1", callback_url=url)
    work(app)
    given_up = callback_of(app, "cb-1")
    assert (given_up.attempts, given_up.last_http_status, given_up.next_attempt_at,
            given_up.delivered_at) == (1, 500, None, None)

    page = owner.get("/admin/api").text
    row = page[page.index(f'id="callback-{given_up.id}"'):]
    row = row[:row.index("</tr>")]
    assert "cb-1" in row and "given up" in row and "HTTP 500" in row and url in row
    assert "reseller@example.com" in row and "success" in row
    assert f"callback-{given_up.id}" in owner.get(f"/admin/customers/{customer}").text

    # The reseller mends their receiver; the owner presses Send again (with htmx: the row).
    httpserver.clear()
    httpserver.expect_request("/callback").respond_with_data("ok")
    again = owner.post(f"/admin/api/callbacks/{given_up.id}/send-again",
                       headers={"HX-Request": "true"})
    assert again.status_code == 200
    assert again.text.lstrip().startswith(f'<tr id="callback-{given_up.id}"')
    assert "next attempt" in again.text and "Queued" in again.text
    assert callback_of(app, "cb-1").next_attempt_at is not None
    work(app)
    sent = callback_of(app, "cb-1")
    assert (sent.attempts, sent.last_http_status, sent.last_error) == (2, 200, "")
    assert sent.delivered_at is not None and sent.next_attempt_at is None
    request, _response = httpserver.log[-1]
    assert request.headers["X-Event-Id"] == sent.event_id
    header = request.headers["X-Signature"]
    assert signing.callback_valid(secret, header, request.get_data(), int(time.time()))
    assert "delivered" in owner.get("/admin/api").text

    # Without JavaScript: a plain post, back to the page it came from.
    plain = owner.post(f"/admin/api/callbacks/{given_up.id}/send-again",
                       data={"back": "customer"})
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/admin/customers/{customer}#api-callbacks")
    assert owner.post("/admin/api/callbacks/999999/send-again").status_code == 404


def test_staff_cannot_send_a_callback_again(app, staff, httpserver):
    customer = reseller(app)
    key_id, _secret = make_key(app, customer, sandbox=True)
    httpserver.expect_request("/callback").respond_with_response(Response("down", 503))
    place(app, key_id, "cb-2", callback_url=httpserver.url_for("/callback"))
    work(app)
    callback = callback_of(app, "cb-2")
    assert staff.post(f"/admin/api/callbacks/{callback.id}/send-again").status_code == 403
    with app.app_context():
        assert db.session.get(ApiCallback, callback.id).next_attempt_at is None
