"""The authenticator app (TOTP): turning it on with a code, checking codes at sign-in, turning
it off.

A code works once: the time step of the last accepted code is kept (AdminUser.totp_last_step)
and a code of that step or an older one is refused, so a code read over a shoulder or from a
log cannot be used again within its 90 seconds. Secrets never reach the audit log.
"""
from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from . import audit
from .extensions import db
from .models import AdminUser

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


def enable(admin: AdminUser, secret: str, code: str) -> None:
    """Turn on the authenticator once the admin proves their app shows the secret's codes.

    :raise AdminError: the code does not fit the secret.
    """
    step = _code_step(secret, code)
    if step is None:
        raise TwoFactorError(_("That code does not match. Scan the QR code again and type the "
                               "newest code your app shows."))
    admin.totp_secret = secret
    admin.totp_last_step = step
    audit.record(audit.Actor.of(admin), "admin.two_factor_on", "admin", admin.id,
                 "Turned on their authenticator app",
                 before={"two_factor": False}, after={"two_factor": True})
    db.session.commit()


def disable(admin: AdminUser, code: str) -> None:
    """Turn off your own authenticator, proven with a current code.

    :raise AdminError: it is off already, or the code is wrong or used.
    """
    if not admin.totp_secret:
        raise TwoFactorError(_("Your authenticator app is off already."))
    if not check(admin, code):
        raise TwoFactorError(_("That code is not right (or was used already), so the "
                               "authenticator stays on. Type the newest code your app shows."))
    admin.totp_secret = None
    admin.totp_last_step = None
    audit.record(audit.Actor.of(admin), "admin.two_factor_off", "admin", admin.id,
                 "Turned off their authenticator app",
                 before={"two_factor": True}, after={"two_factor": False})
    db.session.commit()
