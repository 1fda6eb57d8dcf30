"""Archive and delete products, packages, payment methods and promo codes (the owner's).

Archiving hides a row from customers and from the panel's lists and turns it off, but keeps it
for the orders that name it; unarchiving brings it back to the lists, still off. Deleting
removes a row for good, only while no order refers to it. Each change is audited.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import (
    Order,
    Package,
    PaymentMethod,
    Product,
    Promo,
    PromoContactUse,
    utcnow,
)


class ArchiveError(ValueError):
    """The row cannot be deleted; the message says why and what to do instead."""


@dataclass(frozen=True)
class Kind:
    model: type
    target_type: str                        # the audit log's name for the row's table
    noun: str                               # the audit log's word, in English
    label: object                           # the panel's word (lazy)
    title: Callable[[object], str]          # how the panel names one row
    orders: Callable[[object], object]      # the condition on Order for orders naming the row


KINDS = {
    "product": Kind(Product, "product", "product", _l("product"), lambda p: p.name,
                    lambda p: Order.product_id == p.id),
    "package": Kind(Package, "package", "package", _l("package"),
                    lambda p: f"{p.product.name} {p.name}", lambda p: Order.package_id == p.id),
    "method": Kind(PaymentMethod, "payment_method", "payment method", _l("payment method"),
                   lambda m: m.name, lambda m: Order.payment_method == m.code),
    "promo": Kind(Promo, "promo", "promo code", _l("promo code"), lambda p: p.code,
                  lambda p: Order.promo_id == p.id),
}


def find(kind: str, row_id: int):
    """The row of `kind` with `row_id`, or None (also for an unknown kind)."""
    if kind not in KINDS:
        return None
    return db.session.get(KINDS[kind].model, row_id)


def archive(kind: str, row, actor: audit.Actor) -> bool:
    """Hide the row from customers and the lists, and turn it off. False: it was archived."""
    if row.archived_at is not None:
        return False
    spec = KINDS[kind]
    before = {"active": row.active, "archived_at": None}
    row.archived_at, row.active = utcnow(), False
    audit.record(actor, f"{kind}.archive", spec.target_type, row.id,
                 f"Archived the {spec.noun} {spec.title(row)}", before=before,
                 after={"active": False, "archived_at": row.archived_at.isoformat()})
    db.session.commit()
    return True


def unarchive(kind: str, row, actor: audit.Actor) -> bool:
    """Bring the row back to the lists; it stays off. False: it was not archived."""
    if row.archived_at is None:
        return False
    spec = KINDS[kind]
    before = {"archived_at": row.archived_at.isoformat()}
    row.archived_at = None
    audit.record(actor, f"{kind}.unarchive", spec.target_type, row.id,
                 f"Unarchived the {spec.noun} {spec.title(row)}", before=before,
                 after={"archived_at": None})
    db.session.commit()
    return True


def orders_naming(kind: str, row) -> int:
    """How many orders refer to the row (a product: also through its packages)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                             .where(KINDS[kind].orders(row)))


def refusal(kind: str, row) -> str | None:
    """Why the row cannot be deleted, for the panel; None when it can."""
    count = orders_naming(kind, row)
    title = KINDS[kind].title(row)
    if count:
        return ngettext("%(name)s cannot be deleted: %(num)s order refers to it. Archive it "
                        "instead: old orders keep it, customers no longer see it.",
                        "%(name)s cannot be deleted: %(num)s orders refer to it. Archive it "
                        "instead: old orders keep it, customers no longer see it.",
                        count, name=title)
    if kind == "product":
        codes = list(db.session.scalars(sa.select(Promo.code).where(Promo.product_id == row.id)
                                        .order_by(Promo.code)))
        if codes:
            return _("%(name)s cannot be deleted: the promo codes %(codes)s are for it. Delete "
                     "them or give them another product first.", name=title,
                     codes=", ".join(codes))
    return None


def delete(kind: str, row, actor: audit.Actor) -> str:
    """Remove the row for good (a product with its packages). Returns its title.

    :raise ArchiveError: an order (or, for a product, a promo code) refers to it.
    """
    why = refusal(kind, row)
    if why:
        raise ArchiveError(why)
    spec = KINDS[kind]
    title = spec.title(row)
    snapshot = {column.key: _plain(getattr(row, column.key))
                for column in sa.inspect(row).mapper.column_attrs}
    if kind == "product":
        db.session.execute(sa.delete(Package).where(Package.product_id == row.id))
    if kind == "promo":
        db.session.execute(sa.delete(PromoContactUse).where(PromoContactUse.promo_id == row.id))
    audit.record(actor, f"{kind}.delete", spec.target_type, row.id,
                 f"Deleted the {spec.noun} {title}", before=snapshot)
    db.session.delete(row)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:       # an order placed for it at this very moment
        db.session.rollback()
        raise ArchiveError(_("%(name)s cannot be deleted: an order now refers to it. Archive "
                             "it instead.", name=title)) from None
    return title


def _plain(value):
    """A column value the audit log's JSON can hold."""
    return value.isoformat() if hasattr(value, "isoformat") else value
