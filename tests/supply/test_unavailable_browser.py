"""On a phone (360 px, real Chromium, the real worker thread): a package whose supplier deposit
ran out shows why and cannot be chosen; topped up, it can be chosen again."""
from __future__ import annotations

import time

import pytest
from conftest import package_id, served
from supply_shop import NAME, SLUG, shop_app

from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, deposit=0)
    vendor_server.check_handler_errors()


def card_state(page, pid: int) -> tuple[bool, str]:
    radio = page.locator(f'input[name="package"][value="{pid}"]')
    label = page.locator("label.card", has=radio)
    return radio.is_disabled(), label.inner_text()


def test_a_drained_deposit_shows_on_a_phone_and_a_top_up_brings_the_package_back(
        tmp_path, fake, browser):
    app = shop_app(tmp_path, fake, SUPPLIER_BALANCE_CHECK_SECONDS=1, WORKER_POLL_SECONDS=0.2)
    pid = package_id(app, SLUG, NAME)
    page = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                               has_touch=True, locale="id-ID").new_page()
    with served(app) as url:
        deadline = time.monotonic() + 20
        while True:                       # the worker's first pass reads the deposit
            page.goto(f"{url}/p/{SLUG}?lang=id")
            disabled, text = card_state(page, pid)
            if disabled or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert disabled and "Sementara tidak tersedia" in text
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360

        fake.deposit = 1_000_000
        deadline = time.monotonic() + 20
        while True:                       # the next balance check, a second later
            page.goto(f"{url}/p/{SLUG}?lang=id")
            disabled, text = card_state(page, pid)
            if not disabled or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert not disabled and "tidak tersedia" not in text
