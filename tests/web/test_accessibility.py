"""Accessible and remembered: axe-core finds no serious or critical problem on the shop's pages
in a phone-sized Chromium, fields are tied to their errors, thumbs reach what they need, and
the product page offers the account last checked on this device (and forgets it)."""
from __future__ import annotations

import json
import os
import re

import pytest
from conftest import buy, set_product, verify
from test_browser import live_shop  # noqa: F401  (the live-server fixture)

AXE = os.path.join(os.path.dirname(__file__), "..", "vendor", "axe.min.js")
LANGS = ["en", "id"]
BAD = ("serious", "critical")


def phone(browser, width=360, height=740):
    # axe is injected as a script of its own: the shop's CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True,
                                  has_touch=True, bypass_csp=True)
    return context.new_page()


def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + json.dumps([node["target"] for node in v["nodes"]][:5])
            for v in result["violations"] if v["impact"] in BAD]


@pytest.mark.parametrize("lang", LANGS)
def test_axe_finds_nothing_serious_on_the_shop_pages(live_shop, browser, lang):  # noqa: F811
    from playwright.sync_api import expect
    page = phone(browser)
    found = {}

    page.goto(f"{live_shop}/?lang={lang}")
    found["catalog"] = violations(page)
    page.fill("#catalog-q", "legends")
    expect(page.locator("#catalog .tile")).to_have_count(1)
    found["catalog search"] = violations(page)

    page.goto(f"{live_shop}/p/mobile-legends?lang={lang}")
    page.fill("input[name=user_id]", "12345678")
    page.fill("input[name=zone_id]", "2345")
    page.locator("form.buy button.secondary").first.click()
    expect(page.locator("#account-check .nickname")).to_contain_text("Player-")
    page.locator("label.card").nth(1).click()
    page.locator("label.method").first.click()
    expect(page.locator("#summary dd.total")).to_be_visible()
    page.locator(".faq summary").first.click()
    found["product"] = violations(page)

    page.fill("input[name=user_id]", "12")
    page.locator("form.buy button.secondary").first.click()
    expect(page.locator("#account-check .error")).to_be_visible()
    expect(page.locator("input[name=user_id]")).to_have_attribute("aria-invalid", "true")
    found["product with an error"] = violations(page)

    page.fill("input[name=user_id]", "12345678")
    page.locator("form.buy button.secondary").first.click()
    expect(page.locator("#account-check .nickname")).to_be_visible()
    page.fill("input[name=email]", "buyer@example.com")
    page.locator("button.buy-button").click()
    expect(page.locator("#order-status")).to_be_visible()
    found["order"] = violations(page)

    page.goto(f"{live_shop}/track?lang={lang}")
    found["track"] = violations(page)
    page.fill("input[name=ref]", "NOSUCHREF")
    page.fill("input[name=contact]", "buyer@example.com")
    page.locator("form button.primary").click()
    expect(page.locator("form .error")).to_be_visible()
    found["track with an error"] = violations(page)
    assert found == {name: [] for name in found}


def test_a_thumb_reaches_every_control_and_buy_stays_at_the_bottom(live_shop, browser):  # noqa: F811
    page = phone(browser)
    page.goto(f"{live_shop}/p/mobile-legends")
    small = page.evaluate("""() => [...document.querySelectorAll(
        'header a, .categories a, button, input:not([type=radio]):not([type=hidden]), select,' +
        ' summary, label.card, label.method')]
      .filter(el => el.offsetParent !== null)
      .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect()])
      .filter(([, box]) => box.height < 44 || box.width < 44)
      .map(([html, box]) => `${html} ${Math.round(box.width)}x${Math.round(box.height)}`)""")
    assert small == []
    # At the top of the form, Buy is already under the thumb, at the bottom of the screen.
    page.locator("input[name=user_id]").scroll_into_view_if_needed()
    box = page.locator("button.buy-button").bounding_box()
    assert 740 - 90 <= box["y"] and box["y"] + box["height"] <= 740
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(live_shop)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_errors_are_tied_to_their_fields(client):
    page = client.post("/p/mobile-legends/order", data={"user_id": "12", "zone_id": "2345",
                                                         "email": "not-an-email"}).text
    user_id = re.search(r'<input name="user_id"[^>]*>', page, re.S).group(0)
    assert 'aria-invalid="true"' in user_id and 'aria-describedby="id-help err-user_id"' \
        in user_id
    assert re.search(r'<p class="error" id="err-user_id" role="alert">', page)
    email = re.search(r'<input type="email"[^>]*>', page, re.S).group(0)
    assert 'aria-invalid="true"' in email and 'aria-describedby="contact-help err-email"' in email
    assert 'id="err-package"' in page and 'aria-describedby="err-package"' in page
    zone = re.search(r'<input name="zone_id"[^>]*>', page, re.S).group(0)
    assert "aria-invalid" not in zone
    # The account check says so in a live region, tied to the field by id.
    check = client.post("/p/mobile-legends/verify", data={"user_id": "12", "zone_id": "2345"})
    assert '<div id="account-check" class="account-check" aria-live="polite">' in check.text
    assert '<li id="err-user_id" data-error-for="user_id">' in check.text
    assert 'aria-describedby="id-help err-user_id"' in check.text


def test_a_failed_order_look_up_is_tied_to_both_fields(client):
    page = client.post("/track", data={"ref": "NOSUCHREF", "contact": "a@example.com"}).text
    assert re.search(r'<p class="error" id="track-error" role="alert">', page)
    for name in ("ref", "contact"):
        field = re.search(rf'<input name="{name}"[^>]*>', page).group(0)
        assert 'aria-invalid="true" aria-describedby="track-error"' in field
    assert "aria-invalid" not in client.get("/track").text


def test_the_summary_and_order_status_are_announced(app, client):
    page = client.get("/p/mobile-legends").text
    assert '<div id="summary" class="summary" aria-live="polite">' in page
    order = client.get(buy(client, app).headers["Location"]).text
    assert re.search(r'<section id="order-status"[^>]*aria-live="polite"', order)
    assert '<p id="catalog-status" class="visually-hidden" aria-live="polite">' \
        in client.get("/").text


def account_cookie(client, path: str):
    return client.get_cookie("account", domain="localhost", path=path)


def test_the_account_checked_last_is_offered_again_on_this_device(client):
    verify(client, "mobile-legends", user_id="12345678", zone_id="2345")
    cookie = account_cookie(client, "/p/mobile-legends")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    page = client.get("/p/mobile-legends").text
    assert 'name="user_id" value="12345678"' in page and 'name="zone_id" value="2345"' in page
    assert "Filled in with the account last checked on this device: <strong>Player-" in page
    assert 'formaction="/p/mobile-legends/forget"' in page
    # Other products have their own (none yet), and a link with an account keeps that one.
    assert "Filled in" not in client.get("/p/free-fire").text
    shared = client.get("/p/mobile-legends?user_id=87654321&zone_id=1111").text
    assert 'value="87654321"' in shared and "Filled in" not in shared

    forgotten = client.post("/p/mobile-legends/forget")
    assert forgotten.status_code == 303 and forgotten.headers["Location"] == "/p/mobile-legends"
    assert account_cookie(client, "/p/mobile-legends") is None
    page = client.get("/p/mobile-legends").text
    assert 'name="user_id" value=""' in page and "Filled in" not in page


def test_a_failed_check_or_a_forged_cookie_is_not_remembered(client):
    client.post("/p/mobile-legends/verify", data={"user_id": "00012345", "zone_id": "2345"})
    assert account_cookie(client, "/p/mobile-legends") is None
    client.set_cookie("account", "eyJhIjp7InVzZXJfaWQiOiIxIn19.forged", path="/p/mobile-legends")
    page = client.get("/p/mobile-legends").text
    assert "Filled in" not in page and 'name="user_id" value=""' in page


def test_an_uncheckable_game_fills_in_both_entries(app, client):
    set_product(app, "free-fire", verifier="none")
    response = client.post("/p/free-fire/verify", data={"player_id": "123456789",
                                                        "confirm_player_id": "123456789"})
    assert response.status_code == 200
    page = client.get("/p/free-fire").text
    assert 'name="player_id" value="123456789"' in page
    assert 'name="confirm_player_id" value="123456789"' in page
    assert "Filled in with the account last checked on this device." in page


def test_without_javascript_the_device_remembers_and_forgets(live_shop, browser):  # noqa: F811
    from playwright.sync_api import expect
    page = browser.new_context(viewport={"width": 360, "height": 740},
                               java_script_enabled=False).new_page()
    page.goto(f"{live_shop}/p/free-fire")
    page.fill("input[name=player_id]", "123456789")
    page.get_by_role("button", name="Check account").click()          # a full page post
    expect(page.locator("#account-check")).to_contain_text("Account found")
    page.goto(f"{live_shop}/p/free-fire")
    expect(page.locator("input[name=player_id]")).to_have_value("123456789")
    expect(page.locator(".remembered")).to_contain_text("last checked on this device")
    page.get_by_role("button", name="Forget it").click()
    expect(page.locator("input[name=player_id]")).to_have_value("")
    expect(page.locator(".remembered")).to_have_count(0)
