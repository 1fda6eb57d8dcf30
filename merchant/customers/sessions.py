"""A signed-in customer's browsers, kept on the server as the panel's are: only a token's hash
is stored, signing out deletes the row (a copy of the cookie then signs nobody in), and "sign
out everywhere" bumps the customer's session epoch, which every older session carries."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from merchant.core.extensions import db
from merchant.core.models import Customer, CustomerSession, utcnow


def start(customer: Customer, lifetime: dt.timedelta) -> str:
    """A new session for one browser; its token goes into the signed cookie. Sessions older
    than `lifetime` (browsers closed without signing out) are forgotten."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(sa.delete(CustomerSession)
                       .where(CustomerSession.created_at < now - lifetime))
    db.session.add(CustomerSession(token_hash=_hash(token), customer_id=customer.id,
                                   epoch=customer.session_epoch, created_at=now))
    customer.last_login_at = now
    db.session.commit()
    return token


def load(token: str | None) -> Customer | None:
    """The customer this browser's token signs in, or None (no such session, signed out
    everywhere since, or the account was switched off)."""
    if not token:
        return None
    row = db.session.get(CustomerSession, _hash(token))
    if row is None:
        return None
    customer = db.session.get(Customer, row.customer_id)
    if customer is None or not customer.active or customer.session_epoch != row.epoch:
        return None
    return customer


def end(token: str | None) -> None:
    """Sign this browser out on the server."""
    if token:
        db.session.execute(sa.delete(CustomerSession)
                           .where(CustomerSession.token_hash == _hash(token)))
        db.session.commit()


def end_everywhere(customer: Customer) -> None:
    """Sign every browser of this customer out (a lost phone, a changed password)."""
    db.session.execute(sa.update(Customer).where(Customer.id == customer.id)
                       .values(session_epoch=Customer.session_epoch + 1))
    db.session.execute(sa.delete(CustomerSession)
                       .where(CustomerSession.customer_id == customer.id))
    db.session.commit()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
