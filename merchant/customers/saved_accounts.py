"""A customer's saved game accounts: ID, zone ... and the nickname the check found, per
product; saved from an order or with the product page's Buy, filled in on the product page."""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from merchant.core.extensions import db
from merchant.core.models import Customer, Order, SavedAccount, utcnow

MAX_PER_PRODUCT = 10


def _key(account: dict) -> str:
    return hashlib.sha256(json.dumps(account, sort_keys=True).encode()).hexdigest()


def save(customer: Customer, product_id: int, account: dict, nickname: str | None) -> None:
    """Keep this account for the product (again: its nickname is refreshed)."""
    account = {str(name): str(value) for name, value in account.items()}
    key = _key(account)
    updated = db.session.execute(
        sa.update(SavedAccount).where(SavedAccount.customer_id == customer.id,
                                      SavedAccount.product_id == product_id,
                                      SavedAccount.account_key == key)
        .values(nickname=nickname, created_at=utcnow()))
    if updated.rowcount == 0:
        db.session.add(SavedAccount(customer_id=customer.id, product_id=product_id,
                                    account=account, account_key=key, nickname=nickname,
                                    created_at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:      # saved by another request at the same moment
        db.session.rollback()
    _trim(customer.id, product_id)


def _trim(customer_id: int, product_id: int) -> None:
    """Only the newest MAX_PER_PRODUCT are kept."""
    kept = sa.select(SavedAccount.id).where(SavedAccount.customer_id == customer_id,
                                            SavedAccount.product_id == product_id) \
        .order_by(SavedAccount.created_at.desc(), SavedAccount.id.desc()).limit(MAX_PER_PRODUCT)
    db.session.execute(sa.delete(SavedAccount).where(
        SavedAccount.customer_id == customer_id, SavedAccount.product_id == product_id,
        SavedAccount.id.not_in(kept.scalar_subquery())))
    db.session.commit()


def save_from_order(customer: Customer, order: Order) -> bool:
    """Save the game account of one of the customer's own orders."""
    if order.customer_id != customer.id or order.product_id is None or not order.account:
        return False
    save(customer, order.product_id, order.account, order.nickname)
    return True


def for_product(customer: Customer | None, product_id: int) -> list[SavedAccount]:
    """The customer's saved accounts for a product, newest first."""
    if customer is None:
        return []
    return list(db.session.scalars(
        sa.select(SavedAccount).where(SavedAccount.customer_id == customer.id,
                                      SavedAccount.product_id == product_id)
        .order_by(SavedAccount.created_at.desc(), SavedAccount.id.desc())))


def of(customer: Customer) -> list[SavedAccount]:
    return list(db.session.scalars(
        sa.select(SavedAccount).where(SavedAccount.customer_id == customer.id)
        .order_by(SavedAccount.product_id, SavedAccount.created_at.desc())))


def remove(customer: Customer, saved_id: int) -> None:
    db.session.execute(sa.delete(SavedAccount).where(SavedAccount.id == saved_id,
                                                     SavedAccount.customer_id == customer.id))
    db.session.commit()
