"""Account IDs: format rules per product, nickname lookups, and signed verification tokens.

The verify step issues a token bound to the product, the exact account fields and the nickname
it found. Buy accepts the account only with a valid, unexpired token, so what the customer saw
("Player-4F2A") is what gets topped up.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from . import providers
from .models import Product
from .verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE

log = logging.getLogger(__name__)

TOKEN_SALT = "merchant.account-verification"

# Check outcomes beyond the verifier's own FOUND / NOT_FOUND / UNAVAILABLE
INVALID = "invalid"          # the ID does not match the product's format rule


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
            return "Check the highlighted field."
        if self.status == NOT_FOUND:
            return "We could not find this account. Check the ID and try again."
        if self.status == UNAVAILABLE:
            return "We could not check this account right now. Try again in a minute."
        return ""


class TokenError(ValueError):
    """A missing, altered or expired verification token. The message is for the customer."""


def read_fields(product: Product, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The product's account fields from a form, trimmed and checked against their rules.

    Returns (account, errors); errors maps a field name to a message for the customer.
    """
    account, errors = {}, {}
    for spec in product.account_fields:
        name, label = spec["name"], spec["label"]
        value = re.sub(r"\s+", "", str(form.get(name, "") or "")) if spec.get("pattern") \
            else str(form.get(name, "") or "").strip()
        account[name] = value
        if not value:
            errors[name] = f"Enter your {label}."
        elif spec.get("options") and value not in spec["options"]:
            errors[name] = f"Choose your {label} from the list."
        elif spec.get("pattern") and not re.fullmatch(spec["pattern"], value):
            errors[name] = spec.get("hint") or f"This {label} does not look right."
    return account, errors


def check(product: Product, form: Mapping[str, str]) -> AccountCheck:
    """Validate the account fields and look the account up with the product's verifier."""
    account, errors = read_fields(product, form)
    if errors:
        return AccountCheck(INVALID, account, errors=errors)
    verifier = providers.verifier(product.verifier)
    lookup = verifier.lookup(product.verifier_code or product.slug, account)
    if lookup.status == UNAVAILABLE:
        log.warning("nickname lookup %s for %s unavailable: %s",
                    product.verifier, product.slug, lookup.message)
    if lookup.status != FOUND:
        return AccountCheck(lookup.status if lookup.status == NOT_FOUND else UNAVAILABLE, account)
    nickname = lookup.nickname or ""
    return AccountCheck(FOUND, account, nickname, issue_token(product, account, nickname))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(product: Product, account: Mapping[str, str], nickname: str) -> str:
    return _serializer().dumps({"p": product.slug, "a": dict(account), "n": nickname})


def read_token(token: str | None, product: Product, account: Mapping[str, str],
               max_age: int | None = None) -> str:
    """The nickname a token vouches for. :raise TokenError: missing, altered, expired or
    issued for another product or account."""
    if not token:
        raise TokenError("Check your account first, so we know who receives the top-up.")
    max_age = current_app.config["VERIFICATION_MAX_AGE"] if max_age is None else max_age
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("Your account check has expired. Press Check again.") from None
    except BadSignature:
        raise TokenError("The account check is not valid. Press Check again.") from None
    if payload.get("p") != product.slug or payload.get("a") != dict(account):
        raise TokenError("The account changed after it was checked. Press Check again.")
    return payload.get("n", "")
