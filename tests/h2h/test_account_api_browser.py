"""The API pages on a 360 x 740 phone: a reseller signs in by email code, makes a sandbox key
(its secret on the page), and neither their API page with keys, calls and a given-up callback
nor the owner's API page scrolls sideways; Send again works with htmx."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, create_admin, make_app, served
from playwright.sync_api import expect
from reseller_accounts import callback_of, make_key, place

from merchant.core.extensions import db
from merchant.core.models import Customer, PriceLevel
from merchant.h2h import calls, keys
from tests.customers.signing_in import sign_in_on, smtp_config
from tests.web.test_admin_phone import SIDEWAYS

WIDTH = 360
REF = "ref-with-a-long-name-0123456789-abcdefghij"
LONG_URL = "https://callbacks.reseller-with-a-long-domain-name.example/h2h/topup/callback/v1"


@pytest.fixture
def shop(tmp_path, smtp):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, H2H_CALLBACK_PAUSES=(),
                   H2H_CALLBACK_TIMEOUT=1, **smtp_config(smtp))
    with app.app_context():
        db.session.add(PriceLevel(name="Reseller", kind="discount", percent_bp=0,
                                  api_self_service=True))
        db.session.commit()
    create_admin(app)
    with served(app) as url:
        yield app, url


@pytest.fixture
def small_phone(browser):
    page = browser.new_context(viewport={"width": WIDTH, "height": 740}, is_mobile=True,
                               has_touch=True).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []


def busy_reseller(app, httpserver) -> None:
    """The signed-up customer at the Reseller level, with a live key with a long callback URL
    and allowlist, calls with long paths, and a sandbox order whose callback was given up."""
    with app.app_context():
        customer = db.session.scalar(sa.select(Customer))
        customer.level_id = db.session.scalar(sa.select(PriceLevel.id))
        db.session.commit()
        customer_id = customer.id
    live, _ = make_key(app, customer_id, label="Website with a rather long label here",
                       callback_url=LONG_URL,
                       ip_allowlist="203.0.113.7 198.51.100.0/24 2001:db8:ffff:ffff::/64")
    with app.app_context():
        for status, code in [(200, ""), (402, "INSUFFICIENT_BALANCE"), (401, "INVALID_SIGNATURE")]:
            calls.record(keys.by_key_id(live), "v1", "GET",
                         "/api/v1/orders/a-very-long-reference-id-from-the-reseller-0123456789",
                         status, code, 41, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe")
    httpserver.expect_request("/callback").respond_with_data("down", status=500)
    sandbox, _ = make_key(app, customer_id, sandbox=True)
    place(app, sandbox, REF, callback_url=httpserver.url_for("/callback"))
    deadline = time.monotonic() + 10
    while callback_of(app, REF).attempts == 0 or callback_of(app, REF).next_attempt_at:
        assert time.monotonic() < deadline, "the worker did not send the callback"
        time.sleep(0.05)


def test_the_api_pages_fit_a_small_phone(shop, smtp, small_phone, httpserver):
    app, url = shop
    page = small_phone
    sign_in_on(page, url, smtp, "reseller@example.com")
    busy_reseller(app, httpserver)

    page.get_by_role("link", name="API keys, calls and callbacks").click()
    expect(page.locator("h1")).to_have_text("API for resellers")
    expect(page.locator("#callbacks")).to_contain_text("Given up")
    assert page.evaluate(SIDEWAYS) == []

    # Send again, with htmx: the item says it is queued, the page stays where it is.
    httpserver.clear()
    httpserver.expect_request("/callback").respond_with_data("ok")
    page.get_by_role("button", name="Send the callback for ref-with-a-long-name").click()
    expect(page.locator("#callbacks")).to_contain_text("The callback is queued")
    assert page.evaluate(SIDEWAYS) == []

    # A new key: the form, then its secret, once.
    page.get_by_role("link", name="Make a new key").click()
    assert page.evaluate(SIDEWAYS) == []
    page.fill("input[name=label]", "Phone test")
    page.get_by_label("Sandbox: test orders").check()
    page.fill("input[name=callback_url]", LONG_URL)
    page.get_by_role("button", name="Make the key").click()
    expect(page.locator("#new-key-secret")).to_contain_text("sk_")
    assert page.evaluate(SIDEWAYS) == []
    secret = page.locator("#new-key-secret").inner_text()
    page.get_by_role("link", name="I copied it").click()
    expect(page.locator("#keys")).to_contain_text("Phone test")
    assert secret not in page.content()

    # The owner's API page and the customer's page, on the same phone.
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/admin/")
    for path in ["/admin/api", "/admin/customers/1", "/admin/customers/1/api-keys/new",
                 "/admin/dashboard"]:
        page.goto(url + path)
        assert page.evaluate(SIDEWAYS) == [], path
