"""Languages: which one a customer gets, the switch, the language kept on the order, the
shop's default in the panel, and the compiled catalogs."""
from __future__ import annotations

import os
import re
import shutil

import catalogs
import pytest
from conftest import buy, make_app, order_ref

from merchant.config import ConfigError
from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order


@pytest.fixture
def shop(tmp_path):
    """A shop left at the shipped default language, Bahasa Indonesia."""
    return make_app(tmp_path, DEFAULT_LOCALE="id")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


def test_a_browser_without_a_preference_gets_the_shops_language(shop):
    assert html_lang(shop.test_client().get("/")) == "id"


@pytest.mark.parametrize("accept, expected", [
    ("en-US,en;q=0.9", "en"),
    ("id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7", "id"),
    ("fr-FR,fr;q=0.9,en;q=0.5", "en"),          # the best one the shop speaks
    ("fr-FR", "id"),                            # none: the shop's own
    ("*", "id"),
])
def test_the_browsers_language_is_honoured(shop, accept, expected):
    response = shop.test_client().get("/", headers={"Accept-Language": accept})
    assert html_lang(response) == expected
    assert "Accept-Language" in response.headers["Vary"]


def test_an_explicit_choice_wins_and_is_remembered(shop):
    customer = shop.test_client()
    chosen = customer.get("/?lang=en", headers={"Accept-Language": "id"})
    assert html_lang(chosen) == "en"
    assert re.search(r"lang=en; .*Max-Age=31536000.*HttpOnly", chosen.headers["Set-Cookie"])
    assert html_lang(customer.get("/p/tiktok-coins", headers={"Accept-Language": "id"})) == "en"
    assert html_lang(customer.get("/?lang=id")) == "id"
    assert html_lang(customer.get("/track")) == "id"
    assert html_lang(customer.get("/?lang=xx")) == "id"       # not a language: ignored


def test_the_footer_switch_links_to_this_page_in_the_other_language(shop):
    customer = shop.test_client()
    page = customer.get("/p/tiktok-coins?package=3").text
    assert re.search(r'<strong lang="id">Bahasa Indonesia</strong>', page)
    link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">English</a>', page).group(1)
    assert link == "/p/tiktok-coins?package=3&amp;lang=en"
    switched = customer.get(link.replace("&amp;", "&"))
    assert html_lang(switched) == "en"
    assert 'href="/p/tiktok-coins?package=3&amp;lang=id"' in switched.text


def test_after_a_form_post_the_switch_leads_to_a_page_that_exists(shop):
    refused = shop.test_client().post("/p/tiktok-coins/order", data={})
    assert refused.status_code == 422
    assert 'href="/?lang=en"' in refused.text


def test_the_order_keeps_the_language_it_was_placed_in(shop):
    english, indonesian = shop.test_client(), shop.test_client()
    english.get("/?lang=en")
    refs = {order_ref(buy(english, shop)): "en",
            order_ref(buy(indonesian, shop, key="indonesian-order-1")): "id"}
    with shop.app_context():
        assert {ref: db.session.scalar(db.select(Order.locale).where(Order.ref == ref))
                for ref in refs} == refs


def test_money_and_times_read_as_in_indonesia_in_both_languages(shop):
    customer = shop.test_client()
    ref = order_ref(buy(customer, shop))
    for lang in ("id", "en"):
        page = customer.get(f"/o/{ref}?lang={lang}").text
        assert "Rp 15.105" in page
        assert re.search(r"\d\d\.\d\d WIB", page)


def test_the_owner_sets_the_shops_language(app, owner):
    customer = app.test_client()
    assert html_lang(customer.get("/")) == "en"
    page = owner.get("/admin/settings").text
    assert '<option selected value="">Default (English)</option>' in page
    assert '<option value="id">Bahasa Indonesia</option>' in page
    saved = owner.post("/admin/settings", data={"default_locale": "id"})
    assert saved.status_code == 303
    assert html_lang(customer.get("/")) == "id"
    assert html_lang(customer.get("/", headers={"Accept-Language": "en"})) == "en"
    refused = owner.post("/admin/settings", data={"default_locale": "fr"})
    assert refused.status_code == 422 and "Bukan pilihan yang valid." in refused.text
    with app.app_context():
        assert shop_settings.current().default_locale == "id"


def test_an_unknown_configured_language_is_refused_at_start(tmp_path):
    with pytest.raises(ConfigError, match="MERCHANT_DEFAULT_LOCALE is 'fr'; use id"):
        make_app(tmp_path, DEFAULT_LOCALE="fr")


def test_a_missing_or_stale_compiled_catalog_is_found(tmp_path):
    copy = tmp_path / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, copy)
    assert catalogs.stale(copy) == []
    po = copy / "id" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert catalogs.stale(copy) == [f"{mo} is older than its .po"]
    mo.unlink()
    assert catalogs.stale(copy) == [f"{mo} is missing"]


def test_form_errors_from_wtforms_follow_the_language(app, owner):
    """WTForms has no Indonesian of its own: merchant/translations/id/.../wtforms.po."""
    refused = owner.post("/admin/settings?lang=id", data={"default_locale": "fr"})
    assert refused.status_code == 422 and "Bukan pilihan yang valid." in refused.text
    english = owner.post("/admin/settings?lang=en", data={"default_locale": "fr"})
    assert "Not a valid choice." in english.text and "Bukan pilihan" not in english.text
