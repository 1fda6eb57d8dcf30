"""Delivery: claims paid orders, drives the supplier, follows pending ones.

A paid order is claimed by the conditional transition paid -> fulfilling, so exactly one worker
places it. The supplier always gets the order's supplier_ref_id (the order reference, or one
derived from it after a final failure), so re-sending after a crash or a timeout cannot buy twice.
A fulfilling order carries a lease (next_check_at): whoever renews an expired lease follows it up,
which is also how an order whose worker died mid-call is picked up again.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from merchant import orders
from merchant.alerts import spikes
from merchant.core import logs, shop_settings, wakeup
from merchant.core.extensions import db
from merchant.core.models import Order, Package, utcnow
from merchant.core.transactions import write_unit
from merchant.orders import saldo_refunds
from merchant.orders.texts import said
from merchant.supply import availability, deposits, offers, windows
from merchant.supply.offers import Offer
from merchant.vendors import registry
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    SupplierError,
    SupplierResult,
)

log = logging.getLogger(__name__)


def _seconds(key: str) -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config[key]))


def dispatch_paid(limit: int = 20) -> int:
    """Claim paid orders and place them with their supplier. Returns how many were claimed."""
    now = utcnow()
    ids = db.session.scalars(
        sa.select(Order.id).where(Order.status == orders.PAID)
        .order_by(Order.paid_at, Order.id).limit(limit)
    ).all()
    claimed = 0
    for order_id in ids:
        lease = now + _seconds("FULFILLMENT_LEASE_SECONDS")
        # The claim also fixes the ref_id the supplier gets, so a crash after it is harmless.
        if orders.transition(order_id, orders.FULFILLING, source="worker",
                             detail=said("claimed"), next_check_at=lease,
                             supplier_ref_id=sa.func.coalesce(Order.supplier_ref_id, Order.ref),
                             supplier_sent_at=sa.func.coalesce(Order.supplier_sent_at, now)):
            claimed += 1
            _drive(order_id, first=True)
    return claimed


def follow_up(limit: int = 20) -> int:
    """Re-check fulfilling orders whose lease ran out (pending, retrying, or orphaned)."""
    now = utcnow()
    ids = db.session.scalars(
        sa.select(Order.id).where(Order.status == orders.FULFILLING, Order.next_check_at <= now)
        .order_by(Order.next_check_at).limit(limit)
    ).all()
    followed = 0
    for order_id in ids:
        if _renew_lease(order_id, now):
            followed += 1
            _drive(order_id, first=False)
    return followed


def _renew_lease(order_id: int, now: dt.datetime) -> bool:
    with write_unit():
        return db.session.execute(
            sa.update(Order)
            .where(Order.id == order_id, Order.status == orders.FULFILLING,
                   Order.next_check_at <= now)
            .values(next_check_at=now + _seconds("FULFILLMENT_LEASE_SECONDS"))
        ).rowcount == 1


def delivery_for(order: Order) -> Delivery:
    """What the supplier gets: never more than the offer's cost plus the owner's tolerance."""
    max_price = None
    if order.supplier_cost is not None:
        max_price = order.supplier_cost + shop_settings.current().cost_tolerance
    return Delivery(ref_id=order.supplier_ref_id or order.ref, sku=order.supplier_sku,
                    account=dict(order.account), max_price=max_price,
                    supplier_ref=order.supplier_ref)


def _drive(order_id: int, first: bool) -> None:
    order = db.session.get(Order, order_id, populate_existing=True)
    delivery = delivery_for(order)
    sent_at = order.supplier_sent_at or order.paid_at or order.created_at
    if windows.expired(order.supplier, sent_at, utcnow()):
        # Re-sending this ref_id could buy a second top-up: a person checks at the supplier.
        days = (utcnow() - sent_at).days
        log.error("order %s: ref_id %s was first sent to %s %s days ago, past its safe window; "
                  "not sent again", order.ref, delivery.ref_id, order.supplier, days)
        _hold(order, None, f"{order.supplier}: ref_id {delivery.ref_id} was first sent {days} "
                           "days ago, past the supplier's safe window: not sent again, as it "
                           "could buy a second top-up; check it at the supplier",
              {"flag": f"ref_id past {order.supplier}'s safe window: check it there"[:200]})
        return
    try:
        supplier = registry.supplier(order.supplier)
    except registry.VendorNotReady as exc:
        # Nothing was sent, so nothing can have been bought: stop and tell the operator. The
        # history line goes on after the reason ("...: check the settings"), hence no full stop.
        settle(order, SupplierResult(delivery.ref_id, REFUSED, message=str(exc).rstrip(".")),
               source="worker", first=first)
        return
    with logs.about(order.ref):
        try:
            result = supplier.place(delivery) if first else supplier.check(delivery)
        except SupplierError as exc:
            result = SupplierResult(delivery.ref_id, RETRY, message=str(exc))
    settle(order, result, source="worker", first=first)


# How settle() writes the supplier's own result code into the history, and reads it back.
_CODE = " (rc {})"
_CODE_IN = re.compile(r" \(rc ([^()\s]+)\)")
_GAVE_UP = "gave up after"
_CHECK_SETTINGS = "check the {} settings"


def code_in(detail: str) -> str | None:
    """The supplier's result code in a history detail written by settle(), if there is one."""
    found = _CODE_IN.search(detail or "")
    return found.group(1) if found else None


def failure_kind(detail: str, supplier: str) -> str:
    """How the delivery failure settle() wrote as `detail` came about: REFUSED (our settings
    are wrong), RETRY (no final answer after every attempt) or FAILED (the supplier said no)."""
    if (detail or "").endswith(_CHECK_SETTINGS.format(supplier)):
        return REFUSED
    if _GAVE_UP in (detail or ""):
        return RETRY
    return FAILED


@logs.about_order
def settle(order: Order, result: SupplierResult, source: str, first: bool = False) -> None:
    """Apply what a supplier said (an answer, a status check, a callback) to a fulfilling order."""
    supplier = order.supplier
    said = f"{supplier}: {result.message or result.status}"
    if result.code:
        said += _CODE.format(result.code)
    log.info("order %s: %s (%s)", order.ref, said, source)
    extra = {"supplier_ref": result.supplier_ref} if result.supplier_ref else {}
    if result.balance is not None and source == "worker":
        # The deposit left, as the supplier's own answer says (a callback may be late).
        deposits.record_answer(supplier, result.balance)
    now = utcnow()
    if result.status in (RETRY, FAILED, REFUSED):
        # For the owner's failure-spike alert: each attempt counted once, whoever reports it.
        spikes.failed(supplier, f"{order.supplier_ref_id or order.ref}#{order.supplier_attempts}",
                      final=result.status != RETRY, now=now)
    if result.status == DELIVERED:
        if result.price is not None:
            extra["supplier_paid"] = result.price
        # Only from fulfilling: a failed order is the operator's to deliver by hand.
        orders.transition(order.id, orders.DELIVERED, source=source, detail=said,
                          allowed={orders.FULFILLING},
                          delivery_proof=result.proof or result.message, delivered_at=now,
                          next_check_at=None, **extra)
    elif result.status == PENDING:
        polls = registry.supplier(supplier).polls
        recheck = now + _seconds("SUPPLIER_PENDING_RECHECK_SECONDS") if polls else None
        _hold(order, recheck, said if first else None, extra)
    elif result.status == RETRY:
        attempts = order.supplier_attempts + 1
        if attempts >= int(current_app.config["SUPPLIER_MAX_ATTEMPTS"]):
            _fail(order, f"{said}; {_GAVE_UP} {attempts} attempts", source, keep_ref=True)
            return
        delay = _seconds("SUPPLIER_RETRY_BASE_SECONDS") * 2 ** (attempts - 1)
        log.warning("order %s: %s; retrying in %s", order.ref, said, delay)
        _hold(order, now + delay, f"{said}; retrying in {int(delay.total_seconds())} s",
              dict(extra, supplier_attempts=attempts))
    elif result.status == FAILED:
        if not _failover(order, said, source):
            _fail(order, said, source, keep_ref=False)
    elif result.status == REFUSED:
        # Our own setup is wrong (signature, IP whitelist, account): retrying cannot help and
        # another supplier would hide the problem, so the operator is told and the order stops.
        log.error("order %s: %s refused our request: check the supplier settings (%s)",
                  order.ref, supplier, said)
        _fail(order, f"{said}: {_CHECK_SETTINGS.format(supplier)}", source, keep_ref=False,
              flag=f"{supplier} refused the order: check its settings")


def _hold(order: Order, until: dt.datetime | None, note: str | None, values: dict) -> None:
    """Keep a fulfilling order waiting until `until` (None: until someone acts), noting why."""
    with write_unit():
        held = db.session.execute(
            sa.update(Order).where(Order.id == order.id, Order.status == orders.FULFILLING)
            .values(next_check_at=until, updated_at=utcnow(), **values)
        ).rowcount == 1
        if held and note:
            orders.record(order.id, "worker", note)


class NextOffer(NamedTuple):
    index: int                  # its place in `plan`
    supplier: str
    sku: str
    cost: int | None
    plan: list[Offer]           # the order's plan, with offers added to the package since


def plan_of(order: Order) -> list[Offer]:
    """The offers the order may be delivered by, in the order they are tried. Orders placed
    before offers existed: the package's offers (their supplier first, then the fallback)."""
    if order.supply_plan:
        return [Offer.from_plan(entry) for entry in order.supply_plan]
    package = db.session.get(Package, order.package_id)
    return offers.offers_of(package) if package is not None else []


def fallback_for(order: Order) -> NextOffer | None:
    """The offer to try after the current one failed finally, or None: the next of the
    order's plan (then of offers the package gained since) that can sell now; one off, out of
    stock, in cut-off or without deposit is skipped."""
    plan = plan_of(order)
    package = db.session.get(Package, order.package_id)
    current, sellable = [], []
    if package is not None:
        found = availability.of_package(package)
        current = [state.offer for state in found.states]
        sellable = found.sellable
    plan += [offer for offer in current if offer not in plan]
    for index, offer in list(enumerate(plan))[order.supplier_choice + 1:]:
        if offer in sellable or offer not in current:
            return NextOffer(index, offer.supplier, offer.sku, offer.cost, plan)
    return None


def _failover(order: Order, said: str, source: str) -> bool:
    """After a final failure, switch the order to its next offer and place it there.

    The switch is one conditional UPDATE on (status, supplier_choice), so a callback and a
    worker that both see the failure switch it once. The order stays fulfilling throughout.
    Returns False when there is nothing to fall back to.
    """
    target = fallback_for(order)
    if target is None:
        return False
    new_ref = derived_ref(order.ref, order.supplier_ref_id or order.ref)
    now = utcnow()
    # From the worker the next offer is placed at once; from a callback the worker does it.
    due = now + _seconds("FULFILLMENT_LEASE_SECONDS") if source == "worker" else now
    with write_unit():
        switched = db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id, Order.status == orders.FULFILLING,
                   Order.supplier_choice == order.supplier_choice)
            .values(supplier=target.supplier, supplier_sku=target.sku,
                    supplier_cost=target.cost, supplier_ref_id=new_ref, supplier_ref=None,
                    supplier_attempts=0, supplier_choice=target.index, supplier_sent_at=now,
                    supply_plan=[offer.as_plan() for offer in target.plan],
                    next_check_at=due, updated_at=now)
        ).rowcount == 1
        if switched:
            orders.record(order.id, source, f"{said}; failing over to {target.supplier} "
                                            f"({target.sku}) with ref_id {new_ref}")
            if source != "worker":
                wakeup.after_commit()
    if not switched:
        return True                     # someone else switched (or settled) it already
    log.warning("order %s: %s failed finally; failing over to %s with ref_id %s",
                order.ref, order.supplier, target.supplier, new_ref)
    if source == "worker":
        _drive(order.id, first=True)
    return True


def _fail(order: Order, detail: str, source: str, keep_ref: bool,
          flag: str | None = None) -> None:
    """fulfilling -> fulfillment_failed. After a final answer the supplier's transaction is dead,
    so a later retry gets a fresh ref_id derived from ours; after an unknown outcome (retries
    exhausted) it must reuse the same one."""
    current = order.supplier_ref_id or order.ref
    next_ref = current if keep_ref else derived_ref(order.ref, current)
    extra = {"flag": flag[:200]} if flag else {}
    if not keep_ref:
        extra["supplier_ref"] = None    # that transaction is over; the next ref_id gets its own
        extra["supplier_sent_at"] = None        # the fresh ref_id has not been sent yet
    with write_unit():
        failed = orders.move(order.id, orders.FULFILLMENT_FAILED, source, detail,
                             next_check_at=None, supplier_ref_id=next_ref, **extra)
        # Saldo money goes back at once, in the same transaction: never failed without it.
        if failed is not None and saldo_refunds.automatic(order):
            saldo_refunds.refund(order, source)
    if failed is None:
        log.info("order %s: fulfillment_failed refused or lost the race (%s)", order.ref,
                 source)


def derived_ref(ref: str, current: str) -> str:
    """M7K3Q9D2F -> M7K3Q9D2F-2 -> M7K3Q9D2F-3 ..."""
    _, _, n = current.partition("-")
    return f"{ref}-{int(n or 1) + 1}"
