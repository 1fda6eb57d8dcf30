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
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from . import ROOT, account_presets, audit, money, orders, providers
from .extensions import db
from .models import Package, Product, SupplierPriceCache, utcnow
from .suppliers import ADAPTERS, supplier_class
from .suppliers.digiflazz import PriceItem
from .validation import MAX_INT

PRICE_LIST_MAX_AGE = 300

# Any other brand gets one "Customer ID" field; these categories ask for a phone number.
PHONE_CATEGORIES = {"PULSA", "DATA", "PAKET SMS & TELPON", "MASA AKTIF"}
# The shop's shelf (catalog.CATEGORIES) for a Digiflazz category: games, phone credit and
# data, and everything else (e-money, vouchers, streaming, electricity tokens) as apps.
GAME_CATEGORIES = {"GAMES"}


class PriceImportError(ValueError):
    """The import cannot run as asked. The message says what to change."""


class BelowCost(ValueError):
    """A price under what the package costs us. The message names the packages and amounts."""


@dataclass(frozen=True)
class Markup:
    percent_bp: int = 0      # basis points: 800 = 8 %
    flat: int = 0            # minor units

    def __str__(self) -> str:
        if self.percent_bp:
            return f"{(Decimal(self.percent_bp) / 100).normalize():f}%"
        return str(self.flat)

    def apply(self, cost: int, round_to: int) -> int:
        """cost + markup, rounded UP to a multiple of round_to; never below cost."""
        price = cost + -(-cost * self.percent_bp // 10_000) + self.flat
        price = -(-price // round_to) * round_to
        return max(price, cost)


def parse_markup(text: str) -> Markup:
    """'8%' -> 8 percent, '7.5%' -> 7.5 percent, '500' or '1.000' -> flat rupiah.
    :raise PriceImportError:"""
    raw = (text or "").strip()
    try:
        if raw.endswith("%"):
            bp = Decimal(raw[:-1]) * 100
            if not 0 <= bp <= MAX_INT or bp != bp.to_integral_value():
                raise InvalidOperation
            return Markup(percent_bp=int(bp))
        return Markup(flat=money.to_minor(raw, "IDR"))      # "1.000" is a thousand rupiah
    except (ArithmeticError, ValueError):   # not a number, or past Decimal's exponent range
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


def importable() -> list[str]:
    """The suppliers whose price list can be imported."""
    return [name for name in ADAPTERS if hasattr(supplier_class(name), "price_list")]


def price_list(name: str, max_age: float = PRICE_LIST_MAX_AGE) -> tuple[list[PriceItem], bool,
                                                                       dt.datetime]:
    """The supplier's price list, from the cache when younger than max_age.

    Returns (items, from_cache, fetched_at). :raise SupplierError: when it cannot be fetched;
    :raise PriceImportError: for a supplier without a price list or without its settings.
    """
    now = utcnow()
    row = db.session.get(SupplierPriceCache, name)
    if row is not None and row.fetched_at > now - dt.timedelta(seconds=max_age):
        return [PriceItem(**item) for item in row.payload], True, row.fetched_at
    if name not in importable():
        raise PriceImportError(f"{name!r} has no price list to import; use one of "
                               f"{', '.join(importable()) or 'none'}.")
    missing = supplier_class(name).missing_settings(current_app.config)
    if missing:
        raise PriceImportError(
            f"{name} is not configured: set {', '.join(missing)} in the environment or in "
            "instance/config.py, then try again.")
    items = providers.supplier(name).price_list()
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
    if item.brand.upper() in account_presets.BRANDS:
        return account_presets.fields(account_presets.BRANDS[item.brand.upper()])
    if item.category.upper() in PHONE_CATEGORIES:
        return account_presets.fields("phone")
    return account_presets.fields("customer_id")


def category_for(item: PriceItem) -> str:
    """The shelf a new product of this item goes on."""
    category = item.category.upper()
    if category in GAME_CATEGORIES:
        return "games"
    if category in PHONE_CATEGORIES:
        return "phone"
    return "apps"


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
                 round_to: int = 100, actor: audit.Actor = audit.CLI) -> Summary:
    """Create or update products and packages from `items` (iterate it with a progress bar if
    you like), then deactivate this supplier's packages the list dropped or disabled.
    All in one transaction, with its audit entry. :raise PriceImportError: for a bad round_to."""
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
        audit.record(actor, "prices.import", "supplier", name, describe(summary, markup,
                                                                         round_to))
    return summary


def describe(summary: Summary, markup: Markup | None = None, round_to: int | None = None) -> str:
    """One line for the operator: what an import did."""
    text = (f"Added {summary.added}, changed {summary.changed}, "
            f"deactivated {summary.deactivated}, unchanged {summary.unchanged} packages"
            + (f"; {summary.products_added} new products (check their account fields "
               "and nickname check)" if summary.products_added else ""))
    if markup is not None:
        text += f" (markup {markup}, rounded up to {round_to})"
    return text + "."


@dataclass(frozen=True)
class Loss:
    """A price below a supplier's cost. str() is English, for the audit log; said() is in the
    reader's language, for the panel."""
    package: str
    price: money.Money
    cost: money.Money
    fallback: bool          # the fallback supplier's cost, not the supplier's

    def __str__(self) -> str:
        whose = "the fallback supplier's" if self.fallback else "the supplier's"
        return f"{self.package}: {self.price.format()} is below {whose} cost {self.cost.format()}"

    def said(self) -> str:
        values = {"package": self.package, "price": self.price.format(),
                  "cost": self.cost.format()}
        if self.fallback:
            return _("%(package)s: %(price)s is below the fallback supplier's cost %(cost)s",
                     **values)
        return _("%(package)s: %(price)s is below the supplier's cost %(cost)s", **values)


def below_cost(package: Package, price: int) -> Loss | None:
    """How selling `package` at `price` loses money, or None.

    The fallback supplier's cost counts too: a failover at a loss is still a loss.
    """
    def loss(cost: int, fallback: bool) -> Loss:
        return Loss(package.name, money.Money(price, package.currency),
                    money.Money(cost, package.currency), fallback)
    if package.supplier_cost is not None and price < package.supplier_cost:
        return loss(package.supplier_cost, fallback=False)
    if package.fallback_supplier and package.fallback_cost is not None \
            and price < package.fallback_cost:
        return loss(package.fallback_cost, fallback=True)
    return None


@dataclass(frozen=True)
class PriceChange:
    package_id: int
    name: str              # "Mobile Legends 86 Diamonds"
    currency: str
    old: int
    new: int
    loss: Loss | None      # how the new price is below a cost, if it is


@dataclass
class Repriced:
    """A bulk price change: planned (a preview) or done."""
    changed: list[PriceChange] = dataclasses.field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)   # no supplier cost to mark up

    @property
    def below_cost(self) -> list[Loss]:
        return [change.loss for change in self.changed if change.loss]

    def describe(self, done: bool = True) -> str:
        count = len(self.changed)
        if done:
            text = ngettext("Changed %(num)d price, %(right)d already right",
                            "Changed %(num)d prices, %(right)d already right", count,
                            right=self.unchanged)
        else:
            text = ngettext("Would change %(num)d price, %(right)d already right",
                            "Would change %(num)d prices, %(right)d already right", count,
                            right=self.unchanged)
        if self.skipped:
            text += "; " + _("%(count)d without a supplier cost keep their price (%(names)s)",
                             count=len(self.skipped), names=", ".join(self.skipped))
        if self.below_cost:
            text += "; " + (_("%(count)d below cost by your override", count=len(self.below_cost))
                            if done else _("%(count)d below cost", count=len(self.below_cost)))
        return text + "."


def plan_reprice(packages: Iterable[Package], markup: Markup, round_to: int) -> Repriced:
    """What reprice() would change, changing nothing (the panel's preview).
    :raise PriceImportError: for a bad round_to."""
    if round_to < 1:
        raise PriceImportError(_("Round up to must be at least 1."))
    plan = Repriced()
    for package in packages:
        name = f"{package.product.name} {package.name}"
        if package.supplier_cost is None:
            plan.skipped.append(name)
            continue
        new = markup.apply(package.supplier_cost, round_to)
        if new == package.price:
            plan.unchanged += 1
            continue
        plan.changed.append(PriceChange(package.id, name, package.currency, package.price, new,
                                        below_cost(package, new)))
    return plan


def reprice(packages: Iterable[Package], markup: Markup, round_to: int, actor: audit.Actor,
            below_cost_ok: bool = False) -> Repriced:
    """Price each package at its supplier cost plus `markup`, rounded up to `round_to`.

    One transaction, with an audit entry per changed package. Packages without a supplier cost
    keep their price. :raise BelowCost: when a new price is below a cost (the fallback
    supplier's) and `below_cost_ok` is not given; nothing is changed then.
    :raise PriceImportError: for a bad round_to.
    """
    plan = plan_reprice(packages, markup, round_to)
    if plan.below_cost and not below_cost_ok:
        raise BelowCost(_("Not changed, because these would sell below cost: %(losses)s. Raise "
                          "the markup, or tick \"Sell below cost\" to accept the loss.",
                          losses="; ".join(loss.said() for loss in plan.below_cost)))
    with orders.write_unit():
        if plan.changed:
            # One executemany UPDATE by primary key, not a load and flush per package.
            db.session.execute(sa.update(Package), [
                {"id": change.package_id, "price": change.new} for change in plan.changed])
        for change in plan.changed:
            audit.record(actor, "package.below_cost" if change.loss else "package.reprice",
                         "package", change.package_id,
                         f"{change.name}: price {change.old} -> {change.new} (markup {markup}, "
                         f"rounded up to {round_to})"
                         + (f"; sold below cost: {change.loss}" if change.loss else ""),
                         before={"price": change.old}, after={"price": change.new})
    return plan


def _new_product(item: PriceItem) -> Product:
    slug = slugify(item.brand)
    icon = f"icons/{slug}.svg"
    image = icon if os.path.exists(os.path.join(ROOT, "static", icon)) else "icons/logo.svg"
    product = Product(slug=slug, name=item.brand.title()[:120],
                      publisher=item.brand.title()[:120], image=image,
                      account_fields=account_fields_for(item), category=category_for(item),
                      help_text=item.desc if item.desc not in ("", "-") else "",
                      # Imported products start unchecked (the customer types the ID twice)
                      # until the operator picks a nickname provider for them.
                      verifier="none", active=True)
    db.session.add(product)
    return product
