"""A package's offers: the suppliers that can deliver it, each with its SKU and cost.

Offers are rows of package_offers in position order. A package saved before offers existed
(or made by code that sets only Package.supplier and fallback_supplier) has none: its
supplier and fallback are its offers. Saving offers keeps those two columns equal to the
first two offers, so older readers (imports, reports) still see the package's supplier.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Package, PackageOffer

PRIORITY = "priority"          # in the owner's order
CHEAPEST = "cheapest"          # the lowest current price first (the owner's order on a tie)
RULES = (PRIORITY, CHEAPEST)


@dataclass(frozen=True)
class Offer:
    supplier: str
    sku: str
    cost: int | None

    def as_plan(self) -> list:
        return [self.supplier, self.sku, self.cost]

    @classmethod
    def from_plan(cls, entry: list) -> Offer:
        supplier, sku, cost = entry
        return cls(supplier, sku or "", cost)


def offers_of(package: Package) -> list[Offer]:
    """The package's offers in the owner's order."""
    return offers_by_package([package]).get(package.id, [])


def offers_by_package(packages: Iterable[Package]) -> dict[int, list[Offer]]:
    """Every given package's offers, in two queries at most."""
    packages = list(packages)
    stored: dict[int, list[Offer]] = {}
    ids = [p.id for p in packages if p.id is not None]
    if ids:
        rows = db.session.scalars(sa.select(PackageOffer).where(PackageOffer.package_id.in_(ids))
                                  .order_by(PackageOffer.package_id, PackageOffer.position,
                                            PackageOffer.id))
        for row in rows:
            stored.setdefault(row.package_id, []).append(Offer(row.supplier, row.sku, row.cost))
    return {p.id: stored.get(p.id) or legacy_offers(p) for p in packages}


def legacy_offers(package: Package) -> list[Offer]:
    """The offers of a package without offer rows: its supplier, then its fallback."""
    found = [Offer(package.supplier, package.supplier_sku or "", package.supplier_cost)]
    if package.fallback_supplier:
        found.append(Offer(package.fallback_supplier, package.fallback_sku or "",
                           package.fallback_cost))
    return found


def rule_of(package: Package) -> str:
    """The package's own rule, else the shop's, else by priority."""
    rule = package.offer_rule or shop_settings.current().offer_rule
    return rule if rule in RULES else PRIORITY


def ordered(offers: list[Offer], rule: str, prices: Mapping[tuple[str, str], int | None]
            ) -> list[Offer]:
    """The offers in the order an order tries them. `prices`: the suppliers' current prices
    by (supplier, sku), where the last sync knows them; else the offer's cost counts."""
    if rule != CHEAPEST:
        return list(offers)

    def price(pair: tuple[int, Offer]) -> tuple[int, int]:
        position, offer = pair
        known = prices.get((offer.supplier, offer.sku))
        value = known if known is not None else offer.cost
        return (value if value is not None else 2**62, position)

    return [offer for _, offer in sorted(enumerate(offers), key=price)]


def replace(package: Package, offers: list[Offer]) -> None:
    """Store the package's offers (inside the caller's transaction), keeping the package's
    supplier and fallback columns equal to the first two."""
    if package.id is not None:
        db.session.execute(sa.delete(PackageOffer).where(PackageOffer.package_id == package.id))
    first = offers[0]
    package.supplier, package.supplier_sku, package.supplier_cost = \
        first.supplier, first.sku, first.cost
    second = offers[1] if len(offers) > 1 else None
    package.fallback_supplier = second.supplier if second else None
    package.fallback_sku = second.sku if second else ""
    package.fallback_cost = second.cost if second else None
    db.session.flush()
    for position, offer in enumerate(offers):
        db.session.add(PackageOffer(package_id=package.id, position=position,
                                    supplier=offer.supplier, sku=offer.sku, cost=offer.cost))


def update_costs(supplier: str, sku: str, cost: int) -> None:
    """A price import's new cost for every offer of `supplier`'s `sku` (caller's transaction),
    and for the fallback columns that mirror a second offer."""
    db.session.execute(sa.update(PackageOffer).where(PackageOffer.supplier == supplier,
                                                     PackageOffer.sku == sku,
                                                     PackageOffer.cost.is_distinct_from(cost))
                       .values(cost=cost))
    db.session.execute(sa.update(Package).where(Package.fallback_supplier == supplier,
                                                Package.fallback_sku == sku,
                                                Package.fallback_cost.is_distinct_from(cost))
                       .values(fallback_cost=cost))


def suppliers_in_use() -> set[str]:
    """Every supplier an active package has an offer with."""
    names = set(db.session.scalars(
        sa.select(PackageOffer.supplier).join(Package, Package.id == PackageOffer.package_id)
        .where(Package.active).distinct()))
    names |= set(db.session.scalars(sa.select(Package.supplier).where(Package.active)))
    names |= set(db.session.scalars(sa.select(Package.fallback_supplier).where(
        Package.active, Package.fallback_supplier.is_not(None))))
    return names


def cheapest_cost(supplier: str) -> int:
    """The lowest cost among active packages' offers at `supplier` (0 when none has one)."""
    packages = db.session.scalars(sa.select(Package).where(Package.active,
                                                           Package.archived_at.is_(None)))
    costs = [offer.cost for found in offers_by_package(packages).values() for offer in found
             if offer.supplier == supplier and offer.cost is not None]
    return min(costs, default=0)
