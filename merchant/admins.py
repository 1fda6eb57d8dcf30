"""Admin accounts: creating them, signing in, the one-time setup link, second factors.

Passwords are hashed with werkzeug's scrypt (memory-hard, no extra dependency). The setup link
exists so that a shop with no admin can be claimed from a browser: its token is random, only
its hash is stored, it works once, and it stops working as soon as any admin exists.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pyotp
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .extensions import db
from .models import OWNER, STAFF, AdminUser, SetupToken, utcnow

MIN_PASSWORD = 10
SETUP_TOKEN_LIFETIME = dt.timedelta(hours=24)
ROLES = (OWNER, STAFF)
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class AdminError(ValueError):
    """An admin account cannot be created or changed as asked. The message says why."""


def normalize_email(raw: str) -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AdminError("Enter an email address like owner@example.com.") from None


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AdminError(f"Use a password of at least {MIN_PASSWORD} characters.")


def any_admin() -> bool:
    return db.session.scalar(sa.select(AdminUser.id).limit(1)) is not None


def by_email(email: str) -> AdminUser | None:
    return db.session.scalar(sa.select(AdminUser).where(AdminUser.email == email.lower()))


def create(email: str, password: str, role: str = OWNER,
           actor: audit.Actor = audit.CLI) -> AdminUser:
    """A new admin. :raise AdminError: bad email, short password, unknown role, taken email."""
    email = normalize_email(email)
    check_password(password)
    if role not in ROLES:
        raise AdminError(f"The role must be {' or '.join(ROLES)}.")
    if by_email(email) is not None:
        raise AdminError(f"There is already an admin {email}.")
    admin = AdminUser(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(admin)
    db.session.flush()
    audit.record(actor, "admin.create", "admin", admin.id, f"Created {role} {email}",
                 after={"email": email, "role": role})
    db.session.commit()
    return admin


def authenticate(email: str, password: str) -> AdminUser | None:
    """The active admin with this email and password, else None (timing alike either way)."""
    try:
        admin = by_email(normalize_email(email))
    except AdminError:
        admin = None
    if admin is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(admin.password_hash, password or "") or not admin.active:
        return None
    return admin


def signed_in(admin: AdminUser) -> None:
    admin.last_login_at = utcnow()
    db.session.commit()


def load(user_id: str) -> AdminUser | None:
    """Flask-Login's loader: "id:epoch", refused once the epoch moved on (signed out everywhere)."""
    admin_id, _, epoch = (user_id or "").partition(":")
    if not admin_id.isdigit() or not epoch.isdigit():
        return None
    admin = db.session.get(AdminUser, int(admin_id))
    if admin is None or admin.session_epoch != int(epoch) or not admin.active:
        return None
    return admin


# --- the one-time setup link -------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_setup_token() -> str | None:
    """A fresh setup token while no admin exists (older unused ones stop working), else None."""
    if any_admin():
        return None
    token = secrets.token_urlsafe(24)
    now = utcnow()
    db.session.execute(sa.delete(SetupToken).where(SetupToken.used_at.is_(None)))
    db.session.add(SetupToken(token_hash=_hash(token), created_at=now,
                              expires_at=now + SETUP_TOKEN_LIFETIME))
    db.session.commit()
    return token


def setup_token_valid(token: str) -> bool:
    row = db.session.get(SetupToken, _hash(token or ""))
    return (row is not None and row.used_at is None and row.expires_at > utcnow()
            and not any_admin())


def claim_setup(token: str, email: str, password: str) -> AdminUser:
    """Create the first owner with the setup token, which is used up by this call.

    The token is spent by one conditional UPDATE, so two browsers racing with the same link
    create one owner. :raise AdminError: the link is used, expired or unknown; bad details.
    """
    email = normalize_email(email)
    check_password(password)
    now = utcnow()
    spent = db.session.execute(
        sa.update(SetupToken)
        .where(SetupToken.token_hash == _hash(token or ""), SetupToken.used_at.is_(None),
               SetupToken.expires_at > now)
        .values(used_at=now)
    ).rowcount == 1
    if not spent or any_admin():
        db.session.rollback()
        raise AdminError("This setup link has been used or has expired. Ask for a new one with "
                         "`flask --app merchant setup-link`, or sign in.")
    admin = AdminUser(email=email, password_hash=generate_password_hash(password), role=OWNER)
    db.session.add(admin)
    db.session.flush()
    audit.record(audit.Actor(email, admin.id, OWNER), "admin.setup", "admin", admin.id,
                 f"Set up the shop's owner {email} with the setup link",
                 after={"email": email, "role": OWNER})
    db.session.commit()
    return admin


# --- second factor (TOTP) -----------------------------------------------------------------

def totp_ok(admin: AdminUser, code: str) -> bool:
    """The admin's current authenticator code (one step of clock drift either way)."""
    if not admin.totp_secret:
        return True
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    return pyotp.TOTP(admin.totp_secret).verify(code, valid_window=1)
