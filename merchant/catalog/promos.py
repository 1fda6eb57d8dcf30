"""Promo codes: whether a purchase may use one, what it takes off, and its counted uses.

A use is counted by one conditional UPDATE in the transaction that inserts the order, so
twenty buyers racing for a code's last use give one order with the discount. A contact's
uses (per email and per WhatsApp number) are a counter row per (promo, contact) under the
same kind of update. An order that dies unpaid (expired, payment failed, or withdrawn because
its payment could not be opened) gives its use back in the transaction of that change, and
only once: the order's `promo_counted` flag is cleared by a conditional update too. A late
payment of such an order takes the use again, even past the limit: the customer paid the
discounted price, and the counter tells how many orders hold the discount.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.dialects import postgresql, sqlite

from merchant.catalog import margins
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import Order, Package, Product, Promo, PromoContactUse, utcnow
from merchant.core.money import Money, format_bp

UNKNOWN = _l("We do not know this code. Check its spelling.")
WITHDRAWN = _l("This code is no longer valid.")
EXPIRED = _l("This code has expired.")
NOT_FOR_PRODUCT = _l("Not valid for this product.")
USED_UP = _l("This code has been used up.")
ALREADY_USED = _l("You have already used this code.")
NOT_FOR_PACKAGE = _l("This code cannot be used for this package. Choose another package, or "
                     "buy without the code.")
CODE = re.compile(r"[A-Z0-9_-]{3,32}")
CODE_RULE = _l("Use 3-32 letters, digits, - and _, like RAMADAN10 (customers may type it in "
                "any case).")

# The columns the owner edits, as a promo's audit snapshot.
FIELDS = ("code", "percent_bp", "amount_off", "currency", "product_id", "min_spend",
          "starts_at", "ends_at", "max_uses", "max_per_contact", "active", "allow_below_cost")
# Packages named in a refusal; a code for the whole catalog may undercut hundreds.
NAMED_LOSSES = 10


class PromoRefused(ValueError):
    """This purchase cannot use the code; the message is for the customer."""


class PromoError(ValueError):
    """The owner's change cannot be made. `errors` maps a field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def normalize(code: str | None) -> str:
    """What the customer typed, as codes are stored: ' save10 ' -> 'SAVE10'."""
    return (code or "").strip().upper()


def contacts(email: str | None, whatsapp: str | None) -> list[str]:
    """The contact keys a purchase counts against, in a fixed order (the lock order)."""
    return sorted({c for c in ((email or "").lower(), whatsapp or "") if c})


def find(code: str) -> Promo | None:
    code = normalize(code)
    if not code:
        return None
    return db.session.scalar(sa.select(Promo).where(Promo.code == code))


def check(code: str, product: Product, package=None, contact_keys=(),
          now: dt.datetime | None = None) -> Promo:
    """The promo `code` names, if this purchase may use it now. :raise PromoRefused:

    Without a package (not chosen yet) the minimum spend is not checked; without contacts,
    the per-contact limit is not.
    """
    promo = find(code)
    if promo is None or promo.archived_at is not None:
        raise PromoRefused(str(UNKNOWN))
    refusal = _refusal(promo, product, package, contact_keys, now or utcnow())
    if refusal:
        raise PromoRefused(str(refusal))
    return promo


def _refusal(promo: Promo, product: Product, package, contact_keys, now) -> str | None:
    if not promo.active:
        return WITHDRAWN
    if promo.starts_at and now < promo.starts_at:
        return _("This code starts on %(when)s.", when=local_time(promo.starts_at))
    if promo.ends_at and now >= promo.ends_at:
        return EXPIRED
    if promo.product_id is not None and promo.product_id != product.id:
        return NOT_FOR_PRODUCT
    if package is not None:
        if package.currency != promo.currency:
            return NOT_FOR_PRODUCT
        if package.price < promo.min_spend:
            return _("Minimum spend %(amount)s.", amount=Money(promo.min_spend, promo.currency))
        if not promo.allow_below_cost and loss(promo, package) is not None:
            # The cost rose after the code was saved: the owner never accepted this loss.
            return NOT_FOR_PACKAGE
    if promo.max_uses is not None and promo.uses >= promo.max_uses:
        return USED_UP
    if promo.max_per_contact is not None and contact_keys:
        held = db.session.scalar(sa.select(sa.func.max(PromoContactUse.uses)).where(
            PromoContactUse.promo_id == promo.id, PromoContactUse.contact.in_(contact_keys)))
        if (held or 0) >= promo.max_per_contact:
            return ALREADY_USED
    return None


def percent_to_bp(text: str) -> int:
    """"10" or "12,5 %" -> 1000 / 1250 basis points. :raise ValueError: not 0 < p <= 100."""
    cleaned = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    try:
        percent = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    bp = percent * 100
    if not percent.is_finite() or not 0 < percent <= 100 or bp != bp.to_integral_value():
        raise ValueError(text)
    return int(bp)


def amount_off(promo: Promo, price: Money) -> Money:
    """The discount before any floor: a percentage (half up) or the flat amount."""
    if promo.percent_bp is not None:
        return price.percent_bp(promo.percent_bp)
    return Money(promo.amount_off or 0, price.currency)


@dataclass(frozen=True)
class Loss:
    """A package the code takes below its cost. str() is English, for the audit log; said()
    is in the reader's language, for the panel and the command line."""
    package: str            # "TikTok Coins 1,400 Coins"
    price: Money
    discounted: Money
    cost: Money

    def __str__(self) -> str:
        return (f"{self.package}: {self.price.format()} -> {self.discounted.format()} with the "
                f"code, cost {self.cost.format()}")

    def said(self) -> str:
        return _("%(package)s: %(price)s, %(discounted)s with the code, costs %(cost)s",
                 package=self.package, price=self.price.format(),
                 discounted=self.discounted.format(), cost=self.cost.format())


def loss(promo: Promo, package, name: str = "") -> Loss | None:
    """How the code takes `package` (a row or the shop's cached copy) below its cost, the
    supplier's or the fallback supplier's, or None; `name` names it (default: its own name).
    A package priced below cost at full price is the owner's choice made on the package, not
    the code's doing."""
    price = Money(package.price, package.currency)
    discounted = price - Money(min(amount_off(promo, price).amount, price.amount),
                               price.currency)
    if margins.below_cost(package, price.amount) is not None:
        return None
    below = margins.below_cost(package, discounted.amount)
    if below is None:
        return None
    return Loss(name or package.name, price, discounted, below.cost)


def losses(values: dict) -> list[Loss]:
    """The packages on sale that a promo with `values` (the keys of FIELDS) would sell below
    their cost, in catalog order."""
    if (values["percent_bp"] is None) == (values["amount_off"] is None):
        return []
    promo = Promo(**{name: values[name] for name in FIELDS})
    query = sa.select(Package, Product.name).join(Product).where(
        Package.active, Product.active, Package.currency == values["currency"],
        Package.price >= values["min_spend"]) \
        .order_by(Product.sort_order, Product.name, Package.sort_order, Package.price)
    if values["product_id"] is not None:
        query = query.where(Package.product_id == values["product_id"])
    found = (loss(promo, package, f"{product} {package.name}")
             for package, product in db.session.execute(query))
    return [item for item in found if item is not None]


def _below_cost_refusal(found: list[Loss]) -> str:
    named = "; ".join(item.said() for item in found[:NAMED_LOSSES])
    if len(found) > NAMED_LOSSES:
        named += "; " + _("and %(count)d more", count=len(found) - NAMED_LOSSES)
    return ngettext("This code sells %(num)d package below its cost: %(losses)s. Lower the "
                    "discount, limit the code to a product or a minimum spend, or tick "
                    "\"Allow below cost\" to sell at a loss on purpose.",
                    "This code sells %(num)d packages below their cost: %(losses)s. Lower the "
                    "discount, limit the code to a product or a minimum spend, or tick "
                    "\"Allow below cost\" to sell at a loss on purpose.",
                    len(found), losses=named)


def redeem(promo: Promo, product: Product, package, contact_keys: list[str]) -> None:
    """Inside the order's transaction: take one use of `promo`, and one per contact.

    :raise PromoRefused: someone else took the last use (or the contact's) a moment ago, or
    the owner changed the code meanwhile; the caller's transaction is then rolled back.
    """
    now = utcnow()
    taken = _execute(
        sa.update(Promo).where(
            Promo.id == promo.id, Promo.active,
            sa.or_(Promo.max_uses.is_(None), Promo.uses < Promo.max_uses),
            sa.or_(Promo.ends_at.is_(None), Promo.ends_at > now))
        .values(uses=Promo.uses + 1))
    if taken != 1:
        db.session.refresh(promo)
        raise PromoRefused(str(_refusal(promo, product, package, (), now) or USED_UP))
    for contact in contact_keys:
        if not _count_contact(promo.id, contact, promo.max_per_contact):
            raise PromoRefused(str(ALREADY_USED))


def _count_contact(promo_id: int, contact: str, limit: int | None) -> bool:
    """One more use for the contact, if under `limit`: an insert-if-absent of its counter row,
    then one conditional UPDATE (PostgreSQL re-checks the condition after a racing commit)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(PromoContactUse)
                       .values(promo_id=promo_id, contact=contact, uses=0)
                       .on_conflict_do_nothing())
    condition = [PromoContactUse.promo_id == promo_id, PromoContactUse.contact == contact]
    if limit is not None:
        condition.append(PromoContactUse.uses < limit)
    return _execute(sa.update(PromoContactUse).where(*condition)
                    .values(uses=PromoContactUse.uses + 1)) == 1


def on_status(order_id: int, previous: str, to: str) -> str | None:
    """Inside a transition's transaction: give the use back when the order died unpaid, take
    it again when such an order is paid after all. The note for the order's history, if any."""
    # The strings of merchant.orders (which calls this): no import cycle.
    unpaid_ends = ("expired", "payment_failed")
    if to in unpaid_ends:
        code = give_back(order_id)
        return f"Promo code {code}: its use is given back" if code else None
    if to == "paid" and previous in unpaid_ends:
        code = _take_again(order_id)
        return f"Promo code {code}: paid late, its use is counted again" if code else None
    return None


def give_back(order_id: int) -> str | None:
    """Inside the caller's transaction: the order's use of its code, returned once. The code."""
    row = _flip(order_id, counted=False)
    if row is None:
        return None
    _execute(sa.update(Promo).where(Promo.id == row.promo_id, Promo.uses > 0)
             .values(uses=Promo.uses - 1))
    for contact in contacts(row.email, row.whatsapp):
        _execute(sa.update(PromoContactUse).where(
            PromoContactUse.promo_id == row.promo_id, PromoContactUse.contact == contact,
            PromoContactUse.uses > 0).values(uses=PromoContactUse.uses - 1))
    return row.promo_code


def _take_again(order_id: int) -> str | None:
    row = _flip(order_id, counted=True)
    if row is None:
        return None
    _execute(sa.update(Promo).where(Promo.id == row.promo_id).values(uses=Promo.uses + 1))
    for contact in contacts(row.email, row.whatsapp):
        _count_contact(row.promo_id, contact, None)
    return row.promo_code


def _flip(order_id: int, counted: bool):
    """Set the order's promo_counted to `counted` if it is not already: one conditional
    UPDATE, so two racing paths flip it once. The order's promo and contacts when it did."""
    return db.session.execute(
        sa.update(Order)
        .where(Order.id == order_id, Order.promo_id.is_not(None),
               Order.promo_counted.is_(not counted))
        .values(promo_counted=counted)
        .returning(Order.promo_id, Order.promo_code, Order.email, Order.whatsapp)
        .execution_options(synchronize_session=False)
    ).first()


def _execute(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def local_time(moment: dt.datetime) -> str:
    """A naive UTC time as the shop's pages show it: '5 Des 2026 08.00 WIB'."""
    return current_app.jinja_env.filters["local_time"](moment, "full")






# The owner's side: list, create, edit, switch off. Each change is audited.

def all_promos(archived: bool = False) -> list[Promo]:
    """The codes in the panel's list: the current ones, or (`archived`) the archived ones."""
    kept = Promo.archived_at.is_not(None) if archived else Promo.archived_at.is_(None)
    return list(db.session.scalars(sa.select(Promo).where(kept).order_by(Promo.active.desc(),
                                                             Promo.created_at.desc(),
                                                             Promo.id.desc())))


def get(promo_id: int) -> Promo | None:
    return db.session.get(Promo, promo_id)


def state(promo: Promo, now: dt.datetime | None = None) -> str:
    """'on', 'off', 'scheduled', 'ended' or 'used up', for the list."""
    now = now or utcnow()
    if not promo.active:
        return "off"
    if promo.ends_at and now >= promo.ends_at:
        return "ended"
    if promo.max_uses is not None and promo.uses >= promo.max_uses:
        return "used up"
    if promo.starts_at and now < promo.starts_at:
        return "scheduled"
    return "on"


def describe(promo: Promo) -> str:
    """'10% off', 'Rp 5.000 off'."""
    if promo.percent_bp is not None:
        return _("%(percent)s off", percent=format_bp(promo.percent_bp))
    return _("%(amount)s off", amount=Money(promo.amount_off or 0, promo.currency))


def snapshot(promo: Promo) -> dict:
    values = {name: getattr(promo, name) for name in FIELDS}
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat() if values[name] else None
    return values


def problems(values: dict, promo: Promo | None = None) -> dict[str, str]:
    """Why these values cannot be saved (field -> reason); empty when they can."""
    errors = {}
    taken = db.session.scalar(sa.select(Promo.id).where(
        Promo.code == values["code"], Promo.id != (promo.id if promo else -1)))
    if not CODE.fullmatch(values["code"]):
        errors["code"] = str(CODE_RULE)
    elif taken is not None:
        errors["code"] = _("Another promo already has the code %(code)s.", code=values["code"])
    if (values["percent_bp"] is None) == (values["amount_off"] is None):
        errors["value"] = _("Give either a percentage or a flat amount off.")
    elif values["percent_bp"] is not None and not 0 < values["percent_bp"] <= 10_000:
        errors["value"] = _("A percentage off is more than 0 and at most 100.")
    elif values["amount_off"] is not None and values["amount_off"] <= 0:
        errors["value"] = _("A flat amount off is more than 0.")
    if values["product_id"] is not None and db.session.get(Product, values["product_id"]) is None:
        errors["product"] = _("There is no such product.")
    starts, ends = values["starts_at"], values["ends_at"]
    if starts and ends and ends <= starts:
        errors["ends_at"] = _("The end must come after the start.")
    for name in ("max_uses", "max_per_contact"):
        if values[name] is not None and values[name] < 1:
            errors[name] = _("At least 1, or empty for no limit.")
    if values["min_spend"] < 0:
        errors["min_spend"] = _("The minimum spend cannot be negative.")
    return errors


def create(values: dict, actor: audit.Actor) -> Promo:
    """Add a promo with `values` (the keys of FIELDS; allow_below_cost may be left out).

    :raise PromoError: see problems(), or the discount sells packages below their cost and
        `allow_below_cost` is not given; nothing is saved then.
    """
    values = {"allow_below_cost": False, **values, "code": normalize(values["code"])}
    found = _checked(values)
    promo = Promo(**{name: values[name] for name in FIELDS})
    db.session.add(promo)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:       # the same code added at the same moment elsewhere
        db.session.rollback()
        raise PromoError({"code": f"Another promo already has the code "
                                  f"{values['code']}."}) from None
    audit.record(actor, _action("promo.create", found), "promo", promo.id,
                 f"Added the promo code {promo.code} ({describe(promo)})" + _sold_at_loss(found),
                 after=snapshot(promo))
    db.session.commit()
    return promo


def update(promo: Promo, values: dict, actor: audit.Actor) -> Promo:
    """Change a promo to `values`. :raise PromoError: as create() does."""
    values = {"allow_below_cost": False, **values, "code": normalize(values["code"])}
    found = _checked(values, promo)
    before = snapshot(promo)
    for name in FIELDS:
        setattr(promo, name, values[name])
    old, new = audit.changes(before, snapshot(promo))
    if new:
        audit.record(actor, _action("promo.update", found), "promo", promo.id,
                     f"Changed the promo code {promo.code}: " + ", ".join(sorted(new))
                     + _sold_at_loss(found), before=old, after=new)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise PromoError({"code": f"Another promo already has the code "
                                  f"{values['code']}."}) from None
    return promo


def _checked(values: dict, promo: Promo | None = None) -> list[Loss]:
    """The packages the code would sell below cost, which the owner allowed.
    :raise PromoError: see problems(), or below cost without `allow_below_cost`."""
    errors = problems(values, promo)
    if errors:
        raise PromoError(errors)
    found = losses(values)
    if found and not values["allow_below_cost"]:
        raise PromoError({"allow_below_cost": _below_cost_refusal(found)})
    return found


def _action(action: str, found: list[Loss]) -> str:
    return "promo.below_cost" if found else action


def _sold_at_loss(found: list[Loss]) -> str:
    """The audit summary's note (English) of the packages sold below cost on purpose."""
    if not found:
        return ""
    named = "; ".join(str(item) for item in found[:NAMED_LOSSES])
    more = f"; and {len(found) - NAMED_LOSSES} more" if len(found) > NAMED_LOSSES else ""
    return f"; sells below cost, allowed: {named}{more}"


def set_active(promo: Promo, active: bool, actor: audit.Actor) -> bool:
    """Offer the code or stop it (orders placed with it keep their price). True if changed."""
    if promo.active == active:
        return False
    promo.active = active
    audit.record(actor, "promo.enable" if active else "promo.disable", "promo", promo.id,
                 f"{'Turned on' if active else 'Turned off'} the promo code {promo.code}",
                 before={"active": not active}, after={"active": active})
    db.session.commit()
    return True


def recent_orders(promo: Promo, limit: int = 20) -> list[Order]:
    """The latest orders placed with the code, for its page in the panel."""
    return list(db.session.scalars(sa.select(Order).where(Order.promo_id == promo.id)
                                   .order_by(Order.id.desc()).limit(limit)))
