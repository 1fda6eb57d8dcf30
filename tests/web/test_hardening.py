"""Issue 9's findings, one test each: hostile input gets a clear 4xx and changes nothing, keys and
tokens reveal nothing, Buy and callbacks are rate-limited per real client, pages with personal
data are not cached, and the sandbox cannot be reached beside a real gateway."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import threading
import urllib.request

import pytest
import sqlalchemy as sa
from conftest import buy, get_order, make_app, order_ref, package_id, verify, work
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, PaymentMethod, WebhookEvent
from merchant.vendors.payments.sandbox import SandboxGateway
from tests.fakes.stripe import FakeStripe

HUGE_IDS = ["99999999999999999999", "2147483648", "-2147483649"]


def counts(app) -> tuple[int, int, int]:
    """Orders, order events, webhook deliveries: what a refused request must leave alone."""
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (Order, OrderEvent, WebhookEvent))


# -- ids as bounded integers ---------------------------------------------------------------

@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_oversized_package_id_is_no_package_not_a_server_error(client, app, huge):
    page = client.get(f"/p/tiktok-coins?package={huge}")
    assert page.status_code == 200 and "Choose" in page.text
    summary = client.get(f"/p/tiktok-coins/summary?package={huge}&method=QRIS",
                         headers={"HX-Request": "true"})
    assert summary.status_code == 200
    token = verify(client, "tiktok-coins", username="demo_user")
    before = counts(app)
    order = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "package": huge,
        "method": "QRIS", "email": "buyer@example.com"})
    assert order.status_code == 422 and "Choose a package." in order.text
    assert counts(app) == before


@pytest.mark.parametrize("huge", HUGE_IDS[:2])
def test_admin_routes_with_oversized_ids_answer_404(owner, huge):
    for path in (f"/admin/catalog/{huge}", f"/admin/catalog/{huge}/edit",
                 f"/admin/catalog/packages/{huge}/edit", f"/admin/methods/{huge}",
                 f"/admin/catalog/import/{huge}"):
        assert owner.get(path).status_code == 404, path
    assert owner.post(f"/admin/users/{huge}/role", data={"role": "staff"}).status_code == 404
    assert owner.get(f"/admin/audit?before={huge}").status_code == 200


# -- text without NUL or control characters ----------------------------------------------------

@pytest.mark.parametrize("path", ["/p/tiktok%00coins", "/o/M%00AAAA", "/o/M%00AAAA/status",
                                  "/sandbox/pay/sbx_%00", "/p/tiktok-coins?package=1%00",
                                  "/p/tiktok-coins?method=QR%01IS", "/track?x%00=1"])
def test_nul_or_control_characters_in_the_address_are_refused_readably(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "control characters" in response.text


def test_nul_in_a_form_field_is_refused_readably_and_changes_nothing(client, app):
    token = verify(client, "tiktok-coins", username="demo_user")
    before = counts(app)
    for data in ({"ref": "M\x00AAAA", "contact": "a@example.com"},
                 {"ref": "MAAAA", "contact": "a\x00@example.com"}):
        response = client.post("/track", data=data)
        assert response.status_code == 400 and "control characters" in response.text
    response = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "method": "QR\x00IS",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "email": "buyer@example.com"})
    assert response.status_code == 400 and "control characters" in response.text
    assert client.post("/p/tiktok-coins/verify", data={"username": "demo\x00"}).status_code == 400
    assert counts(app) == before


def test_a_line_break_in_a_text_area_is_still_fine(owner, app):
    ref = order_ref(buy(app.test_client(), app))
    response = owner.post(f"/admin/orders/{ref}/note", data={"text": "called him\r\nall good"})
    assert response.status_code in (200, 303)


def test_control_characters_in_a_header_are_refused(client):
    response = client.get("/", headers={"HX-Request": "tr\x01ue"})
    assert response.status_code == 400


# -- the view token ------------------------------------------------------------------------

def test_a_non_ascii_token_is_a_404_like_an_unknown_reference(client, app):
    ref = order_ref(buy(client, app))
    stranger = app.test_client()
    known = stranger.get(f"/o/{ref}?t=%C3%A9")
    unknown = stranger.get("/o/MZZZZZZZZ?t=%C3%A9")
    assert known.status_code == unknown.status_code == 404
    # The same page, but for the language switch's link back to the address asked for.
    assert known.text.replace(ref, "REF") == unknown.text.replace("MZZZZZZZZ", "REF")
    assert stranger.get(f"/o/{ref}/status?t=%C3%A9").status_code == 404


def test_the_token_link_is_remembered_then_the_address_drops_the_token(client, app):
    ref = order_ref(buy(client, app))
    token = get_order(app, ref).view_token
    stranger = app.test_client()
    opened = stranger.get(f"/o/{ref}?t={token}")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/o/{ref}")
    assert "t=" not in opened.headers["Location"]
    assert stranger.get(f"/o/{ref}").status_code == 200


def test_buy_sends_the_customer_to_the_order_without_its_token_in_the_address(client, app):
    location = buy(client, app).headers["Location"]
    assert "t=" not in location
    assert client.get(location).status_code == 200


# -- idempotency keys bound to the browser ---------------------------------------------------

def test_someone_elses_idempotency_key_reveals_nothing(app):
    victim, attacker = app.test_client(), app.test_client()
    theirs = order_ref(buy(victim, app, key="victim-key-0001", email="victim@example.com"))
    response = buy(attacker, app, key="victim-key-0001", username="attacker_1")
    assert response.status_code == 303
    mine = order_ref(response)
    assert mine != theirs
    page = attacker.get(response.headers["Location"])
    assert "victim@example.com" not in page.text
    assert attacker.get(f"/o/{theirs}").status_code == 404
    # The victim's own double tap still finds their order.
    assert order_ref(buy(victim, app, key="victim-key-0001")) == theirs


def test_show_total_without_javascript_posts_so_nothing_lands_in_the_address(client, app):
    page = client.get("/p/tiktok-coins")
    button = re.search(r'<button[^>]*>Show total</button>', page.text).group(0)
    assert 'formmethod="post"' in button
    response = client.post("/p/tiktok-coins/summary", data={
        "username": "demo_user", "package": package_id(app, "tiktok-coins", "70 Coins"),
        "method": "QRIS", "email": "buyer@example.com", "idempotency_key": "abcdefgh1234"})
    assert response.status_code == 200
    assert "Total" in response.text and "buyer@example.com" in response.text


# -- logs ------------------------------------------------------------------------------------

def test_the_access_log_carries_no_view_token_and_logs_mask_contacts(app, caplog):
    ref = order_ref(buy(app.test_client(), app))
    token = get_order(app, ref).view_token
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.handle_request)
    with caplog.at_level(logging.INFO):
        thread.start()
        with pytest.raises(urllib.error.HTTPError):   # 303, not followed without a cookie
            opener = urllib.request.build_opener(NoRedirect)
            opener.open(f"http://127.0.0.1:{server.port}/o/{ref}?t={token}", timeout=10)
        thread.join(10)
        logging.getLogger("merchant.test").warning(
            "receipt for buyer@example.com and +6281234567890 at /o/%s?t=%s", ref, token)
    server.server_close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"/o/{ref}" in text
    assert token not in text
    assert "buyer@example.com" not in text and "6281234567890" not in text
    assert "b***@example.com" in text and "+62*******7890" in text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# -- rate limits -----------------------------------------------------------------------------

def test_one_account_placing_100_orders_fast_is_refused_after_the_limit(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ORDER="10 per minute",
                   RATELIMIT_ORDER_ACCOUNT="5 per minute")
    client = app.test_client()
    answers = [buy(client, app, username="greedy_user") for _ in range(100)]
    assert [a.status_code for a in answers[:5]] == [303] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert "Too many orders" in answers[-1].text
    assert answers[-1].headers["Retry-After"] == "60"
    assert counts(app)[0] == 5


def test_buy_is_limited_per_client_across_accounts(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ORDER="3 per minute",
                   RATELIMIT_ORDER_ACCOUNT="5 per minute")
    client = app.test_client()
    codes = [buy(client, app, username=f"player_{i}").status_code for i in range(5)]
    assert codes == [303, 303, 303, 429, 429]


@pytest.mark.parametrize("proxies, separate", [(0, False), (1, True)])
def test_clients_behind_a_proxy_get_their_own_bucket_only_when_the_proxy_is_trusted(
        tmp_path, proxies, separate):
    app = make_app(tmp_path, RATELIMIT_ORDER="2 per minute", PROXY_COUNT=proxies)
    alice, bob = app.test_client(), app.test_client()
    for who, address in ((alice, "203.0.113.7"), (bob, "198.51.100.9")):
        who.environ_base["HTTP_X_FORWARDED_FOR"] = address
    assert [buy(alice, app, username=f"alice_{i}").status_code for i in range(2)] == [303] * 2
    assert buy(bob, app, username="bob_1").status_code == (303 if separate else 429)


def test_webhooks_are_limited_per_client(tmp_path):
    app = make_app(tmp_path, RATELIMIT_WEBHOOK="3 per minute")
    client = app.test_client()
    codes = [client.post("/webhooks/sandbox", data=b"{}").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


# -- headers ---------------------------------------------------------------------------------

def test_hsts_only_over_https(tmp_path):
    app = make_app(tmp_path, PROXY_COUNT=1)
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    https_app = make_app(tmp_path, PUBLIC_URL="https://shop.example.com")
    assert "Strict-Transport-Security" in https_app.test_client().get("/").headers


def test_cookies_are_secure_when_the_shop_is_public_over_https(tmp_path):
    app = make_app(tmp_path, PUBLIC_URL="https://shop.example.com")
    cookie = session_cookie(app)
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert "Secure" not in session_cookie(make_app(tmp_path))
    forced = make_app(tmp_path, SESSION_COOKIE_SECURE=False, PUBLIC_URL="https://shop.example.com")
    assert "Secure" not in session_cookie(forced)


def session_cookie(app) -> str:
    """The session cookie an account check sets (the shop's pages themselves set none)."""
    cookies = app.test_client().post("/p/tiktok-coins/verify", data={"username": "demo_user"},
                                     headers={"HX-Request": "true"}).headers.getlist("Set-Cookie")
    return next(c for c in cookies if c.startswith("session="))


def test_pages_with_personal_data_are_never_stored(client, app, owner):
    ref = order_ref(buy(client, app))
    for response in (client.get(f"/o/{ref}"), client.get(f"/o/{ref}/status"),
                     client.get("/track"), owner.get("/admin/"), owner.get(f"/admin/orders/{ref}"),
                     app.test_client().get("/admin/login")):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


# -- body size ---------------------------------------------------------------------------------

class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts what the app reads of it."""

    def __init__(self, size: int):
        self.size, self.read_bytes, self.position = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        # Where werkzeug's test client looks for the length; the app itself only reads.
        self.position = self.size + offset if whence == io.SEEK_END else offset
        return self.position

    def readinto(self, buffer):
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"x" * n
        self.read_bytes += n
        self.position += n
        return n


def test_a_50_mb_webhook_is_refused_without_being_read(client, app):
    body = CountingStream(50 * 1024 * 1024)
    response = client.post("/webhooks/sandbox", input_stream=body,
                           headers={"Content-Length": str(body.size),
                                    "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json["error"]
    assert body.read_bytes == 0
    chunked = CountingStream(50 * 1024 * 1024)
    response = client.post("/webhooks/sandbox", input_stream=chunked,
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert chunked.read_bytes <= 128 * 1024
    assert counts(app)[2] == 0


def test_a_huge_form_is_refused_but_a_picture_upload_may_be_bigger(client, app, owner):
    response = client.post("/track", data={"ref": "M" * (2 * 1024 * 1024), "contact": "x"})
    assert response.status_code == 413 and "too large" in response.text
    boundary, body = encode_multipart(
        {"logo": FileStorage(io.BytesIO(b"\x89PNG" + b"0" * (1536 * 1024)), "logo.png")})
    upload = owner.post("/admin/settings", data=body,
                        content_type=f"multipart/form-data; boundary={boundary}")
    assert upload.status_code != 413 and "too large" not in upload.text


# -- webhook bodies typed per field --------------------------------------------------------------

def signed_sandbox(app, payload: dict | bytes):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    secret = app.config["SANDBOX_WEBHOOK_SECRET"]
    return body, {"X-Sandbox-Signature": hmac.new(secret.encode(), body,
                                                  hashlib.sha256).hexdigest(),
                  "Content-Type": "application/json"}


@pytest.mark.parametrize("change", [
    {"amount": float("inf")}, {"amount": "70000"}, {"amount": 7.5}, {"amount": [1]},
    {"event_id": 12345}, {"event_id": ["a"]}, {"event_id": None},
    {"gateway_ref": ["sbx_1"]}, {"gateway_ref": {"id": 1}}, {"order_ref": {"x": 1}},
    {"currency": ["IDR"]}, {"status": 1}, {"order_ref": "M\u0000AAAA"},
    {"event_id": "x" * 5000},
])
def test_a_signed_sandbox_callback_with_a_wrong_type_is_a_400_and_changes_nothing(
        client, app, change, caplog):
    ref = order_ref(buy(client, app))
    order = get_order(app, ref)
    payload = {"event_id": "evt-1", "order_ref": ref, "gateway_ref": order.gateway_ref,
               "status": "paid", "amount": order.total, "currency": order.currency, **change}
    body, headers = signed_sandbox(app, json.dumps(payload).encode())   # Infinity as JSON
    before = counts(app)
    with caplog.at_level(logging.WARNING):
        response = client.post("/webhooks/sandbox", data=body, headers=headers)
    assert response.status_code == 400 and "malformed" in response.json["error"]
    assert any("malformed" in r.getMessage() for r in caplog.records)
    work(app)
    assert counts(app) == before
    assert get_order(app, ref).status == "awaiting_payment"


# -- the sandbox beside a real gateway -------------------------------------------------------

def test_a_sandbox_method_row_does_not_open_the_sandbox_beside_a_real_gateway(tmp_path, stripe):
    app = make_app(tmp_path, **stripe.settings, GATEWAY="stripe",
                   PUBLIC_URL="https://shop.example.com")
    client = app.test_client()
    ref = order_ref(buy(client, app, method="CARD"))
    with app.app_context():
        # A method left on the sandbox, and an order from the days the shop was a demo.
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == "QRIS")
                           .values(gateway="sandbox"))
        db.session.execute(sa.update(Order).where(Order.ref == ref)
                           .values(gateway="sandbox", gateway_ref="sbx_old"))
        db.session.commit()
    order = get_order(app, ref)
    body, headers = SandboxGateway(app.config).callback(ref, "sbx_old", "paid", order.total,
                                                        order.currency)
    response = client.post("/webhooks/sandbox", data=body, headers=headers)
    assert response.status_code == 404
    work(app, 2)
    assert get_order(app, ref).status == "awaiting_payment"
    assert client.get("/sandbox/pay/sbx_old").status_code == 404
    refused = buy(client, app, method="QRIS")
    assert refused.status_code == 422


def test_a_real_gateway_with_the_sandbox_switched_on_refuses_to_start(tmp_path, stripe):
    from merchant.config import ConfigError
    with pytest.raises(ConfigError, match="MERCHANT_SANDBOX_ENABLED"):
        make_app(tmp_path, **stripe.settings, GATEWAY="stripe", SANDBOX_ENABLED=True)


@pytest.fixture
def stripe(httpserver):
    return FakeStripe(httpserver)



# -- numbers in the panel's forms --------------------------------------------------------------

from tests.catalog.test_admin_catalog import package_form  # noqa: E402
from tests.catalog.test_admin_methods import CUSTOM  # noqa: E402


@pytest.mark.parametrize("field, value", [
    ("price", "99999999999999999999"), ("price", "2147483648"), ("quantity", "2147483648"),
    ("supplier_cost", "99999999999999999999"), ("bonus", "-99999999999999999999")])
def test_a_package_number_beyond_the_column_is_refused_on_the_form(app, owner, field, value):
    pid = package_id(app, "tiktok-coins", "70 Coins")
    form = package_form(app, "tiktok-coins", "70 Coins", **{field: value})
    response = owner.post(f"/admin/catalog/packages/{pid}/edit", data=form)
    assert response.status_code == 422


@pytest.mark.parametrize("field, value", [
    ("fee_flat", "1e999999"), ("fee_flat", "1e30"), ("min_amount", "2147483648"),
    ("max_amount", "Infinity")])
def test_a_method_amount_beyond_the_column_is_refused_on_the_form(owner, field, value):
    response = owner.post("/admin/methods/new", data={**CUSTOM, field: value})
    assert response.status_code == 422 and "Enter an amount" in response.text


@pytest.mark.parametrize("markup", ["Infinity%", "1e30", "1e999999%", "NaN"])
def test_a_markup_that_is_no_number_is_refused(owner, markup):
    response = owner.post("/admin/catalog/reprice", data={"markup": markup, "round_to": "100",
                                                          "preview": "1"})
    assert response.status_code == 422 and "like 8%" in response.text


def test_a_repricing_of_packages_that_cannot_exist_is_refused(owner):
    response = owner.post("/admin/catalog/reprice", data={
        "markup": "8%", "round_to": "100", "packages": "99999999999999999999", "preview": "1"})
    assert response.status_code == 422


def test_the_sandbox_pay_page_draws_its_qr_whatever_the_query(client, app):
    ref = order_ref(buy(client, app))
    page = client.get(f"/sandbox/pay/{get_order(app, ref).gateway_ref}?x={'a' * 3000}")
    assert page.status_code == 200 and "<svg" in page.text
