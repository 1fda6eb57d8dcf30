"""The operator's actions (merchant/orders/operator_actions.py) and the CLI commands over
them: each goes through the state machine, writes its audit entry, and a refused one says why
and changes nothing."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from conftest import (
    buy,
    delivered_order,
    failed_order,
    get_order,
    history,
    order_ref,
    sandbox_pay,
    set_package,
    work,
)
from test_supplier_digiflazz import CUSTOMER_NO, paid_order, shop_app

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Order
from merchant.orders import operator_actions
from merchant.vendors.payments.base import PaymentError, Refund
from merchant.vendors.payments.sandbox import SandboxGateway
from tests.fakes.digiflazz import FakeDigiflazz

ADMIN = audit.Actor("owner@example.com", None, "owner")


def audit_log(app, ref) -> list[tuple]:
    """(actor, action, before, after) of the order's audit entries, oldest first."""
    with app.app_context():
        return [(e.actor, e.action, e.before, e.after) for e in audit.entries_for("order", ref)]


def act(app, action, *args, **kwargs):
    with app.app_context():
        return action(*args, **kwargs)


def refusal(app, action, *args, **kwargs) -> str:
    with app.app_context(), pytest.raises(operator_actions.ActionRefused) as refused:
        action(*args, **kwargs)
    return str(refused.value)


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server)
    vendor_server.check_handler_errors()


def test_cli_retry_sends_the_fresh_ref_id_to_the_same_supplier(tmp_path, fake):
    app = shop_app(tmp_path, fake)
    client = app.test_client()
    fake.script(CUSTOMER_NO, "fail", rc="54")
    ref = paid_order(client, app)
    work(app)
    assert get_order(app, ref).status == "fulfillment_failed"

    fake.script(CUSTOMER_NO, "success", sn="SN-RETRY-1")
    result = app.test_cli_runner().invoke(args=["retry", ref.lower()])
    assert result.exit_code == 0, result.output
    assert f"Order {ref} will be delivered again with digiflazz (ref_id {ref}-2)" in result.output
    assert history(app, ref)[-1][:3] == ("fulfillment_failed", "paid", "admin")
    work(app)

    order = get_order(app, ref)
    assert (order.status, order.supplier_ref_id) == ("delivered", f"{ref}-2")
    assert "SN-RETRY-1" in order.delivery_proof
    assert (fake.purchases[ref], fake.purchases[f"{ref}-2"]) == (1, 1)   # one buy per ref_id
    assert audit_log(app, ref) == [("cli", "order.retry",
                                    {"status": "fulfillment_failed", "supplier": "digiflazz"},
                                    {"status": "paid", "supplier": "digiflazz",
                                     "supplier_ref_id": f"{ref}-2"})]


def test_retry_with_the_fallback_supplier_then_deliver_by_hand(client, app):
    ref = failed_order(client, app)
    assert refusal(app, operator_actions.retry_delivery, ref, ADMIN, fallback=True) == (
        f"The package of order {ref} has no fallback supplier; retry with sandbox, "
        "deliver by hand, or refund.")
    set_package(app, "tiktok-coins", "70 Coins", fallback_supplier="manual", fallback_sku="TT70")

    order = act(app, operator_actions.retry_delivery, ref, ADMIN, fallback=True)
    assert (order.status, order.supplier, order.supplier_sku, order.supplier_choice) == (
        "paid", "manual", "TT70", 1)
    assert order.supplier_ref_id == f"{ref}-3"     # derived from the dead {ref}-2
    work(app)
    assert get_order(app, ref).status == "fulfilling"          # in the operator's queue

    order = act(app, operator_actions.deliver_by_hand, ref, "Sent 70 coins by hand", ADMIN)
    assert (order.status, order.delivery_proof) == ("delivered", "Sent 70 coins by hand")
    assert [a[1] for a in audit_log(app, ref)] == ["order.retry", "order.deliver"]
    assert "Sent 70 coins by hand" in client.get(f"/o/{ref}/status").text


def test_a_failed_delivery_can_be_delivered_by_hand_from_the_cli(client, app):
    ref = failed_order(client, app)
    result = app.test_cli_runner().invoke(args=["deliver", ref, "--proof", "Voucher 1234-5678"])
    assert result.exit_code == 0, result.output
    assert history(app, ref)[-1][:3] == ("fulfillment_failed", "delivered", "admin")
    assert audit_log(app, ref) == [("cli", "order.deliver", {"status": "fulfillment_failed"},
                                    {"status": "delivered",
                                     "delivery_proof": "Voucher 1234-5678"})]
    assert "Voucher 1234-5678" in client.get(f"/o/{ref}/status").text


@pytest.mark.parametrize("action, args, message", [
    (operator_actions.retry_delivery, (), "Order {ref} is delivered: there is nothing to retry."),
    (operator_actions.refund, ("sorry",),
     "Order {ref} is delivered: only an order whose delivery failed can be refunded."),
    (operator_actions.clear_flag, ("checked",), "Order {ref} has no flag to clear."),
])
def test_actions_that_do_not_apply_to_a_delivered_order(client, app, action, args, message):
    ref = delivered_order(client, app)
    steps = history(app, ref)
    assert refusal(app, action, ref, ADMIN, *args) == message.format(ref=ref)
    assert get_order(app, ref).status == "delivered"
    assert history(app, ref) == steps and audit_log(app, ref) == []


def test_unpaid_and_busy_orders_refuse_retry_refund_and_hand_delivery(client, app):
    unpaid = order_ref(buy(client, app))
    assert refusal(app, operator_actions.retry_delivery, unpaid, ADMIN) == (
        f"Order {unpaid} is not paid (waiting for payment): there is nothing to deliver.")
    assert refusal(app, operator_actions.refund, unpaid, ADMIN, "x", manual=True) == (
        f"Order {unpaid} is not paid (waiting for payment): there is no money to give back.")

    busy = order_ref(buy(client, app, username="gamer_slow"))       # pending at the supplier
    sandbox_pay(client, app, busy)
    work(app)
    assert refusal(app, operator_actions.retry_delivery, busy, ADMIN) == (
        f"Order {busy} is being delivered right now (sandbox): wait for the supplier's answer.")
    assert "supplier sandbox" in refusal(app, operator_actions.deliver_by_hand, busy, "x", ADMIN)
    retry = operator_actions.retry_delivery
    assert refusal(app, retry, "mnope", ADMIN) == "There is no order MNOPE."
    assert get_order(app, busy).status == "fulfilling"
    assert audit_log(app, unpaid) == audit_log(app, busy) == []


def test_refund_through_the_gateway_from_the_cli(client, app):
    ref = failed_order(client, app)
    result = app.test_cli_runner().invoke(args=["refund", ref, "--note", "out of stock"])
    assert result.exit_code == 0, result.output
    order = get_order(app, ref)
    assert order.status == "refunded" and order.refund_ref.startswith("sbx_rf_")
    assert order.refunded_at is not None
    assert f"refunded through sandbox (refund {order.refund_ref})" in result.output
    assert audit_log(app, ref) == [("cli", "order.refund", {"status": "fulfillment_failed"},
                                    {"status": "refunded", "refund_ref": order.refund_ref,
                                     "manual": False})]
    assert f"(refund {order.refund_ref})" in client.get(f"/o/{ref}/status").text

    again = app.test_cli_runner().invoke(args=["refund", ref, "--note", "again"])
    assert again.exit_code == 1 and f"Order {ref} was refunded: it cannot be refunded again." \
        in again.output


def test_a_gateway_that_cannot_refund_takes_a_manual_refund_with_a_note(client, app,
                                                                        monkeypatch):
    monkeypatch.setattr(SandboxGateway, "can_refund", lambda self, method: False)
    ref = failed_order(client, app)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["refund", ref, "--note", "sorry"])
    assert refused.exit_code == 1
    assert "sandbox does not refund QRIS payments through its API" in refused.output
    assert "record it as a manual refund" in refused.output

    no_note = runner.invoke(args=["refund", ref, "--manual"])
    assert no_note.exit_code == 1 and "Say how the money went back" in no_note.output
    assert get_order(app, ref).status == "fulfillment_failed" and audit_log(app, ref) == []

    done = runner.invoke(args=["refund", ref, "--manual", "--note", "BCA transfer 25/11"])
    assert done.exit_code == 0 and "refunded by hand" in done.output
    order = get_order(app, ref)
    assert (order.status, order.refund_ref) == ("refunded", None)
    assert history(app, ref)[-1][2:] == ("admin", "Refunded by hand: BCA transfer 25/11")
    assert audit_log(app, ref)[0][3] == {"status": "refunded", "manual": True}


def test_a_refund_the_vendor_refuses_changes_nothing_and_says_why(client, app, monkeypatch):
    def refuse(self, request):
        raise PaymentError("the merchant balance is too low for this refund")
    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    ref = failed_order(client, app)
    message = refusal(app, operator_actions.refund, ref, ADMIN, "sorry")
    assert message.startswith(f"sandbox did not refund order {ref}: the merchant balance is "
                              "too low for this refund. Nothing was changed.")
    order = get_order(app, ref)
    assert (order.status, order.refund_ref, order.refunded_at) == (
        "fulfillment_failed", None, None)
    assert audit_log(app, ref) == []
    assert act(app, operator_actions.retry_delivery, ref, ADMIN).status == "paid"    # not held


def test_while_the_gateway_refunds_nobody_else_can_act_on_the_order(client, app, monkeypatch):
    ref = failed_order(client, app)
    meanwhile = []

    def slow_refund(self, request):
        for attempt in (lambda: operator_actions.retry_delivery(ref, ADMIN),
                        lambda: operator_actions.refund(ref, ADMIN, "twice"),
                        lambda: operator_actions.deliver_by_hand(ref, "proof", ADMIN)):
            with pytest.raises(operator_actions.ActionRefused) as refused:
                attempt()
            meanwhile.append(str(refused.value))
        return Refund(refund_ref="rf-1", status="refunded")
    monkeypatch.setattr(SandboxGateway, "refund", slow_refund)

    assert act(app, operator_actions.refund, ref, ADMIN, "sorry").refund_ref == "rf-1"
    assert meanwhile == [f"A refund of order {ref} through sandbox is in progress; look at the "
                         "order again in a minute."] * 3
    assert [a[1] for a in audit_log(app, ref)] == ["order.refund"]
    assert [t for _, t, *_ in history(app, ref)][-1] == "refunded"


def test_notes_and_clearing_a_flag(client, app):
    ref = delivered_order(client, app)
    assert refusal(app, operator_actions.add_note, ref, ADMIN, "  ") == "Write the note first."
    note = "Customer asked on WhatsApp; told them it arrived"
    act(app, operator_actions.add_note, ref, ADMIN, note)
    assert history(app, ref)[-1] == (None, None, "admin", "Note from owner@example.com: "
                                     "Customer asked on WhatsApp; told them it arrived")

    with app.app_context():
        db.session.execute(sa.update(Order).where(Order.ref == ref)
                           .values(flag="payment amount does not match"))
        db.session.commit()
    assert refusal(app, operator_actions.clear_flag, ref, ADMIN, "") == (
        "Say what you checked before clearing the flag.")
    act(app, operator_actions.clear_flag, ref, ADMIN, "amount checked in the gateway dashboard")
    assert get_order(app, ref).flag is None
    assert audit_log(app, ref) == [
        ("owner@example.com", "order.note", None,
         {"note": "Customer asked on WhatsApp; told them it arrived"}),
        ("owner@example.com", "order.clear_flag", {"flag": "payment amount does not match"},
         {"flag": None}),
    ]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 2


def test_two_admins_pressing_refund_and_deliver_at_once_act_once(client, app):
    ref = failed_order(client, app)
    barrier = threading.Barrier(4)

    def press(action):
        with app.app_context():
            barrier.wait()
            try:
                action()
                return "done"
            except operator_actions.ActionRefused as exc:
                return str(exc)

    presses = [lambda: operator_actions.refund(ref, ADMIN, "sorry"),
               lambda: operator_actions.refund(ref, ADMIN, "sorry"),
               lambda: operator_actions.deliver_by_hand(ref, "sent by hand", ADMIN),
               lambda: operator_actions.retry_delivery(ref, ADMIN)]
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(press, presses))
    assert outcomes.count("done") == 1, outcomes
    assert len(audit_log(app, ref)) == 1
    assert sum(1 for f, t, *_ in history(app, ref) if f == "fulfillment_failed") == 1
