"""Price import: a supplier's price list becomes products (by brand) and packages (by SKU).

The list is cached in the database (SupplierPriceCache) and fetched at most once per
PRICE_LIST_MAX_AGE seconds, because Digiflazz refuses more (rc 83). Prices are the supplier's
cost plus a markup, rounded up to a tidy amount, and never below cost.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from . import ROOT, orders, providers
from .extensions import db
from .models import Package, Product, SupplierPriceCache, utcnow
from .suppliers.base import SupplierError
from .suppliers.digiflazz import PriceItem

PRICE_LIST_MAX_AGE = 300

# Account fields for brands we know; any other brand gets one "Customer ID" field.
_ML = [{"name": "user_id", "label": "User ID", "pattern": "[0-9]{6,12}",
        "hint": "The User ID is 6-12 digits.", "inputmode": "numeric"},
       {"name": "zone_id", "label": "Zone ID", "pattern": "[0-9]{4,5}",
        "hint": "The Zone ID is the 4-5 digits in brackets.", "inputmode": "numeric"}]
_PLAYER = [{"name": "player_id", "label": "Player ID", "pattern": "[0-9]{6,14}",
            "hint": "The Player ID is 6-14 digits.", "inputmode": "numeric"}]
_PHONE = [{"name": "phone", "label": "Phone number", "pattern": "0[0-9]{9,13}",
           "hint": "A phone number like 081234567890.", "inputmode": "tel"}]
KNOWN_BRANDS: dict[str, list[dict]] = {
    "MOBILE LEGENDS": _ML,
    "FREE FIRE": _PLAYER,
    "PUBG MOBILE": [dict(_PLAYER[0], label="Character ID")],
    "GENSHIN IMPACT": [
        {"name": "uid", "label": "UID", "pattern": "[0-9]{9,10}", "hint": "The UID is 9-10 digits.",
         "inputmode": "numeric"},
        {"name": "server", "label": "Server",
         "options": ["Asia", "America", "Europe", "TW, HK, MO"]}],
    "TIKTOK": [{"name": "username", "label": "TikTok username",
                "pattern": "@?[A-Za-z0-9._]{2,24}", "autocapitalize": "none"}],
}
PHONE_CATEGORIES = {"PULSA", "DATA", "PAKET SMS & TELPON", "MASA AKTIF"}
CUSTOMER_ID = [{"name": "customer_id", "label": "Customer ID"}]


class PriceImportError(ValueError):
    """The import cannot run as asked. The message says what to change."""


@dataclass(frozen=True)
class Markup:
    percent_bp: int = 0      # basis points: 800 = 8 %
    flat: int = 0            # minor units

    def apply(self, cost: int, round_to: int) -> int:
        """cost + markup, rounded UP to a multiple of round_to; never below cost."""
        price = cost + -(-cost * self.percent_bp // 10_000) + self.flat
        price = -(-price // round_to) * round_to
        return max(price, cost)


def parse_markup(text: str) -> Markup:
    """'8%' -> 8 percent, '7.5%' -> 7.5 percent, '500' -> 500 flat. :raise PriceImportError:"""
    raw = (text or "").strip()
    try:
        if raw.endswith("%"):
            bp = Decimal(raw[:-1]) * 100
            if bp != bp.to_integral_value() or bp < 0:
                raise InvalidOperation
            return Markup(percent_bp=int(bp))
        flat = Decimal(raw)
        if flat != flat.to_integral_value() or flat < 0:
            raise InvalidOperation
        return Markup(flat=int(flat))
    except InvalidOperation:
        raise PriceImportError(f"--markup {text!r} is not a markup: use a percentage like 8% or "
                           "a flat amount in rupiah like 500 (not negative).") from None


@dataclass
class Summary:
    added: int = 0
    changed: int = 0
    deactivated: int = 0
    unchanged: int = 0
    products_added: int = 0
    cached: bool = False
    fetched_at: dt.datetime | None = None


def price_list(name: str, max_age: float = PRICE_LIST_MAX_AGE) -> tuple[list[PriceItem], bool,
                                                                       dt.datetime]:
    """The supplier's price list, from the cache when younger than max_age.

    Returns (items, from_cache, fetched_at). :raise SupplierError: when it cannot be fetched.
    """
    now = utcnow()
    row = db.session.get(SupplierPriceCache, name)
    if row is not None and row.fetched_at > now - dt.timedelta(seconds=max_age):
        return [PriceItem(**item) for item in row.payload], True, row.fetched_at
    supplier = providers.supplier(name)
    if not hasattr(supplier, "price_list"):
        raise SupplierError(f"{name} has no price list to import")
    items = supplier.price_list()
    with orders.write_unit():
        row = db.session.get(SupplierPriceCache, name) or SupplierPriceCache(supplier=name)
        row.fetched_at = now
        row.payload = [dataclasses.asdict(item) for item in items]
        db.session.add(row)
    return items, False, now


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64] or "product"


def account_fields_for(item: PriceItem) -> list[dict]:
    """Sensible account fields for a new product of this brand."""
    if item.brand.upper() in KNOWN_BRANDS:
        return KNOWN_BRANDS[item.brand.upper()]
    if item.category.upper() in PHONE_CATEGORIES:
        return _PHONE
    return CUSTOMER_ID


def package_name(item: PriceItem) -> str:
    """'Mobile Legends 86 Diamonds' (brand MOBILE LEGENDS) -> '86 Diamonds'."""
    name = item.product_name.strip()
    if name.lower().startswith(item.brand.lower() + " "):
        name = name[len(item.brand) + 1:].strip()
    return (name or item.product_name or item.sku)[:120]


def quantity_of(name: str) -> int:
    match = re.search(r"\d[\d.,]*", name)
    return int(re.sub(r"\D", "", match.group())) if match else 0


def import_items(name: str, items: Iterable[PriceItem], markup: Markup,
                 round_to: int = 100) -> Summary:
    """Create or update products and packages from `items` (iterate it with a progress bar if
    you like), then deactivate this supplier's packages the list dropped or disabled.
    All in one transaction. :raise PriceImportError: for a bad round_to."""
    if round_to < 1:
        raise PriceImportError("--round-to must be at least 1.")
    summary = Summary()
    listed: set[str] = set()
    with orders.write_unit():
        products = {p.slug: p for p in db.session.scalars(sa.select(Product))}
        packages = {p.supplier_sku: p for p in db.session.scalars(
            sa.select(Package).where(Package.supplier == name))}
        for item in items:
            listed.add(item.sku)
            sellable = item.buyer_product_status and item.seller_product_status
            package = packages.get(item.sku)
            if package is None:
                if not sellable:
                    continue
                product = products.get(slugify(item.brand))
                if product is None:
                    product = _new_product(item)
                    products[product.slug] = product
                    summary.products_added += 1
                package = Package(product=product, supplier=name, supplier_sku=item.sku,
                                  name=package_name(item), quantity=quantity_of(package_name(item)),
                                  price=markup.apply(item.price, round_to),
                                  supplier_cost=item.price, currency="IDR", active=True)
                db.session.add(package)
                packages[item.sku] = package
                summary.added += 1
                continue
            before = (package.price, package.supplier_cost, package.active)
            package.supplier_cost = item.price
            if sellable:
                package.price = markup.apply(item.price, round_to)
            package.active = sellable
            after = (package.price, package.supplier_cost, package.active)
            if after == before:
                summary.unchanged += 1
            elif before[2] and not sellable:
                summary.deactivated += 1
            else:
                summary.changed += 1
        for sku, package in packages.items():
            if sku not in listed and package.active:
                package.active = False
                summary.deactivated += 1
    return summary


def _new_product(item: PriceItem) -> Product:
    slug = slugify(item.brand)
    icon = f"icons/{slug}.svg"
    image = icon if os.path.exists(os.path.join(ROOT, "static", icon)) else "icons/logo.svg"
    product = Product(slug=slug, name=item.brand.title()[:120],
                      publisher=item.brand.title()[:120], image=image,
                      account_fields=account_fields_for(item),
                      help_text=item.desc if item.desc not in ("", "-") else "",
                      # Imported products start unchecked (the customer types the ID twice)
                      # until the operator picks a nickname provider for them.
                      verifier="none", active=True)
    db.session.add(product)
    return product
