"""Orders as CSV for a range of the shop's days, read in batches so any range streams.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
get a leading apostrophe: customer-typed text such as a nickname must never execute.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from merchant import orders
from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order

BATCH = 500
# In the reader's language, as the panel: the header, the status and how a refund went back.
# Payment methods by the name the customer chose and the panel shows (not their code).
HEADER = [_l("reference"), _l("created"), _l("paid"), _l("delivered"), _l("status"),
          _l("product"), _l("package"), _l("account"), _l("nickname"), _l("email"),
          _l("whatsapp"), _l("payment method"), _l("gateway"), _l("promo code"), _l("discount"),
          _l("subtotal"), _l("fee"), _l("total"), _l("currency"), _l("supplier"),
          _l("supplier cost"), _l("supplier ref"), _l("proof"), _l("flag"),
          _l("refunded amount"), _l("refunded at"), _l("refund method")]
COLUMNS = (Order.id, Order.ref, Order.created_at, Order.paid_at, Order.delivered_at, Order.status,
           Order.product_name, Order.package_name, Order.account, Order.nickname, Order.email,
           Order.whatsapp, Order.payment_method_name, Order.gateway, Order.promo_code,
           Order.discount, Order.subtotal, Order.fee, Order.total, Order.currency,
           Order.supplier, Order.supplier_cost, Order.supplier_ref, Order.delivery_proof,
           Order.flag, Order.refund_ref, Order.refunded_at)
# How a refunded order's money went back: through the gateway's refund API, or another way.
GATEWAY_REFUND, MANUAL_REFUND = _l("through the gateway"), _l("another way")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filename(first: dt.date, last: dt.date) -> str:
    return f"orders-{first.isoformat()}-to-{last.isoformat()}.csv"


def csv_lines(first: dt.date, last: dt.date) -> Iterator[str]:
    """The header, then the orders created from the shop's day `first` to `last` (both
    included), oldest first: one chunk of CSV text per batch."""
    zone = shop_settings.zone()
    start = shop_settings.local_midnight(first, zone)
    end = shop_settings.local_midnight(last + dt.timedelta(days=1), zone)
    # The byte order mark tells Excel the file is UTF-8 (nicknames are often not ASCII).
    yield "\ufeff" + _csv([[str(label) for label in HEADER]])
    after: tuple[dt.datetime, int] | None = None
    while True:
        # Keyset pages on (created_at, id): each batch starts where the last one ended, in the
        # created_at index, however far into the range it is.
        query = (sa.select(*COLUMNS)
                 .where(Order.created_at >= (after[0] if after else start),
                        Order.created_at < end)
                 .order_by(Order.created_at, Order.id).limit(BATCH))
        if after:
            query = query.where(sa.or_(Order.created_at > after[0], Order.id > after[1]))
        rows = db.session.execute(query).all()
        # End the read transaction between batches: a long download must not hold a snapshot.
        db.session.rollback()
        if rows:
            yield _csv(_cells(row, zone) for row in rows)
        if len(rows) < BATCH:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _csv(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _cells(row, zone) -> list:
    def when(moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        return shop_settings.in_shop_zone(moment, zone).isoformat(timespec="seconds")

    account = " / ".join(str(value) for value in (row.account or {}).values())
    refunded = row.status == orders.REFUNDED
    return [_safe(cell) for cell in (
        row.ref, when(row.created_at), when(row.paid_at), when(row.delivered_at),
        str(orders.LABELS.get(row.status, row.status)),
        row.product_name, row.package_name, account, row.nickname, row.email, row.whatsapp,
        row.payment_method_name, row.gateway, row.promo_code, row.discount, row.subtotal,
        row.fee, row.total, row.currency, row.supplier, row.supplier_cost, row.supplier_ref,
        row.delivery_proof, row.flag, row.total if refunded else None,
        when(row.refunded_at) if refunded else None,
        str(GATEWAY_REFUND if row.refund_ref else MANUAL_REFUND) if refunded else None)]


def _safe(cell):
    """Text a spreadsheet would read as a formula is prefixed with an apostrophe."""
    if cell is None:
        return ""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
