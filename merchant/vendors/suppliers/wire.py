"""Small readers shared by the supplier adapters: amounts, account fields, JSON answers."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import requests


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
