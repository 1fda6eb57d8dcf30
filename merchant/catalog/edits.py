"""The operator's catalog changes: products and packages created and edited from the panel.

Each save is one transaction with its audit entry (the changed values before and after). A
package is never priced below what it costs us unless the operator says so explicitly.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from merchant.catalog import account_presets, margins, prices
from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Package, Product
from merchant.core.money import Money
from merchant.core.transactions import write_unit
from merchant.supply import offers
from merchant.vendors import registry
from merchant.vendors.suppliers import supplier_class

PRODUCT_FIELDS = ("name", "slug", "publisher", "image", "help_text", "verifier", "verifier_code",
                  "allow_unverified", "active", "sort_order", "category", "featured",
                  "meta_title", "meta_description", "guide", "faq")
PACKAGE_FIELDS = ("name", "quantity", "bonus", "price", "badge", "offer_rule", "active",
                  "sort_order")
# What the audit log keeps of a package besides PACKAGE_FIELDS: its offers.
OFFER_KEY = "offers"


class CatalogEditError(ValueError):
    """A change the catalog cannot take. The message says what to change."""


def products(archived: bool = False) -> list[tuple[Product, int, int]]:
    """Every product not archived (or, `archived`, every archived one) with its number of
    packages and of active packages (archived packages left out), in shop order."""
    counts = sa.select(Package.product_id, sa.func.count().label("n"),
                       sa.func.sum(sa.case((Package.active, 1), else_=0)).label("on")) \
        .where(Package.archived_at.is_(None)).group_by(Package.product_id).subquery()
    kept = Product.archived_at.is_not(None) if archived else Product.archived_at.is_(None)
    rows = db.session.execute(
        sa.select(Product, counts.c.n, counts.c.on).where(kept)
        .outerjoin(counts, counts.c.product_id == Product.id)
        .order_by(Product.sort_order, Product.name))
    return [(product, n or 0, on or 0) for product, n, on in rows]


def packages(product: Product | None, ids: list[int] | None = None) -> list[Package]:
    """A product's packages (or the whole catalog's), only those in `ids` when it is given."""
    query = sa.select(Package).options(selectinload(Package.product)) \
        .order_by(Package.product_id, Package.sort_order, Package.id)
    if product is not None:
        query = query.where(Package.product_id == product.id)
    if ids:
        query = query.where(Package.id.in_(ids))
    return list(db.session.scalars(query))


def snapshot(thing: Product | Package) -> dict:
    """The editable values of a product or package, for the audit log."""
    if isinstance(thing, Product):
        values = {key: getattr(thing, key) for key in PRODUCT_FIELDS}
        values["account_fields"] = [spec.get("name") for spec in thing.account_fields or []]
        values["hints"] = [spec.get("hint", "") for spec in thing.account_fields or []]
        return values
    values = {key: getattr(thing, key) for key in PACKAGE_FIELDS}
    values[OFFER_KEY] = [f"{o.supplier} {o.sku} {o.cost}".replace(" None", "")
                         for o in offers.offers_of(thing)]
    return values


def save_product(actor: audit.Actor, product_id: int | None, values: dict,
                 preset: str, hints: list[str] | None = None) -> Product:
    """Create (product_id None) or update a product from the panel's form values.

    `preset` picks the account fields; "custom", or the preset the product already matches,
    keeps the product's own fields, whose format messages `hints` rewords (one per field, in
    order; empty: the shop's default message). `values["image"]` None keeps the picture.
    :raise CatalogEditError: the slug is taken or the preset unknown.
    """
    if preset != account_presets.CUSTOM and preset not in account_presets.PRESETS:
        raise CatalogEditError(_("There is no account-field preset called %(name)s.",
                                 name=repr(preset)))
    with write_unit():
        product = db.session.get(Product, product_id) if product_id else None
        if product_id and product is None:
            raise CatalogEditError(_("That product no longer exists."))
        taken = db.session.scalar(sa.select(Product).where(Product.slug == values["slug"],
                                                           Product.id != (product_id or 0)))
        if taken is not None:
            raise CatalogEditError(_("The address /p/%(slug)s is already used by %(product)s: "
                                     "choose another slug.", slug=values["slug"],
                                     product=taken.name))
        before = snapshot(product) if product else {}
        if values["verifier"] not in ("none", before.get("verifier")):
            _ready(registry.VERIFIER, values["verifier"])
        if product is None:
            product = Product(account_fields=account_presets.fields("customer_id"))
            db.session.add(product)
        for key in PRODUCT_FIELDS:
            if key == "image" and values.get("image") is None:
                continue
            setattr(product, key, values[key])
        if preset != account_presets.CUSTOM \
                and preset != account_presets.matching(product.account_fields):
            product.account_fields = account_presets.fields(preset)
        elif hints is not None and len(hints) == len(product.account_fields):
            product.account_fields = _with_hints(product.account_fields, hints)
        db.session.flush()
        changed_before, changed_after = audit.changes(before, snapshot(product))
        if product_id is None:
            audit.record(actor, "product.create", "product", product.id,
                         f"{product.name} created", after=changed_after)
        elif changed_after:
            audit.record(actor, "product.update", "product", product.id,
                         f"{product.name}: {', '.join(changed_after)} changed",
                         before=changed_before, after=changed_after)
    return product


def save_package(actor: audit.Actor, product_id: int, package_id: int | None, values: dict,
                 below_cost_ok: bool = False) -> Package:
    """Create (package_id None) or update one of a product's packages.

    :raise prices.BelowCost: the price is below the supplier's (or fallback supplier's) cost
        and `below_cost_ok` is not given; nothing is saved then. With it, the sale at a loss
        is saved and audited as such. :raise CatalogEditError: the product or package is gone,
        or a supplier that delivers by SKU has none.
    """
    with write_unit():
        product = db.session.get(Product, product_id)
        package = db.session.get(Package, package_id) if package_id else None
        if product is None or (package_id and (package is None
                                               or package.product_id != product_id)):
            raise CatalogEditError(_("That package no longer exists."))
        before = snapshot(package) if package else {}
        chosen = values["offers"]
        known = {o.supplier for o in offers.offers_of(package)} if package else set()
        # Only a newly chosen supplier must be usable: a package whose supplier lost its
        # settings can still be edited (switched off, repriced).
        for number, offer in enumerate(chosen):
            if offer.supplier not in known:
                _ready(registry.SUPPLIER, offer.supplier)
            _sku_given(offer.supplier, offer.sku, fallback=number > 0)
        if package is None:
            package = Package(currency=_currency(product))
        if package_id is None or values["price"] != package.price:
            package.price_by_hand = True        # price imports keep it
        for key in PACKAGE_FIELDS:
            setattr(package, key, values[key])
        if package_id is None:
            product.packages.append(package)
        offers.replace(package, chosen)
        loss = prices.below_cost(package, package.price) or next(
            (margins.Loss(package.name, Money(package.price, package.currency),
                          Money(o.cost, package.currency), fallback=True)
             for o in chosen[2:] if o.cost is not None and package.price < o.cost), None)
        if loss and not below_cost_ok:
            raise prices.BelowCost(_("Not saved: %(loss)s. Raise the price, or tick \"Sell "
                                     "below cost\" to sell at a loss on purpose.",
                                     loss=loss.said()))
        db.session.flush()
        changed_before, changed_after = audit.changes(before, snapshot(package))
        action = "package.update" if package_id else "package.create"
        summary = (f"{product.name} {package.name}: "
                   f"{', '.join(changed_after) or 'nothing'} changed"
                   if package_id else f"{product.name} {package.name} created")
        if loss:
            action, summary = "package.below_cost", f"{summary}; sold below cost: {loss}"
        if changed_after or loss or package_id is None:
            audit.record(actor, action, "package", package.id, summary,
                         before=changed_before or None, after=changed_after)
    return package


def clear_hand_price(actor: audit.Actor, package_id: int) -> Package:
    """Let price imports set the package's price again.
    :raise CatalogEditError: the package is gone."""
    with write_unit():
        package = db.session.get(Package, package_id)
        if package is None:
            raise CatalogEditError(_("That package no longer exists."))
        if package.price_by_hand:
            package.price_by_hand = False
            audit.record(actor, "package.update", "package", package.id,
                         f"{package.product.name} {package.name}: price imports set its price "
                         "again", before={"price_by_hand": True}, after={"price_by_hand": False})
    return package


def _ready(kind: str, name: str) -> None:
    """:raise CatalogEditError: the adapter is not ready (registry.ready says why)."""
    readiness = registry.ready(kind, name)
    if not readiness:
        raise CatalogEditError(readiness.said())


def _sku_given(supplier: str, sku: str, fallback: bool) -> None:
    """:raise CatalogEditError: the supplier buys by SKU and none is given."""
    try:
        needs_sku = supplier_class(supplier).needs_sku
    except KeyError:        # an adapter gone from this version: _ready said so if new
        return
    if sku or not needs_sku:
        return
    if fallback:
        raise CatalogEditError(_("Enter the fallback SKU: %(supplier)s delivers by its product "
                                 "code, so without it every failover would fail there.",
                                 supplier=supplier))
    raise CatalogEditError(_("Enter the supplier SKU: %(supplier)s delivers by its product code, "
                             "so without it every order would fail there.", supplier=supplier))


def cost_warnings(package: Package) -> list[str]:
    """What the panel should say about a package whose costs are not known."""
    warnings = []
    if package.supplier_cost is None:
        warnings.append(_("%(package)s has no cost: margins and the below-cost guard cannot be "
                          "checked. Enter the supplier cost.", package=package.name))
    if package.fallback_supplier and package.fallback_cost is None:
        warnings.append(_("%(package)s has no fallback cost: a failover's margin and the "
                          "below-cost guard cannot be checked. Enter the fallback cost.",
                          package=package.name))
    return warnings


def _with_hints(fields: list[dict], hints: list[str]) -> list[dict]:
    """A new list (so the JSON column sees the change) with each field's hint replaced."""
    updated = []
    for spec, hint in zip(fields, hints, strict=True):
        spec = {key: value for key, value in spec.items() if key != "hint"}
        if hint.strip():
            spec["hint"] = hint.strip()
        updated.append(spec)
    return updated


def _currency(product: Product) -> str:
    """A new package is priced like its siblings, else in the shop's currency."""
    if product.packages:
        return product.packages[0].currency
    return shop_settings.current().currency
