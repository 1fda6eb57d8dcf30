"""Whether a package sells now, and why not: from our database only, never a supplier.

An offer cannot sell while its product is off at the supplier (the seller's or our own
switch), out of stock, in the supplier's cut-off window, or while the supplier's deposit,
less what waiting orders will cost, cannot cover it. A package sells while one offer can.
What the last sync did not see (a supplier without a price list or balance) counts as on.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from merchant.core import i18n
from merchant.core.extensions import db
from merchant.core.models import Package, SupplierProduct, utcnow
from merchant.supply import deposits
from merchant.supply.offers import Offer, offers_by_package, ordered, rule_of
from merchant.vendors.suppliers import supplier_class

OFF = "off"              # switched off by the seller or by us, or gone from the list
STOCK = "stock"          # out of stock
CUTOFF = "cutoff"        # in the supplier's cut-off window
DEPOSIT = "deposit"      # the supplier deposit cannot cover it
REASONS = (CUTOFF, STOCK, OFF, DEPOSIT)      # which one a package shows: the first any has

ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
              "Asia/Jayapura": "WIT"}


@dataclass(frozen=True)
class OfferState:
    offer: Offer
    reason: str | None = None          # None: it can sell
    until: str | None = None           # a cut-off's end: "00:30 WIB"


@dataclass(frozen=True)
class Availability:
    states: list[OfferState]           # in the order an order tries the offers

    @property
    def sellable(self) -> list[Offer]:
        return [s.offer for s in self.states if s.reason is None]

    @property
    def available(self) -> bool:
        return bool(self.sellable)

    @property
    def reason(self) -> str | None:
        if self.available:
            return None
        for reason in REASONS:
            found = [s for s in self.states if s.reason == reason]
            if found:
                return reason
        return OFF                       # a package without offers

    @property
    def until(self) -> str | None:
        if self.reason != CUTOFF:
            return None
        return min(s.until for s in self.states if s.reason == CUTOFF)


def zone_of(supplier: str) -> ZoneInfo:
    try:
        return ZoneInfo(supplier_class(supplier).timezone)
    except KeyError:
        return ZoneInfo("Asia/Jakarta")


def zone_name(zone: ZoneInfo) -> str:
    return ZONE_NAMES.get(zone.key, zone.key)


def parse_time(text: str) -> int | None:
    """Minutes after midnight of a cut-off time ("23:45", "0:15", "23:0"); None if unreadable."""
    hours, sep, minutes = (text or "").strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        return None
    hours_n, minutes_n = int(hours), int(minutes)
    if hours_n > 23 or minutes_n > 59:
        return None
    return hours_n * 60 + minutes_n


def in_cut_off(start: str, end: str, local: dt.datetime) -> bool:
    """Whether the local time falls in [start, end), a window that may wrap midnight;
    start == end (or an unreadable time) is no window."""
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None or begin == finish:
        return False
    now = local.hour * 60 + local.minute
    if begin < finish:
        return begin <= now < finish
    return now >= begin or now < finish


def product_reason(row: SupplierProduct | None, now: dt.datetime) -> tuple[str | None,
                                                                        str | None]:
    """(reason, until) for one supplier product as the last sync saw it."""
    if row is None:
        return None, None
    if not row.listed or not row.buyer_product_status or not row.seller_product_status:
        return OFF, None
    if not row.unlimited_stock and row.stock <= 0:
        return STOCK, None
    zone = zone_of(row.supplier)
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    if in_cut_off(row.start_cut_off, row.end_cut_off, local):
        minutes = parse_time(row.end_cut_off)
        return CUTOFF, f"{minutes // 60:02d}:{minutes % 60:02d} {zone_name(zone)}"
    return None, None


def products_for(offers: Iterable[Offer]) -> dict[tuple[str, str], SupplierProduct]:
    keys = {(o.supplier, o.sku) for o in offers}
    if not keys:
        return {}
    rows = db.session.scalars(sa.select(SupplierProduct).where(
        sa.tuple_(SupplierProduct.supplier, SupplierProduct.sku).in_(list(keys))))
    return {(row.supplier, row.sku): row for row in rows}


def of_packages(packages: Iterable[Package], now: dt.datetime | None = None
                ) -> dict[int, Availability]:
    """Each package's availability now, in a handful of queries for all of them."""
    now = now or utcnow()
    packages = list(packages)
    offers = offers_by_package(packages)
    every = [offer for found in offers.values() for offer in found]
    products = products_for(every)
    headroom = deposits.headroom({offer.supplier for offer in every}, now)
    prices = {key: row.price for key, row in products.items()}
    result = {}
    for package in packages:
        states = []
        for offer in ordered(offers[package.id], rule_of(package), prices):
            reason, until = product_reason(products.get((offer.supplier, offer.sku)), now)
            room = headroom.get(offer.supplier)
            if reason is None and room is not None and room < (offer.cost or 0):
                reason = DEPOSIT
            states.append(OfferState(offer, reason, until))
        result[package.id] = Availability(states)
    return result


def of_package(package: Package, now: dt.datetime | None = None) -> Availability:
    return of_packages([package], now)[package.id]


def describe(reason: str | None, until: str | None = None, owner: bool = False) -> str:
    """What the product page (or, `owner`, the panel) says about an unavailable package."""
    if reason is None:
        return ""
    if reason == CUTOFF and until:
        # Indonesian writes times with a dot: 00.30 WIB.
        shown = until.replace(":", ".") if i18n.language() == "id" else until
        return _("Cut-off until %(time)s", time=shown)
    if reason == STOCK:
        return _("Out of stock")
    if reason == DEPOSIT:
        return (_("The supplier deposit cannot cover it: top up the deposit") if owner
                else _("Temporarily unavailable"))
    return (_("Switched off at the supplier") if owner else _("Temporarily unavailable"))

