"""Manual delivery: orders wait in the operator's queue until `flask deliver` records the proof."""
from __future__ import annotations

from conftest import buy, get_order, history, order_ref, sandbox_pay, set_package, work

from merchant.orders import manual_delivery


def manual_order(client, app, username="fan_of_coins") -> str:
    set_package(app, "tiktok-coins", "70 Coins", supplier="manual", supplier_sku="")
    ref = order_ref(buy(client, app, username=username))
    sandbox_pay(client, app, ref)
    work(app)
    return ref


def test_paid_manual_order_waits_in_the_queue_without_being_polled(client, app):
    ref = manual_order(client, app)
    order = get_order(app, ref)
    assert order.status == "fulfilling" and order.next_check_at is None
    work(app, passes=5)
    notes = [d for *_, d in history(app, ref) if "waiting for the operator" in d]
    assert len(notes) == 1                      # placed once, never re-checked
    with app.app_context():
        assert [o.ref for o in manual_delivery.queue()] == [ref]
    assert "Delivering" in client.get(f"/o/{ref}").text


def test_deliver_command_marks_it_delivered_with_the_proof(client, app):
    ref = manual_order(client, app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deliver", ref.lower(), "--proof", "Sent 70 coins, TT-4411"])
    assert result.exit_code == 0, result.output
    assert f"Order {ref} marked delivered" in result.output
    order = get_order(app, ref)
    assert (order.status, order.delivery_proof) == ("delivered", "Sent 70 coins, TT-4411")
    assert history(app, ref)[-1][:3] == ("fulfilling", "delivered", "admin")
    assert "TT-4411" in client.get(f"/o/{ref}/status").text
    with app.app_context():
        assert manual_delivery.queue() == []

    again = runner.invoke(args=["deliver", ref, "--proof", "twice"])
    assert again.exit_code == 1
    assert f"Order {ref} is not waiting for manual delivery: it is delivered" in again.output
    assert get_order(app, ref).delivery_proof == "Sent 70 coins, TT-4411"


def test_deliver_command_explains_unknown_refs_and_other_suppliers(client, app):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["deliver", "MXXXXXXXX", "--proof", "x"])
    assert unknown.exit_code == 1 and "There is no order MXXXXXXXX." in unknown.output

    ref = order_ref(buy(client, app, username="gamer_slow"))      # sandbox supplier, pending
    sandbox_pay(client, app, ref)
    work(app)
    other = runner.invoke(args=["deliver", ref, "--proof", "x"])
    assert other.exit_code == 1 and "supplier sandbox" in other.output
    assert get_order(app, ref).status == "fulfilling"

    unpaid = order_ref(buy(client, app))
    result = runner.invoke(args=["deliver", unpaid, "--proof", "x"])
    assert result.exit_code == 1 and "waiting for payment" in result.output

    missing_proof = runner.invoke(args=["deliver", ref, "--proof", "  "])
    assert missing_proof.exit_code == 1 and "Enter the proof" in missing_proof.output
