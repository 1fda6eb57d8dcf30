"""A real phone-sized Chromium buys 70 TikTok coins for demo_user and sees Delivered."""
from __future__ import annotations

import pytest
from conftest import make_app, served


@pytest.fixture
def live_shop(tmp_path):
    """The shop on a real port with one worker thread, as `make run` serves it."""
    with served(make_app(tmp_path, WTF_CSRF_ENABLED=True)) as url:
        yield url


@pytest.fixture
def phone(browser):
    """A page of a new 390 x 844 touch context; no script error may happen on it."""
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                               has_touch=True).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []


def test_phone_buys_tiktok_coins_and_sees_delivered(live_shop, phone):
    from playwright.sync_api import expect
    page = phone
    page.goto(live_shop)
    page.get_by_role("link", name="TikTok Coins").click()

    page.fill("input[name=username]", "demo_user")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("Account found: Player-")

    page.locator("label.card", has_text="70 Coins").click()
    page.locator("label.method", has_text="QRIS").click()
    expect(page.locator("#summary")).to_contain_text("Rp 15.105")
    page.fill("input[name=email]", "buyer@example.com")
    page.get_by_role("button", name="Buy now").click()

    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    page.get_by_role("link", name="Pay Rp 15.105").click()
    expect(page.get_by_role("heading", name="Pay Rp 15.105")).to_be_visible()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=10_000)
    expect(page.locator(".proof")).to_contain_text("SN ")
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_slow_total_for_an_earlier_choice_never_replaces_the_later_one(live_shop, phone):
    """Package, then method, tapped quickly on a slow network: the first total's answer
    (package only: "Choose ... a payment method") must not land over the second's."""
    from playwright.sync_api import expect
    page = phone
    held = []

    def hold_the_first(route):
        if "method=" in route.request.url:
            route.continue_()
        else:
            held.append(route)              # the package-only total, still on its way

    page.goto(f"{live_shop}/p/tiktok-coins")
    page.route("**/summary?*", hold_the_first)
    page.locator("label.card", has_text="70 Coins").click()
    page.wait_for_function("() => document.querySelectorAll('.htmx-request').length > 0")
    with page.expect_event("requestfailed") as failed:  # the page drops the older question
        page.locator("label.method", has_text="QRIS").click()
    assert len(held) == 1 and failed.value.url == held[0].request.url
    expect(page.locator("#summary")).to_contain_text("Rp 15.105")


def test_account_errors_show_without_leaving_the_page(live_shop, phone):
    from playwright.sync_api import expect
    page = phone
    page.goto(f"{live_shop}/p/mobile-legends")
    page.fill("input[name=user_id]", "00012345")
    page.fill("input[name=zone_id]", "2345")
    page.locator("input[name=zone_id]").blur()
    expect(page.locator("#account-check")).to_contain_text("could not find this account")
    page.fill("input[name=user_id]", "12")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("6-12 digits")


def test_the_whole_purchase_works_without_javascript(live_shop, tmp_path, browser):
    from playwright.sync_api import expect
    page = browser.new_context(viewport={"width": 360, "height": 740},
                               java_script_enabled=False).new_page()
    page.goto(f"{live_shop}/p/free-fire")
    page.fill("input[name=player_id]", "123456789")
    page.get_by_role("button", name="Check account").click()      # a full page post
    expect(page.locator("#account-check")).to_contain_text("Account found")
    page.locator("label.card", has_text="140 Diamonds").click()
    page.locator("label.method", has_text="DANA").click()
    page.get_by_role("button", name="Show total").click()
    expect(page.locator("#summary")).to_contain_text("Rp 19.793")   # 19.500 + 1.5 %
    page.fill("input[name=whatsapp]", "0812 3456 7890")
    page.get_by_role("button", name="Buy now").click()
    expect(page.locator("#order-status")).to_contain_text("Waiting for payment")
    page.get_by_role("link", name="Pay Rp 19.793").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    # The order page reloads itself (meta refresh) until the top-up is delivered.
    expect(page.locator("#order-status")).to_contain_text("Delivered", timeout=15_000)
    page.screenshot(path=str(tmp_path / "no-js-delivered.png"), full_page=True)


@pytest.fixture
def live_app(tmp_path):
    """live_shop, and the app behind it (to count what it stored)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with served(app) as url:
        yield app, url


def test_buy_pressed_twice_sends_one_key_and_makes_one_order(live_app, phone):
    """The page carries no key: the shop's script makes one when the form is sent, the same
    for a second press, a new one once the purchase changed. Two posts with it: one order."""
    from playwright.sync_api import expect

    from merchant.core.extensions import db
    from merchant.core.models import Order
    (app, url), page = live_app, phone
    page.goto(f"{url}/p/tiktok-coins")
    assert page.locator("input[name=idempotency_key]").input_value() == ""
    page.fill("input[name=username]", "demo_user")
    page.get_by_role("button", name="Check account").click()
    expect(page.locator("#account-check")).to_contain_text("Account found")
    page.locator("label.card", has_text="70 Coins").click()
    page.locator("label.method", has_text="QRIS").click()
    page.fill("input[name=email]", "buyer@example.com")
    # Each press goes through the shop's own submit handler; this one, added after it, only
    # keeps the page here and records what the form would send.
    press = """() => {
        const form = document.querySelector("form.buy");
        const keep = (event) => event.preventDefault();
        document.addEventListener("submit", keep);
        form.requestSubmit(form.querySelector(".buy-button"));
        document.removeEventListener("submit", keep);
        return Object.fromEntries(new FormData(form));
    }"""
    first, second = page.evaluate(press), page.evaluate(press)
    assert len(first["idempotency_key"]) == 32 and first == second
    answers = [page.request.post(f"{url}/p/tiktok-coins/order", form=form, max_redirects=0,
                                 headers={"Sec-Fetch-Site": "same-origin"})
               for form in (first, second)]
    assert [answer.status for answer in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    with app.app_context():
        assert db.session.query(Order).count() == 1
    page.locator("label.card", has_text="350 Coins").click()
    assert page.evaluate(press)["idempotency_key"] != first["idempotency_key"]
