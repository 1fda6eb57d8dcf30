"""The panel's list of customers: search by email, number or name, filter by level, with each
one's number of orders."""
from __future__ import annotations

import sqlalchemy as sa

from merchant.core.extensions import db
from merchant.core.models import Customer, Order

PAGE = 50


def search(query: str = "", level_id: int | None = None, no_level: bool = False,
           limit: int = PAGE) -> list[tuple[Customer, int]]:
    """(customer, orders count), newest accounts first."""
    counts = (sa.select(Order.customer_id, sa.func.count().label("orders"))
              .where(Order.customer_id.is_not(None)).group_by(Order.customer_id).subquery())
    select = (sa.select(Customer, sa.func.coalesce(counts.c.orders, 0))
              .outerjoin(counts, counts.c.customer_id == Customer.id)
              .order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit))
    query = (query or "").strip()[:80]
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        conditions = [Customer.email.icontains(query, autoescape=True),
                      Customer.name.icontains(query, autoescape=True)]
        if len(digits) >= 4:
            # 0812..., 62812..., +62812...: the number as stored is +62...
            conditions.append(Customer.whatsapp.contains(digits.lstrip("0").removeprefix("62"),
                                                         autoescape=True))
        select = select.where(sa.or_(*conditions))
    if no_level:
        select = select.where(Customer.level_id.is_(None))
    elif level_id:
        select = select.where(Customer.level_id == level_id)
    return [(customer, int(count)) for customer, count in db.session.execute(select)]
