"""The reseller's own API page at /account/api: their keys, calls and callbacks; making and
revoking keys only when their price level allows it (the owner's checkbox on the level), the
secret shown once, play saldo reset, and nothing of another account's to see or send again."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import make_app, work
from reseller_accounts import callback_of, get_key, make_key, place, reseller
from shoppers import signed_in

from merchant.core.extensions import db
from merchant.core.models import ApiCallback, ApiKey, AuditEntry, Customer, PriceLevel
from merchant.h2h import calls, keys


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, H2H_CALLBACK_PAUSES=())


def key_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey))


def level_form(name: str, **values) -> dict:
    return {"name": name, "sort_order": "1", "kind": "discount", "percent": "5",
            "currency": "IDR", "flat": "0", "round_to": "100", "spend_days": "30", **values}


def test_the_owners_level_checkbox_decides_who_makes_their_own_keys(app, owner):
    # The owner makes a level with the checkbox on, and one without it.
    assert "Customers at this level may make their own API keys" in \
        owner.get("/admin/levels/new").text
    assert owner.post("/admin/levels/new", data=level_form(
        "Reseller", api_self_service="y")).status_code == 303
    assert owner.post("/admin/levels/new", data=level_form("Member")).status_code == 303
    with app.app_context():
        by_name = {level.name: level for level in db.session.scalars(sa.select(PriceLevel))}
        assert (by_name["Reseller"].api_self_service, by_name["Member"].api_self_service) == \
            (True, False)
        created = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "level.create", AuditEntry.target_id == str(
                by_name["Reseller"].id)))
        assert created.after["api_self_service"] is True
        reseller_id, member_id = by_name["Reseller"].id, by_name["Member"].id
    assert "own API keys" in owner.get("/admin/levels").text
    edit = owner.get(f"/admin/levels/{reseller_id}").text
    checkbox = re.search(r'<input[^>]*name="api_self_service"[^>]*>', edit).group(0)
    assert " checked " in checkbox

    allowed = reseller(app, "allowed@example.com")
    refused = reseller(app, "refused@example.com")
    with app.app_context():
        db.session.get(Customer, allowed).level_id = reseller_id
        db.session.get(Customer, refused).level_id = member_id
        db.session.commit()

    # At Member: the page says to ask the shop; making a key is refused, nothing written.
    member = signed_in(app, refused)
    page = member.get("/account/api")
    assert page.status_code == 200 and "ask the shop" in page.text
    assert "/account/api/keys/new" not in page.text
    assert member.get("/account/api/keys/new").status_code == 403
    refused_post = member.post("/account/api/keys/new", data={"mode": "live", "label": "x"})
    assert refused_post.status_code == 403
    assert key_count(app) == 0

    # At Reseller: the customer makes a key; the secret is on that answer only.
    client = signed_in(app, allowed)
    assert "/account/api/keys/new" in client.get("/account/api").text
    made = client.post("/account/api/keys/new", data={
        "label": "My bot", "mode": "sandbox", "ip_allowlist": "203.0.113.7",
        "callback_url": "https://bot.example/cb"})
    assert made.status_code == 200, made.text
    assert made.headers["Cache-Control"] == "private, no-store"
    key_id = re.search(r'id="new-key-id">(mk_test_[0-9a-f]+)<', made.text).group(1)
    secret = re.search(r'id="new-key-secret">(sk_[A-Za-z0-9_-]+)<', made.text).group(1)
    key = get_key(app, key_id)
    assert (key.customer_id, key.sandbox, key.label, key.created_by) == \
        (allowed, True, "My bot", "allowed@example.com")
    with app.app_context():
        assert keys.usable_secret(db.session.get(ApiKey, key.id)) == secret
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "api_key.create"))
        assert entry.actor == f"customer {allowed}"
    listing = client.get("/account/api").text
    assert key_id in listing and secret not in listing and "Made" in listing

    # The owner turns the checkbox off: the same customer can no longer make or revoke keys.
    assert owner.post(f"/admin/levels/{reseller_id}", data=level_form(
        "Reseller")).status_code == 303
    with app.app_context():
        changed = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "level.update"))
        assert (changed.before, changed.after) == ({"api_self_service": True},
                                                   {"api_self_service": False})
    assert client.post("/account/api/keys/new", data={"mode": "live"}).status_code == 403
    assert client.post(f"/account/api/keys/{key.id}/revoke").status_code == 403
    assert key_count(app) == 1 and get_key(app, key_id).revoked_at is None
    assert "ask the shop" in client.get("/account/api").text


def test_a_reseller_revokes_their_own_key_when_their_level_allows_it(app):
    customer = reseller(app, level="Reseller", self_service=True)
    key = get_key(app, make_key(app, customer, label="Old")[0])
    client = signed_in(app, customer)
    assert "Made" in client.get("/account/api").text
    response = client.post(f"/account/api/keys/{key.id}/revoke")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/api?done=revoked")
    assert get_key(app, key.key_id).revoked_at is not None
    assert "Key revoked" in client.get(response.headers["Location"]).text


def test_the_owners_keys_are_listed_for_a_customer_who_may_not_make_keys(app):
    customer = reseller(app)
    live, _ = make_key(app, customer, label="From the shop", created_by="owner@example.com")
    sandbox, _ = make_key(app, customer, sandbox=True)
    client = signed_in(app, customer)
    page = client.get("/account/api").text
    assert live in page and sandbox in page and "From the shop" in page
    assert "by the shop" in page and "ask the shop" in page and "/api/v1/docs" in page
    assert "/revoke" not in page          # only the shop revokes them
    assert "Play saldo: Rp 1.000.000" in page.replace("\xa0", " ")

    # Edit and play saldo reset are theirs (the allowlist protects them).
    key = get_key(app, live)
    saved = client.post(f"/account/api/keys/{key.id}/edit", data={
        "label": "Website", "ip_allowlist": "198.51.100.0/24",
        "callback_url": "https://me.example/cb", "rate_per_minute": "6000"})
    assert saved.status_code == 303
    changed = get_key(app, live)
    assert (changed.label, changed.ip_allowlist, changed.callback_url,
            changed.rate_per_minute) == ("Website", "198.51.100.0/24", "https://me.example/cb",
                                         key.rate_per_minute)        # the rate is the shop's
    bad = client.post(f"/account/api/keys/{key.id}/edit", data={
        "label": "Website", "ip_allowlist": "", "callback_url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "must be a full http(s) address" in bad.text

    play = get_key(app, sandbox)
    place(app, sandbox, "try-1")
    assert get_key(app, sandbox).play_balance < keys.PLAY_SALDO
    assert client.post(f"/account/api/keys/{play.id}/reset-play-saldo").status_code == 303
    assert get_key(app, sandbox).play_balance == keys.PLAY_SALDO
    assert client.post(f"/account/api/keys/{key.id}/reset-play-saldo").status_code == 404


def test_the_page_needs_a_signed_in_customer_and_is_linked_from_the_account(app, client):
    response = client.get("/account/api")
    assert response.status_code == 303 and "/account/sign-in" in response.headers["Location"]
    assert client.post("/account/api/keys/new", data={"mode": "live"}).status_code == 303
    assert key_count(app) == 0
    customer = reseller(app)
    assert 'href="/account/api"' in signed_in(app, customer).get("/account").text


def test_a_customer_sees_and_resends_only_their_own_callbacks(app, httpserver):
    mine = reseller(app, "mine@example.com", level="Reseller", self_service=True)
    theirs = reseller(app, "theirs@example.com")
    my_key, _ = make_key(app, mine, sandbox=True)
    their_key, _ = make_key(app, theirs, sandbox=True)
    httpserver.expect_request("/cb").respond_with_data("broken", status=500)
    place(app, my_key, "mine-1", callback_url=httpserver.url_for("/cb"))
    place(app, their_key, "theirs-1", callback_url=httpserver.url_for("/cb"))
    with app.app_context():
        calls.record(keys.by_key_id(their_key), "v1", "GET", "/api/v1/orders/theirs-1", 200,
                     "", 5, "198.51.100.77")
        calls.record(keys.by_key_id(my_key), "v1", "GET", "/api/v1/orders/mine-1", 200,
                     "", 5, "203.0.113.8")
    work(app)
    my_callback, their_callback = callback_of(app, "mine-1"), callback_of(app, "theirs-1")
    assert my_callback.next_attempt_at is None and their_callback.next_attempt_at is None

    client = signed_in(app, mine)
    page = client.get("/account/api").text
    assert "mine-1" in page and "Given up" in page and "HTTP 500" in page
    assert "/api/v1/orders/mine-1" in page and "203.0.113.8" in page
    assert "theirs-1" not in page and "198.51.100.77" not in page and their_key not in page

    # Another account's callback and key: as if they did not exist.
    assert client.post(f"/account/api/callbacks/{their_callback.id}/send-again").status_code \
        == 404
    their = get_key(app, their_key)
    assert client.get(f"/account/api/keys/{their.id}/edit").status_code == 404
    assert client.post(f"/account/api/keys/{their.id}/revoke").status_code == 404
    assert client.post(f"/account/api/keys/{their.id}/reset-play-saldo").status_code == 404
    assert get_key(app, their_key).revoked_at is None
    with app.app_context():
        assert db.session.get(ApiCallback, their_callback.id).next_attempt_at is None

    # Their own: queued again, and sent once the receiver answers.
    httpserver.clear()
    httpserver.expect_request("/cb").respond_with_data("ok")
    again = client.post(f"/account/api/callbacks/{my_callback.id}/send-again",
                        headers={"HX-Request": "true"})
    assert again.status_code == 200
    assert again.text.lstrip().startswith(f'<li class="account-order" id="callback-'
                                          f'{my_callback.id}"')
    assert "Next attempt" in again.text
    work(app)
    sent = callback_of(app, "mine-1")
    assert sent.delivered_at is not None and sent.last_http_status == 200
    assert [request.get_json()["ref_id"] for request, _ in httpserver.log] == ["mine-1"]
    assert "Delivered" in client.get("/account/api").text
    plain = client.post(f"/account/api/callbacks/{my_callback.id}/send-again")
    assert plain.status_code == 303 and "done=queued" in plain.headers["Location"]


def test_forms_without_their_token_change_nothing(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    customer = reseller(app, level="Reseller", self_service=True)
    key = get_key(app, make_key(app, customer)[0])
    client = signed_in(app, customer)
    assert client.post("/account/api/keys/new", data={"mode": "live"}).status_code == 400
    assert client.post(f"/account/api/keys/{key.id}/revoke").status_code == 400
    assert key_count(app) == 1 and get_key(app, key.key_id).revoked_at is None
