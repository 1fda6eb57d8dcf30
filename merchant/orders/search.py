"""What the operator reads about orders: the list (filters, search, keyset pagination, fast at
100,000 orders) and one order's whole timeline.

Orders are listed newest first, by (created_at, id). "Older" carries the last id shown and the
next page starts below that order's (created_at, id): no page costs an OFFSET and nothing counts
the whole table. Every filter has an index that ends in (created_at, id), so a page is read in
order and never sorted. Each search key is looked up through its own index first.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from merchant import orders
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import Order, PaymentMethod, Product, WebhookEvent
from merchant.core.shop_settings import local_midnight
from merchant.orders import fulfillment
from merchant.orders import texts as order_texts
from merchant.vendors.suppliers import supplier_class
from merchant.vendors.suppliers.base import REFUSED, RETRY

PAGE_SIZE = 50
# Shorter text is looked for as a whole value: a part of one or two characters matches most
# orders, and a trigram index cannot narrow it.
MIN_PART = 3
# How many of the newest orders a search reads whole before it looks in each column.
RECENT = 2000
PHONE_TYPED = re.compile(r"\+?[0-9][0-9 ()\-.]*")


@dataclass(frozen=True)
class Filters:
    """What the operator asked for; every field is optional."""
    status: str = ""
    product_id: int | None = None
    method: str = ""
    date_from: dt.date | None = None      # shop days, inclusive
    date_to: dt.date | None = None
    q: str = ""                           # a reference, account ID, nickname, email or WhatsApp
    before: int | None = None             # only orders older than this id (the next page)


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    older: int | None                     # `before` for the next page; None on the last one


def search(filters: Filters, zone: ZoneInfo, page_size: int = PAGE_SIZE) -> Page:
    """The newest orders matching the filters, `page_size` at most."""
    newest_first = (Order.created_at.desc(), Order.id.desc())
    stmt = sa.select(Order).order_by(*newest_first).limit(page_size + 1)
    if filters.status:
        stmt = stmt.where(Order.status == filters.status)
    if filters.product_id:
        stmt = stmt.where(Order.product_id == filters.product_id)
    if filters.method:
        stmt = stmt.where(Order.payment_method == filters.method)
    if filters.date_from:
        stmt = stmt.where(Order.created_at >= local_midnight(filters.date_from, zone))
    if filters.date_to:
        stmt = stmt.where(
            Order.created_at < local_midnight(filters.date_to + dt.timedelta(days=1), zone))
    if filters.before:
        last = db.session.execute(sa.select(Order.created_at, Order.id)
                                  .where(Order.id == filters.before)).first()
        if last is None:
            return Page([], None)
        stmt = stmt.where(sa.tuple_(Order.created_at, Order.id) < tuple(last))
    rows = _matching(stmt, filters.q.strip(), page_size) if filters.q.strip() else \
        list(db.session.scalars(stmt))
    older = rows[page_size - 1].id if len(rows) > page_size else None
    return Page(rows[:page_size], older)


def _matching(stmt: sa.Select, q: str, page_size: int) -> list[Order]:
    """The page of `stmt` among the orders whose reference starts with `q`, or whose account
    ID, nickname, email or WhatsApp holds it, in any case; `%` and `_` are plain characters.

    A common term fills its page among the newest RECENT orders, read newest first; a rare one
    or a miss is looked for in each column on its own, so that SQLite reads only that column's
    index, never the wide rows, and PostgreSQL its trigram index (models.Order). Either alone
    is up to three times slower for the other kind of term (bench/orders_list.py).
    """
    exact = db.session.scalar(sa.select(Order.id).where(Order.ref == q.upper()))
    if exact is not None:               # a whole reference: that order, without the scans
        return list(db.session.scalars(stmt.where(Order.id == exact)))
    conditions = _conditions(q)
    recent = stmt.with_only_columns(Order.id).limit(RECENT).scalar_subquery()
    rows = list(db.session.scalars(stmt.where(Order.id.in_(recent), sa.or_(*conditions))))
    if len(rows) > page_size:
        return rows
    ids = sa.union_all(*(sa.select(Order.id).where(condition) for condition in conditions))
    return list(db.session.scalars(stmt.where(Order.id.in_(ids))))


def _conditions(q: str) -> list[sa.ColumnElement[bool]]:
    conditions = [_starts_with(Order.ref, q.upper())] + [
        _holds(column, q) for column in (Order.account_id, Order.nickname, Order.email)]
    digits = _phone_digits(q)
    if digits:
        conditions.append(_holds(Order.whatsapp, digits))
    return conditions


def _holds(column, text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text` (is it, when shorter than MIN_PART), in any case."""
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(text) >= MIN_PART:
        pattern = f"%{pattern}%"
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores case already; lower() on each row doubled the time (bench).
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _starts_with(column, prefix: str) -> sa.ColumnElement[bool]:
    """A range rather than LIKE: SQLite's LIKE ignores case, so it cannot use the index."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sa.and_(column >= prefix, column < upper)


def _phone_digits(q: str) -> str:
    """The digits of a (part of a) phone number as typed, "" if `q` is not one. WhatsApp is kept
    as +62812...: a number typed from its leading 0 (0812 ...) is looked for without that 0."""
    if not PHONE_TYPED.fullmatch(q):
        return ""
    digits = re.sub(r"[^0-9]", "", q)
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits


def filter_choices() -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """(product id, name) and (payment method code, name) pairs for the filter form."""
    products = db.session.execute(
        sa.select(Product.id, Product.name).order_by(Product.sort_order, Product.name)).all()
    methods = db.session.execute(
        sa.select(PaymentMethod.code, PaymentMethod.name)
        .order_by(PaymentMethod.sort_order, PaymentMethod.name)).all()
    return [tuple(p) for p in products], [tuple(m) for m in methods]


def ref_ids(order: Order) -> list[str]:
    """The supplier ref_ids the order has had, oldest first; the last is the current one
    (fulfillment.derived_ref counts them up: M7K3Q9D2F, M7K3Q9D2F-2, ...)."""
    _, _, n = (order.supplier_ref_id or order.ref).partition("-")
    return [order.ref] + [f"{order.ref}-{i}" for i in range(2, int(n or 1) + 1)]


@dataclass(frozen=True)
class Failure:
    """Why a failed order's delivery failed, and what the operator can do about it."""
    at: dt.datetime
    reason: str               # what the supplier said, as the history has it
    advice: str               # in the panel's language


def failure(order: Order) -> Failure | None:
    """Why the order's delivery failed, while it is failed; else None."""
    if order.status != orders.FULFILLMENT_FAILED:
        return None
    failed = [e for e in order.events if e.to_status == orders.FULFILLMENT_FAILED]
    if not failed:
        return None
    event = failed[-1]
    return Failure(event.at, event.detail, _advice(order.supplier, event.detail))


def _advice(supplier: str, detail: str) -> str:
    try:
        known = supplier_class(supplier).ADVICE
    except KeyError:
        known = {}
    code = fulfillment.code_in(detail)
    if code in known:
        return str(known[code])
    kind = fulfillment.failure_kind(detail, supplier)
    if kind == REFUSED:
        return _("%(supplier)s refused our request: check its settings (API key, username, "
                 "server IP), then retry.", supplier=supplier)
    if kind == RETRY:
        return _("%(supplier)s gave no final answer after every attempt: retry later (the same "
                 "ref_id is sent, so nothing is bought twice), deliver by hand, or refund.",
                 supplier=supplier)
    return _("%(supplier)s will not deliver this order: check the account ID with the customer, "
             "then retry, deliver by hand, or refund.", supplier=supplier)


@dataclass(frozen=True)
class Moment:
    """One line of an order's timeline."""
    at: dt.datetime
    kind: str                 # event (status changes, supplier and worker notes), callback, admin
    title: str
    detail: str = ""
    who: str = ""             # the event's source, or the admin who acted


_SAME_ACTION = dt.timedelta(milliseconds=5)


def timeline(order: Order) -> list[Moment]:
    """The order's events, the payment callbacks about it and the admins' actions, oldest first."""
    moments = [Moment(e.at, "event", _event_title(e.from_status, e.to_status, e.code),
                      order_texts.text(e), e.source) for e in order.events]
    callbacks = db.session.scalars(
        sa.select(WebhookEvent).where(WebhookEvent.order_id == order.id)
        .order_by(WebhookEvent.id))
    moments += [Moment(c.received_at, "callback",
                       _("Callback from %(provider)s", provider=c.provider),
                       _("event %(id)s: %(outcome)s", id=c.event_id, outcome=c.outcome),
                       c.provider) for c in callbacks]
    # A note is an event already (operator.add_note writes it twice: the order's history and
    # the audit log); shown once, as the event.
    moments += [Moment(a.at, "admin", a.summary, _changes(a.before, a.after), a.actor)
                for a in audit.entries_for("order", order.ref) if a.action != "order.note"]
    return sorted(moments, key=_when)


def _when(moment: Moment) -> dt.datetime:
    # An admin's entry and the event it caused are written in one transaction, microseconds
    # apart in either order: the entry is shown after the event.
    return moment.at + (_SAME_ACTION if moment.kind == "admin" else dt.timedelta())


def _event_title(from_status: str | None, to_status: str | None, code: str | None = None) -> str:
    if not to_status:
        return _("Problem report") if code in order_texts.CLAIM_LINES else _("Note")
    to = orders.LABELS.get(to_status, to_status)
    if not from_status:
        return _("Created: %(status)s", status=str(to).lower())
    return f"{orders.LABELS.get(from_status, from_status)} → {to}"


def _changes(before: dict | None, after: dict | None) -> str:
    before, after = before or {}, after or {}
    parts = []
    for key in dict.fromkeys([*before, *after]):
        if key in before and key in after:
            parts.append(f"{audit.field_label(key)}: {before[key]} → {after[key]}")
        elif key in after:
            parts.append(f"{audit.field_label(key)}: {after[key]}")
        else:
            parts.append(_("%(name)s was %(value)s", name=audit.field_label(key),
                           value=before[key]))
    return "; ".join(parts)
