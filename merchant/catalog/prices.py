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
from sqlalchemy.orm import selectinload

from merchant.catalog import account_presets
from merchant.catalog.margins import Loss, below_cost
from merchant.core import audit, money
from merchant.core.extensions import db
from merchant.core.models import Package, Product
from merchant.core.transactions import write_unit
from merchant.core.validation import MAX_INT
from merchant.supply import offers, price_lists
from merchant.vendors.suppliers.base import PriceItem

PRICE_LIST_MAX_AGE = price_lists.PRICE_LIST_MAX_AGE

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
    kept: int = 0            # prices set by hand, kept
    hand_repriced: int = 0   # prices set by hand below the new cost, so repriced
    merged: int = 0          # offers added to another supplier's packages
    cached: bool = False
    fetched_at: dt.datetime | None = None


def importable() -> list[str]:
    """The suppliers whose price list can be imported."""
    return price_lists.listing()


def price_list(name: str, max_age: float = PRICE_LIST_MAX_AGE) -> tuple[list[PriceItem], bool,
                                                                       dt.datetime]:
    """The supplier's price list, from the cache when younger than max_age (supply/price_lists).

    Returns (items, from_cache, fetched_at). :raise SupplierError: when it cannot be fetched;
    :raise PriceImportError: for a supplier without a price list or without its settings.
    """
    found = price_lists.cached(name, max_age)
    if found is not None:
        return found[0], True, found[1]
    if name not in importable():
        raise PriceImportError(f"{name!r} has no price list to import; use one of "
                               f"{', '.join(importable()) or 'none'}.")
    try:
        return price_lists.price_list(name, max_age)
    except price_lists.NoPriceList as exc:
        raise PriceImportError(str(exc)) from None


def previewed_list(name: str, fetched_at: dt.datetime) -> list[PriceItem]:
    """The cached price list fetched at `fetched_at`, whatever its age: the one a preview
    showed, so that applying it does what the preview said.
    :raise PriceImportError: a newer fetch replaced it since."""
    items = price_lists.previewed_list(name, fetched_at)
    if items is None:
        raise PriceImportError(_("The price list changed since this preview: start the import "
                                 "again to preview the new one."))
    return items


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


@dataclass(frozen=True)
class KeptPrice:
    """A price set by hand that the import keeps (its cost is still updated)."""
    name: str              # "Mobile Legends 86 Diamonds"
    currency: str
    price: int             # the hand price, kept
    imported: int          # what the import would have set
    cost: int              # the new supplier cost


@dataclass(frozen=True)
class MergedOffer:
    """A listed product that becomes another offer of a package another supplier sells: same
    brand (product) and denomination (quantity)."""
    package_id: int
    name: str              # "Mobile Legends 86 Diamonds"
    sku: str
    cost: int
    currency: str


@dataclass
class ImportPlan:
    """What an import of a price list does to the catalog: planned (the panel's preview) or
    done. Names are "<product> <package>"."""
    new: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)  # name, cur, price
    new_products: list[str] = dataclasses.field(default_factory=list)
    repriced: list[PriceChange] = dataclasses.field(default_factory=list)
    # Hand prices below the new cost: not kept, the import's price instead.
    hand_below_cost: list[PriceChange] = dataclasses.field(default_factory=list)
    kept: list[KeptPrice] = dataclasses.field(default_factory=list)
    switched_off: list[str] = dataclasses.field(default_factory=list)
    summary: Summary = dataclasses.field(default_factory=Summary)
    # What to write: the items that become packages, and columns per existing package.
    additions: list[PriceItem] = dataclasses.field(default_factory=list)
    updates: dict[int, dict] = dataclasses.field(default_factory=dict)
    # Every product of the list: its price is the cost of the offers that buy it.
    costs: list[PriceItem] = dataclasses.field(default_factory=list)
    merged: list[MergedOffer] = dataclasses.field(default_factory=list)

    def shown(self) -> dict:
        """The plan as JSON for the panel's preview (the import job keeps it)."""
        def change(c: PriceChange) -> dict:
            return {"name": c.name, "currency": c.currency, "old": c.old, "new": c.new}
        return {"new": [{"name": n, "currency": cur, "price": p} for n, cur, p in self.new],
                "new_products": self.new_products,
                "repriced": [change(c) for c in self.repriced],
                "hand_below_cost": [change(c) for c in self.hand_below_cost],
                "kept": [dataclasses.asdict(k) for k in self.kept],
                "switched_off": self.switched_off,
                "merged": [dataclasses.asdict(m) for m in self.merged],
                "unchanged": self.summary.unchanged}


def plan_import(name: str, items: Iterable[PriceItem], markup: Markup,
                round_to: int = 100, merge: bool = False) -> ImportPlan:
    """What importing `items` would change, changing nothing.

    A package whose price was set by hand keeps it (its cost and on-sale state still follow
    the list), unless the price is below the new cost: then it takes the import's price, which
    never is. With `merge`, a product of the same brand and denomination as a package another
    supplier sells becomes one more offer of that package instead of a package of its own.
    :raise PriceImportError: for a bad round_to."""
    if round_to < 1:
        raise PriceImportError("--round-to must be at least 1.")
    plan = ImportPlan()
    listed: set[str] = set()
    products = dict(db.session.execute(sa.select(Product.slug, Product.name)).all())
    packages = {p.supplier_sku: p for p in db.session.scalars(
        sa.select(Package).options(selectinload(Package.product))
        .where(Package.supplier == name).order_by(Package.id))}
    offered, others = _other_suppliers_packages(name) if merge else (set(), {})
    for item in items:
        if item.sku in listed:
            continue
        listed.add(item.sku)
        plan.costs.append(item)
        package = packages.get(item.sku)
        if package is None and item.sku in offered:
            continue                    # already another offer of a package: its cost follows
        if package is None:
            key = (slugify(item.brand), quantity_of(package_name(item)))
            match = others.get(key) if key[1] else None
            if match is not None and item.buyer_product_status and item.seller_product_status:
                plan.merged.append(MergedOffer(match.id, _full_name(match), item.sku,
                                               item.price, match.currency))
                plan.summary.merged += 1
            else:
                _plan_new(plan, item, markup, round_to, products)
        else:
            _plan_update(plan, package, item, markup, round_to)
    for sku, package in packages.items():
        if sku not in listed and package.active:
            plan.updates[package.id] = {"active": False}
            plan.switched_off.append(_full_name(package))
            plan.summary.deactivated += 1
    return plan


def _plan_new(plan: ImportPlan, item: PriceItem, markup: Markup, round_to: int,
              products: dict[str, str]) -> None:
    """A listed item no package has: a new package, of a new product (by brand) if need be."""
    if not (item.buyer_product_status and item.seller_product_status):
        return
    slug = slugify(item.brand)
    if slug not in products:
        products[slug] = item.brand.title()[:120]      # as _new_product names it
        plan.new_products.append(products[slug])
        plan.summary.products_added += 1
    plan.additions.append(item)
    plan.new.append((f"{products[slug]} {package_name(item)}", "IDR",
                     markup.apply(item.price, round_to)))
    plan.summary.added += 1


def _plan_update(plan: ImportPlan, package: Package, item: PriceItem, markup: Markup,
                 round_to: int) -> None:
    sellable = item.buyer_product_status and item.seller_product_status
    name = _full_name(package)
    price = package.price
    if sellable:
        imported = markup.apply(item.price, round_to)
        if not package.price_by_hand:
            price = imported
        elif package.price < item.price:
            price = imported
            plan.hand_below_cost.append(PriceChange(package.id, name, package.currency,
                                                    package.price, imported, None))
            plan.summary.hand_repriced += 1
        elif imported != package.price:
            plan.kept.append(KeptPrice(name, package.currency, package.price, imported,
                                       item.price))
            plan.summary.kept += 1
    after = {"price": price, "supplier_cost": item.price, "active": sellable}
    if price != package.price and not package.price_by_hand:
        plan.repriced.append(PriceChange(package.id, name, package.currency, package.price,
                                         price, None))
    if package.price_by_hand and price != package.price:
        after["price_by_hand"] = False
    if (package.price, package.supplier_cost, package.active) == (
            price, item.price, sellable):
        plan.summary.unchanged += 1
        return
    plan.updates[package.id] = after
    if package.active and not sellable:
        plan.switched_off.append(name)
        plan.summary.deactivated += 1
    else:
        plan.summary.changed += 1


def _other_suppliers_packages(name: str) -> tuple[set[str], dict[tuple[str, int], Package]]:
    """(`name`'s SKUs that are offers of packages another supplier leads, those packages by
    (product slug, denomination)): where a list merges into the catalog."""
    rows = list(db.session.scalars(
        sa.select(Package).options(selectinload(Package.product))
        .where(Package.supplier != name, Package.archived_at.is_(None)).order_by(Package.id)))
    offered, by_denomination = set(), {}
    for found in offers.offers_by_package(rows).values():
        offered |= {offer.sku for offer in found if offer.supplier == name}
    for package in rows:
        for quantity in {package.quantity, package.quantity + package.bonus}:
            by_denomination.setdefault((package.product.slug, quantity), package)
    return offered, by_denomination


def _full_name(package: Package) -> str:
    return f"{package.product.name} {package.name}"


def import_items(name: str, items: Iterable[PriceItem], markup: Markup,
                 round_to: int = 100, actor: audit.Actor = audit.CLI,
                 merge: bool = False) -> ImportPlan:
    """Create or update products and packages from `items` (iterate it with a progress bar if
    you like), then deactivate this supplier's packages the list dropped or disabled; prices
    set by hand are kept (see plan_import). All in one transaction, with its audit entry.
    :raise PriceImportError: for a bad round_to."""
    with write_unit():
        plan = plan_import(name, items, markup, round_to, merge)
        products = {p.slug: p for p in db.session.scalars(sa.select(Product))}
        for item in plan.additions:
            product = products.get(slugify(item.brand))
            if product is None:
                product = products[slugify(item.brand)] = _new_product(item)
            db.session.add(Package(product=product, supplier=name, supplier_sku=item.sku,
                                   name=package_name(item),
                                   quantity=quantity_of(package_name(item)),
                                   price=markup.apply(item.price, round_to),
                                   supplier_cost=item.price, currency="IDR", active=True))
        for package_id, values in plan.updates.items():
            package = db.session.get(Package, package_id)
            for key, value in values.items():
                setattr(package, key, value)
        for item in plan.costs:
            offers.update_costs(name, item.sku, item.price)
        for merge in plan.merged:
            package = db.session.get(Package, merge.package_id)
            offers.replace(package, [*offers.offers_of(package),
                                     offers.Offer(name, merge.sku, merge.cost)])
        audit.record(actor, "prices.import", "supplier", name,
                     describe(plan.summary, markup, round_to) + _kept_note(plan))
    return plan


def _kept_note(plan: ImportPlan) -> str:
    """The audit entry's English note of the hand prices kept and those below the new cost."""
    note = ""
    if plan.kept:
        note += " Kept prices set by hand: " + "; ".join(
            f"{k.name} {k.price} (import {k.imported}, cost {k.cost})" for k in plan.kept) + "."
    if plan.hand_below_cost:
        note += " Prices set by hand below the new cost, repriced: " + "; ".join(
            f"{c.name} {c.old} -> {c.new}" for c in plan.hand_below_cost) + "."
    return note


def describe(summary: Summary, markup: Markup | None = None, round_to: int | None = None,
             planned: bool = False) -> str:
    """One line for the operator: what an import did (or, `planned`, would do)."""
    verbs = ("Would add", "change", "deactivate", "leave unchanged") if planned else (
        "Added", "changed", "deactivated", "unchanged")
    text = (f"{verbs[0]} {summary.added}, {verbs[1]} {summary.changed}, "
            f"{verbs[2]} {summary.deactivated}, {verbs[3]} {summary.unchanged} packages"
            + (f"; {summary.products_added} new products (check their account fields "
               "and nickname check)" if summary.products_added else "")
            + (f"; {'keep' if planned else 'kept'} {summary.kept} prices set by hand"
               if summary.kept else "")
            + (f"; {'reprice' if planned else 'repriced'} {summary.hand_repriced} prices set "
               "by hand that are below the new cost" if summary.hand_repriced else "")
            + (f"; {'add' if planned else 'added'} {summary.merged} offers to packages of "
               "other suppliers" if summary.merged else ""))
    if markup is not None:
        text += f" (markup {markup}, rounded up to {round_to})"
    return text + "."


def summary_text(summary: dict, planned: bool = False) -> str:
    """describe()'s line in the reader's language, from a Summary kept as a dict (an import
    job's row)."""
    counts = {key: summary.get(key) or 0 for key in (
        "added", "changed", "deactivated", "unchanged", "products_added", "kept",
        "hand_repriced", "merged")}
    if planned:
        parts = [_("Would add %(added)s, change %(changed)s, deactivate %(deactivated)s, leave "
                   "unchanged %(unchanged)s packages", **counts)]
    else:
        parts = [_("Added %(added)s, changed %(changed)s, deactivated %(deactivated)s, "
                   "unchanged %(unchanged)s packages", **counts)]
    if counts["products_added"]:
        parts.append(_("%(products_added)s new products (check their account fields and "
                       "nickname check)", **counts))
    if counts["kept"]:
        parts.append(_("keep %(kept)s prices set by hand", **counts) if planned else
                     _("kept %(kept)s prices set by hand", **counts))
    if counts["hand_repriced"]:
        parts.append(_("reprice %(hand_repriced)s prices set by hand that are below the new "
                       "cost", **counts) if planned else
                     _("repriced %(hand_repriced)s prices set by hand that are below the new "
                       "cost", **counts))
    if counts["merged"]:
        parts.append(_("add %(merged)s offers to packages of other suppliers", **counts)
                     if planned else
                     _("added %(merged)s offers to packages of other suppliers", **counts))
    return "; ".join(parts) + "."


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
    keep their price. The changed prices are marked set by hand: price imports keep them.
    :raise BelowCost: when a new price is below a cost (the fallback supplier's) and
    `below_cost_ok` is not given; nothing is changed then.
    :raise PriceImportError: for a bad round_to.
    """
    plan = plan_reprice(packages, markup, round_to)
    if plan.below_cost and not below_cost_ok:
        raise BelowCost(_("Not changed, because these would sell below cost: %(losses)s. Raise "
                          "the markup, or tick \"Sell below cost\" to accept the loss.",
                          losses="; ".join(loss.said() for loss in plan.below_cost)))
    with write_unit():
        if plan.changed:
            # One executemany UPDATE by primary key, not a load and flush per package.
            db.session.execute(sa.update(Package), [
                {"id": change.package_id, "price": change.new, "price_by_hand": True}
                for change in plan.changed])
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
    drawn = os.path.exists(os.path.join(current_app.static_folder, icon))
    image = icon if drawn else "icons/logo.svg"
    product = Product(slug=slug, name=item.brand.title()[:120],
                      publisher=item.brand.title()[:120], image=image,
                      account_fields=account_fields_for(item), category=category_for(item),
                      help_text=item.desc if item.desc not in ("", "-") else "",
                      # Imported products start unchecked (the customer types the ID twice)
                      # until the operator picks a nickname provider for them.
                      verifier="none", active=True)
    db.session.add(product)
    return product
