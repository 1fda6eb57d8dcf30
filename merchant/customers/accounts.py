"""Customers' accounts: who a contact is, signing up on the first code, and the optional
password.

An account's email and WhatsApp number are only ever set from a contact the customer proved
with a code (codes.py), so they are verified: guest orders with the same contact may be
claimed (claims.py). Signing in answers the same whether an account exists or not: a code is
sent either way (the account is made when it is used), and a wrong password reads like an
unknown address, after the same amount of hashing.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from merchant.core.extensions import db
from merchant.core.models import Customer, utcnow
from merchant.core.receipt_channels import EMAIL, WHATSAPP
from merchant.core.validation import whatsapp_number

MIN_PASSWORD = 8
_DUMMY_HASHES: dict[str, str] = {}      # per hash method: the work done for an unknown contact


@dataclass(frozen=True)
class Contact:
    channel: str            # EMAIL or WHATSAPP
    value: str              # normalized: the address, or "+62812..."


def read_contact(raw: str) -> Contact | None:
    """An email address or a WhatsApp number as typed, normalized; None when it is neither."""
    raw = (raw or "").strip()
    if "@" in raw:
        try:
            return Contact(EMAIL, validate_email(raw, check_deliverability=False)
                           .normalized.lower())
        except EmailNotValidError:
            return None
    number = whatsapp_number(raw) if raw else None
    return Contact(WHATSAPP, number) if number else None


def _column(channel: str):
    return Customer.email if channel == EMAIL else Customer.whatsapp


def find(contact: Contact) -> Customer | None:
    return db.session.scalar(sa.select(Customer).where(_column(contact.channel) == contact.value))


def signed_up(contact: Contact) -> Customer:
    """The account of a contact just proved with a code, made now if it has none yet."""
    customer = find(contact)
    if customer is not None:
        return customer
    customer = Customer(**{contact.channel: contact.value}, created_at=utcnow())
    db.session.add(customer)
    try:
        db.session.commit()
    except IntegrityError:      # the same contact signed up in another tab at the same moment
        db.session.rollback()
        customer = find(contact)
    return customer


def _hash_method() -> str:
    return str(current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt")


def set_password(customer: Customer, password: str) -> None:
    """Set (or change) the password; the caller signs the other browsers out."""
    customer.password_hash = generate_password_hash(password, _hash_method())
    db.session.commit()


def with_password(contact: Contact | None, password: str) -> Customer | None:
    """The active account this contact and password sign in, or None (the same work either
    way, so the time taken says nothing about whether the account exists)."""
    customer = find(contact) if contact else None
    if customer is None or not customer.password_hash or not customer.active:
        method = _hash_method()
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash("not a real password", method)
        check_password_hash(_DUMMY_HASHES[method], password or "")
        return None
    return customer if check_password_hash(customer.password_hash, password or "") else None


def masked(contact: Contact) -> str:
    """'d***@example.com', '+62812****7890': where a code went, for the page that asks it."""
    if contact.channel == EMAIL:
        name, _, domain = contact.value.partition("@")
        return f"{name[:1]}***@{domain}"
    return contact.value[:6] + "*" * (len(contact.value) - 10) + contact.value[-4:]
