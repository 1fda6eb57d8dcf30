"""The authenticator app (TOTP): turning it on with a code, checking codes at sign-in, turning
it off; and the ten recovery codes for a lost phone.

A code works once: the time step of the last accepted code is kept (AdminUser.totp_last_step)
and a code of that step or an older one is refused, so a code read over a shoulder or from a
log cannot be used again within its 90 seconds. Secrets never reach the audit log.

Recovery codes are shown once, when the app is turned on; only their hashes are kept. Each has
80 random bits, so a fast hash is enough: unlike a password there is nothing to guess offline.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import time

import pyotp
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AdminRecoveryCode, AdminUser, utcnow

RECOVERY_CODES = 10

clock = time.time       # the codes' clock; tests set it


class TwoFactorError(ValueError):
    """The authenticator cannot be turned on or off as asked. The message says why."""


def new_secret() -> str:
    """A fresh random authenticator secret (base32, 160 bits)."""
    return pyotp.random_base32(32)


def uri(secret: str, email: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _code_step(secret: str, code: str) -> int | None:
    """The time step the code belongs to (one step of clock drift either way), else None."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=clock(), valid_window=1)
    except pyotp.exceptions.OTPVerificationError:
        return None


def _spend(admin: AdminUser, step: int) -> bool:
    """Use up the code's time step: one conditional UPDATE, so a code works once even when
    two requests bring it at the same moment."""
    spent = db.session.execute(
        sa.update(AdminUser)
        .where(AdminUser.id == admin.id,
               sa.or_(AdminUser.totp_last_step.is_(None), AdminUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if spent:       # the object learns it without writing it again
        set_committed_value(admin, "totp_last_step", step)
    return spent


def check(admin: AdminUser, code: str) -> bool:
    """The admin's current authenticator code, not used before (committed when right)."""
    if not admin.totp_secret:
        return True
    step = _code_step(admin.totp_secret, code)
    if step is None or not _spend(admin, step):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def enable(admin: AdminUser, secret: str, code: str) -> list[str]:
    """Turn on the authenticator once the admin proves their app shows the secret's codes;
    returns the recovery codes, to show this once.

    :raise TwoFactorError: the code does not fit the secret.
    """
    step = _code_step(secret, code)
    if step is None:
        raise TwoFactorError(_("That code does not match. Scan the QR code again and type the "
                               "newest code your app shows."))
    admin.totp_secret = secret
    admin.totp_last_step = step
    codes = _new_recovery_codes(admin)
    audit.record(audit.Actor.of(admin), "admin.two_factor_on", "admin", admin.id,
                 f"Turned on their authenticator app ({len(codes)} recovery codes)",
                 before={"two_factor": False}, after={"two_factor": True})
    db.session.commit()
    return codes


def disable(admin: AdminUser, code: str) -> None:
    """Turn off your own authenticator, proven with a current code.

    :raise TwoFactorError: it is off already, or the code is wrong or used.
    """
    if not admin.totp_secret:
        raise TwoFactorError(_("Your authenticator app is off already."))
    if not check(admin, code):
        raise TwoFactorError(_("That code is not right (or was used already), so the "
                               "authenticator stays on. Type the newest code your app shows."))
    admin.totp_secret = None
    admin.totp_last_step = None
    forget_recovery_codes(admin)
    audit.record(audit.Actor.of(admin), "admin.two_factor_off", "admin", admin.id,
                 "Turned off their authenticator app",
                 before={"two_factor": True}, after={"two_factor": False})
    db.session.commit()


# --- recovery codes ----------------------------------------------------------------------

def _recovery_hash(code: str) -> str:
    """Read as typed: any case, with or without the dashes or spaces."""
    plain = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hashlib.sha256(plain.encode()).hexdigest()


def _new_recovery_codes(admin: AdminUser) -> list[str]:
    """Ten fresh codes like abcd-efgh-ijkl-mnop (older ones stop working), in the caller's
    transaction."""
    forget_recovery_codes(admin)
    codes = []
    for _number in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()     # 16 characters
        code = "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))
        db.session.add(AdminRecoveryCode(admin_id=admin.id, code_hash=_recovery_hash(code)))
        codes.append(code)
    return codes


def forget_recovery_codes(admin: AdminUser) -> None:
    """In the caller's transaction: the authenticator is going away, so do its codes."""
    db.session.execute(sa.delete(AdminRecoveryCode)
                       .where(AdminRecoveryCode.admin_id == admin.id))


def recovery_codes_left(admin: AdminUser) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminRecoveryCode).where(
        AdminRecoveryCode.admin_id == admin.id, AdminRecoveryCode.used_at.is_(None)))


def use_recovery_code(admin: AdminUser, code: str) -> bool:
    """A recovery code in place of the app's code: each works once (one conditional UPDATE,
    so two requests bringing it at once cannot both pass), and its use is audited."""
    if not admin.totp_secret:
        return False
    used = db.session.execute(
        sa.update(AdminRecoveryCode)
        .where(AdminRecoveryCode.admin_id == admin.id,
               AdminRecoveryCode.code_hash == _recovery_hash(code),
               AdminRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount == 1
    if not used:
        db.session.rollback()
        return False
    left = recovery_codes_left(admin)
    audit.record(audit.Actor.of(admin), "admin.recovery_code", "admin", admin.id,
                 f"Signed in with a recovery code ({left} left)",
                 after={"recovery_codes_left": left})
    db.session.commit()
    return True
