"""Price levels (Member, Reseller, VIP ...): what a level pays for a package, the owner's
definitions and hand prices, and moving customers up by what they spent.

A level's price for a package, from the live rows:
1. the owner's hand price for that level and package, if there is one; else
2. the level's rule: a discount off the retail price, or a markup over the supplier's cost
   (the price import's Markup), rounded UP to `round_to` as the import rounds;
3. never above the retail price (a level never pays more than a guest), and never below what
   the package costs us (the fallback supplier's cost too, catalog/margins.py) unless the owner
   allowed the level to sell at a loss. A hand price below cost is refused instead.

Levels rank by sort_order: a higher one is a better level. Customers move up by themselves
(never down) when their delivered orders over a level's window reach its spend threshold, by
one conditional UPDATE per level, or by the owner's hand (audited).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from merchant.catalog import margins
from merchant.catalog.prices import Markup
from merchant.core import audit, money
from merchant.core.extensions import db
from merchant.core.models import (
    LEVEL_DISCOUNT,
    LEVEL_MARKUP,
    Customer,
    LevelPrice,
    Order,
    Package,
    PriceLevel,
    utcnow,
)

log = logging.getLogger(__name__)

KINDS = (LEVEL_DISCOUNT, LEVEL_MARKUP)
FIELDS = ("name", "sort_order", "kind", "percent_bp", "flat", "round_to", "allow_below_cost",
          "spend_threshold", "spend_days", "currency", "api_self_service")


class LevelError(ValueError):
    """The owner's change cannot be saved; the message says why."""


def all_levels() -> list[PriceLevel]:
    return list(db.session.scalars(sa.select(PriceLevel)
                                   .order_by(PriceLevel.sort_order, PriceLevel.name)))


def get(level_id) -> PriceLevel | None:
    return db.session.get(PriceLevel, level_id) if level_id else None


def _costs(package) -> list[int]:
    costs = [package.supplier_cost] if package.supplier_cost is not None else []
    if package.fallback_supplier and package.fallback_cost is not None:
        costs.append(package.fallback_cost)
    return costs


def rule_price(level: PriceLevel, package) -> int:
    """What the level's rule makes of the package's price (before the cost floor)."""
    retail = package.price
    if level.kind == LEVEL_MARKUP:
        if package.supplier_cost is None:
            return retail           # no cost known: nothing to mark up
        return Markup(level.percent_bp, level.flat).apply(package.supplier_cost,
                                                          max(level.round_to, 1))
    price = retail - retail * level.percent_bp // 10_000
    round_to = max(level.round_to, 1)
    return -(-price // round_to) * round_to


def price_of(level: PriceLevel, package, hand: int | None = None) -> int:
    """The level's price for `package` (an ORM row or the catalog cache's copy); `hand` is the
    level's hand price for it, if the caller has read it."""
    price = hand if hand is not None else rule_price(level, package)
    price = min(price, package.price)
    if not level.allow_below_cost and margins.below_cost(package, price) is not None:
        price = min(package.price, max([price, *_costs(package)]))
    return price


def hand_prices(level_ids: Iterable[int], package_ids: Iterable[int]) -> dict[tuple, int]:
    """(level id, package id) -> the owner's hand price."""
    level_ids, package_ids = list(level_ids), list(package_ids)
    if not level_ids or not package_ids:
        return {}
    rows = db.session.execute(sa.select(LevelPrice.level_id, LevelPrice.package_id,
                                        LevelPrice.price)
                              .where(LevelPrice.level_id.in_(level_ids),
                                     LevelPrice.package_id.in_(package_ids)))
    return {(level_id, package_id): price for level_id, package_id, price in rows}


def prices_for(level: PriceLevel | None, packages) -> dict[int, int]:
    """package id -> what `level` pays, for the packages whose price it lowers."""
    if level is None:
        return {}
    hand = hand_prices([level.id], [p.id for p in packages])
    found = {p.id: price_of(level, p, hand.get((level.id, p.id))) for p in packages}
    return {package_id: price for package_id, price in found.items()
            if price < _retail(packages, package_id)}


def _retail(packages, package_id: int) -> int:
    return next(p.price for p in packages if p.id == package_id)


def offers(packages) -> dict[int, list[tuple[str, int]]]:
    """package id -> [(level name, price)] for a guest's page: what each level would pay,
    where it pays less than the retail price."""
    levels = all_levels()
    hand = hand_prices([level.id for level in levels], [p.id for p in packages])
    shown: dict[int, list[tuple[str, int]]] = {}
    for package in packages:
        for level in levels:
            price = price_of(level, package, hand.get((level.id, package.id)))
            if price < package.price:
                shown.setdefault(package.id, []).append((level.name, price))
    return shown


def price_for(customer: Customer | None, package: Package) -> int | None:
    """What a signed-in customer's level pays for `package`, read from the live rows; None for
    a guest, a customer without a level, or a level that does not lower this price."""
    if customer is None or customer.level_id is None:
        return None
    level = db.session.get(PriceLevel, customer.level_id)
    if level is None:
        return None
    hand = db.session.get(LevelPrice, (level.id, package.id))
    price = price_of(level, package, hand.price if hand else None)
    return price if price < package.price else None


# The owner's definitions --------------------------------------------------------------------

def _check(values: dict) -> None:
    if values["kind"] not in KINDS:
        raise LevelError(_("Choose a discount off the retail price or a markup over cost."))
    if values["kind"] == LEVEL_DISCOUNT and not 0 <= values["percent_bp"] <= 10_000:
        raise LevelError(_("A discount is between 0% and 100%."))
    taken = db.session.scalar(sa.select(PriceLevel.id).where(
        sa.func.lower(PriceLevel.name) == values["name"].lower()))
    if taken is not None and taken != values.get("id"):
        raise LevelError(_("There is already a level called %(name)s.", name=values["name"]))


def _shown(level: PriceLevel) -> dict:
    return {name: getattr(level, name) for name in FIELDS}


def create(values: dict, actor: audit.Actor) -> PriceLevel:
    """A new level. :raise LevelError:"""
    _check(values)
    level = PriceLevel(**{name: values[name] for name in FIELDS}, created_at=utcnow())
    db.session.add(level)
    db.session.flush()
    audit.record(actor, "level.create", "price_level", level.id,
                 f"Added the price level {level.name} ({describe(level)})", after=_shown(level))
    db.session.commit()
    return level


def update(level: PriceLevel, values: dict, actor: audit.Actor) -> None:
    """Change a level's definition. :raise LevelError:"""
    _check({**values, "id": level.id})
    before = _shown(level)
    for name in FIELDS:
        setattr(level, name, values[name])
    old, new = audit.changes(before, _shown(level))
    audit.record(actor, "level.update", "price_level", level.id,
                 f"Changed the price level {level.name} ({describe(level)})", old, new)
    db.session.commit()


def describe(level: PriceLevel) -> str:
    """The rule in a few words, English, for the audit log."""
    if level.kind == LEVEL_MARKUP:
        return f"cost + {Markup(level.percent_bp, level.flat)}, rounded up to {level.round_to}"
    return f"{money.format_bp(level.percent_bp, 'en')} off retail, rounded up to {level.round_to}"


def set_hand_price(level: PriceLevel, package: Package, price: int | None,
                   actor: audit.Actor) -> None:
    """Set (or with None clear) a level's price for one package by hand.

    :raise LevelError: below the package's cost when the level may not sell at a loss.
    """
    row = db.session.get(LevelPrice, (level.id, package.id))
    before = {"price": row.price if row else None}
    if price is not None:
        loss = margins.below_cost(package, price)
        if loss is not None and not level.allow_below_cost:
            raise LevelError(_("%(loss)s. Raise the price, or let this level sell below cost.",
                               loss=loss.said()))
        if row is None:
            db.session.add(LevelPrice(level_id=level.id, package_id=package.id, price=price))
        else:
            row.price = price
    elif row is not None:
        db.session.delete(row)
    audit.record(actor, "level.price", "price_level", level.id,
                 f"{level.name}: {package.name} "
                 + (f"set to {money.Money(price, package.currency).format()} by hand"
                    if price is not None else "back to the level's rule"),
                 before, {"price": price})
    db.session.commit()


def hand_prices_of(level: PriceLevel) -> dict[int, int]:
    """package id -> price set by hand for this level."""
    return dict(db.session.execute(sa.select(LevelPrice.package_id, LevelPrice.price)
                                   .where(LevelPrice.level_id == level.id)).all())


def set_level(customer: Customer, level: PriceLevel | None, actor: audit.Actor) -> None:
    """The owner moves a customer to a level (or to none), audited."""
    before = customer.level.name if customer.level else None
    customer.level_id = level.id if level else None
    audit.record(actor, "customer.level", "customer", customer.id,
                 f"Level of customer {customer.id} set to {level.name if level else 'none'}",
                 {"level": before}, {"level": level.name if level else None})
    db.session.commit()


# Moving up by spend --------------------------------------------------------------------------

def spend(customer_id: int, days: int, currency: str, now: dt.datetime | None = None) -> int:
    """What a customer's delivered orders in `currency` over the last `days` came to."""
    now = now or utcnow()
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Order.subtotal), 0))
                                 .where(Order.customer_id == customer_id,
                                        Order.status == "delivered",
                                        Order.currency == currency,
                                        Order.created_at >= now - dt.timedelta(days=days))))


def review(now: dt.datetime | None = None) -> int:
    """Move every customer who reached a level's spend threshold up to the best such level;
    nobody moves down. Returns how many moved."""
    now = now or utcnow()
    levels = all_levels()
    moved = 0
    for rank, level in sorted(enumerate(levels), key=lambda pair: -pair[0]):
        if level.spend_threshold is None:
            continue
        lower = [other.id for other in levels[:rank]]
        spenders = (sa.select(Order.customer_id)
                    .where(Order.customer_id.is_not(None), Order.status == "delivered",
                           Order.currency == level.currency,
                           Order.created_at >= now - dt.timedelta(days=level.spend_days))
                    .group_by(Order.customer_id)
                    .having(sa.func.sum(Order.subtotal) >= level.spend_threshold))
        result = db.session.execute(
            sa.update(Customer)
            .where(Customer.id.in_(spenders),
                   sa.or_(Customer.level_id.is_(None), Customer.level_id.in_(lower)))
            .values(level_id=level.id))
        if result.rowcount:
            log.info("%d customers moved up to the price level %s by their spend",
                     result.rowcount, level.name)
            moved += result.rowcount
    db.session.commit()
    return moved


def review_due() -> int:
    """review(), at most every LEVEL_REVIEW_SECONDS per process (the worker calls it)."""
    seconds = float(current_app.config["LEVEL_REVIEW_SECONDS"])
    now = utcnow()
    last = current_app.extensions.get("levels_reviewed_at")
    if last is not None and (now - last).total_seconds() < seconds:
        return 0
    current_app.extensions["levels_reviewed_at"] = now
    return review(now)
