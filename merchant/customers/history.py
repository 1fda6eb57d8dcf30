"""A customer's orders: those placed while signed in, and guest orders with a contact the
customer proved (an account's email and number are only set from a code, accounts.py), which
they may claim."""
from __future__ import annotations

import sqlalchemy as sa

from merchant.core.extensions import db
from merchant.core.models import Customer, Order

PAGE = 50


def orders_of(customer: Customer, limit: int = PAGE) -> list[Order]:
    """The customer's orders, newest first."""
    return list(db.session.scalars(sa.select(Order).where(Order.customer_id == customer.id)
                                   .order_by(Order.created_at.desc(), Order.id.desc())
                                   .limit(limit)))


def count_of(customer_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                             .where(Order.customer_id == customer_id))


def _guest_orders(customer: Customer):
    contacts = []
    if customer.email:
        contacts.append(sa.func.lower(Order.email) == customer.email.lower())
    if customer.whatsapp:
        contacts.append(Order.whatsapp == customer.whatsapp)
    if not contacts:
        return sa.false()
    return sa.and_(Order.customer_id.is_(None), sa.or_(*contacts))


def claimable(customer: Customer) -> int:
    """How many guest orders carry one of the customer's verified contacts."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                             .where(_guest_orders(customer)))


def claim(customer: Customer) -> int:
    """Add those guest orders to the account (one conditional UPDATE); how many moved."""
    result = db.session.execute(sa.update(Order).where(_guest_orders(customer))
                                .values(customer_id=customer.id)
                                .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount
