"""Policies and identity: the terms, refund, privacy and contact pages linked from every page's
foot and from the checkout, the PSE registration shown when set, and the proof of transaction
every receipt carries (who sold, what, when, how much, how paid, the reference)."""
from __future__ import annotations

from conftest import buy, delivered_order, get_order, make_app, order_ref, work

from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.receipts import content

PSE = "012345.01/DJAI.PSE/07/2026"
IDENTITY = {"legal_name": "CV Kilat Digital", "nib": "9120001234567", "pse_number": PSE}
POLICIES = {"terms": "Top-up dikirim dalam 5 menit.", "refund_policy": "Gagal = uang kembali.",
            "privacy_policy": "Email dan WhatsApp hanya untuk struk."}
FOOT_LINKS = ('href="/terms"', 'href="/refund-policy"', 'href="/privacy"', 'href="/contact"')


def save_settings(owner, **values) -> None:
    response = owner.post("/admin/settings", data={"currency": "", "default_locale": "",
                                                   **values})
    assert response.status_code == 303, response.text


def public_pages(client, app) -> dict[str, str]:
    ref = order_ref(buy(client, app))
    token = get_order(app, ref).view_token
    pages = {path: client.get(path) for path in (
        "/", "/p/tiktok-coins", "/track", "/terms", "/refund-policy", "/privacy", "/contact",
        "/no-such-page")}
    pages["order"] = client.get(f"/o/{ref}?t={token}", follow_redirects=True)
    for path, response in pages.items():
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
    return {path: response.text for path, response in pages.items()}


def test_foot_links_and_registration_on_every_public_page(app, client, owner):
    save_settings(owner, **POLICIES, **IDENTITY)
    for path, page in public_pages(client, app).items():
        foot = page[page.index('<footer class="foot">'):]
        for link in FOOT_LINKS:
            assert link in foot, (path, link)
        assert PSE in foot and "CV Kilat Digital" in foot and "9120001234567" in foot, path
    assert "Email dan WhatsApp hanya untuk struk." in client.get("/privacy").text
    contact = client.get("/contact?lang=en").text
    assert "CV Kilat Digital" in contact and PSE in contact and "Track order" in contact


def test_the_checkout_links_the_policies(app, client, owner):
    save_settings(owner, **POLICIES)
    page = client.get("/p/tiktok-coins?lang=en").text
    checkout = page[page.index('class="muted small checkout-policies"'):page.index("</form>")]
    assert "By buying you accept our terms." in checkout
    for link in FOOT_LINKS:
        assert link in checkout


def test_nothing_unset_is_linked_or_shown(client):
    page = client.get("/?lang=en").text
    foot = page[page.index('<footer class="foot">'):]
    assert 'href="/contact"' in foot
    assert "/privacy" not in foot and "/terms" not in foot and "PSE" not in foot
    assert client.get("/privacy").status_code == 404


def test_bad_registration_numbers_are_refused(owner, app):
    response = owner.post("/admin/settings", data={"currency": "", "default_locale": "",
                                                   "nib": "12-34", "claim_window_days": "0"})
    assert response.status_code == 422
    assert "An NIB is 13 digits" in response.text and "from 1 to 90" in response.text


def test_the_receipt_is_a_proof_of_transaction(tmp_path, smtp):
    app = make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                   SMTP_FROM="Shop <receipts@shop.test>")
    from conftest import create_admin, sign_in
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    save_settings(owner, **IDENTITY)
    client = app.test_client()
    client.get("/?lang=en")
    ref = delivered_order(client, app)
    work(app)
    order = get_order(app, ref)
    [received] = smtp.wait_for(1)
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Proof of transaction" in body
        assert "CV Kilat Digital" in body and "9120001234567" in body and PSE in body  # who
        assert "70 Coins" in body and "TikTok Coins" in body                           # what
        assert "Rp 15.105" in body                                                      # how much
        assert "QRIS" in body and order.gateway_ref in body                             # how paid
        assert ref in body                                                              # reference
        assert "Ordered" in body and "Paid" in body and "Delivered" in body             # when
    assert "Ordered: " in text and " WIB" in text
    assert "Rate your top-up" in text
    # The WhatsApp receipt carries the same proof.
    with app.app_context():
        row = db.session.get(Order, order.id)
        with content.in_language(row):
            whatsapp = content.render("whatsapp.txt", row, "delivered")
    assert "CV Kilat Digital" in whatsapp and PSE in whatsapp and order.gateway_ref in whatsapp
