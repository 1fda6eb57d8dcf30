"""Delivery across a package's offers against the fake Digiflazz: the cost guard (max_price), a
final failure moving to the next offer, an unknown outcome asked again where it was sent, and
the safe window after which a ref_id is never re-sent by itself."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import get_order, history, order_ref, sandbox_pay, work
from supply_shop import CUSTOMER_NO, buy_ml, paid_order, set_offers, shop_app

from merchant.core import shop_settings
from merchant.core.audit import CLI
from merchant.vendors.suppliers import sandbox as sandbox_supplier
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server, slow_seconds=1.0)
    vendor_server.check_handler_errors()


@pytest.fixture
def app(tmp_path, fake):
    return shop_app(tmp_path, fake)


def failovers(app, ref) -> list[str]:
    return [d for *_, d in history(app, ref) if "failing over" in d]


def set_tolerance(app, amount: int) -> None:
    with app.app_context():
        shop_settings.update({"cost_tolerance": amount}, CLI)


def test_a_seller_price_above_max_price_is_refused_and_the_next_offer_delivers(client, app,
                                                                             fake):
    fake.change_product("ML86", price=20_600)     # the seller raised the price
    set_offers(app, ("digiflazz", "ML86", 20_000), ("sandbox", "ML86-SBX", 20_500))
    set_tolerance(app, 500)
    ref = paid_order(client, app)
    work(app)

    assert fake.bodies[ref]["max_price"] == 20_500        # cost + the owner's tolerance
    assert fake.calls[ref] == 1 and fake.purchases[ref] == 0     # refused: nothing bought
    order = get_order(app, ref)
    assert order.status == "delivered"
    assert (order.supplier, order.supplier_ref_id) == ("sandbox", f"{ref}-2")
    assert sandbox_supplier.LEDGER.purchases == {f"{ref}-2": 1}
    assert len(failovers(app, ref)) == 1 and "rc 69" in failovers(app, ref)[0]


def test_the_cost_really_charged_is_kept_and_counts_in_the_dashboard_margin(client, app, fake,
                                                                           owner):
    fake.change_product("ML86", price=20_300)     # within the tolerance
    set_tolerance(app, 500)
    ref = paid_order(client, app)
    work(app)
    order = get_order(app, ref)
    assert (order.status, order.supplier_cost, order.supplier_paid) == \
        ("delivered", 20_000, 20_300)
    dashboard = owner.get("/admin/dashboard").text
    margin = order.subtotal - 20_300
    assert f"Rp {margin:,}".replace(",", ".") in dashboard


def test_three_offers_first_two_fail_for_good_the_third_delivers(client, app, fake):
    fake.add_product("ML86B", 20_100)
    fake.script_sku("ML86", "fail", rc="54")
    fake.script_sku("ML86B", "fail", rc="02")
    set_offers(app, ("digiflazz", "ML86", 20_000), ("digiflazz", "ML86B", 20_100),
               ("sandbox", "ML86-SBX", 20_500))
    ref = paid_order(client, app)
    work(app)

    order = get_order(app, ref)
    assert order.status == "delivered"
    assert (order.supplier, order.supplier_sku, order.supplier_ref_id, order.supplier_choice) \
        == ("sandbox", "ML86-SBX", f"{ref}-3", 2)
    # One purchase per supplier attempt, each under its own ref_id.
    assert (fake.purchases[ref], fake.purchases[f"{ref}-2"]) == (1, 1)
    assert sandbox_supplier.LEDGER.purchases == {f"{ref}-3": 1}
    steps = failovers(app, ref)
    assert len(steps) == 2
    assert f"digiflazz (ML86B) with ref_id {ref}-2" in steps[0]
    assert f"sandbox (ML86-SBX) with ref_id {ref}-3" in steps[1]
    moves = [to for _, to, *_ in history(app, ref) if to]
    assert moves == ["awaiting_payment", "paid", "fulfilling", "delivered"]


def test_an_unknown_outcome_is_asked_again_at_the_same_supplier_never_bought_elsewhere(
        client, app, fake, clock):
    set_offers(app, ("digiflazz", "ML86", 20_000), ("sandbox", "ML86-SBX", 20_500))
    ref = paid_order(client, app)
    fake.down = True                              # HTTP 500: did it buy? unknown
    work(app)
    for _ in range(3):
        clock.advance(5)
        work(app)
    assert get_order(app, ref).status == "fulfilling"
    assert sandbox_supplier.LEDGER.purchases == {}
    fake.down = False
    clock.advance(10)
    work(app)
    order = get_order(app, ref)
    assert (order.status, order.supplier, order.supplier_ref_id) == ("delivered", "digiflazz",
                                                                     ref)
    assert fake.purchases[ref] == 1 and failovers(app, ref) == []
    assert sandbox_supplier.LEDGER.purchases == {}


def test_a_pending_ref_id_past_the_safe_window_is_not_re_sent_and_needs_attention(
        client, app, fake, clock, owner):
    fake.script(CUSTOMER_NO, "pending")
    ref = order_ref(buy_ml(client, app))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "fulfilling" and fake.calls[ref] == 1

    clock.advance(dt.timedelta(days=86).total_seconds())
    work(app)
    order = get_order(app, ref)
    assert fake.calls[ref] == 1                    # never re-sent: it could buy a second time
    assert order.status == "fulfilling" and order.next_check_at is None
    assert "safe window" in order.flag
    assert any("past the supplier's safe window" in d for *_, d in history(app, ref))
    home = owner.get("/admin/").text
    assert ref in home and "safe window" in home
    clock.advance(3600)
    work(app)
    assert fake.calls[ref] == 1
