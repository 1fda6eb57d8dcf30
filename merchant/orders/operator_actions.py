"""The operator's actions on orders, shared by the admin panel and the CLI.

Each action is one conditional transition (orders.move) plus its audit entry, committed
together. An action that does not apply raises ActionRefused, whose message says why in plain
words and is shown to the operator as it is.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from merchant import orders
from merchant.core import audit
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import Order, utcnow
from merchant.core.transactions import write_unit
from merchant.customers import saldo
from merchant.orders import fulfillment, saldo_refunds
from merchant.orders.manual_delivery import MANUAL
from merchant.orders.texts import said
from merchant.vendors import registry
from merchant.vendors.payments.base import REFUNDED, PaymentError, RefundRequest

log = logging.getLogger(__name__)

SOURCE = "admin"
# An API refund holds this in refund_ref while the gateway is asked, so that a second click, a
# second admin or a retry cannot act on the order meanwhile (the money would go back twice, or
# go back for an order that is then delivered). A holder that died is ignored after a while.
REFUND_HOLD = "(refund in progress)"
REFUND_HOLD_MINUTES = 5


class ActionRefused(ValueError):
    """The action does not apply to the order. The message says why, for the operator."""


@dataclass(frozen=True)
class Choices:
    """What the operator can do with an order now (the order page shows only these)."""
    retry: bool
    fallback: str | None          # the fallback supplier a retry could switch to
    deliver: bool
    refund: bool
    api_refund: bool              # the gateway refunds this payment through its API
    api_refund_why_not: str       # why not, when it does not
    clear_flag: bool
    saldo_refund: bool = False    # the money can go back to the customer's saldo


def find(ref: str) -> Order:
    """The order with this reference. :raise ActionRefused: there is none."""
    ref = (ref or "").strip().upper()
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
    if order is None:
        raise ActionRefused(_("There is no order %(ref)s.", ref=ref))
    return order


def choices(order: Order) -> Choices:
    """The actions that apply to the order as it is."""
    failed = order.status == orders.FULFILLMENT_FAILED and not _refund_running(order)
    fallback = fulfillment.fallback_for(order) if failed else None
    api_ok, why_not = _api_refund(order) if failed else (False, "")
    return Choices(
        retry=failed, fallback=fallback.supplier if fallback else None,
        deliver=failed or _waiting_for_hand(order), refund=failed,
        api_refund=api_ok, api_refund_why_not=why_not, clear_flag=bool(order.flag),
        saldo_refund=failed and saldo_refunds.possible(order))


def api_refund_refusal(order: Order) -> str:
    """Why the order cannot be refunded through its gateway now, or "" when it can."""
    if _refund_running(order):
        return _changed(order, "refund")
    if order.status != orders.FULFILLMENT_FAILED:
        return _why_not(order, "refund")
    return _api_refund(order)[1]


def retry_delivery(ref: str, actor: Actor, fallback: bool = False) -> Order:
    """fulfillment_failed -> paid, for the worker to deliver again.

    The same supplier gets the supplier_ref_id that fulfillment stored when the delivery failed
    (a fresh one after a final failure, the same one after an unknown outcome). With `fallback`,
    the order moves to the package's fallback supplier under a ref_id derived from the last one.
    """
    order = find(ref)
    if order.status != orders.FULFILLMENT_FAILED:
        raise ActionRefused(_why_not(order, "retry"))
    values = {"supplier_attempts": 0, "next_check_at": None, "refund_ref": None,
              "refunded_at": None}
    supplier = order.supplier
    if fallback:
        target = fulfillment.fallback_for(order)
        if target is None:
            raise ActionRefused(_no_fallback(order))
        supplier = target.supplier
        values.update(supplier=supplier, supplier_sku=target.sku, supplier_cost=target.cost,
                      supplier_ref=None, supplier_choice=target.index, supplier_sent_at=None,
                      supply_plan=[offer.as_plan() for offer in target.plan],
                      supplier_ref_id=fulfillment.derived_ref(
                          order.ref, order.supplier_ref_id or order.ref))
    ref_id = values.get("supplier_ref_id", order.supplier_ref_id or order.ref)
    how = f"with the fallback supplier {supplier}" if fallback else f"with {supplier} again"
    line = said("retry_fallback" if fallback else "retry_again", supplier=supplier,
                ref_id=ref_id)
    with write_unit():
        moved = orders.move(order.id, orders.PAID, SOURCE,
                            line,
                            allowed={orders.FULFILLMENT_FAILED}, where=(_no_refund_running(),),
                            **values)
        if moved is None:
            raise ActionRefused(_changed(order, "retry"))
        audit.record(actor, "order.retry", "order", order.ref, f"Retried delivery {how}",
                     before={"status": moved, "supplier": order.supplier},
                     after={"status": orders.PAID, "supplier": supplier,
                            "supplier_ref_id": ref_id})
    return _fresh(order)


def deliver_by_hand(ref: str, proof: str, actor: Actor) -> Order:
    """Record a delivery the operator made: a manual-supplier order waiting for them, or an
    order whose delivery failed. The proof is shown to the customer.
    """
    proof = (proof or "").strip()
    if not proof:
        raise ActionRefused(_("Enter the proof of delivery (a serial number or what you sent)."))
    order = find(ref)
    waiting = _waiting_for_hand(order)
    if not waiting and order.status != orders.FULFILLMENT_FAILED:
        raise ActionRefused(_why_not(order, "deliver"))
    allowed = {orders.FULFILLING} if waiting else {orders.FULFILLMENT_FAILED}
    with write_unit():
        moved = orders.move(order.id, orders.DELIVERED, SOURCE,
                            said("delivered_by_hand", proof=proof), allowed=allowed,
                            where=(_no_refund_running(),), delivery_proof=proof,
                            delivered_at=utcnow(), next_check_at=None)
        if moved is None:
            raise ActionRefused(_changed(order, "deliver"))
        audit.record(actor, "order.deliver", "order", order.ref, "Delivered by hand",
                     before={"status": moved},
                     after={"status": orders.DELIVERED, "delivery_proof": proof})
    return _fresh(order)


def refund(ref: str, actor: Actor, note: str, manual: bool = False) -> Order:
    """fulfillment_failed -> refunded.

    Through the gateway's refund API, asked before the order moves; or, with `manual`, a
    record of money the operator gave back another way (the note says how).
    """
    note = (note or "").strip()
    order = find(ref)
    if order.status != orders.FULFILLMENT_FAILED:
        raise ActionRefused(_why_not(order, "refund"))
    if manual:
        return _manual_refund(order, actor, note)
    api_ok, why_not = _api_refund(order)
    if not api_ok:
        raise ActionRefused(why_not)
    gateway = registry.gateway(order.gateway)
    if not _hold_refund(order):
        raise ActionRefused(_changed(order, "refund"))
    try:
        result = gateway.refund(RefundRequest(
            ref=order.ref, gateway_ref=order.gateway_ref, amount=order.total,
            currency=order.currency, method=order.payment_method,
            reason=note or f"Order {order.ref} could not be delivered"))
    except PaymentError as exc:
        _release_refund(order)
        raise ActionRefused(
            _("%(gateway)s did not refund order %(ref)s: %(why)s. Nothing was changed. Give the "
              "money back another way and record it as a manual refund.",
              gateway=order.gateway, ref=order.ref, why=exc)) from exc
    done = "refunded" if result.status == REFUNDED else f"accepted the refund ({result.status})"
    detail = f"{order.gateway} {done}, refund {result.refund_ref}"
    if result.detail:
        detail += f": {result.detail}"
    with write_unit():
        moved = orders.move(order.id, orders.REFUNDED, SOURCE,
                            detail + (f". Note: {note}" if note else ""),
                            allowed={orders.FULFILLMENT_FAILED},
                            where=(Order.refund_ref == REFUND_HOLD,),
                            refund_ref=result.refund_ref, refunded_at=utcnow())
        if moved is None:
            # Only possible when this request hung past REFUND_HOLD_MINUTES and someone acted.
            log.error("order %s: refunded by %s (%s) but the order changed meanwhile",
                      order.ref, order.gateway, result.refund_ref)
            raise ActionRefused(
                f"{order.gateway} refunded order {order.ref} (refund {result.refund_ref}), but "
                "the order changed meanwhile: look at its history before doing anything else.")
        audit.record(actor, "order.refund", "order", order.ref,
                     f"Refunded through {order.gateway}" + (f": {note}" if note else ""),
                     before={"status": moved},
                     after={"status": orders.REFUNDED, "refund_ref": result.refund_ref,
                            "manual": False})
    return _fresh(order)


def refund_to_saldo(ref: str, actor: Actor) -> Order:
    """fulfillment_failed -> refunded, the total credited to the customer's saldo in the same
    transaction (a hand delivery or a retry racing it: one of them happens)."""
    order = find(ref)
    if order.status != orders.FULFILLMENT_FAILED:
        raise ActionRefused(_why_not(order, "refund"))
    if not saldo_refunds.possible(order):
        raise ActionRefused(_("Order %(ref)s was placed by a guest: there is no saldo to give "
                              "the money back to.", ref=order.ref))
    with write_unit():
        if not saldo_refunds.refund(order, SOURCE, actor=actor.name,
                                    where=(_no_refund_running(),)):
            raise ActionRefused(_changed(order, "refund"))
        audit.record(actor, "order.refund", "order", order.ref,
                     "Refunded to the customer's saldo",
                     before={"status": orders.FULFILLMENT_FAILED},
                     after={"status": orders.REFUNDED, "saldo": True})
    return _fresh(order)


def add_note(ref: str, actor: Actor, text: str) -> Order:
    """Add the operator's note to the order's history."""
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Write the note first."))
    order = find(ref)
    with write_unit():
        orders.record(order.id, SOURCE, said("note", admin=actor.name, text=text))
        audit.record(actor, "order.note", "order", order.ref, "Added a note",
                     after={"note": text})
    return _fresh(order)


def clear_flag(ref: str, actor: Actor, note: str) -> Order:
    """Take the flag off an order the operator has looked into; the note says what they found."""
    note = (note or "").strip()
    order = find(ref)
    flag = order.flag
    if not flag:
        raise ActionRefused(_("Order %(ref)s has no flag to clear.", ref=order.ref))
    if not note:
        raise ActionRefused(_("Say what you checked before clearing the flag."))
    with write_unit():
        cleared = db.session.execute(
            sa.update(Order).where(Order.id == order.id, Order.flag == flag)
            .values(flag=None, updated_at=utcnow())
        ).rowcount == 1
        if not cleared:
            raise ActionRefused(_("The flag on order %(ref)s changed while you were looking "
                                  "at it; look at it again.", ref=order.ref))
        orders.record(order.id, SOURCE, said("flag_cleared", flag=flag, note=note))
        audit.record(actor, "order.clear_flag", "order", order.ref, f"Cleared the flag: {note}",
                     before={"flag": flag}, after={"flag": None})
    return _fresh(order)


def _manual_refund(order: Order, actor: Actor, note: str) -> Order:
    if not note:
        raise ActionRefused(_("Say how the money went back (a bank transfer, an e-wallet "
                              "top-up ...) in the note."))
    with write_unit():
        moved = orders.move(order.id, orders.REFUNDED, SOURCE, said("refunded_by_hand", note=note),
                            allowed={orders.FULFILLMENT_FAILED}, where=(_no_refund_running(),),
                            refund_ref=None, refunded_at=utcnow(), refund_note=note)
        if moved is None:
            raise ActionRefused(_changed(order, "refund"))
        audit.record(actor, "order.refund", "order", order.ref, f"Refunded by hand: {note}",
                     before={"status": moved},
                     after={"status": orders.REFUNDED, "manual": True})
    return _fresh(order)


def _api_refund(order: Order) -> tuple[bool, str]:
    """Whether the order's gateway refunds it through its API; if not, why, in plain words."""
    manual = _("Give the money back another way and record it as a manual refund.")
    if saldo.is_saldo(order):
        return False, _("It was paid with saldo: give it back to the customer's saldo.")
    try:
        gateway = registry.gateway(order.gateway)
    except PaymentError as exc:
        return False, _("The %(gateway)s gateway cannot be asked: %(why)s. %(manual)s",
                        gateway=order.gateway, why=exc, manual=manual)
    if not gateway.can_refund(order.payment_method):
        return False, _("%(gateway)s does not refund %(method)s payments through its API. "
                        "%(manual)s", gateway=order.gateway, method=order.payment_method_name,
                        manual=manual)
    return True, ""


def _hold_refund(order: Order) -> bool:
    with write_unit():
        return db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id, Order.status == orders.FULFILLMENT_FAILED,
                   _no_refund_running())
            .values(refund_ref=REFUND_HOLD, refunded_at=utcnow())
        ).rowcount == 1


def _release_refund(order: Order) -> None:
    with write_unit():
        db.session.execute(
            sa.update(Order).where(Order.id == order.id, Order.refund_ref == REFUND_HOLD)
            .values(refund_ref=None, refunded_at=None))


def _hold_expiry() -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=REFUND_HOLD_MINUTES)


def _no_refund_running():
    return sa.or_(Order.refund_ref.is_(None), Order.refund_ref != REFUND_HOLD,
                  Order.refunded_at < _hold_expiry())


def _refund_running(order: Order) -> bool:
    return (order.refund_ref == REFUND_HOLD and order.refunded_at is not None
            and order.refunded_at >= _hold_expiry())


def _waiting_for_hand(order: Order) -> bool:
    return order.status == orders.FULFILLING and order.supplier == MANUAL


def _fresh(order: Order) -> Order:
    db.session.refresh(order)
    return order


def _label(order: Order) -> str:
    return str(orders.LABELS.get(order.status, order.status)).lower()


def _why_not(order: Order, action: str) -> str:
    """Why `action` does not apply to the order in its current status."""
    ref, status, label = order.ref, order.status, _label(order)
    retry = action == "retry"
    if action == "deliver":
        return _("Order %(ref)s is not waiting for manual delivery: it is %(status)s "
                 "(supplier %(supplier)s).", ref=ref, status=label, supplier=order.supplier)
    if status in orders.UNPAID:
        if retry:
            return _("Order %(ref)s is not paid (%(status)s): there is nothing to deliver.",
                     ref=ref, status=label)
        return _("Order %(ref)s is not paid (%(status)s): there is no money to give back.",
                 ref=ref, status=label)
    if status in (orders.PAID, orders.FULFILLING):
        if retry:
            return _("Order %(ref)s is being delivered right now (%(supplier)s): wait for the "
                     "supplier's answer.", ref=ref, supplier=order.supplier)
        return _("Order %(ref)s is being delivered right now (%(supplier)s): refund it only if "
                 "the delivery fails.", ref=ref, supplier=order.supplier)
    if status == orders.DELIVERED:
        if retry:
            return _("Order %(ref)s is delivered: there is nothing to retry.", ref=ref)
        return _("Order %(ref)s is delivered: only an order whose delivery failed can be "
                 "refunded.", ref=ref)
    if status == orders.REFUNDED:
        if retry:
            return _("Order %(ref)s was refunded: it cannot be delivered again.", ref=ref)
        return _("Order %(ref)s was refunded: it cannot be refunded again.", ref=ref)
    return _("Order %(ref)s is %(status)s.", ref=ref, status=label)


def _changed(order: Order, action: str) -> str:
    """Why a conditional update found the order different from what the operator saw."""
    db.session.refresh(order)
    if _refund_running(order):
        return _("A refund of order %(ref)s through %(gateway)s is in progress; look at the "
                 "order again in a minute.", ref=order.ref, gateway=order.gateway)
    if order.status == orders.FULFILLMENT_FAILED:
        return _("Order %(ref)s changed while you were looking at it; look at it again.",
                 ref=order.ref)
    return _why_not(order, action)


def _no_fallback(order: Order) -> str:
    if order.supplier_choice != 0:
        return _("Order %(ref)s is already with its package's fallback supplier "
                 "(%(supplier)s); retry with it again, deliver by hand, or refund.",
                 ref=order.ref, supplier=order.supplier)
    return _("The package of order %(ref)s has no fallback supplier; retry with %(supplier)s, "
             "deliver by hand, or refund.", ref=order.ref, supplier=order.supplier)
