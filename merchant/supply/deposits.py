"""Supplier deposits: what each holds, what waiting orders will take from it, and the gate.

The worker asks each supplier for its balance every SUPPLIER_BALANCE_CHECK_SECONDS (one worker
per interval, by a conditional UPDATE of checked_at); every purchase answer that carries the
remaining deposit (Digiflazz's buyer_last_saldo) updates it too. What orders will still cost
a supplier is computed from the orders themselves, never kept as a running total that could
drift: payments open and not expired, paid and delivering orders, and orders delivered since
the balance was read (the balance does not show them yet).

The checkout reserves by taking the supplier's balance row for update (a no-op UPDATE: a row
lock on PostgreSQL, the write lock on SQLite) before it counts and inserts the order, in one
transaction: two buyers of the last unit of deposit are counted one after the other.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from merchant.alerts import DEPOSIT_LOW, clear_alert, preferences, raise_alert
from merchant.core.extensions import db
from merchant.core.models import Order, SupplierBalance, utcnow
from merchant.core.money import Money
from merchant.core.transactions import write_unit
from merchant.supply import transitions
from merchant.supply.offers import Offer, cheapest_cost, suppliers_in_use
from merchant.vendors import registry
from merchant.vendors.suppliers import ADAPTERS, supplier_class
from merchant.vendors.suppliers.base import Supplier, SupplierError

log = logging.getLogger(__name__)

# Order statuses (merchant.orders names them; this layer sits below it).
AWAITING_PAYMENT, PAID, FULFILLING, DELIVERED = (
    "awaiting_payment", "paid", "fulfilling", "delivered")
WAITING = (PAID, FULFILLING)


@dataclass(frozen=True)
class BalanceWarning:
    supplier: str
    message: str
    checked_at: dt.datetime


def reports_balance(name: str) -> bool:
    try:
        return supplier_class(name).balance is not Supplier.balance
    except KeyError:
        return False


def watched() -> list[str]:
    """Suppliers that active packages or undelivered orders rely on and that report a balance."""
    names = suppliers_in_use()
    names |= set(db.session.scalars(sa.select(Order.supplier).where(Order.status.in_(WAITING))))
    return sorted(n for n in names if n in ADAPTERS and reports_balance(n))


def unknown() -> list[str]:
    """Suppliers that active packages use and whose balance is not known: they tell none, or
    have not been asked yet."""
    known = set(db.session.scalars(sa.select(SupplierBalance.supplier)
                                   .where(SupplierBalance.balance.is_not(None))))
    return sorted(name for name in suppliers_in_use() if name not in known)


def pending_cost(name: str) -> int:
    """What the paid orders still waiting for `name` will cost us, minor units."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Order.supplier_cost), 0))
        .where(Order.supplier == name, Order.status.in_(WAITING))
    ))


def _committed_where(now: dt.datetime):
    """Orders whose cost a supplier's last balance reading does not show yet."""
    return sa.or_(
        Order.status.in_(WAITING),
        sa.and_(Order.status == AWAITING_PAYMENT, Order.payment_expires_at > now),
        sa.and_(Order.status == DELIVERED, Order.delivered_at >= SupplierBalance.checked_at),
    )


def committed(names: Iterable[str], now: dt.datetime) -> dict[str, int]:
    """Per supplier with a balance row: what orders will still take from its deposit."""
    names = list(names)
    if not names:
        return {}
    rows = db.session.execute(
        sa.select(Order.supplier, sa.func.coalesce(sa.func.sum(Order.supplier_cost), 0))
        .join(SupplierBalance, SupplierBalance.supplier == Order.supplier)
        .where(Order.supplier.in_(names), _committed_where(now))
        .group_by(Order.supplier))
    return {name: int(total) for name, total in rows}


def headroom(names: Iterable[str], now: dt.datetime) -> dict[str, int]:
    """Per supplier whose balance is known: deposit less what orders will still take."""
    names = set(names)
    known = {row.supplier: row.balance for row in db.session.scalars(
        sa.select(SupplierBalance).where(SupplierBalance.supplier.in_(names),
                                         SupplierBalance.balance.is_not(None)))}
    taken = committed(known, now)
    return {name: balance - taken.get(name, 0) for name, balance in known.items()}


def reserve(plan: list[Offer], now: dt.datetime) -> Offer | None:
    """Inside the caller's write transaction, before it inserts the order: the first offer of
    `plan` whose supplier can cover it, with those suppliers' balance rows locked until the
    caller commits; None when none can."""
    names = sorted({offer.supplier for offer in plan})
    balances = {}
    for name in names:              # in name order: two checkouts never wait on each other
        row = db.session.execute(
            sa.update(SupplierBalance).where(SupplierBalance.supplier == name)
            .values(short=SupplierBalance.short)
            .returning(SupplierBalance.balance, SupplierBalance.checked_at)
            .execution_options(synchronize_session=False)).first()
        if row is not None and row.balance is not None:
            balances[name] = row.balance
    taken = committed(balances, now)
    for offer in plan:
        if offer.supplier not in balances:
            return offer                # balance unknown: not gated
        if balances[offer.supplier] - taken.get(offer.supplier, 0) >= (offer.cost or 0):
            return offer
    return None


def check_due(now: dt.datetime | None = None) -> int:
    """Check each supplier whose last check is older than the interval. Returns checks made."""
    now = now or utcnow()
    every = float(current_app.config["SUPPLIER_BALANCE_CHECK_SECONDS"])
    done = 0
    for name in watched():
        if _claim(name, now, now - dt.timedelta(seconds=every)):
            check(name)
            done += 1
    return done


def _claim(name: str, now: dt.datetime, stale_before: dt.datetime) -> bool:
    """True for the one caller that may check `name` now."""
    try:
        with write_unit():
            claimed = db.session.execute(
                sa.update(SupplierBalance)
                .where(SupplierBalance.supplier == name, SupplierBalance.checked_at <= stale_before)
                .values(checked_at=now)
            ).rowcount == 1
            if claimed:
                return True
            if db.session.get(SupplierBalance, name) is None:
                db.session.add(SupplierBalance(supplier=name, checked_at=now, pending_cost=0))
                db.session.flush()
                return True
            return False
    except IntegrityError:
        return False                    # another worker inserted the first row


def check(name: str) -> SupplierBalance:
    """Ask `name` for its balance now, store it, and log a warning if it falls short."""
    balance, error = None, None
    try:
        balance = registry.supplier(name).balance()
    except NotImplementedError:
        balance = None                  # the supplier tells no balance: unknown, not gated
    except registry.VendorNotReady as exc:
        error = str(exc)
    except SupplierError as exc:
        error = f"could not read the {name} balance: {exc}"
    return _store(name, balance, error)


def record_answer(name: str, balance: int) -> None:
    """A purchase answer said what is left of `name`'s deposit."""
    _store(name, balance, None)


def _store(name: str, balance: int | None, error: str | None) -> SupplierBalance:
    cost = pending_cost(name)
    with write_unit():
        row = db.session.get(SupplierBalance, name) or SupplierBalance(supplier=name,
                                                                       short=False)
        row.checked_at, row.balance, row.pending_cost = utcnow(), balance, cost
        row.error = error[:300] if error else None
        db.session.add(row)
    if error:
        log.warning("supplier balance: %s", error)
    elif balance is not None and balance < cost:
        log.warning("supplier balance: %s", _short(name, balance, cost))
    refresh_short(name)
    if balance is not None:
        _alert(name, balance, cost)
    return row


def _alert(name: str, balance: int, cost: int) -> None:
    """The owner's "deposit low" alert: raised while the deposit cannot cover the paid orders
    waiting or the cheapest offer (short), or is under the owner's threshold; cleared (once)
    when it is enough again."""
    threshold = preferences.current().deposit_threshold
    short = db.session.scalar(sa.select(SupplierBalance.short)
                              .where(SupplierBalance.supplier == name))
    if short or balance < cost or (threshold is not None and balance < threshold):
        raise_alert(DEPOSIT_LOW, name, supplier=name, balance=balance, pending_cost=cost,
                    threshold=threshold, currency="IDR")
    else:
        clear_alert(DEPOSIT_LOW, name, balance=balance, currency="IDR")


def refresh_short(name: str, now: dt.datetime | None = None) -> None:
    """Record the deposit turning short (it cannot cover the waiting orders or the cheapest
    of its offers) or recovering: once per change, by a conditional UPDATE."""
    now = now or utcnow()
    room = headroom([name], now).get(name)
    short = room is not None and room < cheapest_cost(name)
    with write_unit():
        changed = db.session.execute(
            sa.update(SupplierBalance)
            .where(SupplierBalance.supplier == name, SupplierBalance.short != short)
            .values(short=short)).rowcount == 1
    if changed and short:
        transitions.deposit_short(name, room)
    elif changed:
        transitions.deposit_recovered(name, room)


def _short(name: str, balance: int, cost: int) -> str:
    return (f"{name} balance {Money(balance, 'IDR').format()} cannot cover "
            f"{Money(cost, 'IDR').format()} of paid orders waiting for delivery: "
            f"top up the {name} deposit")


def balance_warnings() -> list[BalanceWarning]:
    """What the admin dashboard should show: suppliers that are short or could not be read."""
    warnings = []
    for row in db.session.scalars(sa.select(SupplierBalance).order_by(SupplierBalance.supplier)):
        if row.error:
            warnings.append(BalanceWarning(row.supplier, row.error, row.checked_at))
        elif row.balance is not None and row.balance < row.pending_cost:
            warnings.append(BalanceWarning(row.supplier,
                                           _short(row.supplier, row.balance, row.pending_cost),
                                           row.checked_at))
    return warnings
