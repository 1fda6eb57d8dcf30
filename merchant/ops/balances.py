"""The supplier balance watch: is the deposit enough for the orders waiting to be delivered?

The worker calls check_due() every pass; a conditional UPDATE of checked_at lets one worker
per interval actually ask the supplier, so the balance is read every few minutes, not every
pass. The latest reading per supplier is kept for the admin dashboard (balance_warnings()).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from merchant import orders
from merchant.alerts import DEPOSIT_LOW, clear_alert, preferences, raise_alert
from merchant.core.extensions import db
from merchant.core.models import Order, Package, SupplierBalance, utcnow
from merchant.core.money import Money
from merchant.core.transactions import write_unit
from merchant.vendors import registry
from merchant.vendors.suppliers import ADAPTERS, supplier_class
from merchant.vendors.suppliers.base import Supplier, SupplierError

log = logging.getLogger(__name__)

PENDING = (orders.PAID, orders.FULFILLING)


@dataclass(frozen=True)
class BalanceWarning:
    supplier: str
    message: str
    checked_at: dt.datetime


def suppliers_in_use() -> list[str]:
    """Suppliers that active packages or undelivered orders rely on and that report a balance."""
    names = set(db.session.scalars(sa.select(Package.supplier).where(Package.active)))
    names |= set(db.session.scalars(sa.select(Package.fallback_supplier)
                                    .where(Package.active, Package.fallback_supplier.is_not(None))))
    names |= set(db.session.scalars(sa.select(Order.supplier).where(Order.status.in_(PENDING))))
    return sorted(n for n in names if n in ADAPTERS and _reports_balance(n))


def _reports_balance(name: str) -> bool:
    return supplier_class(name).balance is not Supplier.balance


def pending_cost(name: str) -> int:
    """What the paid orders still waiting for `name` will cost us, minor units."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Order.supplier_cost), 0))
        .where(Order.supplier == name, Order.status.in_(PENDING))
    ))


def check_due(now: dt.datetime | None = None) -> int:
    """Check each supplier whose last check is older than the interval. Returns checks made."""
    now = now or utcnow()
    every = float(current_app.config["SUPPLIER_BALANCE_CHECK_SECONDS"])
    done = 0
    for name in suppliers_in_use():
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
    cost = pending_cost(name)
    balance, error = None, None
    try:
        balance = registry.supplier(name).balance()
    except registry.VendorNotReady as exc:
        error = str(exc)
    except SupplierError as exc:
        error = f"could not read the {name} balance: {exc}"
    with write_unit():
        row = db.session.get(SupplierBalance, name) or SupplierBalance(supplier=name)
        row.checked_at, row.balance, row.pending_cost = utcnow(), balance, cost
        row.error = error[:300] if error else None
        db.session.add(row)
    if error:
        log.warning("supplier balance: %s", error)
    elif balance is not None and balance < cost:
        log.warning("supplier balance: %s", _short(name, balance, cost))
    if balance is not None:
        _alert(name, balance, cost)
    return row


def _alert(name: str, balance: int, cost: int) -> None:
    """The owner's "deposit low" alert: raised while the deposit cannot cover the paid orders
    waiting or is under the owner's threshold; cleared (once) when it is enough again."""
    threshold = preferences.current().deposit_threshold
    if balance < cost or (threshold is not None and balance < threshold):
        raise_alert(DEPOSIT_LOW, name, supplier=name, balance=balance, pending_cost=cost,
                    threshold=threshold, currency="IDR")
    else:
        clear_alert(DEPOSIT_LOW, name, balance=balance, currency="IDR")


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
