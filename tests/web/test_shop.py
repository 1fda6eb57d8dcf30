"""The storefront through the real app: catalog, account check, summary, Buy, order page."""
from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import sqlalchemy as sa
from conftest import buy, get_order, history, make_app, order_ref, package_id, sandbox_pay, verify

from merchant.config import ConfigError
from merchant.core.extensions import db
from merchant.core.models import Order, WebhookEvent
from merchant.vendors.payments.sandbox import SandboxGateway

HX = {"HX-Request": "true"}


def count_orders(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


def test_catalog_lists_every_demo_game(client):
    page = client.get("/").text
    for name in ("TikTok Coins", "Mobile Legends", "Free Fire", "PUBG Mobile", "Genshin Impact"):
        assert name in page
    assert page.count('class="tile"') == 5


def test_product_page_shows_fields_help_packages_and_fees(client):
    page = client.get("/p/mobile-legends").text
    assert 'name="user_id"' in page and 'name="zone_id"' in page
    assert "Where do I find my ID?" in page and "in brackets" in page
    assert page.count('name="package"') == 8
    assert "Rp 22.000" in page and "Weekly Diamond Pass" in page
    assert "fee 0,7%" in page                      # QRIS, as written in Indonesia
    assert "fee Rp 2.000 + 2,9%" in page           # card
    assert "Vary" not in page
    assert client.get("/p/no-such-game").status_code == 404


def test_genshin_server_is_chosen_from_a_list(client):
    page = client.get("/p/genshin-impact").text
    assert '<select name="server"' in page and "<option>Europe</option>" in page
    response = client.post("/p/genshin-impact/verify", data={"uid": "812345678",
                                                             "server": "Moon"}, headers=HX)
    assert response.status_code == 422 and "Choose your Server from the list" in response.text


@pytest.mark.parametrize("account, status, message", [
    ({"username": "demo_user"}, 200, "Account found"),
    ({"username": "missing_friend"}, 422, "could not find this account"),
    ({"username": "no spaces!"}, 422, "2-24 letters, digits, dots or underscores"),
    ({"username": ""}, 422, "Enter your TikTok username"),
])
def test_account_check_partial(client, account, status, message):
    response = client.post("/p/tiktok-coins/verify", data=account, headers=HX)
    assert response.status_code == status
    assert message in response.text
    assert response.text.lstrip().startswith('<div id="account-check"')   # a fragment
    assert "HX-Request" in response.headers["Vary"]
    assert ('name="verification_token"' in response.text) == (status == 200)


def test_account_check_without_javascript_rerenders_the_page_with_the_values(client):
    response = client.post("/p/mobile-legends/verify",
                           data={"user_id": "00012345", "zone_id": "2345", "email": "a@b.co",
                                 "package": "2"})
    assert response.status_code == 422
    assert "<html" in response.text and "could not find this account" in response.text
    assert 'value="00012345"' in response.text and 'value="a@b.co"' in response.text
    found = client.post("/p/mobile-legends/verify", data={"user_id": "12345678",
                                                          "zone_id": "2345"})
    assert found.status_code == 200
    assert re.search(r"Account found: <strong[^>]*>Player-", found.text)


def test_check_on_blur_waits_until_every_field_is_filled(client):
    response = client.post("/p/mobile-legends/verify",
                           data={"user_id": "12345678", "zone_id": "", "auto": "1"}, headers=HX)
    assert response.status_code == 200
    assert "error" not in response.text and "Account found" not in response.text


def test_summary_shows_price_fee_and_total(client, app):
    pkg = package_id(app, "pubg-mobile", "325 UC")
    response = client.get(f"/p/pubg-mobile/summary?package={pkg}&method=CARD", headers=HX)
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.text)
    assert "Rp 75.000" in text and "Rp 4.175" in text and "Rp 79.175" in text
    small = package_id(app, "free-fire", "5 Diamonds")
    refused = client.get(f"/p/free-fire/summary?package={small}&method=OVO", headers=HX)
    assert "OVO takes at least Rp 10.000" in refused.text
    no_js = client.get(f"/p/pubg-mobile/summary?package={pkg}&method=CARD")
    assert "<html" in no_js.text and "Rp 79.175" in no_js.text


def test_buy_creates_one_order_priced_from_the_database(client, app):
    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "method": "GOPAY",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "whatsapp": "0812-3456-7890",
        "price": "1", "total": "1", "idempotency_key": "k" * 20})
    order = get_order(app, order_ref(response))
    assert (order.subtotal, order.fee, order.total) == (15_000, 300, 15_300)
    assert order.whatsapp == "+6281234567890" and order.nickname.startswith("Player-")
    assert order.status == "awaiting_payment" and order.checkout_url.startswith("/sandbox/pay/")


def test_a_package_of_another_product_is_refused(client, app):
    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "method": "QRIS",
        "package": package_id(app, "free-fire", "5 Diamonds"), "email": "a@example.com"})
    assert response.status_code == 422 and "Choose a package." in response.text
    assert count_orders(app) == 0


@pytest.mark.parametrize("token, message", [
    (None, "Check your account first"),
    ("garbage.token.value", "not valid"),
])
def test_buy_without_a_valid_token_is_refused(client, app, token, message):
    form = {"username": "demo_user", "method": "QRIS", "email": "a@example.com",
            "package": package_id(app, "tiktok-coins", "70 Coins")}
    if token:
        form["verification_token"] = token
    response = client.post("/p/tiktok-coins/order", data=form)
    assert response.status_code == 422 and message in response.text
    assert count_orders(app) == 0


def test_a_token_for_another_account_is_refused(client, app):
    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post("/p/tiktok-coins/order", data={
        "username": "someone_else", "verification_token": token, "method": "QRIS",
        "email": "a@example.com", "package": package_id(app, "tiktok-coins", "70 Coins")})
    assert response.status_code == 422
    assert "The account changed after it was checked" in response.text
    assert count_orders(app) == 0


def test_an_expired_token_is_refused(tmp_path):
    app = make_app(tmp_path, VERIFICATION_MAX_AGE=-1)
    client = app.test_client()
    response = buy(client, app)
    assert response.status_code == 422 and "expired. Press Check again" in response.text
    assert count_orders(app) == 0


@pytest.mark.parametrize("contact, message", [
    ({}, "Leave an email or a WhatsApp number"),
    ({"email": "not-an-email"}, "Enter an email address like"),
    ({"whatsapp": "12"}, "Enter a WhatsApp number like"),
])
def test_contact_is_required_and_checked(client, app, contact, message):
    token = verify(client, "tiktok-coins", username="demo_user")
    response = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "method": "QRIS",
        "package": package_id(app, "tiktok-coins", "70 Coins"), **contact})
    assert response.status_code == 422 and message in response.text
    assert "Account found" in response.text        # the good check is kept on the page
    assert count_orders(app) == 0


def test_a_double_tapped_buy_makes_one_order(client, app):
    first = buy(client, app, key="same-key-123456")
    second = buy(client, app, key="same-key-123456")
    assert order_ref(first) == order_ref(second)
    assert count_orders(app) == 1


def test_order_page_needs_its_link_or_the_same_browser(client, app):
    response = buy(client, app)
    ref = order_ref(response)
    assert client.get(f"/o/{ref}").status_code == 200          # same session
    stranger = app.test_client()
    assert stranger.get(f"/o/{ref}").status_code == 404
    assert stranger.get(f"/o/{ref}?t=wrong").status_code == 404
    link = f"/o/{ref}?t={get_order(app, ref).view_token}"      # the receipt's link
    assert stranger.get(link, follow_redirects=True).status_code == 200
    assert stranger.get(f"/o/{ref}").status_code == 200        # remembered from the link


def test_status_poll_answers_nothing_until_something_changes_then_286_when_final(client, app):
    ref = order_ref(buy(client, app))
    same = client.get(f"/o/{ref}/status?since=awaiting_payment")
    assert (same.status_code, same.data, same.headers["HX-Reswap"]) == (200, b"", "none")
    sandbox_pay(client, app, ref)
    changed = client.get(f"/o/{ref}/status?since=awaiting_payment")
    assert changed.status_code == 200 and "Payment received" in changed.text
    assert 'load delay:300ms, every 2s"' in changed.text    # look again soon once paid
    sandbox_pay(client, app, ref, "fail")          # a failure after payment changes nothing
    assert get_order(app, ref).status == "paid"


def test_order_page_refreshes_itself_without_javascript_until_final(client, app):
    ref = order_ref(buy(client, app))
    assert 'http-equiv="refresh"' in client.get(f"/o/{ref}").text
    sandbox_pay(client, app, ref, "expire")
    assert 'http-equiv="refresh"' not in client.get(f"/o/{ref}").text


def test_a_forged_callback_changes_nothing_and_is_logged(client, app, caplog):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    body, headers = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "wrong"}).callback(
        ref, order.gateway_ref, "paid", order.total, "IDR")
    with caplog.at_level(logging.WARNING):
        response = client.post("/webhooks/sandbox", data=body, headers=headers)
    assert response.status_code == 401 and response.json == {"error": "invalid signature"}
    assert get_order(app, ref).status == "awaiting_payment"
    assert "forged sandbox callback" in caplog.text


def test_a_replayed_callback_changes_nothing(client, app):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    body, headers = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config[
        "SANDBOX_WEBHOOK_SECRET"]}).callback(ref, order.gateway_ref, "paid", order.total, "IDR")
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    paid = [e for e in history(app, ref) if e[1] == "paid"]
    assert len(paid) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 1


def test_a_wrong_amount_flags_the_order_and_delivers_nothing(client, app):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    body, headers = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config[
        "SANDBOX_WEBHOOK_SECRET"]}).callback(ref, order.gateway_ref, "paid", 1_000, "IDR")
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    order = get_order(app, ref)
    assert order.status == "awaiting_payment" and "does not match" in order.flag


def test_track_finds_an_order_by_reference_and_contact(client, app):
    ref = order_ref(buy(client, app, email="Buyer@Example.com"))
    stranger = app.test_client()
    wrong = stranger.post("/track", data={"ref": ref, "contact": "other@example.com"})
    assert wrong.status_code == 422 and "We found no order" in wrong.text
    found = stranger.post("/track", data={"ref": ref.lower(), "contact": "buyer@example.com"})
    assert found.status_code == 303
    assert ref in stranger.get(found.headers["Location"]).text


def test_healthz_reports_the_worker(client, app):
    assert client.get("/healthz").status_code == 503
    from merchant.ops import worker
    with app.app_context():
        worker.beat("test-worker")
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["database"] == "ok"


def test_a_cross_site_post_is_refused_with_a_visible_message(client):
    response = client.post("/p/tiktok-coins/verify", data={"username": "demo_user"},
                           headers={**HX, "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "sent from another website" in response.text


def test_a_missing_secret_key_is_a_startup_error_that_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("MERCHANT_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="MERCHANT_SECRET_KEY"):
        make_app(tmp_path, SECRET_KEY=None)


def test_a_wrong_field_at_buy_is_explained_beside_it(client, app):
    response = client.post("/p/mobile-legends/order", data={
        "user_id": "12", "zone_id": "2345", "method": "QRIS", "email": "a@example.com",
        "package": package_id(app, "mobile-legends", "86 Diamonds")})
    assert response.status_code == 422
    assert response.text.count("The User ID is 6-12 digits.") == 1
    assert count_orders(app) == 0


def test_the_payment_deadline_is_shown_in_the_shops_time_zone(client, app):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    # en_ID, as Indonesia writes it: 11.54 WIB
    wib = (order.payment_expires_at + dt.timedelta(hours=7)).strftime("%H.%M")
    assert f"{wib} WIB" in client.get(f"/o/{ref}").text


def test_sandbox_pay_page_draws_a_qr_for_qr_methods_only(client, app):
    qris = get_order(app, order_ref(buy(client, app, method="QRIS")))
    card = get_order(app, order_ref(buy(client, app, method="CARD")))
    assert "<svg" in client.get(qris.checkout_url).text
    page = client.get(card.checkout_url).text
    assert "<svg" not in page and "Pay Rp 17.435" in page      # 15.000 + 2.000 + 2.9 %
