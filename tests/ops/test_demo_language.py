"""The demo shop speaks the shop's default language: its help, guide, questions, badges and the
payment methods' names are seeded in it; the panel's preset list is in the panel's language."""
from __future__ import annotations

import html

import pytest
from conftest import create_admin, make_app, sign_in

XENDIT = {"GATEWAY": "xendit", "XENDIT_SECRET_KEY": "xnd_test", "XENDIT_CALLBACK_TOKEN": "cb",
          "SANDBOX_ENABLED": False, "PUBLIC_URL": "https://shop.example.com"}


@pytest.mark.parametrize("default, words, not_words", [
    ("id", ["Apakah saya perlu memberikan kata sandi?", "Masukkan User ID dan Zone ID",
            "Populer", "Kartu kredit / debit", "Virtual Account BCA",
            "Di dalam game, ketuk avatar Anda"],
     ["Do I need to give my password?", "Credit / debit card", "BCA Virtual Account"]),
    ("en", ["Do I need to give my password?", "Enter your User ID and Zone ID", "Popular",
            "Credit / debit card", "BCA Virtual Account", "In the game, tap your avatar"],
     ["Apakah saya perlu", "Kartu kredit"]),
])
def test_the_demo_is_seeded_in_the_shops_default_language(tmp_path, default, words, not_words):
    app = make_app(tmp_path, DEFAULT_LOCALE=default)
    page = html.unescape(app.test_client().get("/p/mobile-legends").text)
    for word in words:
        assert word in page
    for word in not_words:
        assert word not in page


@pytest.mark.parametrize("lang, preset", [("en", "Mandiri Virtual Account"),
                                          ("id", "Virtual Account Mandiri")])
def test_the_preset_names_follow_the_panels_language(tmp_path, lang, preset):
    app = make_app(tmp_path, **XENDIT)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    page = html.unescape(owner.get(f"/admin/methods?lang={lang}").text)
    presets = page.split('class="preset-list"')[1]
    assert preset in presets
