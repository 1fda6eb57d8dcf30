"""Small pieces shared by the supplier adapters: amounts, account fields, JSON answers, and
the callback whose signature names only the ref_id."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import requests

from merchant.vendors.callback_schemas import read
from merchant.vendors.http import header
from merchant.vendors.suppliers.base import RETRY, ForgedCallback, SupplierError, SupplierResult


def md5_hex(text: str) -> str:
    """The lowercase hex md5 of `text` (UTF-8): every Indonesian supplier's signature."""
    return hashlib.md5(text.encode()).hexdigest()


def rupiah(value: Any) -> int:
    """Whole rupiah (IDR minor units) from a supplier's number: int, float or numeric string.
    :raise ValueError: not a number."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    return int(round(float(str(value).strip())))


def target_and_zone(account: Mapping[str, str]) -> tuple[str, str]:
    """The account's first field (user / player id) and its second (zone, server), or ""."""
    values = [str(value).strip() for value in account.values()]
    return (values[0] if values else ""), (values[1] if len(values) > 1 else "")


def json_object(response: requests.Response) -> dict | None:
    """The answer's JSON object, or None when it is not one (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def ref_signed_callback(vendor: str, signature_header: str, schema, body: bytes,
                        headers: Mapping[str, str], signature: Callable[[str], str],
                        status: Callable[..., SupplierResult | None]) -> SupplierResult:
    """A webhook whose `signature_header` must be `signature(ref_id)` for the body's ref_id.
    That value never changes for one ref_id and does not cover the body, so the outcome is
    read again from the status call: a forged or replayed body cannot deliver anything.
    :raise ForgedCallback: missing or wrong signature.
    :raise SupplierError: signed, but the status could not be read.
    """
    given = header(headers, signature_header) or ""
    if not given:
        raise ForgedCallback(f"{vendor} webhook without {signature_header}")
    ref_id = str(read(schema, body, f"{vendor} webhook")["ref_id"])
    if not hmac.compare_digest(signature(ref_id).encode(),
                               given.strip().encode("utf-8", "replace")):
        raise ForgedCallback(f"{vendor} webhook {signature_header} does not match")
    result = status(ref_id, event=True)
    if result is None or result.status == RETRY:
        why = "no such transaction" if result is None else result.message
        raise SupplierError(f"{vendor} webhook for {ref_id}: {why}")
    return result
