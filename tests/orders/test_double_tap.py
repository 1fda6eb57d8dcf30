"""Buy pressed twice is one order: with the key the shop's script puts in the form when it is
sent, and without JavaScript (no key) from the purchase itself (checkout.purchase_keys)."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import order_ref, package_id, verify

from merchant.core.extensions import db
from merchant.core.models import Order


def orders(app) -> int:
    with app.app_context():
        return db.session.query(Order).count()


@pytest.fixture
def form(app, client):
    """A checked account and a chosen package, method and contact; no key, as without JS."""
    token = verify(client, "tiktok-coins", username="demo_user")
    return {"username": "demo_user", "verification_token": token, "method": "QRIS",
            "package": package_id(app, "tiktok-coins", "70 Coins"),
            "email": "buyer@example.com", "idempotency_key": ""}


def test_the_same_key_twice_is_one_order(app, client, form):
    form["idempotency_key"] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    assert order_ref(client.post("/p/tiktok-coins/order", data=form)) == first
    assert orders(app) == 1


def test_a_new_key_is_a_new_order(app, client, form):
    refs = {order_ref(client.post("/p/tiktok-coins/order",
                                  data={**form, "idempotency_key": key}))
            for key in ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")}
    assert len(refs) == 2


@pytest.mark.parametrize("key", ["", None, "short", "not a key!"])
def test_without_javascript_two_quick_presses_are_one_order(app, client, form, clock, key):
    if key is None:
        del form["idempotency_key"]
    else:
        form["idempotency_key"] = key
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    clock.advance(2)
    assert order_ref(client.post("/p/tiktok-coins/order", data=form)) == first
    assert orders(app) == 1


def test_presses_either_side_of_a_windows_end_still_meet(app, client, form, clock):
    now = clock.now().replace(tzinfo=dt.UTC).timestamp()
    clock.advance(30 - now % 30 - 0.1)          # 0.1 s before a window ends
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    clock.advance(0.2)
    assert order_ref(client.post("/p/tiktok-coins/order", data=form)) == first


def test_without_javascript_another_purchase_is_another_order(app, client, form):
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    other = {**form, "package": package_id(app, "tiktok-coins", "350 Coins")}
    assert order_ref(client.post("/p/tiktok-coins/order", data=other)) != first
    contact = {**form, "email": "someone@example.com"}
    assert order_ref(client.post("/p/tiktok-coins/order", data=contact)) != first
    assert orders(app) == 3


def test_without_javascript_the_same_purchase_a_minute_later_is_a_new_order(
        app, client, form, clock):
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    clock.advance(61)
    assert order_ref(client.post("/p/tiktok-coins/order", data=form)) != first


def test_the_same_purchase_from_another_browser_is_its_own_order(app, client, form):
    """Same account, same package, same contact, the same moment: another session's order,
    never a way into this one."""
    first = order_ref(client.post("/p/tiktok-coins/order", data=form))
    other = app.test_client()
    verify(other, "tiktok-coins", username="demo_user")        # its own session
    second = other.post("/p/tiktok-coins/order", data=form)
    assert order_ref(second) != first
    assert other.get(f"/o/{first}").status_code == 404


def test_a_first_post_without_a_session_is_one_order_too(app, form):
    """No account check before Buy (a game typed twice), no cookie yet: the two presses share
    the connection and the browser; a stranger on another browser does not."""
    phone = {"User-Agent": "Phone/1.0"}
    taps = [app.test_client().post("/p/tiktok-coins/order", data=form, headers=phone)
            for _ in range(2)]
    assert order_ref(taps[0]) == order_ref(taps[1])
    stranger = app.test_client().post("/p/tiktok-coins/order", data=form,
                                      headers={"User-Agent": "Laptop/2.0"})
    assert order_ref(stranger) != order_ref(taps[0])
    assert orders(app) == 2
