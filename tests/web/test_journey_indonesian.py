"""Issue 8's whole story on a phone, in Bahasa Indonesia: a customer buys with a promo code,
pays, receives the receipt by email (a real SMTP server), and finds the order again from
/track in a browser that never saw it."""
from __future__ import annotations

import re

import catalogs
import pytest
from conftest import make_app, served
from playwright.sync_api import expect
from test_browser import phone  # noqa: F401  (the phone fixture)

from tests.catalog.test_promos import add_promo

INDONESIAN = {m.id: m.string for m in catalogs.load(catalogs.po_files()[0])
              if isinstance(m.id, str) and m.string}


def _(text: str, **values) -> str:
    """The Indonesian the page shows for an English message of the catalog."""
    return INDONESIAN[text] % values if values else INDONESIAN[text]


@pytest.fixture
def shop(tmp_path, smtp):
    """The shop in Bahasa Indonesia on a real port, a worker thread, SMTP receipts, SAVE10."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, DEFAULT_LOCALE="id",
                   SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                   SMTP_FROM="Toko <struk@tokoku.co.id>")
    add_promo(app, "SAVE10", percent_bp=1000)
    with served(app) as url:
        yield url


def test_a_phone_buys_in_indonesian_with_a_promo_code_gets_the_email_and_tracks_it(
        shop, smtp, phone):  # noqa: F811
    page = phone
    page.set_viewport_size({"width": 360, "height": 800})
    page.set_extra_http_headers({"Accept-Language": "id-ID,id;q=0.9"})     # a phone set to id
    page.goto(f"{shop}/p/tiktok-coins")
    assert page.evaluate("document.documentElement.lang") == "id"
    page.fill("input[name=username]", "demo_user")
    page.get_by_role("button", name=_("Check account")).click()
    page.locator("label.card", has_text="70 Coins").click()
    page.locator("label.method", has_text="QRIS").click()
    page.locator("#promo").press_sequentially("save10")
    expect(page.locator("#summary")).to_contain_text(_("Discount (%(code)s)", code="SAVE10"))
    expect(page.locator("#summary")).to_contain_text("Rp 13.595")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.fill("input[name=email]", "pembeli@example.com")
    page.get_by_role("button", name=_("Buy now")).click()
    expect(page.locator("#order-status")).to_contain_text(_("Waiting for payment"))
    ref = re.search(r"/o/([A-Z0-9]+)", page.url).group(1)
    page.locator("a[href*='/sandbox/pay/']").first.click()
    page.locator("button[name=action][value=pay]").click()
    expect(page.locator("#order-status")).to_contain_text(_("Delivered"), timeout=10_000)

    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ("pembeli@example.com",)
    body = mail.message.get_body(("plain",)).get_content()
    assert ref in mail.message["Subject"] + body
    assert _("Discount (%(code)s)", code="SAVE10") in body and "Rp 13.595" in body

    stranger = page.context.browser.new_context(viewport={"width": 360, "height": 800},
                                                locale="id-ID")
    lookup = stranger.new_page()
    lookup.goto(f"{shop}/track")
    lookup.fill("input[name=ref]", ref.lower())
    lookup.fill("input[name=contact]", "pembeli@example.com")
    lookup.get_by_role("button", name=_("Find my order")).click()
    expect(lookup.locator("#order-status")).to_contain_text(_("Delivered"))
    expect(lookup.locator("body")).to_contain_text(ref)
    stranger.close()
