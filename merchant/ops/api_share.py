"""The dashboard's API line: how much of what the shop delivered in a period was ordered
through the H2H API (live API orders; the sandbox's are not sales), as a count and as revenue,
beside every delivered order. Revenue is the subtotal, as in merchant/ops/sales.py."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from merchant import orders
from merchant.core.extensions import db
from merchant.core.models import ApiOrder, Order
from merchant.ops.sales import Period


@dataclass(frozen=True)
class ApiShare:
    """Delivered orders in one currency: all of them, and those placed through the API."""
    currency: str
    orders: int
    revenue: int
    api_orders: int
    api_revenue: int

    @property
    def orders_percent(self) -> float:
        return 100 * self.api_orders / self.orders if self.orders else 0.0

    @property
    def revenue_percent(self) -> float:
        return 100 * self.api_revenue / self.revenue if self.revenue else 0.0


def of_period(span: Period) -> list[ApiShare]:
    """Per currency, the period's delivered orders and the API's part of them."""
    through_api = sa.exists().where(ApiOrder.order_id == Order.id, ApiOrder.sandbox.is_(False))
    api = sa.case((through_api, 1), else_=0)
    rows = db.session.execute(
        sa.select(Order.currency, sa.func.count(), sa.func.sum(Order.subtotal),
                  sa.func.sum(api), sa.func.sum(api * Order.subtotal))
        .where(Order.status == orders.DELIVERED, Order.delivered_at >= span.start,
               Order.delivered_at < span.end)
        .group_by(Order.currency).order_by(Order.currency))
    return [ApiShare(currency, int(n), int(revenue), int(api_n), int(api_revenue))
            for currency, n, revenue, api_n, api_revenue in rows]
