"""Needs attention: what the operator should look at now, for the panel's landing page.

Each kind of trouble is one bounded query (at most LIMIT rows, plus a count of the rest), so the
page stays fast however many orders are stuck. Order rows are for every admin; rows about
settings and supplier deposits only for the owner, who is the one able to fix them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from merchant import catalog, orders
from merchant.catalog import payment_methods
from merchant.core import receipt_channels
from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, Package, PaymentMethod, Product, Receipt, utcnow
from merchant.core.receipt_channels import EMAIL
from merchant.ops import worker
from merchant.orders.manual_delivery import MANUAL
from merchant.receipts import records
from merchant.supply import deposits
from merchant.trust import claims
from merchant.vendors import registry

LIMIT = 20          # rows shown per kind; the rest are counted

# kind -> the group's heading, in the order the page shows them
KINDS = {
    "worker": _l("Worker"),
    "manual": _l("Deliver by hand"),
    "failed": _l("Failed deliveries"),
    "late": _l("Paid, not delivered yet"),
    "flagged": _l("Flagged orders"),
    "claims": _l("Problems reported by customers"),
    "receipts": _l("Receipts that may not have arrived"),
    "balance": _l("Supplier balance"),
    "settings": _l("Missing settings"),
    "unsold": _l("Products customers cannot see"),
}
OWNER_KINDS = frozenset({"balance", "settings", "unsold"})


@dataclass(frozen=True)
class Item:
    """One row: what is wrong (about an order ref or a provider), since when, and what to do."""
    kind: str
    subject: str                    # an order reference or a provider's name
    sentence: str
    since: dt.datetime | None       # naive UTC
    url: str | None                 # where to fix it (None: in the server's settings)
    action: str | None
    deliver: bool = False           # a manual delivery: the page offers an inline Delivered form


@dataclass
class Group:
    kind: str
    title: str
    items: list[Item] = field(default_factory=list)
    more: int = 0                   # rows beyond LIMIT, not shown
    more_url: str | None = None     # where to see them all


def needs_attention(owner: bool, now: dt.datetime | None = None) -> list[Group]:
    """The non-empty groups, most urgent first. `owner` adds the settings and balance rows."""
    now = now or utcnow()
    late_before = now - dt.timedelta(minutes=float(current_app.config["NEEDS_ATTENTION_MINUTES"]))
    found = {
        "worker": (_worker(now), 0),
        "manual": _orders("manual", _manual_filter(), Order.paid_at, _manual_item),
        "failed": _failed(),
        "late": _orders("late", _late_filter(late_before), Order.paid_at,
                        lambda o: _late_item(o, now)),
        # Flags are never empty; "> ''" lets SQLite use the index, which IS NOT NULL does not.
        "flagged": _orders("flagged", Order.flag > "", Order.updated_at, _flagged_item),
        "receipts": _receipts(now),
        "claims": _claims(),
    }
    if owner:
        found["balance"] = (_balances(), 0)
        found["settings"] = (_settings(), 0)
        found["unsold"] = _unsold()
    groups = []
    for kind, title in KINDS.items():
        items, more = found.get(kind, ([], 0))
        if items:
            groups.append(Group(kind, title, items, more, _more_url(kind) if more else None))
    return groups


def _more_url(kind: str) -> str | None:
    """The order list, filtered to the group's status where one status is the group."""
    status = {"failed": orders.FULFILLMENT_FAILED, "manual": orders.FULFILLING}.get(kind)
    if kind in ("failed", "manual", "late", "flagged"):
        return url_for("admin.orders", status=status)
    return None


def order_url(ref: str) -> str:
    """The admin page of the order `ref`."""
    return url_for("admin.order", ref=ref)


def _manual_filter():
    return sa.and_(Order.status == orders.FULFILLING, Order.supplier == MANUAL)


def _late_filter(before: dt.datetime):
    # Manual orders waiting in the fulfilling state have their own group.
    return sa.and_(Order.status.in_((orders.PAID, orders.FULFILLING)), Order.paid_at < before,
                   sa.not_(_manual_filter()))


def _orders(kind: str, where, oldest_first_by, make) -> tuple[list[Item], int]:
    rows = list(db.session.scalars(
        sa.select(Order).where(where).order_by(oldest_first_by, Order.id).limit(LIMIT)))
    return [make(order) for order in rows], _rest(where, len(rows))


def _rest(where, shown: int) -> int:
    if shown < LIMIT:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(where)) - shown


def _what(order: Order) -> str:
    return _("%(package)s (%(product)s)", package=order.package_name, product=order.product_name)


def _manual_item(order: Order) -> Item:
    account = ", ".join(f"{v}" for v in order.account.values())
    if order.nickname:
        sentence = _("Top up %(what)s for %(account)s (%(nickname)s) by hand.",
                     what=_what(order), account=account, nickname=order.nickname)
    else:
        sentence = _("Top up %(what)s for %(account)s by hand.", what=_what(order),
                     account=account)
    return Item("manual", order.ref, sentence, order.paid_at, order_url(order.ref),
                _("Open order"), deliver=True)


def _late_item(order: Order, now: dt.datetime) -> Item:
    state = str(orders.LABELS[order.status]).lower()
    return Item("late", order.ref,
                _("%(what)s was paid %(ago)s ago and is still %(state)s (supplier %(supplier)s).",
                  what=_what(order), ago=_ago(order.paid_at, now), state=state,
                  supplier=order.supplier),
                order.paid_at, order_url(order.ref), _("Open order"))


def _flagged_item(order: Order) -> Item:
    return Item("flagged", order.ref, f"{_what(order)}: {order.flag}", order.updated_at,
                order_url(order.ref), _("Open order"))


def _failed() -> tuple[list[Item], int]:
    where = Order.status == orders.FULFILLMENT_FAILED
    rows = list(db.session.scalars(
        sa.select(Order).where(where).order_by(Order.updated_at, Order.id).limit(LIMIT)))
    # Why each one failed: the detail of its latest move to fulfillment_failed.
    why = dict(db.session.execute(
        sa.select(OrderEvent.order_id, OrderEvent.detail)
        .where(OrderEvent.order_id.in_([o.id for o in rows]),
               OrderEvent.to_status == orders.FULFILLMENT_FAILED)
        .order_by(OrderEvent.id)).all())
    items = [Item("failed", o.ref,
                  _("%(what)s could not be delivered: %(why)s.", what=_what(o),
                    why=why.get(o.id) or _("no reason given")),
                  o.updated_at, order_url(o.ref), _("Retry or refund")) for o in rows]
    return items, _rest(where, len(rows))


def _claims() -> tuple[list[Item], int]:
    """Open problem reports, oldest first: the customer waits for an answer."""
    rows, more = claims.waiting(LIMIT)
    items = [Item("claims", order.ref,
                  _("%(what)s: %(kind)s. \"%(message)s\"", what=_what(order),
                    kind=claims.KINDS[claim.kind], message=_shortened(claim.message)),
                  claim.created_at, order_url(order.ref), _("Answer"))
             for claim, order in rows]
    return items, more


def _shortened(text: str, length: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"


def _receipts(now: dt.datetime) -> tuple[list[Item], int]:
    """Receipts whose send was cut off after the message may have gone out (never resent by
    themselves; one at data_started is still being sent until its lease runs out), and
    receipts given up (refused for good, or too many attempts): the customer has none."""
    where = sa.or_(Receipt.state.in_((records.IN_DOUBT, records.FAILED)), records.cut_off(now))
    rows = db.session.execute(
        sa.select(Receipt, Order.ref).join(Order, Order.id == Receipt.order_id).where(where)
        .order_by(Receipt.updated_at, Receipt.id).limit(LIMIT)).all()
    items = [Item("receipts", ref, _receipt_sentence(r), r.updated_at, order_url(ref),
                  _("Open order")) for r, ref in rows]
    more = 0
    if len(rows) == LIMIT:
        more = db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)
                                 .where(where)) - LIMIT
    return items, more


def _receipt_sentence(receipt: Receipt) -> str:
    email = receipt.channel == EMAIL
    if receipt.state == records.FAILED:
        why = (receipt.error or "")[:160]
        if email:
            return _("The email receipt to %(recipient)s was not sent (%(why)s): resend it, "
                     "or record that the customer has it.", recipient=receipt.recipient, why=why)
        return _("The WhatsApp receipt to %(recipient)s was not sent (%(why)s): resend it, "
                 "or record that the customer has it.", recipient=receipt.recipient, why=why)
    if email:
        return _("The email receipt to %(recipient)s may not have arrived: resend it, or "
                 "record that the customer has it.", recipient=receipt.recipient)
    return _("The WhatsApp receipt to %(recipient)s may not have arrived: resend it, or "
             "record that the customer has it.", recipient=receipt.recipient)


def _worker(now: dt.datetime) -> list[Item]:
    age = worker.last_beat()
    if age is not None and age < worker.STALE_AFTER:
        return []
    if age is None:
        sentence = _("No worker has ever run, so paid orders are not delivered. "
                     "Start one: flask --app merchant worker.")
        since = None
    else:
        since = now - dt.timedelta(seconds=age)
        sentence = _("The worker last ran %(ago)s ago, so paid orders are not delivered. "
                     "Start it: flask --app merchant worker.", ago=_ago(since, now))
    return [Item("worker", "worker", sentence, since, url_for("health.healthz"),
                 _("Check health"))]


def _balances() -> list[Item]:
    url = url_for("admin.dashboard")
    return [Item("balance", w.supplier, w.message[:1].upper() + w.message[1:] + ".",
                 w.checked_at, url, _("See balances"))
            for w in deposits.balance_warnings()]


def _unsold() -> tuple[list[Item], int]:
    """Products turned on without a package on sale: the shop hides them (catalog.on_sale)."""
    where = sa.and_(Product.active, sa.not_(catalog.on_sale()))
    rows = list(db.session.scalars(
        sa.select(Product).where(where).order_by(Product.sort_order, Product.name).limit(LIMIT)))
    more = 0
    if len(rows) == LIMIT:
        more = db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                                 .where(where)) - LIMIT
    items = [Item("unsold", p.name,
                  _("%(product)s is on, but none of its packages is on sale, so customers do "
                    "not see it: add a package or turn one on.", product=p.name),
                  None, url_for("admin.products_edit", product_id=p.id), _("Edit product"))
             for p in rows]
    return items, more


def _settings() -> list[Item]:
    """Providers in use (gateways, suppliers, verifiers) that are not ready (registry.ready)."""
    items = []
    methods_url, catalog_url = url_for("admin.methods"), url_for("admin.products")

    # Inactive methods take no payments, so only active ones count.
    active = list(db.session.scalars(sa.select(PaymentMethod).where(PaymentMethod.active)
                                     .order_by(PaymentMethod.sort_order, PaymentMethod.name)))
    serving = {method.id: payment_methods.serving_gateway(method.gateway) for method in active}
    unusable = set()
    for name in sorted({current_app.config["GATEWAY"], *serving.values()}):
        readiness = registry.ready(registry.GATEWAY, name)
        if readiness:
            continue
        unusable.add(name)
        problem = readiness.said()
        waiting = sum(1 for gateway in serving.values() if gateway == name)
        if waiting:
            problem += " " + ngettext("Customers cannot pay with its %(num)s payment method "
                                      "until then.", "Customers cannot pay with its "
                                      "%(num)s payment methods until then.", waiting)
        items.append(Item("settings", name, problem, None, methods_url, _("Payment methods")))

    for method in active:
        if serving[method.id] in unusable:
            continue                # said once, with its gateway, above
        why = payment_methods.method_refusal(method)
        if why:
            items.append(Item("settings", method.code,
                              _("%(method)s is on, but customers are not offered it: %(why)s",
                                method=method.name, why=why),
                              None, methods_url, _("Payment methods")))

    used = sa.union_all(
        sa.select(Package.supplier.label("name")).where(Package.active),
        sa.select(Package.fallback_supplier).where(Package.active,
                                                  Package.fallback_supplier.is_not(None)),
    ).subquery()
    counts = db.session.execute(
        sa.select(used.c.name, sa.func.count()).group_by(used.c.name).order_by(used.c.name))
    for name, count in counts:
        readiness = registry.ready(registry.SUPPLIER, name)
        if not readiness:
            serves = ngettext("It serves %(num)s active package.",
                              "It serves %(num)s active packages.", count)
            items.append(Item("settings", name, f"{readiness.said()} {serves}", None,
                              catalog_url, _("Catalog")))

    counts = db.session.execute(
        sa.select(Product.verifier, sa.func.count())
        .where(Product.active, Product.verifier != "none")
        .group_by(Product.verifier).order_by(Product.verifier))
    for name, count in counts:
        readiness = registry.ready(registry.VERIFIER, name)
        if not readiness:
            checks = ngettext("It checks %(num)s active product.",
                              "It checks %(num)s active products.", count)
            items.append(Item("settings", name, f"{readiness.said()} {checks}", None,
                              catalog_url, _("Catalog")))
    return items + _receipts_off()


def _receipts_off() -> list[Item]:
    """Receipt channels that are off: customers get no receipt that way (and the product page
    promises none)."""
    items = []
    for channel in receipt_channels.channels_off():
        settings = ", ".join(channel.settings)
        if channel.name == receipt_channels.EMAIL:
            item = (_("Email receipts"), _(
                "Email receipts are off: customers get no receipt by email. Set %(settings)s "
                "(your mail server and the sender) to send them.", settings=settings))
        else:
            item = (_("WhatsApp receipts"), _(
                "WhatsApp receipts are off: customers get no receipt by WhatsApp. Set "
                "%(settings)s (your Fonnte device token) to send them.", settings=settings))
        items.append(Item("settings", *item, None, None, None))
    return items


def _ago(since: dt.datetime | None, now: dt.datetime) -> str:
    """'12 minutes', '3 hours', '2 days'."""
    seconds = max(0, int((now - since).total_seconds())) if since else 0
    if seconds >= 86400:
        return ngettext("%(num)s day", "%(num)s days", seconds // 86400)
    if seconds >= 3600:
        return ngettext("%(num)s hour", "%(num)s hours", seconds // 3600)
    if seconds >= 60:
        return ngettext("%(num)s minute", "%(num)s minutes", seconds // 60)
    return ngettext("%(num)s second", "%(num)s seconds", seconds)
