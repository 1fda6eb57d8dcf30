"""The checks every API call passes, in this order: the signature's headers are there, the key
exists and is not revoked, the caller's address is allowed, the timestamp is inside the replay
window, the signature is right, the nonce is new, and the key is under its rate. The first that
fails answers (merchant/h2h/errors.py), and nothing else is done.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

import limits
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from merchant.core import clock
from merchant.core.extensions import db, limiter
from merchant.core.models import ApiKey, ApiNonce, utcnow
from merchant.core.transactions import write_unit
from merchant.h2h import keys, signing
from merchant.h2h.errors import ApiError

NONCE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class SignedRequest:
    key_id: str
    timestamp: str
    nonce: str
    signature: str
    method: str
    path: str               # with its query string, as sent
    body: bytes
    address: str


def window() -> int:
    return int(current_app.config["H2H_REPLAY_WINDOW_SECONDS"])


def live_key(key_id: str, address: str) -> ApiKey:
    """The caller's key, if it exists, is not revoked and may be used from `address`."""
    key = keys.by_key_id(key_id) if key_id else None
    if key is None:
        raise ApiError("UNKNOWN_KEY", "No API key has this X-Key-Id.")
    if key.revoked_at is not None:
        raise ApiError("KEY_REVOKED", "This API key was revoked. Use another key of the "
                                      "account, or ask the shop for a new one.")
    if not keys.ip_allowed(key, address):
        raise ApiError("IP_NOT_ALLOWED", f"Calls from {address} are not allowed for this key: "
                                         f"add the address to its allowlist.")
    if not (key.customer.active if key.customer else False):
        raise ApiError("KEY_REVOKED", "The account of this key is closed.")
    return key


def authenticate(call: SignedRequest) -> ApiKey:
    """The key that signed this request. :raise ApiError: the first check that fails."""
    missing = [name for name, value in (("X-Key-Id", call.key_id), ("X-Timestamp", call.timestamp),
                                        ("X-Nonce", call.nonce), ("X-Signature", call.signature))
               if not value]
    if missing:
        raise ApiError("MISSING_AUTH", f"Sign the request: {', '.join(missing)} missing.")
    key = live_key(call.key_id, call.address)
    try:
        sent = int(call.timestamp)
    except ValueError:
        raise ApiError("TIMESTAMP_SKEW", "X-Timestamp must be Unix seconds.") from None
    now = int(clock.timestamp())
    if abs(now - sent) > window():
        raise ApiError("TIMESTAMP_SKEW", f"X-Timestamp is {now - sent} s from the shop's clock "
                                         f"(at most {window()} s): check the clock.")
    if not (8 <= len(call.nonce) <= 64 and set(call.nonce) <= NONCE_CHARS):
        raise ApiError("MISSING_AUTH", "X-Nonce must be 8-64 letters, digits, - or _, new "
                                       "for every request.")
    secret = keys.usable_secret(key)
    if secret is None or not signing.request_valid(secret, call.signature, call.method,
                                                   call.path, call.timestamp, call.nonce,
                                                   call.body):
        raise ApiError("INVALID_SIGNATURE", "The signature does not match this request (the "
                                            "method, the path with its query, X-Timestamp, "
                                            "X-Nonce and the body's SHA-256).")
    use_nonce(key, call.nonce)
    within_rate(key)
    return key


def use_nonce(key: ApiKey, nonce: str) -> None:
    """Keep the nonce for the window: the same signed request again is refused."""
    try:
        with write_unit():
            db.session.add(ApiNonce(key_id=key.id, nonce=nonce, seen_at=utcnow()))
            db.session.execute(sa.update(ApiKey).where(ApiKey.id == key.id)
                               .values(last_used_at=utcnow()))
    except IntegrityError:
        raise ApiError("REPLAYED", "This X-Nonce was used before: a replayed request is not "
                                   "done again.") from None


def within_rate(key: ApiKey) -> None:
    """The key's calls per minute, counted in the limiter's storage (shared by the processes
    when it is Redis)."""
    rate = limits.RateLimitItemPerMinute(max(1, key.rate_per_minute))
    strategy = limiter.limiter
    if not strategy.hit(rate, "h2h", key.key_id):
        reset, _remaining = strategy.get_window_stats(rate, "h2h", key.key_id)
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError("RATE_LIMITED", f"At most {key.rate_per_minute} calls a minute with this "
                                       f"key: try again in {retry} s.", retry_after=retry)


def forget_old_nonces(now: dt.datetime | None = None) -> int:
    """Nonces older than twice the window can never match a valid timestamp again."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=2 * window())
    with write_unit():
        return db.session.execute(sa.delete(ApiNonce).where(ApiNonce.seen_at < cutoff)).rowcount
