"""A paid order whose delivery failed, refunded by the owner from the panel, for every gateway.

Each gateway's fake vendor server takes the payment and then the refund through the refund API
its docs describe; the customer's order page then says the order was refunded. Tripay has no
refund API: the owner records a manual refund instead.
"""
from __future__ import annotations

import html

import pytest
from conftest import buy, get_order, history, make_app, order_ref, work
from test_gateway_flows import DRIVERS, Driver, deliver


def xendit_refunds(driver, ref):
    invoice_id = driver.fake.only(ref)["id"]
    return [r for r in driver.fake.refunds.values() if r["invoice_id"] == invoice_id]


def midtrans_refunds(driver, ref):
    return driver.fake.refunds.get(ref, [])


def stripe_refunds(driver, ref):
    intent = driver._session(ref)["payment_intent"]
    return [r for r in driver.fake.refunds.values() if r["payment_intent"] == intent]


# What each refunding vendor's fake holds for the order, and the id it gave the refund.
REFUNDS = {
    "xendit": (xendit_refunds, lambda r: r["id"]),
    "midtrans-snap": (midtrans_refunds, lambda r: r["refund_key"]),
    "midtrans-qris": (midtrans_refunds, lambda r: r["refund_key"]),
    "stripe": (stripe_refunds, lambda r: r["id"]),
}


@pytest.fixture
def driver(request, vendor_server) -> Driver:
    """The gateway named by the test's parametrize(..., indirect=True)."""
    driver = DRIVERS[request.param](vendor_server)
    driver.key = request.param
    return driver


@pytest.fixture
def app(tmp_path, driver):
    return make_app(tmp_path, **{**driver.settings(), "HTTP_TIMEOUT": 3})


def failed_order(client, app, driver) -> str:
    """An order paid through the vendor whose delivery failed (the sandbox supplier fails
    usernames ending in `fail`)."""
    ref = order_ref(buy(client, app, method=driver.method, username="alice_fail"))
    assert driver.reply_ok(deliver(client, driver, driver.paid(ref)))
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"
    return ref


def refund(owner, ref, note="", manual=False):
    """Press a refund button on the order's admin page."""
    button = {"manual": "Record a manual refund"} if manual else \
        {"api": "Refund through the gateway"}
    return owner.post(f"/admin/orders/{ref}/refund", data={"note": note, **button})


def shown(response) -> str:
    return html.unescape(response.text)


@pytest.mark.parametrize("driver", list(REFUNDS), indirect=True)
def test_owner_refunds_a_failed_order_through_the_gateway(client, app, owner, driver):
    held, refund_id = REFUNDS[driver.key]
    ref = failed_order(client, app, driver)

    response = refund(owner, ref, note="player ID does not exist")

    assert response.status_code == 303, shown(response)
    [vendor_refund] = held(driver, ref)
    page = shown(owner.get(response.headers["Location"]))
    assert f"through {driver.name} (refund {refund_id(vendor_refund)})" in page
    order = get_order(app, ref)
    assert order.status == "refunded"
    assert order.refund_ref == refund_id(vendor_refund)
    assert history(app, ref)[-1][:2] == ("fulfillment_failed", "refunded")
    assert f"payment you made (refund {order.refund_ref})" in shown(client.get(f"/o/{ref}"))


@pytest.mark.parametrize("driver", list(REFUNDS), indirect=True)
def test_a_second_refund_reaches_no_vendor(client, app, owner, driver):
    held, _ = REFUNDS[driver.key]
    ref = failed_order(client, app, driver)
    assert refund(owner, ref).status_code == 303

    again = refund(owner, ref)

    assert again.status_code == 422
    assert f"Order {ref} was refunded: it cannot be refunded again." in shown(again)
    assert len(held(driver, ref)) == 1


@pytest.mark.parametrize("driver", list(REFUNDS), indirect=True)
def test_vendor_outage_leaves_the_order_for_another_try(client, app, owner, driver):
    held, _ = REFUNDS[driver.key]
    ref = failed_order(client, app, driver)
    driver.down()

    refused = refund(owner, ref)

    assert refused.status_code == 422
    assert f"{driver.name} did not refund order {ref}" in shown(refused)
    assert "Nothing was changed" in shown(refused)
    assert get_order(app, ref).status == "fulfillment_failed"
    driver.up()
    assert refund(owner, ref).status_code == 303
    assert get_order(app, ref).status == "refunded"
    assert len(held(driver, ref)) == 1


@pytest.mark.parametrize("driver", ["tripay"], indirect=True)
def test_tripay_order_is_refunded_by_hand(client, app, owner, driver):
    ref = failed_order(client, app, driver)

    refused = refund(owner, ref)
    assert refused.status_code == 422
    assert "tripay does not refund" in shown(refused)
    assert refund(owner, ref, note="sent Rp 15.000 back by DANA", manual=True).status_code == 303

    order = get_order(app, ref)
    assert order.status == "refunded" and order.refund_ref is None
    assert "another way: <strong class=\"refund-note\">sent Rp 15.000 back by DANA" in \
        client.get(f"/o/{ref}").text
