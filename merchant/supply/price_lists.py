"""Suppliers' price lists, cached in the database (SupplierPriceCache).

A list is fetched at most once per the supplier's price_list_every seconds (Digiflazz: 300,
rc 83 when asked more often): the price import and the availability sync both read it here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from merchant.core.extensions import db
from merchant.core.models import SupplierPriceCache, utcnow
from merchant.core.transactions import write_unit
from merchant.vendors import registry
from merchant.vendors.suppliers import ADAPTERS, supplier_class
from merchant.vendors.suppliers.base import PriceItem, Supplier

PRICE_LIST_MAX_AGE = 300


class NoPriceList(ValueError):
    """The supplier publishes no price list, or lacks its settings. The message says which."""


def publishes(name: str) -> bool:
    """Whether the supplier's adapter has a price list."""
    try:
        return supplier_class(name).price_list is not Supplier.price_list
    except KeyError:
        return False


def listing() -> list[str]:
    """The suppliers that publish a price list."""
    return [name for name in ADAPTERS if publishes(name)]


def cached(name: str, max_age: float) -> tuple[list[PriceItem], dt.datetime] | None:
    row = db.session.get(SupplierPriceCache, name)
    if row is not None and row.fetched_at > utcnow() - dt.timedelta(seconds=max_age):
        return [PriceItem(**item) for item in row.payload], row.fetched_at
    return None


def price_list(name: str, max_age: float = PRICE_LIST_MAX_AGE) -> tuple[list[PriceItem], bool,
                                                                       dt.datetime]:
    """The supplier's price list, from the cache when younger than max_age.

    Returns (items, from_cache, fetched_at). :raise SupplierError: when it cannot be fetched;
    :raise NoPriceList: for a supplier without a price list or without its settings.
    """
    found = cached(name, max_age)
    if found is not None:
        return found[0], True, found[1]
    return fetch(name), False, db.session.get(SupplierPriceCache, name).fetched_at


def fetch(name: str) -> list[PriceItem]:
    """Ask the supplier for its list now and cache it. :raise SupplierError, NoPriceList:"""
    if not publishes(name):
        raise NoPriceList(f"{name!r} has no price list to import; use one of "
                          f"{', '.join(listing()) or 'none'}.")
    try:
        supplier = registry.supplier(name)
    except registry.VendorNotReady as exc:
        raise NoPriceList(str(exc)) from None
    try:
        items = supplier.price_list()
    except NotImplementedError:
        raise NoPriceList(f"{name!r} publishes no price list.") from None
    now = utcnow()
    with write_unit():
        row = db.session.get(SupplierPriceCache, name) or SupplierPriceCache(supplier=name)
        row.fetched_at = now
        row.payload = [dataclasses.asdict(item) for item in items]
        db.session.add(row)
    return items


def previewed_list(name: str, fetched_at: dt.datetime) -> list[PriceItem] | None:
    """The cached price list fetched at `fetched_at`, whatever its age; None when a newer
    fetch replaced it."""
    row = db.session.get(SupplierPriceCache, name)
    if row is None or row.fetched_at != fetched_at:
        return None
    return [PriceItem(**item) for item in row.payload]
