"""The catalog: products, packages, payment methods and prices, and promo codes.

This module holds the queries the shop's views need; the package's other modules hold the
owner's edits, price imports, archiving, margins and the account-field presets.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from merchant.catalog import payment_methods, promos
from merchant.core import money
from merchant.core.extensions import db
from merchant.core.models import Package, PaymentMethod, Product, Promo
from merchant.core.validation import bounded_id


@dataclass(frozen=True)
class Quote:
    """What a customer pays for one package with one method (and maybe a promo code).

    subtotal = price - discount; the fee is on the subtotal; total = subtotal + fee.
    """
    package: Package
    method: PaymentMethod
    price: money.Money
    discount: money.Money
    subtotal: money.Money
    fee: money.Money
    total: money.Money
    promo: Promo | None = None
    was: money.Money | None = None      # the normal price, when a flash sale's price applies

    @property
    def discount_capped(self) -> bool:
        """The code would take off more than the method's smallest amount allows."""
        return self.promo is not None and self.discount < promos.amount_off(self.promo,
                                                                            self.price)


class CatalogError(ValueError):
    """A package or method that cannot be sold: the message is for the customer."""


# The catalog's shelves, in the order the shop shows them: code -> label.
CATEGORIES = {"games": _l("Games"), "apps": _l("Apps and vouchers"),
              "phone": _l("Phone credit and data")}
SEARCH_MAX = 60


def package_on_sale():
    """The condition for a package customers may buy: turned on and not archived."""
    return sa.and_(Package.active, Package.archived_at.is_(None))


def on_sale():
    """The condition for a product customers see: turned on, not archived, with a package on
    sale (a product with none would show an empty step where the packages go)."""
    return sa.and_(Product.active, Product.archived_at.is_(None),
                   sa.exists().where(Package.product_id == Product.id, package_on_sale()))


def active_products(query: str = "", category: str = "") -> list[Product]:
    """Products on sale, the operator's featured ones first, then by position and name;
    only those whose name or publisher contains `query`, in `category` when it is one."""
    select = sa.select(Product).where(on_sale()) \
        .order_by(Product.featured.desc(), Product.sort_order, Product.name)
    query = query.strip()[:SEARCH_MAX]
    if query:
        select = select.where(sa.or_(Product.name.icontains(query, autoescape=True),
                                     Product.publisher.icontains(query, autoescape=True)))
    if category in CATEGORIES:
        select = select.where(Product.category == category)
    return list(db.session.scalars(select))


def shelves(products: list[Product]) -> list[tuple[str, list[Product]]]:
    """The products by category, in CATEGORIES order, empty shelves left out."""
    by_category: dict[str, list[Product]] = {code: [] for code in CATEGORIES}
    for product in products:
        by_category.setdefault(product.category, []).append(product)
    return [(code, items) for code, items in by_category.items() if items]


def product_by_slug(slug: str) -> Product | None:
    return db.session.scalar(sa.select(Product).where(Product.slug == slug, on_sale()))


def active_packages(product: Product) -> list[Package]:
    return [p for p in product.packages if p.active and p.archived_at is None]


def active_methods() -> list[PaymentMethod]:
    """The methods on offer: turned on, and payable through their gateway in this shop."""
    methods = db.session.scalars(
        sa.select(PaymentMethod).where(PaymentMethod.active, PaymentMethod.archived_at.is_(None))
        .order_by(PaymentMethod.sort_order, PaymentMethod.name))
    return [method for method in methods if payable(method)]


def payable(method: PaymentMethod) -> bool:
    """Whether the method's gateway can take its payments here (see
    payment_methods.method_refusal)."""
    return payment_methods.method_refusal(method) is None


def find_package(product: Product, package_id) -> Package | None:
    package_id = bounded_id(package_id)
    if package_id is None:
        return None
    package = db.session.get(Package, package_id)
    if (package is None or package.product_id != product.id or not package.active
            or package.archived_at is not None):
        return None
    return package


def find_method(code) -> PaymentMethod | None:
    if not code:
        return None
    return db.session.scalar(
        sa.select(PaymentMethod).where(PaymentMethod.code == str(code), PaymentMethod.active,
                                       PaymentMethod.archived_at.is_(None))
    )


def quote(package: Package, method: PaymentMethod, promo: Promo | None = None,
          level_price: int | None = None, price: int | None = None) -> Quote:
    """Price a package with a method and an already checked promo, from the database only;
    at `price` instead of the package's own when a flash sale prices it.

    `level_price`: what the signed-in customer's price level pays for the package. A promo
    code and a level price do not add up: the customer pays the lower of the two subtotals,
    and the quote keeps the promo only when it won (so its use is counted only then).

    The discount never takes the subtotal below the method's smallest amount (nor below one
    minor unit: no gateway takes a payment of nothing), so a discounted order stays payable.

    :raise CatalogError: when the method cannot take this amount or currency.
    """
    was = money.Money(package.price, package.currency) if price is not None else None
    price = money.Money(package.price if price is None else price, package.currency)
    if method.currency != package.currency:
        raise CatalogError(_("%(method)s does not accept %(currency)s.", method=method.name,
                             currency=package.currency))
    discount = money.Money(0, price.currency)
    if promo is not None:
        room = price.amount - max(method.min_amount, 1)
        discount = money.Money(max(0, min(promos.amount_off(promo, price).amount, room)),
                               price.currency)
    if level_price is not None and level_price <= (price - discount).amount:
        price, discount, promo = money.Money(level_price, price.currency), \
            money.Money(0, price.currency), None
    subtotal = price - discount
    fee = money.fee(subtotal, method.fee_flat, method.fee_percent_bp)
    total = subtotal + fee
    if total.amount < method.min_amount:
        raise CatalogError(_("%(method)s takes at least %(amount)s.", method=method.name,
                             amount=money.Money(method.min_amount, method.currency)))
    if method.max_amount is not None and total.amount > method.max_amount:
        raise CatalogError(_("%(method)s takes at most %(amount)s.", method=method.name,
                             amount=money.Money(method.max_amount, method.currency)))
    return Quote(package, method, price, discount, subtotal, fee, total, promo, was)
