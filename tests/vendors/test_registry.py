"""registry.ready: the one answer to "can this vendor adapter be used here?", and its one
reason where the owner meets it: the panel, an order's history, the log, the balance watch."""
from __future__ import annotations

import html
import logging

import pytest
import sqlalchemy as sa
from conftest import (
    buy,
    create_admin,
    history,
    make_app,
    order_ref,
    sandbox_pay,
    set_package,
    set_product,
    sign_in,
    work,
)
from flask_babel import force_locale

from merchant.core.extensions import db
from merchant.core.models import PaymentMethod
from merchant.supply import deposits
from merchant.vendors import registry
from merchant.vendors.payments.base import PaymentError
from merchant.vendors.suppliers.base import SupplierError

DIGIFLAZZ = ("The digiflazz supplier is not configured: set MERCHANT_DIGIFLAZZ_USERNAME, "
             "MERCHANT_DIGIFLAZZ_API_KEY.")
APIGAMES = ("The apigames account checker is not configured: set MERCHANT_APIGAMES_MERCHANT_ID, "
            "MERCHANT_APIGAMES_SECRET_KEY.")
TRIPAY = ("The tripay payment gateway is not configured: set MERCHANT_TRIPAY_API_KEY, "
          "MERCHANT_TRIPAY_PRIVATE_KEY, MERCHANT_TRIPAY_MERCHANT_CODE.")
SANDBOX_OFF = ("The sandbox gateway is off in this shop (it takes pretend payments): choose a "
               "real gateway.")


def assign(app, code: str, gateway: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == code)
                           .values(gateway=gateway))
        db.session.commit()


def signed_in_owner(app):
    create_admin(app)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return client


# -- ready -------------------------------------------------------------------------------------

def test_an_unknown_name_is_not_ready_and_is_never_built(app):
    with app.app_context():
        readiness = registry.ready("supplier", "nosuch")
        assert not readiness and readiness.problem == registry.UNKNOWN and readiness.missing == ()
        assert readiness.reason == "There is no supplier called 'nosuch'."
        with pytest.raises(registry.SupplierNotReady) as refused:
            registry.supplier("nosuch")
    # Callers that handle a supplier's own error handle this one too.
    assert isinstance(refused.value, SupplierError)
    assert str(refused.value) == readiness.reason


def test_missing_settings_are_listed_exactly_and_refused(app):
    app.config.update(TRIPAY_API_KEY="DEV-x", TRIPAY_MERCHANT_CODE="T1")
    with app.app_context():
        readiness = registry.ready("gateway", "tripay")
        assert not readiness and readiness.missing == ("MERCHANT_TRIPAY_PRIVATE_KEY",)
        assert readiness.reason == ("The tripay payment gateway is not configured: set "
                                    "MERCHANT_TRIPAY_PRIVATE_KEY.")
        with pytest.raises(registry.GatewayNotReady) as refused:
            registry.gateway("tripay")
    assert isinstance(refused.value, PaymentError)
    assert refused.value.missing == ("MERCHANT_TRIPAY_PRIVATE_KEY",)
    assert str(refused.value) == readiness.reason


def test_the_sandbox_gateway_switched_off_is_not_ready_even_with_its_secret():
    readiness = registry.ready("gateway", "sandbox",
                               {"SANDBOX_ENABLED": False, "SANDBOX_WEBHOOK_SECRET": "s"})
    assert readiness.problem == registry.SWITCHED_OFF and readiness.reason == SANDBOX_OFF


def test_a_ready_adapter_is_built_once(app):
    app.config.update(DIGIFLAZZ_USERNAME="u", DIGIFLAZZ_API_KEY="k")
    with app.app_context():
        readiness = registry.ready("supplier", "digiflazz")
        assert readiness.ok and readiness.reason == "" and readiness.missing == ()
        assert registry.supplier("digiflazz") is registry.supplier("digiflazz")
        assert registry.ready("verifier", "sandbox") and registry.ready("gateway", "sandbox")


def test_the_reason_is_english_for_logs_and_said_in_the_panels_language(app):
    with app.test_request_context(), force_locale("id"):
        readiness = registry.ready("verifier", "apigames")
        assert readiness.reason == APIGAMES
        assert readiness.said() == ("pengecek akun apigames belum disetel: atur "
                                    "MERCHANT_APIGAMES_MERCHANT_ID, MERCHANT_APIGAMES_SECRET_KEY.")


# -- where the reason reaches the owner ---------------------------------------------------------

def test_fulfillment_refuses_an_unready_supplier_in_the_order_history(client, app):
    set_package(app, "tiktok-coins", "70 Coins", supplier="digiflazz", supplier_sku="TT70")
    ref = order_ref(buy(client, app))
    sandbox_pay(client, app, ref)
    work(app)
    detail = history(app, ref)[-1][3]
    assert detail == f"digiflazz: {DIGIFLAZZ[:-1]}: check the digiflazz settings"
    owner = signed_in_owner(app)
    assert DIGIFLAZZ[:-1] in html.unescape(owner.get(f"/admin/orders/{ref}").text)


def test_the_balance_watch_shows_the_reason_on_the_owners_home(app):
    set_package(app, "tiktok-coins", "70 Coins", supplier="digiflazz", supplier_sku="TT70")
    with app.app_context():
        assert deposits.check_due() == 1
    owner = signed_in_owner(app)
    assert DIGIFLAZZ in html.unescape(owner.get("/admin/").text)


def test_needs_attention_says_a_switched_off_sandbox_once_with_the_methods_it_holds(tmp_path):
    app = make_app(tmp_path, GATEWAY="midtrans", MIDTRANS_SERVER_KEY="SB-Mid-server-x",
                   PUBLIC_URL="https://shop.example.com")
    for code in ("QRIS", "GOPAY"):
        assign(app, code, "sandbox")            # left on the sandbox by a demo shop gone live
    home = html.unescape(signed_in_owner(app).get("/admin/").text)
    assert home.count(SANDBOX_OFF) == 1
    assert (f"{SANDBOX_OFF} Customers cannot pay with its 2 payment methods until then."
            in home)


def test_the_catalog_form_refuses_an_unready_checker_in_the_owners_language(app):
    owner = signed_in_owner(app)
    owner.get("/admin/?lang=id")
    refused = owner.post("/admin/catalog/new", data={
        "name": "X", "slug": "x", "preset": "player_id", "verifier": "apigames",
        "sort_order": "0"})
    assert refused.status_code == 422
    assert ("pengecek akun apigames belum disetel: atur MERCHANT_APIGAMES_MERCHANT_ID, "
            "MERCHANT_APIGAMES_SECRET_KEY.") in html.unescape(refused.text)


def test_the_methods_page_says_why_a_method_on_an_unready_gateway_is_not_offered(app):
    assign(app, "OVO", "tripay")
    page = html.unescape(signed_in_owner(app).get("/admin/methods").text)
    assert TRIPAY in page


def test_a_payment_callback_for_an_unready_gateway_is_refused_with_the_reason_logged(
        app, client, caplog):
    assign(app, "QRIS", "tripay")
    with caplog.at_level(logging.ERROR):
        answer = client.post("/webhooks/tripay", data=b'{"status": "PAID"}')
    assert answer.status_code == 401
    assert f"tripay callback rejected: it cannot be verified: {TRIPAY}" in caplog.text


def test_a_supplier_callback_for_an_unready_supplier_is_refused_with_the_reason_logged(
        client, caplog):
    with caplog.at_level(logging.ERROR):
        answer = client.post("/webhooks/supplier/digiflazz", data=b'{"data": {}}')
    assert answer.status_code == 401
    assert f"digiflazz supplier callback rejected: it cannot be verified: {DIGIFLAZZ}" \
        in caplog.text


def test_an_account_check_on_an_unready_checker_is_unavailable_with_the_reason_logged(
        app, client, caplog):
    set_product(app, "tiktok-coins", verifier="apigames")
    with caplog.at_level(logging.WARNING):
        response = client.post("/p/tiktok-coins/verify", data={"username": "demo_user"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 422          # the customer is told the check is down
    assert f"nickname lookup apigames for tiktok-coins unavailable: {APIGAMES}" in caplog.text
