"""A signed-in customer's orders: placed orders belong to the account, guest orders with a
verified contact can be claimed (and only those), saved game accounts fill in the product
page, and Buy again places the same order through the normal checkout."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import buy, get_order, make_app, order_ref, package_id, verify
from signing_in import customer, sign_in, smtp_config

from merchant.core.extensions import db
from merchant.core.models import Order, SavedAccount


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, **smtp_config(smtp))


def test_an_order_placed_while_signed_in_is_the_accounts(app, client, smtp):
    sign_in(client, smtp)
    ref = order_ref(buy(client, app, email="dewi@example.com"))
    assert get_order(app, ref).customer_id == customer(app).id
    page = client.get("/account")
    assert ref in page.text and "Buy again" in page.text
    # A guest's order belongs to nobody.
    guest = order_ref(buy(app.test_client(), app, email="dewi@example.com"))
    assert get_order(app, guest).customer_id is None


def test_guest_orders_are_claimed_only_with_a_verified_contact(app, client, smtp):
    guest = app.test_client()
    mine = [order_ref(buy(guest, app, email=address))
            for address in ("dewi@example.com", "Dewi@Example.com")]
    theirs = order_ref(buy(guest, app, email="someone@example.com"))
    # Signed in as someone else: nothing to claim of Dewi's.
    other = app.test_client()
    sign_in(other, smtp, "mallory@example.com")
    assert "Orders from before your account" not in other.get("/account").text
    other.post("/account/claim")
    assert all(get_order(app, ref).customer_id is None for ref in mine)
    # Dewi proved her address with a code: hers are offered and claimed, no one else's.
    sign_in(client, smtp)
    page = client.get("/account")
    assert "2 orders were placed with your email" in page.text
    done = client.post("/account/claim")
    assert "now in your account" in client.get(done.headers["Location"]).text
    dewi = customer(app).id
    assert [get_order(app, ref).customer_id for ref in mine] == [dewi, dewi]
    assert get_order(app, theirs).customer_id is None
    assert "Orders from before your account" not in client.get("/account").text


def test_claiming_needs_a_signed_in_customer(app, client):
    response = client.post("/account/claim")
    assert response.status_code == 303 and "/account/sign-in" in response.headers["Location"]


def test_a_saved_game_account_fills_in_the_product_page(app, client, smtp):
    sign_in(client, smtp)
    page = client.get("/p/tiktok-coins")
    assert "Save this game account to my account" in page.text
    token = verify(client, "tiktok-coins", username="dewi_plays")
    response = client.post("/p/tiktok-coins/order", data={
        "username": "dewi_plays", "verification_token": token, "method": "QRIS",
        "package": package_id(app, "tiktok-coins", "70 Coins"), "email": "dewi@example.com",
        "save_account": "1", "idempotency_key": "save-account-1"})
    order_ref(response)
    # Another device, signed in to the same account: the saved account is filled in.
    phone = app.test_client()
    sign_in(phone, smtp)
    page = phone.get("/p/tiktok-coins")
    assert 'value="dewi_plays"' in page.text
    assert "Filled in with your saved game account" in page.text
    assert 'value="dewi@example.com"' in page.text             # the contact too
    # Removed from the account page: no longer filled in.
    with app.app_context():
        saved_id = db.session.scalar(sa.select(SavedAccount.id))
    phone.post(f"/account/saved/{saved_id}/remove")
    assert 'value="dewi_plays"' not in phone.get("/p/tiktok-coins").text


def test_an_order_saves_its_game_account_and_a_stranger_cannot(app, client, smtp):
    sign_in(client, smtp)
    ref = order_ref(buy(client, app, email="dewi@example.com", username="dewi_main"))
    stranger = app.test_client()
    sign_in(stranger, smtp, "mallory@example.com")
    assert stranger.post(f"/account/orders/{ref}/save").status_code == 404
    assert client.post(f"/account/orders/{ref}/save").status_code == 303
    assert 'value="dewi_main"' in client.get("/p/tiktok-coins").text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedAccount)) == 1


def test_buy_again_places_the_same_order_once_per_tap(app, client, smtp):
    sign_in(client, smtp)
    first = get_order(app, order_ref(buy(client, app, email="dewi@example.com",
                                         username="dewi_again")))
    # Without JavaScript: a plain form post, no key; a double tap is one order.
    taps = [client.post(f"/account/orders/{first.ref}/again") for _ in range(2)]
    refs = {order_ref(tap) for tap in taps}
    assert len(refs) == 1
    again = get_order(app, refs.pop())
    assert again.ref != first.ref
    assert (again.account, again.package_id, again.payment_method, again.email,
            again.customer_id, again.nickname) == \
        (first.account, first.package_id, first.payment_method, first.email,
         first.customer_id, first.nickname)
    assert again.status == "awaiting_payment"
    # With JavaScript the form carries a key: the same key is the same order.
    keyed = [client.post(f"/account/orders/{first.ref}/again",
                         data={"idempotency_key": "again-key-1"}) for _ in range(2)]
    assert len({order_ref(tap) for tap in keyed}) == 1
    # Someone else's order cannot be bought again from another account.
    stranger = app.test_client()
    sign_in(stranger, smtp, "mallory@example.com")
    assert stranger.post(f"/account/orders/{first.ref}/again").status_code == 404


def test_buy_again_for_an_account_that_fails_its_check_shows_the_product_page(app, client,
                                                                              smtp):
    sign_in(client, smtp)
    ref = order_ref(buy(client, app, email="dewi@example.com", username="dewi_gone"))
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        order.account = {"username": "missing_dewi"}      # the sandbox finds no such user
        db.session.commit()
    response = client.post(f"/account/orders/{ref}/again")
    assert response.status_code == 422
    assert "We could not find this account" in response.text
