"""The proof of the Digiflazz-compatible door: our own Digiflazz supplier adapter, a program
written against Digiflazz's buyer API and tested against the fake of it, works against the door
unchanged, with only its base URL, username and apiKey set to the shop's and the key's."""
from __future__ import annotations

import pytest
import requests
from conftest import work
from door_shop import FREE_FIRE, door_served, reseller, saldo, sku

from merchant.vendors.suppliers.base import DELIVERED, FAILED, PENDING, Delivery, ForgedCallback
from merchant.vendors.suppliers.digiflazz import DigiflazzSupplier


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def adapter(base_url: str, username: str, api_key: str, session, **extra) -> DigiflazzSupplier:
    """The adapter configured the way a shop configures it for Digiflazz, pointed at the door."""
    return DigiflazzSupplier({"DIGIFLAZZ_USERNAME": username, "DIGIFLAZZ_API_KEY": api_key,
                              "DIGIFLAZZ_WEBHOOK_SECRET": api_key,
                              "DIGIFLAZZ_API_URL": base_url, "HTTP_TIMEOUT": 10, **extra},
                             session)


def callbacks_received(app, server, passes: int = 6) -> list:
    """The worker's passes until the receiver got a callback: what it received."""
    for _ in range(passes):
        work(app)
        if server.log:
            break
    return [request for request, _response in server.log]


def test_our_digiflazz_adapter_buys_through_the_door_unchanged(app, vendor_server, session):
    vendor_server.expect_request("/digiflazz-hook", method="POST").respond_with_data("ok")
    shop = reseller(app, saldo=100_000,
                    callback_url=vendor_server.url_for("/digiflazz-hook"))
    code = sku(app, *FREE_FIRE)
    with door_served(app) as base_url:
        supplier = adapter(base_url, shop.username, shop.api_key, session)

        listed = {item.sku: item for item in supplier.price_list()}
        assert listed[code].price == 10_000
        assert listed[code].product_name == "Free Fire 70 Diamonds"
        assert listed[code].buyer_product_status and listed[code].seller_product_status
        assert supplier.balance() == 100_000

        order = Delivery(ref_id="RESELLER-0001", sku=code, account={"player_id": "123456789"},
                         max_price=12_000)
        placed = supplier.place(order)
        assert placed.status == PENDING, placed.message
        assert placed.balance == 90_000 and placed.price == 10_000
        assert saldo(app, shop.customer_id) == 90_000

        received = callbacks_received(app, vendor_server)
        checked = supplier.check(order)             # the same ref_id again: its status
        assert checked.status == DELIVERED, checked.message
        assert checked.proof != ""
        assert supplier.balance() == 90_000         # the re-send bought nothing

    assert len(received) == 1
    callback = received[0]
    assert callback.headers["X-Hub-Signature"].startswith("sha1=")
    told = supplier.parse_callback(callback.get_data(), dict(callback.headers))
    assert (told.ref_id, told.status, told.proof) == ("RESELLER-0001", DELIVERED, checked.proof)
    with pytest.raises(ForgedCallback):
        adapter(base_url, shop.username, "not-the-secret", session).parse_callback(
            callback.get_data(), dict(callback.headers))


def test_a_failed_delivery_reaches_the_adapter_as_failed_with_the_saldo_back(
        app, vendor_server, session):
    vendor_server.expect_request("/hook", method="POST").respond_with_data("ok")
    shop = reseller(app, saldo=50_000, callback_url=vendor_server.url_for("/hook"))
    code = sku(app, *FREE_FIRE)
    with door_served(app) as base_url:
        supplier = adapter(base_url, shop.username, shop.api_key, session)
        order = Delivery(ref_id="RESELLER-0002", sku=code, account={"player_id": "123456999"})
        assert supplier.place(order).status == PENDING
        received = callbacks_received(app, vendor_server)
        checked = supplier.check(order)
        assert checked.status == FAILED, checked.message
        assert checked.code == "02"
        assert supplier.balance() == 50_000
    told = supplier.parse_callback(received[0].get_data(), dict(received[0].headers))
    assert told.status == FAILED and told.balance == 50_000


def test_the_adapter_in_testing_mode_plays_with_a_sandbox_key(app, session):
    shop = reseller(app, saldo=30_000, sandbox=True)
    code = sku(app, *FREE_FIRE)
    with door_served(app) as base_url:
        supplier = adapter(base_url, shop.username, shop.api_key, session,
                           DIGIFLAZZ_TESTING=True)
        assert supplier.balance() == 1_000_000      # the sandbox key's play saldo
        placed = supplier.place(Delivery(ref_id="TEST-1", sku=code,
                                         account={"player_id": "123456789"}))
        assert placed.status == DELIVERED and placed.proof
        assert supplier.balance() == 990_000
    assert saldo(app, shop.customer_id) == 30_000   # the real saldo is not touched
