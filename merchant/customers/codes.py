"""One-time sign-in codes: six digits sent to an email address or a WhatsApp number.

A code is kept only as an HMAC under the app's secret key (a copy of the table gives no code
away, and six digits cannot be tried offline without the key). It works once, for
CODE_MINUTES, for CODE_TRIES wrong guesses; asking for a new code ends the older ones for that
contact. Using a code is one conditional UPDATE (not used, not expired, tries left), so two
requests racing with the same code sign in once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from flask import current_app

from merchant.core.extensions import db
from merchant.core.models import SignInCode, utcnow

CODE_DIGITS = 6


def _digest(contact: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"sign-in\n{contact}\n{code}".encode(), hashlib.sha256).hexdigest()


def issue(contact: str) -> str:
    """A new code for `contact` (normalized), ending the older ones; returns the code to send."""
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    now = utcnow()
    minutes = float(current_app.config["CUSTOMER_CODE_MINUTES"])
    db.session.execute(sa.update(SignInCode).where(
        SignInCode.contact == contact, SignInCode.used_at.is_(None)).values(used_at=now))
    # Codes from long ago are of no use to anyone.
    db.session.execute(sa.delete(SignInCode).where(
        SignInCode.expires_at < now - dt.timedelta(days=1)))
    db.session.add(SignInCode(contact=contact, code_hash=_digest(contact, code),
                              created_at=now, expires_at=now + dt.timedelta(minutes=minutes)))
    db.session.commit()
    return code


def redeem(contact: str, code: str) -> bool:
    """Whether `code` is the live code of `contact`; a right code is used up, a wrong one
    costs the live code a try."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    now = utcnow()
    tries = int(current_app.config["CUSTOMER_CODE_TRIES"])
    live = sa.and_(SignInCode.contact == contact, SignInCode.used_at.is_(None),
                   SignInCode.expires_at > now, SignInCode.tries < tries)
    if len(code) == CODE_DIGITS:
        used = db.session.execute(sa.update(SignInCode).where(
            live, SignInCode.code_hash == _digest(contact, code)).values(used_at=now))
        if used.rowcount == 1:
            db.session.commit()
            return True
    db.session.execute(sa.update(SignInCode).where(live)
                       .values(tries=SignInCode.tries + 1))
    db.session.commit()
    return False
