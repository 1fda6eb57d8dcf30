"""Resellers' API keys: made by the owner, or by the reseller when their level allows it;
shown once, revocable, several per account so a key can be rotated without a pause.

The secret is never stored. It is derived from the shop's SECRET_KEY and the key's random salt
(HMAC-SHA256), and the row keeps only its SHA-256: a copy of the database cannot sign a
request, and the shop can still check one. Changing SECRET_KEY therefore retires every key
(the hash no longer matches, and the call says so).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import ApiKey, Customer, utcnow
from merchant.core.transactions import write_unit

LIVE_PREFIX, SANDBOX_PREFIX = "mk_live_", "mk_test_"
PLAY_SALDO = 1_000_000          # what a sandbox key starts with (and is reset to), in rupiah
MAX_KEYS = 10                   # live and sandbox keys per account, revoked ones not counted


class KeyRefused(ValueError):
    """A key cannot be made or changed as asked; the message is for the person asking."""


def secret_of(key: ApiKey) -> str:
    """The key's secret, derived again (the row holds only its hash)."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(),
                   f"merchant h2h key\0{key.key_id}\0{key.salt}".encode(), hashlib.sha256)
    return "sk_" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def usable_secret(key: ApiKey) -> str | None:
    """The key's secret, or None when SECRET_KEY changed since the key was made."""
    secret = secret_of(key)
    return secret if hmac.compare_digest(_hash(secret), key.secret_hash) else None


def read_allowlist(raw: str) -> str:
    """The allowlist as typed ("203.0.113.7, 198.51.100.0/24"), normalized; :raise KeyRefused:"""
    networks = []
    for part in (raw or "").replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise KeyRefused(_("%(value)s is not an IP address or network (like 203.0.113.7 "
                              "or 198.51.100.0/24).", value=part)) from None
    text = " ".join(networks)
    if len(text) > 500:
        raise KeyRefused(_("The allowlist is too long: use networks instead of addresses."))
    return text


def read_callback_url(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise KeyRefused(_("The callback URL must be a full http(s) address, like "
                          "https://example.com/callback."))
    return url


def ip_allowed(key: ApiKey, address: str) -> bool:
    if not key.ip_allowlist:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in key.ip_allowlist.split())


def create(customer: Customer, *, label: str = "", sandbox: bool = False,
           ip_allowlist: str = "", callback_url: str = "", rate_per_minute: int | None = None,
           actor: audit.Actor | None = None, created_by: str = "") -> tuple[ApiKey, str]:
    """A new key for `customer` and its secret (shown once). :raise KeyRefused:"""
    allowlist = read_allowlist(ip_allowlist)
    url = read_callback_url(callback_url)
    live = db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey).where(
        ApiKey.customer_id == customer.id, ApiKey.revoked_at.is_(None)))
    if live >= MAX_KEYS:
        raise KeyRefused(_("An account can hold %(count)s keys: revoke one first.",
                          count=MAX_KEYS))
    prefix = SANDBOX_PREFIX if sandbox else LIVE_PREFIX
    key = ApiKey(customer_id=customer.id, key_id=prefix + secrets.token_hex(10),
                 salt=secrets.token_hex(16), secret_hash="", label=(label or "").strip()[:60],
                 sandbox=sandbox, play_balance=PLAY_SALDO if sandbox else 0,
                 ip_allowlist=allowlist, callback_url=url,
                 rate_per_minute=rate_per_minute or int(current_app.config["H2H_RATE_PER_MINUTE"]),
                 created_by=created_by[:80], created_at=utcnow())
    secret = secret_of(key)
    key.secret_hash = _hash(secret)
    with write_unit():
        db.session.add(key)
        db.session.flush()
        if actor is not None:
            audit.record(actor, "api_key.create", "api_key", key.id,
                         f"API key {key.key_id} for customer {customer.id}",
                         after={"key_id": key.key_id, "customer_id": customer.id,
                                "sandbox": sandbox})
    return key, secret


def update(key: ApiKey, *, label: str, ip_allowlist: str, callback_url: str,
           rate_per_minute: int | None = None, actor: audit.Actor | None = None) -> None:
    """Change what a key may do from where, and where its callbacks go (and, for the owner,
    its calls per minute; None leaves the rate as it is). :raise KeyRefused:"""
    allowlist, url = read_allowlist(ip_allowlist), read_callback_url(callback_url)
    with write_unit():
        before = {"label": key.label, "ip_allowlist": key.ip_allowlist,
                  "callback_url": key.callback_url, "rate_per_minute": key.rate_per_minute}
        key.label, key.ip_allowlist, key.callback_url = (label or "").strip()[:60], allowlist, url
        if rate_per_minute is not None:
            key.rate_per_minute = rate_per_minute
        if actor is not None:
            audit.record(actor, "api_key.update", "api_key", key.id,
                         f"API key {key.key_id} changed", before=before,
                         after={"label": key.label, "ip_allowlist": allowlist,
                                "callback_url": url, "rate_per_minute": key.rate_per_minute})


def revoke(key: ApiKey, actor: audit.Actor | None = None) -> bool:
    """Stop the key at once (the next call is refused). False if it was revoked already."""
    with write_unit():
        changed = db.session.execute(
            sa.update(ApiKey).where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())).rowcount
        if changed and actor is not None:
            audit.record(actor, "api_key.revoke", "api_key", key.id,
                         f"API key {key.key_id} revoked")
    db.session.refresh(key)
    return bool(changed)


def reset_play_saldo(key: ApiKey) -> None:
    """A sandbox key's play saldo back to its start."""
    if not key.sandbox:
        raise KeyRefused(_("Only a sandbox key has play saldo."))
    with write_unit():
        db.session.execute(sa.update(ApiKey).where(ApiKey.id == key.id)
                           .values(play_balance=PLAY_SALDO))
    db.session.refresh(key)


def by_key_id(key_id: str) -> ApiKey | None:
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.key_id == key_id))


def every_key() -> list[ApiKey]:
    """Every account's keys, newest first (the CLI's list)."""
    return list(db.session.scalars(sa.select(ApiKey).options(selectinload(ApiKey.customer))
                                   .order_by(ApiKey.id.desc())))


def by_ids(ids) -> dict[int, ApiKey]:
    """id -> key (with its account), for the call log's rows."""
    ids = set(ids) - {None}
    if not ids:
        return {}
    return {key.id: key for key in db.session.scalars(
        sa.select(ApiKey).where(ApiKey.id.in_(ids)).options(selectinload(ApiKey.customer)))}


def of_customer(customer_id: int) -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).where(ApiKey.customer_id == customer_id)
                                   .order_by(ApiKey.revoked_at.isnot(None), ApiKey.id.desc())))


def may_make_own(customer: Customer) -> bool:
    """Whether the customer may make keys themselves (their level allows it)."""
    return bool(customer.level is not None and customer.level.api_self_service)
