"""The price list a key sees: every package on sale, priced at the key's account level, with
its availability from the supply work, and the account fields an order must carry.

A package's code is "<product slug>-<package id>" (mobile-legends-12): readable, and stable
for as long as the package exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from merchant import catalog
from merchant.catalog import accounts
from merchant.core.extensions import db
from merchant.core.models import Customer, Package, PriceLevel, Product
from merchant.customers import levels
from merchant.supply import availability

CODE = re.compile(r"(?P<slug>[a-z0-9][a-z0-9-]{0,62})-(?P<id>[0-9]{1,9})")


@dataclass(frozen=True)
class Item:
    code: str
    product: str                    # the product's name: "Mobile Legends"
    product_slug: str
    name: str                       # the package's name: "86 Diamonds"
    price: int                      # what this account pays, minor units
    currency: str
    available: bool
    reason: str | None              # why not: off, stock, cutoff, deposit
    until: str | None               # a cut-off's end: "00:30 WIB"
    account_fields: list[dict]      # [{"name": "user_id", "label": "User ID", "pattern": ...}]
    package: Package


def code_of(package: Package) -> str:
    return f"{package.product.slug}-{package.id}"


def find(code: str) -> Package | None:
    """The package on sale under `code`, or None."""
    match = CODE.fullmatch(code or "")
    if match is None:
        return None
    product = catalog.product_by_slug(match["slug"])
    if product is None:
        return None
    return catalog.find_package(product, match["id"])


def level_of(customer: Customer) -> PriceLevel | None:
    return db.session.get(PriceLevel, customer.level_id) if customer.level_id else None


def price_of(customer: Customer, package: Package) -> int:
    """What the account pays for one package (its level's price, else the retail price)."""
    level_price = levels.price_for(customer, package)
    return level_price if level_price is not None else package.price


def fields_of(product: Product) -> list[dict]:
    return [{"name": spec["name"], "label": accounts.shown(spec)["label"],
             "pattern": spec.get("pattern", "")} for spec in product.account_fields]


def price_list(customer: Customer, code: str = "", product_slug: str = "") -> list[Item]:
    """The packages on sale (only `code`, or only a product's, when asked), at the account's
    prices, in the storefront's order."""
    products = catalog.active_products()
    if product_slug:
        products = [p for p in products if p.slug == product_slug]
    packages = [package for product in products for package in catalog.active_packages(product)]
    if code:
        packages = [package for package in packages if code_of(package) == code]
    level_prices = levels.prices_for(level_of(customer), packages)
    supply = availability.of_packages(packages)
    return [Item(code=code_of(package), product=package.product.name,
                 product_slug=package.product.slug, name=package.name,
                 price=level_prices.get(package.id, package.price), currency=package.currency,
                 available=supply[package.id].available, reason=supply[package.id].reason,
                 until=supply[package.id].until, account_fields=fields_of(package.product),
                 package=package)
            for package in packages]


def split_customer_no(product: Product, customer_no: str) -> dict[str, str]:
    """A Digiflazz-style customer_no ("12345678(1234)", "12345678|1234", "12345678 1234") as
    the product's account fields, in their order. One field takes the whole string."""
    names = [spec["name"] for spec in product.account_fields]
    text = (customer_no or "").strip()
    if len(names) <= 1:
        return {names[0]: text} if names else {}
    parts = [part for part in re.split(r"[\s|()/;,.:]+", text) if part]
    return dict(zip(names, parts + [""] * (len(names) - len(parts)), strict=False)) \
        if len(parts) <= len(names) else {names[0]: text}


def customer_no_of(product: Product, account: dict[str, str]) -> str:
    """The account as one string, the way split_customer_no reads it back."""
    values = [account.get(spec["name"], "") for spec in product.account_fields]
    if len(values) == 2 and values[1]:
        return f"{values[0]}({values[1]})"
    return "|".join(value for value in values if value)

