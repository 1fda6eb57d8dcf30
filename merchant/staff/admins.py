"""Admin accounts: creating them, signing in, the one-time setup link, second factors.

Passwords are hashed with werkzeug's scrypt (memory-hard, no extra dependency). The setup link
exists so that a shop with no admin can be claimed from a browser: its token is random, only
its hash is stored, it works once, and it stops working as soon as any admin exists.

The owner's changes to other admins (role, deactivation, signing out) and an admin's change of
their own password are audited; passwords and hashes never reach the audit log. The
authenticator app (TOTP) lives in two_factor.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from merchant.catalog import payment_presets
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import OWNER, STAFF, AdminSession, AdminUser, SetupToken, utcnow
from merchant.staff import two_factor

MIN_PASSWORD = 10
SETUP_TOKEN_LIFETIME = dt.timedelta(hours=24)
ROLES = (OWNER, STAFF)
PASSWORD_HASH = "scrypt"        # werkzeug's; config.PASSWORD_HASH_METHOD differs only in tests
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password
# (one per hash method: the test suite's cheap one is made when first needed).
_DUMMY_HASHES = {PASSWORD_HASH: generate_password_hash("not a real password", PASSWORD_HASH)}


class AdminError(ValueError):
    """An admin account cannot be created or changed as asked. The message says why."""


def _hash_method() -> str:
    """scrypt, unless a test app asks for a cheaper method (config.check refuses that outside
    TESTING)."""
    if current_app.testing:
        return current_app.config.get("PASSWORD_HASH_METHOD") or PASSWORD_HASH
    return PASSWORD_HASH


def _password_hash(password: str) -> str:
    return generate_password_hash(password, _hash_method())


def normalize_email(raw: str) -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AdminError(_("Enter an email address like owner@example.com.")) from None


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AdminError(_("Use a password of at least %(count)s characters.",
                           count=MIN_PASSWORD))


def any_admin() -> bool:
    return db.session.scalar(sa.select(AdminUser.id).limit(1)) is not None


def by_email(email: str) -> AdminUser | None:
    return db.session.scalar(sa.select(AdminUser).where(AdminUser.email == email.lower()))


def create(email: str, password: str, role: str = OWNER,
           actor: audit.Actor = audit.CLI, temporary: bool = False) -> AdminUser:
    """A new admin; with a `temporary` password (the owner chose it) they must choose their own
    at their first sign-in. :raise AdminError: bad email, short password, unknown role, taken
    email."""
    email = normalize_email(email)
    check_password(password)
    if role not in ROLES:
        raise AdminError(_("The role must be owner or staff."))
    if by_email(email) is not None:
        raise AdminError(_("There is already an admin %(email)s.", email=email))
    admin = AdminUser(email=email, password_hash=_password_hash(password), role=role,
                      must_change_password=temporary)
    db.session.add(admin)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:       # added by someone else a moment ago
        db.session.rollback()
        raise AdminError(_("There is already an admin %(email)s.", email=email)) from None
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
        method = _hash_method()
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash("not a real password", method)
        check_password_hash(_DUMMY_HASHES[method], password or "")
        return None
    if not check_password_hash(admin.password_hash, password or "") or not admin.active:
        return None
    return admin


def signed_in(admin: AdminUser) -> None:
    """Note the sign-in: the time on the admins page, and an audit entry."""
    admin.last_login_at = utcnow()
    audit.record(audit.Actor.of(admin), "admin.sign_in", "admin", admin.id, "Signed in")
    db.session.commit()


def load(user_id: str, session_token: str | None) -> AdminUser | None:
    """Flask-Login's loader: "id:epoch", refused once the epoch moved on (signed out
    everywhere), or once this browser's session was ended on the server (signed out)."""
    admin_id, _, epoch = (user_id or "").partition(":")
    if not admin_id.isdigit() or not epoch.isdigit() or not session_token:
        return None
    admin = db.session.get(AdminUser, int(admin_id))
    if admin is None or admin.session_epoch != int(epoch) or not admin.active:
        return None
    row = db.session.get(AdminSession, _hash(session_token))
    if row is None or row.admin_id != admin.id:
        return None
    return admin


def start_session(admin: AdminUser, lifetime: dt.timedelta) -> str:
    """A new server-side session for one browser; its token goes into the signed cookie.
    Sessions older than `lifetime` (browsers closed without signing out) are forgotten."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(sa.delete(AdminSession).where(AdminSession.created_at < now - lifetime))
    db.session.add(AdminSession(token_hash=_hash(token), admin_id=admin.id, created_at=now))
    db.session.commit()
    return token


def end_session(session_token: str | None) -> None:
    """Sign this browser out on the server: a copy of its cookie no longer signs anyone in."""
    if session_token:
        db.session.execute(sa.delete(AdminSession)
                           .where(AdminSession.token_hash == _hash(session_token)))
        db.session.commit()


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
        raise AdminError(_("This setup link has been used or has expired. Ask for a new one "
                           "with `flask --app merchant setup-link`, or sign in."))
    admin = AdminUser(email=email, password_hash=_password_hash(password), role=OWNER)
    db.session.add(admin)
    db.session.flush()
    owner = audit.Actor(email, admin.id, OWNER)
    audit.record(owner, "admin.setup", "admin", admin.id,
                 f"Set up the shop's owner {email} with the setup link",
                 after={"email": email, "role": OWNER})
    # A new shop without the demo starts with its gateway's usual payment methods.
    payment_presets.install_defaults(actor=owner)
    db.session.commit()
    return admin


# --- the owner's management of admins --------------------------------------------------

def all_admins() -> list[AdminUser]:
    """Every admin, owners first, then by email."""
    return list(db.session.scalars(sa.select(AdminUser).order_by(AdminUser.role, AdminUser.email)))


def _get(admin_id: int) -> AdminUser:
    admin = db.session.get(AdminUser, admin_id)
    if admin is None:
        raise AdminError(_("There is no such admin."))
    return admin


def _not_yourself(actor: audit.Actor, admin: AdminUser, refusal) -> None:
    if actor.admin_id == admin.id:
        raise AdminError(str(refusal))


def _change(admin: AdminUser, refusal, **values) -> None:
    """Write `values` to the admin in one conditional UPDATE that never leaves the shop without
    an active owner. :raise AdminError: this is the last active owner.

    Two owners demoting each other at the same moment must not both succeed. PostgreSQL: the
    active owners' rows are locked first (FOR UPDATE), so the second waits and then counts
    afresh. SQLite: the count runs inside the UPDATE, under its write lock.
    """
    update = sa.update(AdminUser).where(AdminUser.id == admin.id).values(**values)
    if admin.role == OWNER and admin.active:
        owners = (AdminUser.role == OWNER, AdminUser.active.is_(True))
        db.session.execute(sa.select(AdminUser.id).where(*owners).with_for_update()).all()
        others = (sa.select(sa.func.count()).select_from(AdminUser)
                  .where(*owners, AdminUser.id != admin.id).scalar_subquery())
        update = update.where(others > 0)
    if db.session.execute(update.execution_options(synchronize_session="fetch")).rowcount != 1:
        db.session.rollback()
        raise AdminError(str(refusal))


def set_role(actor: audit.Actor, admin_id: int, role: str) -> AdminUser:
    """Make an admin owner or staff. :raise AdminError: yourself, the last owner, bad role."""
    if role not in ROLES:
        raise AdminError(_("The role must be owner or staff."))
    admin = _get(admin_id)
    if admin.role == role:
        return admin
    _not_yourself(actor, admin, _l("You cannot change the role of your own account: ask "
                                   "another owner to do it."))
    before = {"role": admin.role}
    _change(admin, _l("You cannot make staff of %(email)s: the shop needs at least one active "
                      "owner. Make another admin owner first.", email=admin.email), role=role)
    audit.record(actor, "admin.role", "admin", admin.id,
                 f"Changed {admin.email} from {before['role']} to {role}",
                 before=before, after={"role": role})
    db.session.commit()
    return admin


def set_active(actor: audit.Actor, admin_id: int, active: bool) -> AdminUser:
    """Deactivate (signed out at once, cannot sign in) or reactivate an admin.

    :raise AdminError: yourself, or the last active owner.
    """
    admin = _get(admin_id)
    if admin.active == active:
        return admin
    if active:
        # An inactive admin counts for no owner: reactivating never leaves the shop without one.
        _not_yourself(actor, admin, _l("You cannot reactivate your own account: ask another "
                                       "owner to do it."))
        _change(admin, _l("%(email)s was changed by someone else a moment ago: look again.",
                          email=admin.email), active=True)
    else:
        _not_yourself(actor, admin, _l("You cannot deactivate your own account: ask another "
                                       "owner to do it."))
        # The epoch moves on too: a later reactivation must not bring the old sessions back.
        _change(admin, _l("You cannot deactivate %(email)s: the shop needs at least one active "
                          "owner. Make another admin owner first.", email=admin.email),
                active=False, session_epoch=AdminUser.session_epoch + 1)
    audit.record(actor, "admin.reactivate" if active else "admin.deactivate", "admin", admin.id,
                 f"{'Reactivated' if active else 'Deactivated'} {admin.email}",
                 before={"active": not active}, after={"active": active})
    db.session.commit()
    return admin


def sign_out_everywhere(actor: audit.Actor, admin_id: int) -> AdminUser:
    """End every session of this admin (each browser must sign in again)."""
    admin = _get(admin_id)
    db.session.execute(sa.update(AdminUser).where(AdminUser.id == admin.id)
                       .values(session_epoch=AdminUser.session_epoch + 1))
    audit.record(actor, "admin.sign_out_everywhere", "admin", admin.id,
                 f"Signed {admin.email} out everywhere")
    db.session.commit()
    return admin


def reset_two_factor(actor: audit.Actor, admin_id: int) -> AdminUser:
    """Turn off another admin's authenticator and recovery codes (a lost phone); they sign in
    with the password and can set up a new app.

    :raise AdminError: your own (use My account, with a code), or it is off already.
    """
    admin = _get(admin_id)
    _not_yourself(actor, admin, _l("You cannot reset the authenticator of your own account: "
                                   "ask another owner to do it."))
    if not admin.totp_secret:
        raise AdminError(_("%(email)s has no authenticator app turned on.", email=admin.email))
    admin.totp_secret = None
    admin.totp_last_step = None
    two_factor.forget_recovery_codes(admin)
    audit.record(actor, "admin.two_factor_reset", "admin", admin.id,
                 f"Turned off {admin.email}'s authenticator app",
                 before={"two_factor": True}, after={"two_factor": False})
    db.session.commit()
    return admin


# --- an admin's own account -------------------------------------------------------------

def change_password(admin: AdminUser, current: str, new: str) -> AdminUser:
    """Change your password (a temporary one is then yours); every other session of yours ends.

    :raise AdminError: the current password is wrong, the new one is too short or the same.
    """
    if not check_password_hash(admin.password_hash, current or ""):
        raise AdminError(_("Your current password is not right, so the password was not "
                           "changed."))
    check_password(new)
    if new == current:
        raise AdminError(_("Choose a new password: the new one is the same as the current one."))
    admin.password_hash = _password_hash(new)
    admin.must_change_password = False
    admin.session_epoch += 1
    audit.record(audit.Actor.of(admin), "admin.password", "admin", admin.id,
                 "Changed their password (other sessions signed out)")
    db.session.commit()
    return admin
