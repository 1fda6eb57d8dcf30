"""Nickname checks through the real app against the fake Apigames and VIP Reseller servers."""
from __future__ import annotations

import datetime as dt
import os
import re

import pytest
import sqlalchemy as sa
from conftest import get_order, make_app, order_ref, package_id, set_product

from merchant.catalog import accounts
from merchant.core.extensions import db
from merchant.core.models import NicknameCache
from tests.fakes.apigames import FakeApigames
from tests.fakes.vipreseller import FakeVipReseller

HTMX = {"HX-Request": "true"}
ML = {"user_id": "12345678", "zone_id": "1234"}


@pytest.fixture
def apigames(httpserver):
    fake = FakeApigames(httpserver)
    yield fake
    fake.release()


@pytest.fixture
def app(tmp_path, apigames):
    app = make_app(tmp_path, **apigames.settings)
    set_product(app, "mobile-legends", verifier="apigames", verifier_code="mobilelegend")
    return app


def check(client, slug="mobile-legends", htmx=True, **account):
    return client.post(f"/p/{slug}/verify", data=account or ML, headers=HTMX if htmx else {})


def order_form(client, app, slug="mobile-legends", package="86 Diamonds", **extra):
    return {"package": package_id(app, slug, package), "method": "QRIS",
            "email": "buyer@example.com", "idempotency_key": os.urandom(8).hex(), **extra}


def token_in(response) -> str | None:
    match = re.search(r'name="verification_token" value="([^"]+)"', response.text)
    return match.group(1) if match else None


def test_found_shows_the_apigames_nickname_and_buys_with_it(client, app, apigames):
    apigames.add_account("mobilelegend", "12345678", "RRQ·Lemon", zone_id="1234")
    response = check(client)
    assert response.status_code == 200
    assert "Account found" in response.text and "RRQ·Lemon" in response.text
    form = order_form(client, app, **ML, verification_token=token_in(response))
    ref = order_ref(client.post("/p/mobile-legends/order", data=form))
    assert get_order(app, ref).nickname == "RRQ·Lemon"


def test_missing_account_is_a_clear_message(client, app, apigames):
    response = check(client)
    assert response.status_code == 422
    assert "We could not find this account" in response.text
    assert token_in(response) is None


def test_two_checks_make_one_lookup_found_and_missing_alike(client, app, apigames):
    apigames.add_account("mobilelegend", "12345678", "RRQ·Lemon", zone_id="1234")
    assert "RRQ·Lemon" in check(client).text
    assert "RRQ·Lemon" in check(client).text
    assert apigames.lookup_count("mobilelegend", "12345678", "1234") == 1

    missing = {"user_id": "87654321", "zone_id": "1234"}
    assert check(client, **missing).status_code == 422
    assert check(client, **missing).status_code == 422
    assert apigames.lookup_count("mobilelegend", "87654321", "1234") == 1


def test_cache_lifetimes_are_10_minutes_found_and_2_minutes_missing(client, app, apigames):
    apigames.add_account("mobilelegend", "12345678", "RRQ·Lemon", zone_id="1234")
    check(client)
    check(client, user_id="87654321", zone_id="1234")
    with app.app_context():
        now = accounts.utcnow()
        rows = {r.status: r.expires_at - now for r in db.session.scalars(sa.select(NicknameCache))}
    assert dt.timedelta(minutes=9) < rows["found"] <= dt.timedelta(minutes=10)
    assert dt.timedelta(minutes=1) < rows["not_found"] <= dt.timedelta(minutes=2)

    with app.app_context():                  # 10 minutes pass
        db.session.execute(sa.update(NicknameCache).values(expires_at=now))
        db.session.commit()
    check(client)
    assert apigames.lookup_count("mobilelegend", "12345678", "1234") == 2


def test_provider_down_says_so_is_not_cached_and_buy_is_refused(client, app, apigames):
    apigames.down = True
    response = check(client)
    assert response.status_code == 422
    assert "We could not check this account right now" in response.text
    assert token_in(response) is None and "Continue without checking" not in response.text
    refused = client.post("/p/mobile-legends/order", data=order_form(client, app, **ML))
    assert refused.status_code == 422 and "Check your account first" in refused.text

    apigames.down = False
    apigames.add_account("mobilelegend", "12345678", "RRQ·Lemon", zone_id="1234")
    assert "RRQ·Lemon" in check(client).text                 # the outage was not cached


def test_outage_offers_to_continue_unverified_only_where_allowed(client, app, apigames):
    set_product(app, "mobile-legends", allow_unverified=True)
    apigames.down = True
    response = check(client)
    assert "We could not check this account right now" in response.text
    assert "Continue without checking" in response.text
    token = token_in(response)

    unticked = order_form(client, app, **ML, verification_token=token)
    refused = client.post("/p/mobile-legends/order", data=unticked)
    assert refused.status_code == 422 and "Continue without checking" in refused.text
    assert 'name="continue_unverified"' in refused.text      # the choice is still offered
    assert token_in(refused) == token

    ticked = order_form(client, app, **ML, verification_token=token, continue_unverified="1")
    ref = order_ref(client.post("/p/mobile-legends/order", data=ticked))
    order = get_order(app, ref)
    assert order.nickname is None and order.account == ML

    set_product(app, "mobile-legends", allow_unverified=False)   # the operator changed it
    again = order_form(client, app, **ML, verification_token=token, continue_unverified="1")
    refused = client.post("/p/mobile-legends/order", data=again)
    assert refused.status_code == 422 and "must be checked" in refused.text


def test_unverified_token_cannot_be_moved_to_another_account(client, app, apigames):
    set_product(app, "mobile-legends", allow_unverified=True)
    apigames.down = True
    token = token_in(check(client))
    other = {"user_id": "99999999", "zone_id": "1234"}
    form = order_form(client, app, **other, verification_token=token, continue_unverified="1")
    refused = client.post("/p/mobile-legends/order", data=form)
    assert refused.status_code == 422 and "changed after it was checked" in refused.text


def test_rate_limit_answers_429_with_a_clear_message(tmp_path, apigames):
    app = make_app(tmp_path, **apigames.settings, RATELIMIT_VERIFY="2 per minute")
    client = app.test_client()
    assert check(client).status_code == 200           # the sandbox verifier: found
    assert check(client).status_code == 200
    limited = check(client)
    assert limited.status_code == 429
    assert "Too many checks, wait a minute" in limited.text
    assert 'id="account-check"' in limited.text and "<html" not in limited.text
    page = check(client, htmx=False)
    assert page.status_code == 429
    assert "<html" in page.text and "Too many checks, wait a minute" in page.text


def test_uncheckable_product_takes_the_id_typed_twice(client, app):
    set_product(app, "free-fire", verifier="none")
    page = client.get("/p/free-fire").text
    assert 'name="confirm_player_id"' in page and "cannot be checked" in page

    ok = check(client, slug="free-fire", player_id="123456789", confirm_player_id="123456789")
    assert ok.status_code == 200 and "Both entries match" in ok.text
    bad = check(client, slug="free-fire", player_id="123456789", confirm_player_id="123456780")
    assert bad.status_code == 422 and "do not match" in bad.text

    mismatch = order_form(client, app, slug="free-fire", package="70 Diamonds",
                          player_id="123456789", confirm_player_id="12345678")
    refused = client.post("/p/free-fire/order", data=mismatch)
    assert refused.status_code == 422 and "do not match" in refused.text

    matching = order_form(client, app, slug="free-fire", package="70 Diamonds",
                          player_id="123456789", confirm_player_id="1234 56789")
    ref = order_ref(client.post("/p/free-fire/order", data=matching))
    order = get_order(app, ref)
    assert order.account == {"player_id": "123456789"} and order.nickname is None


def test_checked_product_still_needs_a_token_even_with_confirm_fields(client, app, apigames):
    form = order_form(client, app, **ML, confirm_user_id=ML["user_id"])
    refused = client.post("/p/mobile-legends/order", data=form)
    assert refused.status_code == 422 and "Check your account first" in refused.text


@pytest.fixture
def vip(httpserver):
    fake = FakeVipReseller(httpserver)
    yield fake
    fake.release()


@pytest.fixture
def vip_app(tmp_path, vip):
    app = make_app(tmp_path, **vip.settings)
    set_product(app, "mobile-legends", verifier="vipreseller", verifier_code="mobile-legends")
    return app


def test_vip_reseller_found_missing_down_and_cached(vip_app, vip):
    client = vip_app.test_client()
    vip.add_account("mobile-legends", "12345678", "Jess No Limit", additional="1234")
    found = check(client)
    assert found.status_code == 200 and "Jess No Limit" in found.text
    assert "Jess No Limit" in check(client).text
    assert vip.lookup_count("mobile-legends", "12345678", "1234") == 1

    missing = check(client, user_id="11111111", zone_id="1234")
    assert missing.status_code == 422 and "We could not find this account" in missing.text

    vip.refusal = "Saldo anda tidak mencukupi."
    down = check(client, user_id="22222222", zone_id="1234")
    assert down.status_code == 422 and "could not check this account right now" in down.text
