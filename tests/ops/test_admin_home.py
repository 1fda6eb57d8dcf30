"""Needs attention: each kind of trouble shows up with its action, and goes when it is resolved."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from conftest import buy, create_admin, make_app, order_ref, sandbox_pay, set_package, sign_in, work
from flask import url_for

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import Order, PaymentMethod, Product, SupplierBalance, WorkerBeat, utcnow
from merchant.ops import attention, worker


@pytest.fixture(autouse=True)
def worker_alive(app):
    """A worker beat just now, so only the trouble a test sets up is listed."""
    with app.app_context():
        worker.beat("test-worker")


def page(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.text


def group(html: str, kind: str) -> str:
    """The text of one group on the page ('' when the page has none of that kind)."""
    found = re.search(rf'<section class="box attention attention-{kind}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def paid(client, app, **account) -> str:
    ref = order_ref(buy(client, app, **(account or {"username": "demo_user"})))
    sandbox_pay(client, app, ref)
    return ref


def update_order(app, ref: str, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == ref).values(**values))
        db.session.commit()


RECEIPTS_ON = {"SMTP_HOST": "127.0.0.1", "SMTP_FROM": "Shop <receipts@shop.test>",
               "FONNTE_TOKEN": "token"}


def test_a_quiet_shop_says_nothing_needs_you(tmp_path):
    app = make_app(tmp_path, **RECEIPTS_ON)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    with app.app_context():
        worker.beat("test-worker")
    html = page(owner)
    assert "Nothing needs you right now" in html
    assert 'class="box attention ' not in html


def test_late_paid_order_is_listed_with_its_order_link_until_delivered(client, app, owner):
    ref = paid(client, app)
    assert group(page(owner), "late") == ""          # paid a moment ago: not late yet

    update_order(app, ref, paid_at=utcnow() - dt.timedelta(minutes=25))
    late = group(page(owner), "late")
    assert ref in late
    assert "TikTok Coins" in late and "was paid 25 minutes ago and is still paid" in late
    assert f'href="/admin/orders/{ref}"' in late

    work(app)                                        # the worker delivers it
    assert ref not in page(owner)


def test_late_threshold_comes_from_the_config(tmp_path):
    app = make_app(tmp_path, NEEDS_ATTENTION_MINUTES=60)
    create_admin(app)
    client = app.test_client()
    sign_in(client)
    with app.app_context():
        worker.beat("test-worker")
    ref = paid(client, app)
    update_order(app, ref, paid_at=utcnow() - dt.timedelta(minutes=25))
    assert ref not in page(client)
    update_order(app, ref, paid_at=utcnow() - dt.timedelta(minutes=61))
    assert ref in group(page(client), "late")


def test_failed_delivery_shows_why_until_it_is_refunded(client, app, owner):
    ref = paid(client, app, username="gamer_fail")    # the sandbox supplier fails ...fail
    work(app)
    failed = group(page(owner), "failed")
    assert ref in failed
    assert ("could not be delivered: sandbox: Sandbox supplier: destination account rejected."
            in failed)
    assert f'href="/admin/orders/{ref}"' in failed and "Retry or refund" in failed
    assert ref not in group(page(owner), "late")

    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.ref == ref))
        assert orders.transition(order_id, orders.REFUNDED, source="admin", detail="test")
    assert ref not in page(owner)


def test_manual_delivery_waits_in_its_own_group_until_delivered(client, app, owner):
    set_package(app, "tiktok-coins", "70 Coins", supplier="manual", supplier_sku="")
    ref = paid(client, app, username="fan_of_coins")
    work(app)
    update_order(app, ref, paid_at=utcnow() - dt.timedelta(hours=2))
    html = page(owner)
    manual = group(html, "manual")
    assert ref in manual and "Top up 70 Coins (TikTok Coins) for fan_of_coins" in manual
    assert f'href="/admin/orders/{ref}"' in manual
    assert ref not in group(html, "late")            # not listed twice

    delivered = app.test_cli_runner().invoke(args=["deliver", ref, "--proof", "TT-1234"])
    assert delivered.exit_code == 0, delivered.output
    assert ref not in page(owner)


def test_manual_delivery_is_one_tap_from_the_list(client, app, staff):
    set_package(app, "tiktok-coins", "70 Coins", supplier="manual", supplier_sku="")
    ref = paid(client, app, username="fan_of_coins")
    work(app)
    manual = group(page(staff), "manual")
    form = re.search(r'<form class="attention-deliver" method="post" action="([^"]+)">', manual)
    assert form and form.group(1) == f"/admin/orders/{ref}/deliver"
    assert 'name="proof" required' in manual

    response = staff.post(form.group(1), data={"proof": "Sent 70 coins, TT-9"})
    assert response.status_code == 303
    assert ref not in group(page(staff), "manual")
    assert "TT-9" in client.get(f"/o/{ref}/status").text      # the customer sees the proof


def test_flagged_order_is_listed_with_the_reason_until_the_flag_is_cleared(client, app, owner):
    ref = paid(client, app)
    work(app)
    update_order(app, ref, flag="amount mismatch: paid 1.000, expected 15.000")
    flagged = group(page(owner), "flagged")
    assert ref in flagged and "amount mismatch: paid 1.000, expected 15.000" in flagged
    assert f'href="/admin/orders/{ref}"' in flagged

    update_order(app, ref, flag=None)
    assert group(page(owner), "flagged") == ""


def test_worker_that_never_ran_or_stopped_is_the_first_row(app, owner, staff):
    with app.app_context():
        db.session.execute(sa.delete(WorkerBeat))
        db.session.commit()
    html = page(owner)
    assert "No worker has ever run, so paid orders are not delivered." in group(html, "worker")
    assert html.index("attention-worker") < html.index("</main>")
    assert "No worker has ever run" in page(staff)

    with app.app_context():
        db.session.add(WorkerBeat(name="old", beat_at=utcnow() - dt.timedelta(minutes=5)))
        db.session.commit()
    stale = group(page(owner), "worker")
    assert "The worker last ran 5 minutes ago" in stale and 'href="/healthz"' in stale

    with app.app_context():
        worker.beat("old")
    assert group(page(owner), "worker") == ""


def test_supplier_short_of_deposit_is_shown_to_the_owner_only(app, owner, staff):
    with app.app_context():
        db.session.add(SupplierBalance(supplier="digiflazz", balance=50_000, pending_cost=120_000))
        db.session.commit()
    balance = group(page(owner), "balance")
    assert "Digiflazz balance Rp 50.000 cannot cover Rp 120.000" in balance
    assert "top up the digiflazz deposit" in balance
    assert group(page(staff), "balance") == ""

    with app.app_context():
        db.session.get(SupplierBalance, "digiflazz").balance = 500_000
        db.session.commit()
    assert group(page(owner), "balance") == ""


def misconfigure(app) -> None:
    """A package on Digiflazz, a product checked by Apigames, a method paid through Xendit:
    none of them has its keys."""
    set_package(app, "mobile-legends", "86 Diamonds", supplier="digiflazz")
    with app.app_context():
        db.session.execute(sa.update(Product).where(Product.slug == "free-fire")
                           .values(verifier="apigames"))
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == "OVO")
                           .values(gateway="xendit"))
        db.session.commit()


def test_providers_in_use_without_settings_are_named_with_what_to_set(app, owner, staff):
    misconfigure(app)
    settings = group(page(owner), "settings")
    assert ("The digiflazz supplier is not configured: set MERCHANT_DIGIFLAZZ_USERNAME, "
            "MERCHANT_DIGIFLAZZ_API_KEY. It serves 1 active package.") in settings
    assert ("The apigames account checker is not configured: set MERCHANT_APIGAMES_MERCHANT_ID,"
            " MERCHANT_APIGAMES_SECRET_KEY. It checks 1 active product.") in settings
    assert ("The xendit payment gateway is not configured: set MERCHANT_XENDIT_SECRET_KEY, "
            "MERCHANT_XENDIT_CALLBACK_TOKEN.") in settings
    with app.test_request_context():
        methods, catalog = url_for("admin.methods"), url_for("admin.products")
    assert f'href="{methods}"' in settings and f'href="{catalog}"' in settings
    assert group(page(staff), "settings") == ""

    with app.app_context():                  # an inactive method takes no payments
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == "OVO")
                           .values(active=False))
        db.session.commit()
    assert "xendit" not in group(page(owner), "settings")


def test_configured_providers_are_not_listed(tmp_path):
    app = make_app(tmp_path, DIGIFLAZZ_USERNAME="shop", DIGIFLAZZ_API_KEY="key",
                   APIGAMES_MERCHANT_ID="m", APIGAMES_SECRET_KEY="s",
                   XENDIT_SECRET_KEY="x", XENDIT_CALLBACK_TOKEN="t", **RECEIPTS_ON)
    misconfigure(app)
    create_admin(app)
    client = app.test_client()
    sign_in(client)
    with app.app_context():
        worker.beat("test-worker")
    assert "Nothing needs you right now" in page(client)


def test_staff_see_the_order_rows(client, app, staff):
    ref = paid(client, app, username="gamer_fail")
    work(app)
    assert ref in group(page(staff), "failed")


def test_each_kind_shows_a_bounded_number_of_rows_and_counts_the_rest(client, app, owner,
                                                                      monkeypatch):
    monkeypatch.setattr(attention, "LIMIT", 2)
    refs = [paid(client, app, username=f"late_{n}") for n in range(3)]
    for minutes, ref in zip((40, 30, 20), refs, strict=True):
        update_order(app, ref, paid_at=utcnow() - dt.timedelta(minutes=minutes))
    late = group(page(owner), "late")
    assert refs[0] in late and refs[1] in late and refs[2] not in late    # oldest first
    assert 'And 1 more: see <a href="/admin/orders">Orders</a>' in late
    assert '<span class="pill warn">3</span>' in late

    for ref in refs:
        update_order(app, ref, status="fulfillment_failed")
    failed = group(page(owner), "failed")
    assert 'see <a href="/admin/orders?status=fulfillment_failed">Orders</a>' in failed
