"""Saldo as a customer and the owner see it: deposits through the sandbox gateway, paying with
saldo at checkout, failed deliveries refunded to it, the owner's adjustments and dashboard."""
from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import buy, create_admin, get_order, history, order_ref, sign_in, work
from shoppers import (
    assert_books_balance,
    balance,
    buy_with_saldo,
    deposit,
    get_deposit,
    new_customer,
    paid_deposit,
    signed_in,
)

from merchant.core.extensions import db
from merchant.core.models import (
    AuditEntry,
    Deposit,
    LedgerTransaction,
    Order,
    PaymentMethod,
    ShopSettings,
    WebhookEvent,
)
from merchant.receipts import content
from merchant.vendors.payments.sandbox import SandboxGateway


def plain(response) -> str:
    """The page's text with the no-break spaces money is written with made plain."""
    return response.text.replace("\xa0", " ").replace("\u202f", " ")


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_deposit_shows_the_fee_and_credits_the_amount_once(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    page = client.get("/saldo")
    assert page.status_code == 200
    assert "Rp 0" in plain(page) and "fee 0,7% · min Rp 1.000" in plain(page)

    ref = paid_deposit(client, "50.000", "QRIS")
    found = get_deposit(app, ref)
    assert (found.status, found.amount, found.fee, found.total) == ("paid", 50_000, 350, 50_350)
    receipt = client.get(f"/saldo/d/{ref}").text
    assert "Rp 50.000 was added to your saldo" in receipt.replace("\xa0", " ")
    assert "Rp 50.350" in receipt.replace("\xa0", " ")
    assert balance(app, customer) == 50_000

    # The gateway repeats itself: the same callback 20 times, and 5 new deliveries of it.
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
    same = gateway.callback(ref, found.gateway_ref, "paid", found.total, "IDR")
    for body, headers in [same] * 20 + [
            gateway.callback(ref, found.gateway_ref, "paid", found.total, "IDR")
            for _ in range(5)]:
        assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    assert balance(app, customer) == 50_000
    assert count(app, LedgerTransaction, LedgerTransaction.deposit_id == found.id) == 1
    assert_books_balance(app)


def test_a_forged_or_short_deposit_callback_changes_nothing(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    response = deposit(client, "20.000", "QRIS")
    found = get_deposit(app, re.search(r"D[A-Z0-9]{8}", str(_deposits(app))).group(0))
    assert response.headers["Location"] == f"/sandbox/pay/{found.gateway_ref}"
    forged = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": "not-the-shop-secret"})
    body, headers = forged.callback(found.ref, found.gateway_ref, "paid", found.total, "IDR")
    answer = client.post("/webhooks/sandbox", data=body, headers=headers)
    assert answer.status_code == 401
    real = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": app.config["SANDBOX_WEBHOOK_SECRET"]})
    body, headers = real.callback(found.ref, found.gateway_ref, "paid", 1_000, "IDR")
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    after = get_deposit(app, found.ref)
    assert after.status == "awaiting_payment" and "does not match" in after.flag
    assert balance(app, customer) == 0
    assert count(app, LedgerTransaction) == 0


def _deposits(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Deposit.ref)))


def test_deposit_limits_and_signed_out_visitors(app, client):
    assert client.get("/saldo").status_code == 401
    assert deposit(client).status_code == 401
    shopper = signed_in(app, new_customer(app))
    too_small = deposit(shopper, "5.000")
    assert too_small.status_code == 422
    assert "The smallest deposit is Rp 10.000" in plain(too_small)
    too_big = deposit(shopper, "20.000.000")
    assert "The largest deposit is Rp 10.000.000" in plain(too_big)
    assert "Enter an amount like 50.000" in deposit(shopper, "lima puluh").text
    with app.app_context():
        qris = db.session.scalar(sa.select(PaymentMethod).where(PaymentMethod.code == "QRIS"))
        qris.min_amount = 60_000
        db.session.commit()
    under_method = deposit(shopper, "50.000", "QRIS")
    assert "QRIS takes at least Rp 60.000" in plain(under_method)
    assert _deposits(app) == []


def test_paying_with_saldo_skips_the_payment_page_and_delivers(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    paid_deposit(client, "50.000")
    product = client.get("/p/tiktok-coins").text.replace("\xa0", " ")
    assert 'value="SALDO"' in product and "balance Rp 50.000" in product

    response = buy_with_saldo(client, app)
    ref = order_ref(response)
    order = get_order(app, ref)
    assert (order.status, order.gateway, order.checkout_url, order.customer_id) == (
        "paid", "saldo", None, customer)
    assert (order.fee, order.total) == (0, 15_000)
    assert balance(app, customer) == 35_000
    work(app)
    assert get_order(app, ref).status == "delivered"
    assert [to for _, to, *_ in history(app, ref) if to] == [
        "awaiting_payment", "paid", "fulfilling", "delivered"]
    page = client.get(f"/o/{ref}").text
    assert "Delivered" in page and "/sandbox/pay" not in page
    assert_books_balance(app)


def test_a_short_saldo_is_refused_clearly_and_makes_no_order(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    paid_deposit(client, "10.000")
    summary = client.get(f"/p/tiktok-coins/summary?method=SALDO&package="
                         f"{_package(app)}", headers={"HX-Request": "true"}).text
    assert "does not cover" in summary
    response = buy_with_saldo(client, app)
    assert response.status_code == 422
    assert ("Your saldo (Rp 10.000) does not cover Rp 15.000. Top it up or choose another "
            "payment method.") in plain(response)
    assert count(app, Order) == 0
    assert balance(app, customer) == 10_000


def _package(app) -> int:
    from conftest import package_id
    return package_id(app, "tiktok-coins", "70 Coins")


def test_a_guest_cannot_pay_with_saldo(app, client):
    response = buy_with_saldo(client, app)
    assert response.status_code == 422
    assert "Sign in to pay with your saldo." in response.text
    assert 'value="SALDO"' not in client.get("/p/tiktok-coins").text


def test_a_failed_delivery_paid_with_saldo_goes_back_to_it_at_once(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    paid_deposit(client, "50.000")
    ref = order_ref(buy_with_saldo(client, app, username="buyer_fail"))
    assert balance(app, customer) == 35_000
    work(app)
    order = get_order(app, ref)
    assert (order.status, order.refund_ref) == ("refunded", "saldo")
    assert balance(app, customer) == 50_000
    assert [to for _, to, *_ in history(app, ref) if to] == [
        "awaiting_payment", "paid", "fulfilling", "fulfillment_failed", "refunded"]
    page = client.get(f"/o/{ref}").text.replace("\xa0", " ")
    assert "we returned Rp 15.000 to your saldo" in page
    with app.app_context():
        receipt = content.texts(db.session.get(Order, order.id), "refunded")
    assert receipt.headline == "Your order was refunded to your saldo"
    assert_books_balance(app)


def _set_refund_to_saldo(app, on: bool) -> None:
    with app.app_context():
        row = db.session.get(ShopSettings, 1)
        if row is None:
            row = ShopSettings(id=1)
            db.session.add(row)
        row.refund_to_saldo = on
        db.session.commit()


def test_the_owner_chooses_where_a_failed_gateway_order_goes(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    # As today: the failed order waits for the operator's gateway refund.
    ref = order_ref(buy(client, app, username="first_fail"))
    from conftest import sandbox_pay
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    assert balance(app, customer) == 0
    # Back to saldo automatically, once the owner chose it in the settings.
    create_admin(app)
    owner = app.test_client()
    assert sign_in(owner).status_code == 303
    settings = owner.post("/admin/settings", data={"refund_to_saldo": "y", "currency": "",
                                                   "default_locale": ""})
    assert settings.status_code in (200, 303), settings.text
    with app.app_context():
        assert db.session.get(ShopSettings, 1).refund_to_saldo
    second = order_ref(buy(client, app, username="second_fail"))
    sandbox_pay(client, app, second)
    work(app)
    order = get_order(app, second)
    assert (order.status, order.refund_ref) == ("refunded", "saldo")
    assert balance(app, customer) == order.total
    # The first one, by the owner's hand: "Refund to the customer's saldo".
    page = owner.get(f"/admin/orders/{ref}").text
    assert "Refund to the customer's saldo" in page
    done = owner.post(f"/admin/orders/{ref}/refund-to-saldo")
    assert done.status_code == 303
    assert get_order(app, ref).status == "refunded"
    assert balance(app, customer) == order.total * 2
    again = owner.post(f"/admin/orders/{ref}/refund-to-saldo")
    assert again.status_code == 422 and "cannot be refunded again" in again.text
    assert balance(app, customer) == order.total * 2
    assert_books_balance(app)


def test_a_guests_failed_order_is_not_refunded_to_any_saldo(app, client):
    _set_refund_to_saldo(app, True)
    from conftest import failed_order
    ref = failed_order(client, app)
    assert get_order(app, ref).status == "fulfillment_failed"
    assert count(app, LedgerTransaction) == 0


def test_owner_adjusts_a_saldo_with_a_reason_and_staff_cannot(app, owner):
    customer = new_customer(app)
    page = owner.get(f"/admin/customers/{customer}/saldo")
    assert page.status_code == 200 and "Rp 0" in plain(page)
    no_reason = owner.post(f"/admin/customers/{customer}/saldo",
                           data={"direction": "add", "amount": "25.000", "reason": "",
                                 "key": "k1"})
    assert no_reason.status_code == 422 and "Say why you change this saldo" in no_reason.text
    added = owner.post(f"/admin/customers/{customer}/saldo",
                       data={"direction": "add", "amount": "25.000", "key": "k2",
                             "reason": "Compensation for the outage on 5 Dec"})
    assert added.status_code == 303
    # The same form sent twice: one adjustment.
    twice = owner.post(f"/admin/customers/{customer}/saldo",
                       data={"direction": "add", "amount": "25.000", "key": "k2",
                             "reason": "Compensation for the outage on 5 Dec"})
    assert twice.status_code == 422 and "already recorded" in twice.text
    too_much = owner.post(f"/admin/customers/{customer}/saldo",
                          data={"direction": "take", "amount": "30.000", "key": "k3",
                                "reason": "Double credit"})
    assert too_much.status_code == 422
    assert "holds only Rp 25.000" in plain(too_much)
    taken = owner.post(f"/admin/customers/{customer}/saldo",
                       data={"direction": "take", "amount": "5.000", "key": "k4",
                             "reason": "Double credit"})
    assert taken.status_code == 303
    assert balance(app, customer) == 20_000
    ledger_page = owner.get(f"/admin/customers/{customer}/saldo").text
    assert "Compensation for the outage on 5 Dec" in ledger_page
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "saldo.adjust")).all()
        assert [(e.before, e.after) for e in entries] == [
            ({"saldo": 0}, {"saldo": 25_000}), ({"saldo": 25_000}, {"saldo": 20_000})]
    create_admin(app, "staff@example.com", role="staff")
    staff = app.test_client()
    assert sign_in(staff, "staff@example.com").status_code == 303
    assert staff.get(f"/admin/customers/{customer}/saldo").status_code == 200
    refused = staff.post(f"/admin/customers/{customer}/saldo",
                         data={"direction": "add", "amount": "1.000.000", "key": "k5",
                               "reason": "me"})
    assert refused.status_code == 403
    assert balance(app, customer) == 20_000
    assert_books_balance(app)


def test_the_dashboard_shows_saldo_held_deposits_and_spend(app, owner):
    customer = new_customer(app)
    client = signed_in(app, customer)
    paid_deposit(client, "50.000")
    order_ref(buy_with_saldo(client, app))
    other = signed_in(app, new_customer(app, "budi@example.com", "Budi"))
    paid_deposit(other, "20.000")
    page = owner.get("/admin/dashboard?period=7d").text.replace("\xa0", " ")
    held = re.search(r'id="figure-saldo-held">.*?<b>(.*?)</b>', page, re.S).group(1)
    assert held == "Rp 55.000"
    today = re.search(r'<li>(.*?)</li>', page[page.index('class="saldo-days"'):], re.S)
    assert re.findall(r'class="saldo-\w+">(.*?)</span>', today.group(1)) == [
        "Rp 70.000", "Rp 15.000", "Rp 0"]


def test_replayed_webhook_rows_name_the_deposit(app):
    client = signed_in(app, new_customer(app))
    ref = paid_deposit(client, "10.000")
    with app.app_context():
        outcome = db.session.scalar(sa.select(WebhookEvent.outcome))
    assert outcome == f"deposit {ref}: credited"


def test_the_account_page_and_the_panels_customer_page_show_the_saldo(app):
    customer = new_customer(app)
    client = signed_in(app, customer)
    paid_deposit(client, "50.000", "QRIS")
    account = plain(client.get("/account"))
    assert "Your saldo" in account and "Rp 50.000" in account
    assert 'href="/saldo"' in client.get("/account").text

    create_admin(app)
    admin = app.test_client()
    sign_in(admin)
    page = admin.get(f"/admin/customers/{customer}")
    assert "Rp 50.000" in plain(page)
    assert f'href="/admin/customers/{customer}/saldo"' in page.text
