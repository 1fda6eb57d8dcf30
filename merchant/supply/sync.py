"""The worker's supply pass: suppliers' price lists and balances on their schedule, then every
package's availability kept for the pages.

Each supplier's list is fetched at most once per its price_list_every seconds (Digiflazz: 300),
by the one worker whose conditional UPDATE of the cache's fetched_at claims it; the balance
every SUPPLIER_BALANCE_CHECK_SECONDS (deposits.check_due). Never because a customer asked.
Per supplier that is 3600 / 300 = 12 price-list calls and 12 balance calls an hour.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from merchant.core import clock
from merchant.core.extensions import db
from merchant.core.models import (
    Package,
    PackageOffer,
    SupplierPriceCache,
    SupplierProduct,
    utcnow,
)
from merchant.core.transactions import write_unit
from merchant.supply import availability, deposits, price_lists, transitions
from merchant.supply.offers import suppliers_in_use
from merchant.vendors.suppliers import supplier_class
from merchant.vendors.suppliers.base import PriceItem, SupplierError

log = logging.getLogger(__name__)


# Packages are looked at again at least this often (a cut-off window opening or closing), and
# after every supplier call.
REFRESH_SECONDS = 30


def run_due(now: dt.datetime | None = None) -> int:
    """One supply pass. Returns how many supplier calls it made."""
    now = now or utcnow()
    calls = 0
    for name in sorted(suppliers_in_use()):
        if price_lists.publishes(name) and _claim_list(name, now):
            calls += 1
            sync_products(name)
    calls += deposits.check_due(now)
    state = current_app.extensions.setdefault("supply_sync", {"refreshed": None})
    if calls or state["refreshed"] is None \
            or clock.monotonic() - state["refreshed"] >= REFRESH_SECONDS:
        refresh_packages()
        state["refreshed"] = clock.monotonic()
    return calls


def _claim_list(name: str, now: dt.datetime) -> bool:
    """True for the one caller that may fetch `name`'s price list now."""
    stale_before = now - dt.timedelta(seconds=supplier_class(name).price_list_every)
    try:
        with write_unit():
            if db.session.execute(
                sa.update(SupplierPriceCache)
                .where(SupplierPriceCache.supplier == name,
                       SupplierPriceCache.fetched_at <= stale_before)
                .values(fetched_at=now)
            ).rowcount == 1:
                return True
            if db.session.get(SupplierPriceCache, name) is None:
                # Dated long ago, so a price import never takes this empty claim for a list.
                db.session.add(SupplierPriceCache(supplier=name, payload=[],
                                                  fetched_at=now - dt.timedelta(days=1)))
                db.session.flush()
                return True
            return False
    except IntegrityError:
        return False


def sync_products(name: str) -> None:
    """Fetch `name`'s price list and keep what our offers' products look like."""
    try:
        items = price_lists.fetch(name)
    except price_lists.NoPriceList:
        return                          # nothing known: its offers count as on
    except SupplierError as exc:
        log.warning("supply: could not read the %s price list: %s", name, exc)
        return
    store_products(name, items)


def store_products(name: str, items: list[PriceItem]) -> None:
    listed: dict[str, PriceItem] = {}
    for item in items:
        listed.setdefault(item.sku, item)
    used = set(db.session.scalars(sa.select(PackageOffer.sku)
                                  .where(PackageOffer.supplier == name)))
    used |= set(db.session.scalars(sa.select(Package.supplier_sku)
                                   .where(Package.supplier == name)))
    used |= set(db.session.scalars(sa.select(Package.fallback_sku)
                                   .where(Package.fallback_supplier == name)))
    now = utcnow()
    with write_unit():
        for sku in sorted(used):
            item = listed.get(sku)
            row = db.session.get(SupplierProduct, (name, sku)) \
                or SupplierProduct(supplier=name, sku=sku)
            row.synced_at, row.listed = now, item is not None
            if item is not None:
                row.buyer_product_status = item.buyer_product_status
                row.seller_product_status = item.seller_product_status
                row.unlimited_stock, row.stock = item.unlimited_stock, item.stock
                row.start_cut_off, row.end_cut_off = item.start_cut_off, item.end_cut_off
                row.price = item.price
            db.session.add(row)


def refresh_packages(now: dt.datetime | None = None) -> int:
    """Keep each package's reason for not selling (None while it sells) for the pages, and
    record every package that stops or starts selling. Returns how many changed."""
    packages = list(db.session.scalars(sa.select(Package).where(Package.active,
                                                                Package.archived_at.is_(None))))
    found = availability.of_packages(packages, now)
    changes = [(p, p.unavailable_reason, p.unavailable_until, found[p.id].reason,
                found[p.id].until) for p in packages
               if (p.unavailable_reason, p.unavailable_until) != (found[p.id].reason,
                                                                   found[p.id].until)]
    changed = 0
    for package, old_reason, old_until, reason, until in changes:
        with write_unit():
            won = db.session.execute(
                sa.update(Package).where(
                    Package.id == package.id,
                    Package.unavailable_reason.is_not_distinct_from(old_reason),
                    Package.unavailable_until.is_not_distinct_from(old_until))
                .values(unavailable_reason=reason, unavailable_until=until)
                .execution_options(synchronize_session=False)).rowcount == 1
        if not won:
            continue
        changed += 1
        if old_reason is None:
            transitions.package_unavailable(
                package.id, package.name, reason, until,
                told=str(availability.describe(reason, until, owner=True)))
        elif reason is None:
            transitions.package_available(package.id, package.name)
    return changed
