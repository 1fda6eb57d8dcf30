"""The catalog as the shop's pages read it: from memory until the operator changes it.

core.versioned_cache keeps these lists until any process commits a catalog change. Buying
reads the live rows (orders/checkout.py): this cache only draws pages.
"""
from __future__ import annotations

import sqlalchemy as sa

from merchant import catalog
from merchant.core.extensions import db
from merchant.core.models import Package
from merchant.core.versioned_cache import Snapshot, cached


def active_products(query: str = "", category: str = "") -> list:
    """catalog.active_products: a search asks the database; the catalog and its categories
    are read from memory, each product with its active packages."""
    if query.strip():
        return catalog.active_products(query, category)
    products = cached("products", _load_products)
    if category in catalog.CATEGORIES:
        return [p for p in products if p.category == category]
    return products


def product_by_slug(slug: str) -> Snapshot | None:
    return cached("by_slug", lambda: {p.slug: p for p in active_products()}).get(slug)


def active_packages(product: Snapshot) -> list[Snapshot]:
    return product.packages


def active_methods() -> list[Snapshot]:
    return cached("methods", lambda: [Snapshot(m) for m in catalog.active_methods()])


def find_package(product: Snapshot, package_id) -> Snapshot | None:
    return next((p for p in product.packages if str(p.id) == str(package_id)), None)


def find_method(code) -> Snapshot | None:
    return next((m for m in active_methods() if m.code == str(code or "")), None)


def _load_products() -> list[Snapshot]:
    products = catalog.active_products()
    packages: dict[int, list[Snapshot]] = {p.id: [] for p in products}
    rows = db.session.scalars(
        sa.select(Package).where(Package.product_id.in_(packages), catalog.package_on_sale())
        .order_by(Package.sort_order, Package.price))
    for package in rows:
        packages[package.product_id].append(Snapshot(package))
    return [Snapshot(p, packages=packages[p.id]) for p in products]
