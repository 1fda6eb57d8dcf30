"""Account IDs: format rules per product, nickname lookups, and signed verification tokens.

The verify step issues a token bound to the product, the exact account fields and the nickname
it found. Buy accepts the account only with a valid, unexpired token, so what the customer saw
("Player-4F2A") is what gets topped up. Two exceptions, both decided on the server at Buy:
- a product whose verifier is "none" cannot be checked: the customer types the ID twice;
- when the lookup provider is down and the operator allows it for the product, the check issues
  an *unverified* token (no nickname), and Buy accepts it only with "Continue without checking"
  ticked, and only while the product still allows it.

Lookups are cached in the database (NicknameCache), so every web process shares them: found for
10 minutes, not found for 2; provider outages are never cached.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from merchant.core import clock
from merchant.core.extensions import db
from merchant.core.models import NicknameCache, Product, utcnow
from merchant.core.transactions import write_unit
from merchant.vendors import registry
from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE, Lookup

log = logging.getLogger(__name__)

TOKEN_SALT = "merchant.account-verification"
NO_VERIFIER = "none"
CACHE_FOUND = dt.timedelta(minutes=10)
CACHE_NOT_FOUND = dt.timedelta(minutes=2)

# Check outcomes beyond the verifier's own FOUND / NOT_FOUND / UNAVAILABLE
INVALID = "invalid"          # the ID does not match the product's format rule
CONFIRMED = "confirmed"      # an uncheckable product: both typed IDs match
LIMITED = "limited"          # too many checks from this client


@dataclass
class AccountCheck:
    status: str                                  # FOUND, NOT_FOUND, UNAVAILABLE or INVALID
    account: dict[str, str]
    nickname: str | None = None
    token: str | None = None
    errors: dict[str, str] = field(default_factory=dict)   # field name -> message

    @property
    def message(self) -> str:
        if self.status == INVALID:
            return _("Check the highlighted field.")
        if self.status == NOT_FOUND:
            return _("We could not find this account. Check the ID and try again.")
        if self.status == UNAVAILABLE:
            return _("We could not check this account right now. Try again in a minute.")
        if self.status == LIMITED:
            return _("Too many checks, wait a minute and try again.")
        if self.status == CONFIRMED:
            return _("Both entries match. This game cannot be checked, so make sure the ID is "
                     "right.")
        return ""

    @property
    def ok(self) -> bool:
        """The customer may go on to Buy with this account as it is."""
        return self.status in (FOUND, CONFIRMED)


class TokenError(ValueError):
    """A missing, altered or expired verification token. The message is for the customer."""


def read_fields(product: Product, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The product's account fields from a form, trimmed and checked against their rules.

    Returns (account, errors); errors maps a field name to a message for the customer.
    """
    account, errors = {}, {}
    for spec in product.account_fields:
        name, label = spec["name"], shown(spec)["label"]
        value = re.sub(r"\s+", "", str(form.get(name, "") or "")) if spec.get("pattern") \
            else str(form.get(name, "") or "").strip()
        account[name] = value
        if not value:
            errors[name] = _("Enter your %(label)s.", label=label)
        elif spec.get("options") and value not in spec["options"]:
            errors[name] = _("Choose your %(label)s from the list.", label=label)
        elif spec.get("pattern") and not re.fullmatch(spec["pattern"], value):
            errors[name] = shown(spec)["hint"] or _("This %(label)s does not look right.",
                                                   label=label)
    return account, errors


def shown(spec: Mapping) -> dict[str, str]:
    """An account field's label, hint and placeholder in the page's language.

    The presets' English (account_presets.N_) is in the catalog; an operator's own words are
    not, and gettext gives them back as typed.
    """
    return {key: _(spec[key]) if spec.get(key) else "" for key in ("label", "hint", "placeholder")}


def confirm_fields(product: Product) -> list[dict]:
    """The fields typed twice on an uncheckable product (free text only; lists need no repeat)."""
    if product.verifier != NO_VERIFIER:
        return []
    return [spec for spec in product.account_fields if not spec.get("options")]


def confirm_name(spec: Mapping) -> str:
    return f"confirm_{spec['name']}"


def _confirm_errors(product: Product, form: Mapping[str, str],
                    account: Mapping[str, str]) -> dict[str, str]:
    errors = {}
    for spec in confirm_fields(product):
        again = re.sub(r"\s+", "", str(form.get(confirm_name(spec), "") or "")) \
            if spec.get("pattern") else str(form.get(confirm_name(spec), "") or "").strip()
        if again != account[spec["name"]]:
            errors[confirm_name(spec)] = _("The two %(label)s entries do not match: type it "
                                           "again.", label=shown(spec)["label"])
    return errors


def check(product: Product, form: Mapping[str, str]) -> AccountCheck:
    """Validate the account fields and look the account up with the product's verifier."""
    account, errors = read_fields(product, form)
    if errors:
        return AccountCheck(INVALID, account, errors=errors)
    if product.verifier == NO_VERIFIER:
        errors = _confirm_errors(product, form, account)
        return AccountCheck(INVALID, account, errors=errors) if errors \
            else AccountCheck(CONFIRMED, account)
    lookup = cached_lookup(product, account)
    if lookup.status == UNAVAILABLE:
        log.warning("nickname lookup %s for %s unavailable: %s",
                    product.verifier, product.slug, lookup.message)
        token = issue_token(product, account, None, unverified=True) \
            if product.allow_unverified else None
        return AccountCheck(UNAVAILABLE, account, token=token)
    if lookup.status != FOUND:
        return AccountCheck(NOT_FOUND, account)
    nickname = lookup.nickname or ""
    return AccountCheck(FOUND, account, nickname, issue_token(product, account, nickname))


def cached_lookup(product: Product, account: Mapping[str, str]) -> Lookup:
    """The verifier's answer, from the shared cache when a recent one exists."""
    try:
        verifier = registry.verifier(product.verifier)
    except registry.VendorNotReady as exc:
        return Lookup(UNAVAILABLE, message=str(exc))
    game = product.verifier_code or product.slug
    if not verifier.cache:
        return verifier.lookup(game, account)
    key = hashlib.sha256(json.dumps([product.verifier, game, dict(account)],
                                    sort_keys=True).encode()).hexdigest()
    now = utcnow()
    hit = db.session.scalar(sa.select(NicknameCache).where(NicknameCache.key == key,
                                                           NicknameCache.expires_at > now))
    if hit is not None:
        return Lookup(hit.status, hit.nickname)
    lookup = verifier.lookup(game, account)
    if lookup.status in (FOUND, NOT_FOUND):
        _remember(key, lookup, now)
    return lookup


def _remember(key: str, lookup: Lookup, now: dt.datetime) -> None:
    ttl = CACHE_FOUND if lookup.status == FOUND else CACHE_NOT_FOUND
    try:
        with write_unit():
            db.session.execute(sa.delete(NicknameCache).where(
                sa.or_(NicknameCache.key == key, NicknameCache.expires_at <= now)))
            db.session.add(NicknameCache(key=key, status=lookup.status,
                                         nickname=(lookup.nickname or "")[:120] or None,
                                         expires_at=now + ttl))
    except IntegrityError:
        pass                    # a concurrent check stored the same answer


class _ClockSigner(TimestampSigner):
    """Tokens age by the domain clock, so a test moves it instead of waiting."""

    def get_timestamp(self) -> int:
        return int(clock.timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT,
                                  signer=_ClockSigner)


def issue_token(product: Product, account: Mapping[str, str], nickname: str | None,
                unverified: bool = False) -> str:
    payload = {"p": product.slug, "a": dict(account), "n": nickname}
    if unverified:
        payload["u"] = 1
    return _serializer().dumps(payload)


def vouch(product: Product, form: Mapping[str, str], account: Mapping[str, str]) -> str | None:
    """What Buy may rely on for this account: the checked nickname, or None for an account the
    customer confirmed without a check. :raise TokenError: with a message for the customer."""
    if product.verifier == NO_VERIFIER:
        errors = _confirm_errors(product, form, account)
        if errors:
            raise TokenError(next(iter(errors.values())))
        return None
    payload = _payload(form.get("verification_token"), product, account)
    if payload.get("u"):
        if not product.allow_unverified:
            raise TokenError(_("This account must be checked before you buy. Press Check "
                               "again."))
        if form.get("continue_unverified") != "1":
            raise TokenError(_("We could not check this account. Tick \u201cContinue without "
                               "checking\u201d to buy anyway, or press Check again."))
        return None
    return payload.get("n", "")


def restore(product: Product, form: Mapping[str, str]) -> AccountCheck | None:
    """The account check a re-rendered form still carries (a valid token for these exact
    fields), so a page shown again after another mistake keeps it; None if there is none."""
    account, errors = read_fields(product, form)
    token = form.get("verification_token")
    if errors or not token:
        return None
    try:
        payload = _payload(token, product, account)
    except TokenError:
        return None
    if payload.get("u"):
        return AccountCheck(UNAVAILABLE, account, token=token) if product.allow_unverified \
            else None
    return AccountCheck(FOUND, account, payload.get("n", ""), token)


def read_token(token: str | None, product: Product, account: Mapping[str, str],
               max_age: int | None = None) -> str:
    """The nickname a token vouches for. :raise TokenError: missing, altered, expired,
    issued for another product or account, or not a verified one."""
    payload = _payload(token, product, account, max_age)
    if payload.get("u"):
        raise TokenError(_("We could not check this account. Press Check again."))
    return payload.get("n", "")


def _payload(token: str | None, product: Product, account: Mapping[str, str],
             max_age: int | None = None) -> dict:
    if not token:
        raise TokenError(_("Check your account first, so we know who receives the top-up."))
    max_age = current_app.config["VERIFICATION_MAX_AGE"] if max_age is None else max_age
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(_("Your account check has expired. Press Check again.")) from None
    except BadSignature:
        raise TokenError(_("The account check is not valid. Press Check again.")) from None
    if payload.get("p") != product.slug or payload.get("a") != dict(account):
        raise TokenError(_("The account changed after it was checked. Press Check again."))
    return payload
