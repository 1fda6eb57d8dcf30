"""Receipts promised only as they are sent: the product page and its refusal follow the receipt
channels that are on, and Needs attention tells the owner which are off and how to turn them on."""
from __future__ import annotations

import re

import pytest
from conftest import create_admin, make_app, sign_in, verify

from merchant.ops import worker

ON = {
    "both": {"SMTP_HOST": "127.0.0.1", "SMTP_FROM": "Shop <receipts@shop.test>",
             "FONNTE_TOKEN": "token"},
    "email": {"SMTP_HOST": "127.0.0.1", "SMTP_FROM": "Shop <receipts@shop.test>"},
    "whatsapp": {"FONNTE_TOKEN": "token"},
    "none": {},
}


def contact_step(page: str) -> str:
    return re.search(r'<section class="step" aria-labelledby="step-contact">.*?</section>', page,
                     re.S).group(0)


def buy_without_contact(client) -> str:
    token = verify(client, "tiktok-coins", username="demo_user")
    page = client.get("/p/tiktok-coins").text
    package = re.search(r'name="package" value="(\d+)"', page).group(1)
    response = client.post("/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token, "package": package,
        "method": "QRIS", "idempotency_key": "a1b2c3d4"})
    assert response.status_code == 422
    return re.search(r'id="err-contact" role="alert">([^<]*)<', response.text).group(1)


@pytest.mark.parametrize("on, lang, heading, help_text, refusal", [
    ("both", "en", "Your receipt", "Leave an email or a WhatsApp number (or both) for your "
     "receipt.", "Leave an email or a WhatsApp number for your receipt."),
    ("email", "en", "Your receipt", "Receipts are sent by email: leave your email for yours.",
     "Leave an email for your receipt, or a WhatsApp number so we can reach you."),
    ("whatsapp", "en", "Your receipt", "Receipts are sent by WhatsApp: leave your number for "
     "yours.", "Leave a WhatsApp number for your receipt, or an email so we can reach you."),
    ("none", "en", "Your contact", "Leave an email or a WhatsApp number so we can reach you "
     "about this order.", "so we can reach you about this order."),
    ("both", "id", "Bukti transaksi", "untuk menerima bukti transaksi",
     "untuk menerima bukti transaksi"),
    ("email", "id", "Bukti transaksi", "Bukti transaksi dikirim lewat email",
     "Isi email untuk menerima bukti transaksi"),
    ("whatsapp", "id", "Bukti transaksi", "Bukti transaksi dikirim lewat WhatsApp",
     "Isi nomor WhatsApp untuk menerima bukti transaksi"),
    ("none", "id", "Kontak Anda", "agar kami bisa menghubungi Anda soal pesanan ini",
     "agar kami bisa menghubungi Anda soal pesanan ini"),
])
def test_the_product_page_promises_only_the_receipts_that_are_sent(
        tmp_path, on, lang, heading, help_text, refusal):
    app = make_app(tmp_path, DEFAULT_LOCALE=lang, **ON[on])
    client = app.test_client()
    step = contact_step(client.get("/p/tiktok-coins").text)
    assert heading in step and help_text in step
    if on == "none":
        assert not re.search(r"receipt|struk|bukti", step, re.I)
    assert refusal in buy_without_contact(client)


def owner_home(app, email="owner@example.com", role="owner") -> str:
    create_admin(app, email=email, role=role)
    client = app.test_client()
    sign_in(client, email=email)
    with app.app_context():
        worker.beat("test-worker")
    return client.get("/admin/").text


def settings_group(html: str) -> str:
    found = re.search(r'<section class="box attention attention-settings".*?</section>', html,
                      re.S)
    return found.group(0) if found else ""


def test_needs_attention_tells_the_owner_which_receipts_are_off_and_how_to_turn_them_on(
        tmp_path):
    app = make_app(tmp_path)
    group = settings_group(owner_home(app))
    assert ("Email receipts are off: customers get no receipt by email. Set MERCHANT_SMTP_HOST, "
            "MERCHANT_SMTP_FROM (your mail server and the sender) to send them.") in group
    assert ("WhatsApp receipts are off: customers get no receipt by WhatsApp. Set "
            "MERCHANT_FONNTE_TOKEN (your Fonnte device token) to send them.") in group
    assert settings_group(owner_home(app, "staff@example.com", "staff")) == ""


def test_the_indonesian_panel_says_it_too(tmp_path):
    app = make_app(tmp_path, DEFAULT_LOCALE="id", **ON["email"])
    create_admin(app)
    client = app.test_client()
    sign_in(client)
    group = settings_group(client.get("/admin/?lang=id").text)
    assert "Struk WhatsApp tidak aktif" in group and "MERCHANT_FONNTE_TOKEN" in group
    assert "Struk email" not in group


def test_with_both_receipts_on_nothing_is_said(tmp_path):
    app = make_app(tmp_path, **ON["both"])
    assert "receipts are off" not in owner_home(app)
