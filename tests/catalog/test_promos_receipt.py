"""The issue's "done when", for the promo part: a customer in Bahasa Indonesia buys with a code
and the emailed receipt shows the discount and the discounted total."""
from __future__ import annotations

from conftest import get_order, make_app, order_ref, sandbox_pay, work

from tests.catalog.test_promos import add_promo, buy_with


def test_the_receipt_shows_the_discount_in_the_customers_language(tmp_path, smtp):
    app = make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                   SMTP_FROM="Toko <receipts@shop.test>")
    add_promo(app, "SAVE10", percent_bp=1000)
    client = app.test_client()
    client.get("/?lang=id")
    ref = order_ref(buy_with(client, app, promo="save10", username="happy_gamer"))
    sandbox_pay(client, app, ref)
    work(app, passes=3)
    assert get_order(app, ref).status == "delivered"

    [received] = smtp.wait_for(1)
    message = received.message
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        body = part.get_content()
        assert "Rp 15.000" in body and "Diskon (SAVE10)" in body and "-Rp 1.500" in body
        assert "Rp 95" in body and "Rp 13.595" in body
