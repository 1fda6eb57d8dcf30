"""Cross-site posts refused from the browser's own headers (merchant/web/cross_origin.py), on
in every test: the suite turns Flask-WTF's token off, never this."""
from __future__ import annotations

import re

import pytest
from conftest import create_admin, make_app, package_id, verify

from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.web.cross_origin import allowed

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},       # another subdomain may be someone else's
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},   # the header decides
    {"Origin": "https://evil.example"},    # an older browser: no Sec-Fetch-Site
    {"Origin": "http://localhost.evil.example"},
    {"Origin": "null"},                    # a sandboxed frame, a data: page
]
SAME_SITE = [
    {},                                    # a program, or the tests' own client
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "none"},            # typed or bookmarked by the person
    {"Origin": "http://localhost"},        # an older browser on the shop's own page
    {"Origin": "http://shop.test"},        # PUBLIC_URL, behind a proxy that passes another Host
]


def orders(app) -> int:
    with app.app_context():
        return db.session.query(Order).count()


def purchase(app, client) -> dict:
    token = verify(client, "tiktok-coins", username="demo_user")
    return {"username": "demo_user", "verification_token": token, "method": "QRIS",
            "package": package_id(app, "tiktok-coins", "70 Coins"),
            "email": "buyer@example.com"}


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_buy_is_refused_and_makes_nothing(app, client, headers):
    response = client.post("/p/tiktok-coins/order", data=purchase(app, client), headers=headers)
    assert response.status_code == 403
    assert "sent from another website" in response.text
    assert "<html" in response.text            # a whole page for a form post
    assert orders(app) == 0


@pytest.mark.parametrize("headers", SAME_SITE)
def test_a_buy_from_the_shops_own_page_goes_through(app, client, headers):
    response = client.post("/p/tiktok-coins/order", data=purchase(app, client), headers=headers)
    assert response.status_code == 303, response.text
    assert orders(app) == 1


@pytest.mark.parametrize("path, data", [
    ("/p/tiktok-coins/verify", {"username": "demo_user"}),
    ("/p/tiktok-coins/summary", {"package": "1", "method": "QRIS"}),
    ("/p/tiktok-coins/forget", {}),
    ("/track", {"ref": "MABCDEFGH", "contact": "a@example.com"}),
    ("/admin/login", {"email": "owner@example.com", "password": "x"}),
])
def test_every_other_form_refuses_a_cross_site_post(client, path, data):
    response = client.post(path, data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_htmx_gets_the_refusal_as_a_fragment(client):
    response = client.post("/p/tiktok-coins/verify", data={"username": "demo_user"},
                           headers={"Sec-Fetch-Site": "cross-site", "HX-Request": "true"})
    assert response.status_code == 403 and "<html" not in response.text
    assert "sent from another website" in response.text


def test_the_refusal_is_in_indonesian_too(client):
    client.set_cookie("lang", "id")
    response = client.post("/p/tiktok-coins/verify", data={"username": "demo_user"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and 'lang="id"' in response.text
    assert "sent from another website" not in response.text


def test_reading_is_never_refused(client):
    for path in ("/", "/p/tiktok-coins", "/track"):
        assert client.get(path, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_vendor_callbacks_are_not_checked(client):
    """Servers send them, signed: a refusal here would be a lost payment."""
    response = client.post("/webhooks/sandbox", data="{}", headers={
        "Sec-Fetch-Site": "cross-site", "Origin": "https://gateway.example",
        "Content-Type": "application/json"})
    assert response.status_code != 403


def test_the_panel_keeps_its_csrf_token_as_well(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    create_admin(app)
    client = app.test_client()
    refused = client.post("/admin/login", data={"email": "a@example.com", "password": "x"})
    assert refused.status_code == 400 and "reload the page" in refused.text.lower()
    page = client.get("/admin/login").text
    assert re.search(r'name="csrf_token"[^>]*value="[^"]+"', page)
    # ... while the storefront needs none: its pages are the same for everyone.
    assert purchase(app, client)["verification_token"]


@pytest.mark.parametrize("public_url", ["https://shop.example", "https://shop.example/"])
def test_the_public_address_counts_as_this_site(public_url):
    headers = {"Origin": "https://shop.example"}
    assert allowed("POST", headers, "127.0.0.1:8000", public_url)
    assert not allowed("POST", {"Origin": "http://shop.example"}, "127.0.0.1:8000", public_url)
    assert not allowed("POST", headers, "127.0.0.1:8000", "")
    assert allowed("GET", {"Sec-Fetch-Site": "cross-site"}, "127.0.0.1:8000", public_url)
