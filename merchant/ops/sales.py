"""Sales figures for the owner's dashboard: today, the last 7 days, the last 30 days.

Days are the shop's days (its time zone); the database keeps naive UTC, so each period becomes
a pair of UTC instants and the daily chart buckets rows with a CASE over the 30 local midnights:
the same SQL on SQLite and PostgreSQL, right across daylight-saving changes. Money is summed
per currency in integer minor units.

Revenue is the orders' subtotal, not their total: the payment fee on top is the gateway's, not
the shop's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from merchant import orders
from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Product, SupplierBalance
from merchant.supply import deposits

# key -> (days, label)
PERIODS = {"today": (1, _l("Today")), "7d": (7, _l("Last 7 days")), "30d": (30, _l("Last 30 days"))}
CHART_DAYS = 30
TOP = 5




@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: dt.datetime              # naive UTC, inclusive: a local midnight
    end: dt.datetime                # naive UTC, exclusive: the next local midnight after now


@dataclass(frozen=True)
class Day:
    date: dt.date                   # the shop's day
    amount: int


@dataclass(frozen=True)
class ProductSales:
    name: str
    currency: str
    orders: int
    revenue: int


@dataclass(frozen=True)
class CurrencySales:
    """Delivered orders in one currency: revenue, margin where the cost is known."""
    currency: str
    delivered: int
    revenue: int
    margin: int                     # subtotal - what the supplier charged (else the cost)
    cost_unknown: int               # delivered orders whose supplier cost is not recorded


@dataclass
class Figures:
    period: Period
    sales: list[CurrencySales]
    orders: int                     # orders paid in the period
    delivered: int
    failed: int
    refunded: int
    top_products: list[ProductSales]
    daily: dict[str, list[Day]]     # currency -> the last CHART_DAYS days, oldest first
    balances: list[SupplierBalance] = field(default_factory=list)
    warnings: list[deposits.BalanceWarning] = field(default_factory=list)
    # Suppliers in use that tell no balance: their deposit holds no sale back.
    unknown_balances: list[str] = field(default_factory=list)

    @property
    def success_rate(self) -> float | None:
        """Delivered / (delivered + failed + refunded) in percent; None when none settled."""
        settled = self.delivered + self.failed + self.refunded
        return None if not settled else 100 * self.delivered / settled






def period(key: str, now: dt.datetime | None = None) -> Period:
    """The period `key` (see PERIODS) ending with the shop's current day.

    :raise KeyError: for an unknown key.
    """
    days, label = PERIODS[key]
    zone, today = shop_settings.zone(), shop_settings.local_today(now)
    first, after = today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1)
    return Period(key, label, shop_settings.local_midnight(first, zone),
                  shop_settings.local_midnight(after, zone))


def figures(key: str, now: dt.datetime | None = None) -> Figures:
    """Every dashboard figure for the period `key`."""
    span = period(key, now)
    delivered_in = _delivered_between(span.start, span.end)
    by_currency = _sales(delivered_in)
    failed, refunded = _failed_and_refunded(span)
    return Figures(
        period=span,
        sales=by_currency,
        orders=db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            _within(Order.paid_at, span))),
        delivered=sum(s.delivered for s in by_currency),
        failed=failed,
        refunded=refunded,
        top_products=_top_products(delivered_in),
        daily=daily_revenue(now),
        balances=list(db.session.scalars(
            sa.select(SupplierBalance).order_by(SupplierBalance.supplier))),
        warnings=deposits.balance_warnings(),
        unknown_balances=deposits.unknown(),
    )


def _delivered_between(start: dt.datetime, end: dt.datetime):
    return sa.and_(Order.status == orders.DELIVERED,
                   Order.delivered_at >= start, Order.delivered_at < end)


def _sales(delivered_in) -> list[CurrencySales]:
    # What the supplier really charged where its answer said so, else the cost we priced at.
    cost = sa.func.coalesce(Order.supplier_paid, Order.supplier_cost)
    known = cost.is_not(None)
    rows = db.session.execute(
        sa.select(Order.currency, sa.func.count(), sa.func.sum(Order.subtotal),
                  sa.func.sum(sa.case((known, Order.subtotal - cost), else_=0)),
                  sa.func.sum(sa.case((known, 0), else_=1)))
        .where(delivered_in).group_by(Order.currency).order_by(Order.currency))
    return [CurrencySales(currency, int(n), int(revenue), int(margin), int(unknown))
            for currency, n, revenue, margin, unknown in rows]


def _failed_and_refunded(span: Period) -> tuple[int, int]:
    """Orders whose delivery failed, and orders refunded, in the period (still so now)."""
    failed_in = sa.and_(Order.status == orders.FULFILLMENT_FAILED,
                        _within(Order.updated_at, span))
    refunded_in = sa.and_(Order.status == orders.REFUNDED,
                          _within(sa.func.coalesce(Order.refunded_at, Order.updated_at), span))
    counts = dict(db.session.execute(
        sa.select(Order.status, sa.func.count())
        .where(Order.status.in_((orders.FULFILLMENT_FAILED, orders.REFUNDED)),
               sa.or_(failed_in, refunded_in))
        .group_by(Order.status)).all())
    return counts.get(orders.FULFILLMENT_FAILED, 0), counts.get(orders.REFUNDED, 0)


def _within(column, span: Period):
    return sa.and_(column >= span.start, column < span.end)


def _top_products(delivered_in) -> list[ProductSales]:
    # Aggregate the orders first, then name the few products: joining first would look the
    # orders up once per product.
    revenue = sa.func.sum(Order.subtotal).label("revenue")
    top = (sa.select(Order.product_id, Order.currency, sa.func.count().label("orders"), revenue)
           .where(delivered_in).group_by(Order.product_id, Order.currency)
           .order_by(revenue.desc(), Order.product_id).limit(TOP).subquery())
    rows = db.session.execute(
        sa.select(Product.name, top.c.currency, top.c.orders, top.c.revenue)
        .join(top, top.c.product_id == Product.id)
        .order_by(top.c.revenue.desc(), Product.name))
    return [ProductSales(name, currency, int(n), int(total)) for name, currency, n, total in rows]


def daily_revenue(now: dt.datetime | None = None, days: int = CHART_DAYS) -> dict[str, list[Day]]:
    """Revenue per shop day for the last `days` days (today last), per currency; empty days 0."""
    zone, today = shop_settings.zone(), shop_settings.local_today(now)
    dates = [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
    bounds = [shop_settings.local_midnight(d, zone) for d in [*dates, today + dt.timedelta(days=1)]]
    bucket = _bucket(Order.delivered_at, bounds, 0, days)
    # Grouping on a subquery's column: PostgreSQL will not match a CASE with bound
    # parameters in SELECT to the same CASE in GROUP BY.
    rows = (sa.select(bucket.label("day"), Order.currency, Order.subtotal)
            .where(_delivered_between(bounds[0], bounds[-1])).subquery())
    totals: dict[str, list[int]] = {}
    for day, currency, amount in db.session.execute(
            sa.select(rows.c.day, rows.c.currency, sa.func.sum(rows.c.subtotal))
            .group_by(rows.c.day, rows.c.currency)):
        totals.setdefault(currency, [0] * days)[int(day)] = int(amount)
    return {currency: [Day(d, amount) for d, amount in zip(dates, amounts, strict=True)]
            for currency, amounts in sorted(totals.items())}


def _bucket(column, bounds: list[dt.datetime], low: int, high: int):
    """The i in low..high-1 with bounds[i] <= column < bounds[i + 1], as nested CASEs: a binary
    search, five comparisons per row for 30 days instead of up to 30."""
    if high - low == 1:
        return sa.literal(low)
    middle = (low + high) // 2
    return sa.case((column < bounds[middle], _bucket(column, bounds, low, middle)),
                   else_=_bucket(column, bounds, middle, high))


def summary(start: dt.datetime, end: dt.datetime, currency: str) -> dict[str, int | str]:
    """The daily summary's figures for [start, end) (naive UTC), in `currency` (the shop's):
    orders paid, delivered, revenue, margin, failed and refunded."""
    span = Period("summary", "", start, end)
    sales = next((s for s in _sales(_delivered_between(start, end)) if s.currency == currency),
                 CurrencySales(currency, 0, 0, 0, 0))
    failed, refunded = _failed_and_refunded(span)
    paid = db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                             .where(_within(Order.paid_at, span)))
    return {"orders": int(paid), "delivered": sales.delivered, "revenue": sales.revenue,
            "margin": sales.margin, "failed": failed, "refunded": refunded,
            "currency": currency}
