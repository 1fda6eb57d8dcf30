"""On a 360 px phone without JavaScript: a buyer rates a delivered order, reports a problem,
and reads the shop's answer on the order page; nothing is wider than the screen."""
from __future__ import annotations

import re

from conftest import create_admin, delivered_order, get_order, make_app, served, sign_in
from playwright.sync_api import expect


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_buyer_rates_and_reports_on_a_phone_without_javascript(tmp_path, browser):
    app = make_app(tmp_path)
    ref = delivered_order(app.test_client(), app)
    token = get_order(app, ref).view_token
    page = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True,
                               java_script_enabled=False, locale="id-ID").new_page()
    with served(app) as url:
        page.goto(f"{url}/o/{ref}?t={token}&lang=id")
        expect(page.locator("#review")).to_contain_text("Ulasan Anda")
        assert fits(page)
        page.locator("label.rating-choice", has_text="4").click()
        page.fill("textarea[name=comment]", "Masuk cepat, mantap")
        page.get_by_role("button", name="Kirim ulasan").click()
        expect(page.locator("#review")).to_contain_text("Masuk cepat, mantap")
        expect(page.locator("#review")).to_contain_text("Terima kasih!")

        page.locator("#claim summary").click()
        page.get_by_label("Masuk ke akun yang salah").check()
        page.fill("textarea[name=message]", "Harusnya ke akun adik saya")
        page.get_by_role("button", name="Kirim laporan").click()
        expect(page.locator("#claim")).to_contain_text("Laporan Anda sudah kami terima")
        assert fits(page)

        create_admin(app)
        owner = app.test_client()
        sign_in(owner)
        panel = owner.get(f"/admin/orders/{ref}").text
        action = re.search(r'action="(/admin/orders/[A-Z0-9]+/claims/\d+/answer)"', panel)
        answered = owner.post(action.group(1), data={"answer": "Sudah kami pindahkan."})
        assert answered.status_code == 303

        page.reload()
        expect(page.locator("#claim")).to_contain_text("Jawaban kami")
        expect(page.locator("#claim")).to_contain_text("Sudah kami pindahkan.")
        assert fits(page)
