"""Flash sales: packages at a sale price between two times, while the sale's stock lasts.

A unit is taken by one conditional UPDATE (`sold < stock`, the sale still on) in the
transaction that inserts the order, so a hundred buyers racing for ten units give ten
orders, on SQLite and PostgreSQL; the others are told "habis" before any payment is opened.
A contact's units (per email and per WhatsApp number) are a counter row per (sale, contact)
under the same kind of update, as promo codes count theirs (catalog/promos.py). An order that
dies unpaid gives its unit back in the transaction of that change, once (the order's
`flash_counted` flag flips by a conditional update); a late payment takes it again even past
the stock: the customer paid the sale price, and `sold` tells how many orders hold it.

The pages read the sales from memory (core/versioned_cache.py): the sale tables are catalog
tables, so an edit, a unit taken or a unit given back drops every process's copy within half
a second. Which sales are on is decided at each request from the clock (phase()); a page
names the sales on in its cache key, so a sale that starts or ends changes what is served at
that second, with nothing to run at that time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.dialects import postgresql, sqlite

from merchant.catalog import margins
from merchant.core import audit, versioned_cache
from merchant.core.extensions import db
from merchant.core.models import (
    FlashSale,
    FlashSaleContactUse,
    FlashSaleItem,
    Order,
    Package,
    Product,
    utcnow,
)
from merchant.core.money import Money

SOLD_OUT = _l("Sold out: this package's flash sale stock is gone. Choose another package, or "
              "buy it at its normal price.")
LIMIT = _l("You have bought as many as this flash sale allows per customer. Buy at the "
           "normal price after the sale, or choose another package.")
NO_PROMO = _l("Promo codes cannot be used with the flash sale price. Remove the code to buy "
              "at the sale price.")
# The fields the owner edits, as a sale's audit snapshot (items are added to it).
FIELDS = ("name", "starts_at", "ends_at", "max_per_contact", "with_promo", "allow_below_cost",
          "active")
# The form field that carries the sale items the product page showed (comma-separated ids).
SHOWN = "flash"


class FlashRefused(ValueError):
    """This purchase cannot have the sale price; the message is for the customer."""


class FlashSaleError(ValueError):
    """The owner's change cannot be made. `errors` maps a field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Offer:
    """A package's place in a sale, as the pages show it (a read-only copy, kept in memory)."""
    item_id: int
    sale_id: int
    sale_name: str
    package_id: int
    price: int
    currency: str
    normal_price: int
    stock: int
    sold: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    with_promo: bool

    @property
    def left(self) -> int:
        return max(0, self.stock - self.sold)

    @property
    def sale(self) -> Money:
        return Money(self.price, self.currency)

    @property
    def normal(self) -> Money:
        return Money(self.normal_price, self.currency)

    def live(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def schedule() -> list[Offer]:
    """Every package of every sale turned on and not over, kept until the catalog changes."""
    return versioned_cache.cached("flash_sales", _load_schedule)


def _load_schedule() -> list[Offer]:
    rows = db.session.execute(
        sa.select(FlashSaleItem, FlashSale, Package).join(FlashSale).join(Package)
        .where(FlashSale.active, FlashSale.ends_at > utcnow())
        .order_by(FlashSale.ends_at, FlashSaleItem.id))
    return [Offer(item.id, sale.id, sale.name, package.id, item.sale_price, package.currency,
                  package.price, item.stock, item.sold, sale.starts_at, sale.ends_at,
                  sale.with_promo)
            for item, sale, package in rows]


def live(now: dt.datetime | None = None) -> dict[int, Offer]:
    """The packages on sale at `now`: package id -> its offer."""
    now = now or utcnow()
    return {offer.package_id: offer for offer in schedule() if offer.live(now)}


def phase(now: dt.datetime | None = None) -> tuple[tuple[int, ...], dt.datetime | None]:
    """The sales on at `now` (their ids: what a shared page's key adds to the catalog
    version) and when that next changes (a sale starts or ends), or None."""
    now = now or utcnow()
    offers = schedule()
    on = tuple(sorted({offer.sale_id for offer in offers if offer.live(now)}))
    moments = [moment for offer in offers for moment in (offer.starts_at, offer.ends_at)
               if moment > now]
    return on, min(moments, default=None)


def shelf(products, now: dt.datetime | None = None) -> list[tuple[object, Offer]]:
    """The catalog's "Flash sale" shelf: each product with a package on sale, and its offer
    with the lowest sale price (one still in stock first)."""
    offers = live(now)
    found = []
    for product in products:
        mine = [offers[p.id] for p in product.packages if p.id in offers]
        if mine:
            found.append((product, min(mine, key=lambda o: (o.left == 0, o.price))))
    return found


def shown(form) -> set[int]:
    """The sale items the buyer's page showed, from its hidden field."""
    return {int(part) for part in str(form.get(SHOWN) or "").split(",")
            if part.strip().isdigit() and len(part.strip()) < 10}


# The purchase: the live rows, never the pages' copy.

def item_for(package_id: int, now: dt.datetime | None = None) -> FlashSaleItem | None:
    """The package's sale item on now, from the database."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(FlashSaleItem).join(FlashSale)
        .where(FlashSaleItem.package_id == package_id, FlashSale.active,
               FlashSale.starts_at <= now, FlashSale.ends_at > now))


def price_for(package, shown_items: set[int], contact_keys=(),
              now: dt.datetime | None = None) -> FlashSaleItem | None:
    """The sale item that prices this purchase, or None for the normal price.

    :raise FlashRefused: the page showed the buyer a sale price this purchase cannot have
        (sold out, over, or the contact's limit reached): the buyer decides again.
    """
    now = now or utcnow()
    item = item_for(package.id, now)
    saw = shown_items and db.session.scalar(
        sa.select(sa.func.count()).select_from(FlashSaleItem)
        .where(FlashSaleItem.id.in_(shown_items), FlashSaleItem.package_id == package.id))
    if item is None:
        if saw:
            raise FlashRefused(_("The flash sale for this package has ended: it costs "
                                 "%(price)s again. Press Buy to pay that price.",
                                 price=Money(package.price, package.currency)))
        return None
    refusal = _refusal(item, contact_keys)
    if refusal is None:
        return item
    if saw:
        raise FlashRefused(str(refusal))
    return None     # the page showed the normal price (drawn before the sale, or sold out)


def _refusal(item: FlashSaleItem, contact_keys) -> str | None:
    if item.sold >= item.stock:
        return SOLD_OUT
    limit = item.sale.max_per_contact
    if limit is not None and contact_keys:
        held = db.session.scalar(sa.select(sa.func.max(FlashSaleContactUse.uses)).where(
            FlashSaleContactUse.sale_id == item.sale_id,
            FlashSaleContactUse.contact.in_(contact_keys)))
        if (held or 0) >= limit:
            return LIMIT
    return None


def take(item: FlashSaleItem, contact_keys: list[str]) -> None:
    """Inside the order's transaction: one unit of the item's stock, and one per contact.

    :raise FlashRefused: the last unit (or the contact's last) went to another order a moment
    ago, or the sale ended; the caller's transaction is then rolled back.
    """
    now = utcnow()
    on = sa.exists().where(FlashSale.id == FlashSaleItem.sale_id, FlashSale.active,
                           FlashSale.starts_at <= now, FlashSale.ends_at > now)
    taken = _execute(sa.update(FlashSaleItem)
                     .where(FlashSaleItem.id == item.id, FlashSaleItem.sold < FlashSaleItem.stock,
                            on)
                     .values(sold=FlashSaleItem.sold + 1))
    if taken != 1:
        raise FlashRefused(str(SOLD_OUT))
    for contact in contact_keys:
        if not _count_contact(item.sale_id, contact, item.sale.max_per_contact):
            raise FlashRefused(str(LIMIT))


def _count_contact(sale_id: int, contact: str, limit: int | None) -> bool:
    """One more unit for the contact, if under `limit`: an insert-if-absent of its counter
    row, then one conditional UPDATE (PostgreSQL re-checks the condition after a racing
    commit)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(FlashSaleContactUse)
                       .values(sale_id=sale_id, contact=contact, uses=0)
                       .on_conflict_do_nothing())
    condition = [FlashSaleContactUse.sale_id == sale_id, FlashSaleContactUse.contact == contact]
    if limit is not None:
        condition.append(FlashSaleContactUse.uses < limit)
    return _execute(sa.update(FlashSaleContactUse).where(*condition)
                    .values(uses=FlashSaleContactUse.uses + 1)) == 1


def on_status(order_id: int, previous: str, to: str) -> str | None:
    """Inside a transition's transaction: give the unit back when the order died unpaid, take
    it again when such an order is paid after all. The note for the order's history, if any."""
    unpaid_ends = ("expired", "payment_failed")     # merchant.orders' strings: no cycle
    if to in unpaid_ends:
        name = give_back(order_id)
        return f"Flash sale {name}: its unit is given back" if name else None
    if to == "paid" and previous in unpaid_ends:
        name = _take_again(order_id)
        return (f"Flash sale {name}: paid late, it keeps the sale price and its unit is "
                f"counted again") if name else None
    return None


def give_back(order_id: int) -> str | None:
    """Inside the caller's transaction: the order's unit, returned once. The sale's name."""
    row = _flip(order_id, counted=False)
    if row is None:
        return None
    sale_id, name = db.session.execute(
        sa.select(FlashSale.id, FlashSale.name).join(FlashSaleItem)
        .where(FlashSaleItem.id == row.flash_item_id)).one()
    _execute(sa.update(FlashSaleItem).where(FlashSaleItem.id == row.flash_item_id,
                                            FlashSaleItem.sold > 0)
             .values(sold=FlashSaleItem.sold - 1))
    for contact in _contacts(row.email, row.whatsapp):
        _execute(sa.update(FlashSaleContactUse).where(
            FlashSaleContactUse.sale_id == sale_id, FlashSaleContactUse.contact == contact,
            FlashSaleContactUse.uses > 0).values(uses=FlashSaleContactUse.uses - 1))
    return name


def _take_again(order_id: int) -> str | None:
    row = _flip(order_id, counted=True)
    if row is None:
        return None
    sale_id, name = db.session.execute(
        sa.select(FlashSale.id, FlashSale.name).join(FlashSaleItem)
        .where(FlashSaleItem.id == row.flash_item_id)).one()
    _execute(sa.update(FlashSaleItem).where(FlashSaleItem.id == row.flash_item_id)
             .values(sold=FlashSaleItem.sold + 1))
    for contact in _contacts(row.email, row.whatsapp):
        _count_contact(sale_id, contact, None)
    return name


def _contacts(email: str | None, whatsapp: str | None) -> list[str]:
    """The contact keys an order counts against, as promo codes key theirs."""
    return sorted({c for c in ((email or "").lower(), whatsapp or "") if c})


def _flip(order_id: int, counted: bool):
    """Set the order's flash_counted to `counted` if it is not already (one conditional
    UPDATE: two racing paths flip it once). The order's item and contacts when it did."""
    return db.session.execute(
        sa.update(Order)
        .where(Order.id == order_id, Order.flash_item_id.is_not(None),
               Order.flash_counted.is_(not counted))
        .values(flash_counted=counted)
        .returning(Order.flash_item_id, Order.email, Order.whatsapp)
        .execution_options(synchronize_session=False)
    ).first()


def _execute(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


# The owner's side: list, schedule, change, switch off. Each change is audited.

@dataclass(frozen=True)
class ItemValues:
    """One package of a sale as the owner typed it."""
    package_id: int
    sale_price: int
    stock: int


def all_sales() -> list[FlashSale]:
    return list(db.session.scalars(sa.select(FlashSale)
                                   .order_by(FlashSale.starts_at.desc(), FlashSale.id.desc())))


def get(sale_id: int) -> FlashSale | None:
    return db.session.get(FlashSale, sale_id)


def state(sale: FlashSale, now: dt.datetime | None = None) -> str:
    """'on', 'off', 'scheduled', 'ended' or 'sold out', for the list."""
    now = now or utcnow()
    if not sale.active:
        return "off"
    if now >= sale.ends_at:
        return "ended"
    if now < sale.starts_at:
        return "scheduled"
    if sale.items and all(item.sold >= item.stock for item in sale.items):
        return "sold out"
    return "on"


def snapshot(sale: FlashSale) -> dict:
    values = {name: getattr(sale, name) for name in FIELDS}
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat()
    values["items"] = {str(item.package_id): f"{item.sale_price} x {item.stock}"
                       for item in sale.items}
    return values


def problems(values: dict, items: list[ItemValues], sale: FlashSale | None = None
             ) -> dict[str, str]:
    """Why these values cannot be saved (field -> reason); empty when they can."""
    errors = {}
    if not (values["name"] or "").strip():
        errors["name"] = _("Give the sale a name customers will see, like Flash Sale 12.12.")
    starts, ends = values["starts_at"], values["ends_at"]
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must come after the start.")
    if values["max_per_contact"] is not None and values["max_per_contact"] < 1:
        errors["max_per_contact"] = _("At least 1, or empty for no limit.")
    if not items:
        errors["items"] = _("Give at least one package a sale price and a stock.")
    held = {item.package_id: item.sold for item in sale.items} if sale else {}
    ordered = set(db.session.scalars(
        sa.select(FlashSaleItem.package_id).join(Order, Order.flash_item_id == FlashSaleItem.id)
        .where(FlashSaleItem.sale_id == sale.id))) if sale else set()
    for item in items:
        package = db.session.get(Package, item.package_id)
        if package is None:
            errors["items"] = _("There is no such package.")
        elif not 0 < item.sale_price < package.price:
            errors["items"] = _("%(package)s: the sale price must be more than 0 and less "
                                "than its price, %(price)s.", package=package.name,
                                price=Money(package.price, package.currency))
        elif item.stock < max(1, held.get(item.package_id, 0)):
            errors["items"] = _("%(package)s: the stock must be at least 1 and at least the "
                                "%(num)d units orders already hold.", package=package.name,
                                num=held.get(item.package_id, 0))
    kept = {item.package_id for item in items}
    if ordered - kept:
        # Its orders name it (even those that gave their unit back): it stays, as a record.
        errors["items"] = _("A package that was ordered in this sale cannot leave it; set its "
                            "stock to the units orders hold instead.")
    if "items" not in errors and starts and ends and values["active"]:
        overlap = db.session.execute(
            sa.select(Package.name, FlashSale.name).select_from(FlashSaleItem)
            .join(FlashSale).join(Package)
            .where(FlashSaleItem.package_id.in_(kept), FlashSale.active,
                   FlashSale.id != (sale.id if sale else -1),
                   FlashSale.starts_at < ends, FlashSale.ends_at > starts)).first()
        if overlap is not None:
            errors["items"] = _("%(package)s is already in the flash sale %(sale)s at that "
                                "time.", package=overlap[0], sale=overlap[1])
    return errors


def losses(items: list[ItemValues]) -> list[str]:
    """The packages a sale price takes below their cost, in the reader's language."""
    found = []
    for item in items:
        package = db.session.get(Package, item.package_id)
        below = margins.below_cost(package, item.sale_price) if package else None
        if below is not None:
            named = f"{package.product.name} {package.name}"
            found.append(_("%(package)s at %(price)s costs %(cost)s", package=named,
                           price=Money(item.sale_price, package.currency), cost=below.cost))
    return found


def _checked(values: dict, items: list[ItemValues], sale: FlashSale | None = None) -> list[str]:
    errors = problems(values, items, sale)
    if errors:
        raise FlashSaleError(errors)
    found = losses(items)
    if found and not values["allow_below_cost"]:
        raise FlashSaleError({"allow_below_cost": ngettext(
            "This sale sells %(num)d package below its cost: %(losses)s. Raise the sale "
            "price, or tick \"Allow below cost\" to sell at a loss on purpose.",
            "This sale sells %(num)d packages below their cost: %(losses)s. Raise the sale "
            "prices, or tick \"Allow below cost\" to sell at a loss on purpose.",
            len(found), losses="; ".join(found))})
    return found


def create(values: dict, items: list[ItemValues], actor: audit.Actor) -> FlashSale:
    """Schedule a sale. :raise FlashSaleError: see problems(), or a sale price below cost
    without `allow_below_cost`; nothing is saved then."""
    values = {"allow_below_cost": False, **values, "name": values["name"].strip()}
    found = _checked(values, items)
    sale = FlashSale(**{name: values[name] for name in FIELDS})
    sale.items = [FlashSaleItem(package_id=i.package_id, sale_price=i.sale_price, stock=i.stock)
                  for i in items]
    db.session.add(sale)
    db.session.flush()
    audit.record(actor, "flash_sale.below_cost" if found else "flash_sale.create",
                 "flash_sale", sale.id,
                 f"Scheduled the flash sale {sale.name} ({len(items)} packages)"
                 + ("; below cost, allowed" if found else ""), after=snapshot(sale))
    db.session.commit()
    return sale


def update(sale: FlashSale, values: dict, items: list[ItemValues],
           actor: audit.Actor) -> FlashSale:
    """Change a sale. Units orders hold stay counted. :raise FlashSaleError: as create()."""
    values = {"allow_below_cost": False, **values, "name": values["name"].strip()}
    found = _checked(values, items, sale)
    before = snapshot(sale)
    for name in FIELDS:
        setattr(sale, name, values[name])
    by_package = {item.package_id: item for item in sale.items}
    wanted = {item.package_id for item in items}
    sale.items = [item for item in sale.items if item.package_id in wanted]
    for typed in items:
        item = by_package.get(typed.package_id)
        if item is None:
            sale.items.append(FlashSaleItem(package_id=typed.package_id,
                                            sale_price=typed.sale_price, stock=typed.stock))
        else:
            item.sale_price, item.stock = typed.sale_price, typed.stock
    db.session.flush()
    old, new = audit.changes(before, snapshot(sale))
    if new:
        audit.record(actor, "flash_sale.below_cost" if found else "flash_sale.update",
                     "flash_sale", sale.id,
                     f"Changed the flash sale {sale.name}: " + ", ".join(sorted(new))
                     + ("; below cost, allowed" if found else ""), before=old, after=new)
    db.session.commit()
    return sale


def set_active(sale: FlashSale, active: bool, actor: audit.Actor) -> bool:
    """Run the sale or stop it (orders placed in it keep their price). True if changed."""
    if sale.active == active:
        return False
    sale.active = active
    audit.record(actor, "flash_sale.enable" if active else "flash_sale.disable", "flash_sale",
                 sale.id, f"{'Turned on' if active else 'Turned off'} the flash sale {sale.name}",
                 before={"active": not active}, after={"active": active})
    db.session.commit()
    return True


def packages_for_sale() -> list[tuple[Product, list[Package]]]:
    """Every package on sale in the shop, by product, for the sale form."""
    rows = db.session.scalars(
        sa.select(Package).join(Product)
        .where(Package.active, Package.archived_at.is_(None), Product.archived_at.is_(None))
        .order_by(Product.sort_order, Product.name, Package.sort_order, Package.price))
    grouped: dict[int, tuple[Product, list[Package]]] = {}
    for package in rows:
        grouped.setdefault(package.product_id, (package.product, []))[1].append(package)
    return list(grouped.values())


def recent_orders(sale: FlashSale, limit: int = 20) -> list[Order]:
    return list(db.session.scalars(
        sa.select(Order).join(FlashSaleItem, Order.flash_item_id == FlashSaleItem.id)
        .where(FlashSaleItem.sale_id == sale.id).order_by(Order.id.desc()).limit(limit)))
