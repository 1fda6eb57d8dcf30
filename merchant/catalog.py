"""Products, packages, payment methods and prices: the queries the shop's views need."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from . import money
from .extensions import db
from .models import Package, PaymentMethod, Product


@dataclass(frozen=True)
class Quote:
    """What a customer pays for one package with one method."""
    package: Package
    method: PaymentMethod
    subtotal: money.Money
    fee: money.Money
    total: money.Money


class CatalogError(ValueError):
    """A package or method that cannot be sold: the message is for the customer."""


def active_products() -> list[Product]:
    return list(db.session.scalars(
        sa.select(Product).where(Product.active).order_by(Product.sort_order, Product.name)
    ))


def product_by_slug(slug: str) -> Product | None:
    return db.session.scalar(sa.select(Product).where(Product.slug == slug, Product.active))


def active_packages(product: Product) -> list[Package]:
    return [p for p in product.packages if p.active]


def active_methods() -> list[PaymentMethod]:
    return list(db.session.scalars(
        sa.select(PaymentMethod).where(PaymentMethod.active)
        .order_by(PaymentMethod.sort_order, PaymentMethod.name)
    ))


def find_package(product: Product, package_id) -> Package | None:
    try:
        package_id = int(package_id)
    except (TypeError, ValueError):
        return None
    package = db.session.get(Package, package_id)
    if package is None or package.product_id != product.id or not package.active:
        return None
    return package


def find_method(code) -> PaymentMethod | None:
    if not code:
        return None
    return db.session.scalar(
        sa.select(PaymentMethod).where(PaymentMethod.code == str(code), PaymentMethod.active)
    )


def quote(package: Package, method: PaymentMethod) -> Quote:
    """Price a package with a method, from the database only.

    :raise CatalogError: when the method cannot take this amount or currency.
    """
    subtotal = money.Money(package.price, package.currency)
    if method.currency != package.currency:
        raise CatalogError(f"{method.name} does not accept {package.currency}.")
    fee = money.fee(subtotal, method.fee_flat, method.fee_percent_bp)
    total = subtotal + fee
    if total.amount < method.min_amount:
        raise CatalogError(
            f"{method.name} takes at least {money.Money(method.min_amount, method.currency)}."
        )
    if method.max_amount is not None and total.amount > method.max_amount:
        raise CatalogError(
            f"{method.name} takes at most {money.Money(method.max_amount, method.currency)}."
        )
    return Quote(package, method, subtotal, fee, total)
