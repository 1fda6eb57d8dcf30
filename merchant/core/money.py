"""Money: integer minor units plus an ISO 4217 code. Never floats."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
    get_group_symbol,
)
from flask_babel import get_locale

from merchant.core.validation import MAX_INT

# Formatting outside a request (the CLI, the worker) reads as the shop does at home.
FALLBACK_LOCALE = "id_ID"

# Digits after the decimal point, as this shop counts them. IDR is 0, not ISO's 2: sen are out
# of circulation and every Indonesian gateway and supplier takes whole rupiah. Adapters whose
# vendor counts differently (Stripe: IDR has two decimals) convert at their edge.
EXPONENTS = {"IDR": 0, "VND": 0, "JPY": 0, "KRW": 0, "USD": 2, "SGD": 2, "MYR": 2, "PHP": 2,
             "THB": 2, "EUR": 2}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def symbol(currency: str, locale=None) -> str:
    """'Rp' for IDR: the currency's sign as the locale writes it."""
    return get_currency_symbol(currency, locale=locale or _current_locale())


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"money amounts are integer minor units, not {self.amount!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def percent_bp(self, basis_points: int) -> Money:
        """basis_points/10000 of this amount, rounded half up (away from zero)."""
        product = abs(self.amount) * basis_points
        rounded = (product + 5000) // 10000
        return Money(rounded if self.amount >= 0 else -rounded, self.currency)

    def format(self, locale=None) -> str:
        """'Rp 15.000' (id_ID and en_ID), 'US$12,50': Babel's format for the locale.

        `locale` defaults to the request's (Flask-Babel). A symbol made of letters stands apart
        from the digits, as Indonesian shops write it ("Rp 15.000", not "Rp15.000").
        """
        locale = locale or _current_locale()
        value = Decimal(self.amount).scaleb(-exponent(self.currency))
        text = format_currency(value, self.currency, locale=locale)
        sign = symbol(self.currency, locale)
        if sign[-1:].isalpha() and f"{sign}\N{NO-BREAK SPACE}" not in text:
            text = text.replace(sign, f"{sign} ", 1)
        return text

    def __str__(self) -> str:
        return self.format()


def fee(subtotal: Money, flat: int, percent_bp: int) -> Money:
    """A payment method's fee: a flat amount plus a percentage of the subtotal, half up."""
    return Money(flat, subtotal.currency) + subtotal.percent_bp(percent_bp)


def format_bp(basis_points: int, locale=None) -> str:
    """70 -> '0,7%' in id_ID, '0.7%' in en; 100 -> '1%'."""
    return format_percent(Decimal(basis_points) / 10_000, "#,##0.##%",
                          locale=locale or _current_locale())


# --- amounts typed by a person -----------------------------------------------------------

_GROUPED = r"\d{1,3}(?:%s\d{3})+"      # 1.250.000 with "." as the group separator


def to_minor(text: str, currency: str, locale=None) -> int:
    """An amount as a person types it -> integer minor units.

    "14.000", "14,000", "14000", "Rp 14.000", "Rp. 14.000" (IDR) -> 14000; "0,30" and "0.30"
    (USD) -> 30. A separator before exactly three digits groups thousands, except where the
    currency has decimals and the reader's language (`locale`, else the request's) does not
    group with it: "1.234" is 1234 dollars in Indonesian and 1.234 (refused) in English.
    :raise ValueError: not such an amount (negative, too many decimals, too large, no number).
    """
    cleaned = _without_currency(text or "", currency, locale)
    digits = exponent(currency)
    whole, fraction = _split(cleaned, digits, locale)
    if fraction.rstrip("0")[digits:]:          # 14.000,00 is fine, 0,305 dollars is not
        raise ValueError(text)
    amount = int(whole) * 10 ** digits + int((fraction + "0" * digits)[:digits] or 0)
    if amount > MAX_INT:
        raise ValueError(text)
    return amount


def _without_currency(text: str, currency: str, locale) -> str:
    """The number alone: the currency's code or sign before or after it, and spaces, gone."""
    cleaned = text.replace("\N{NO-BREAK SPACE}", " ").replace("_", "").strip()
    signs = {currency, symbol(currency, locale), symbol(currency, "id_ID"), symbol(currency, "en")}
    for sign in sorted(signs, key=len, reverse=True):
        if cleaned.upper().startswith(sign.upper()):
            cleaned = cleaned[len(sign):].removeprefix(".")      # "Rp. 14.000"
            break
    for sign in sorted(signs, key=len, reverse=True):
        if cleaned.upper().endswith(sign.upper()):
            cleaned = cleaned[:-len(sign)]
            break
    return cleaned.replace(" ", "")


def _split(cleaned: str, digits: int, locale) -> tuple[str, str]:
    """(whole digits, fraction digits) of a number written with "." and "," either way."""
    if not re.fullmatch(r"\d[\d.,]*", cleaned) or not cleaned[-1].isdigit():
        raise ValueError(cleaned)
    separators = set(re.sub(r"\d", "", cleaned))
    last = max(cleaned.rfind("."), cleaned.rfind(","))
    if last < 0:
        return cleaned, ""
    mark, tail = cleaned[last], cleaned[last + 1:]
    if len(separators) == 2:
        decimal = mark                      # 1.234,50 or 1,234.50: the last one is decimal
    elif cleaned.count(mark) > 1:
        decimal = None                      # 1.250.000
    elif len(tail) == 3 and (digits == 0 or mark == get_group_symbol(locale or
                                                                        _current_locale())):
        decimal = None                      # 14.000 where "." groups thousands
    else:
        decimal = mark
    whole, fraction = (cleaned[:last], tail) if decimal else (cleaned, "")
    group = next(iter(separators - {decimal}), None)
    if group and not re.fullmatch(_GROUPED % re.escape(group), whole):
        raise ValueError(cleaned)
    return whole.replace(group or "", ""), fraction


def for_input(amount: int, currency: str, locale=None) -> str:
    """14000 (IDR) -> "14.000" in Indonesian, "14,000" in English: an amount as a form field
    shows it, which to_minor reads back in the same language."""
    digits = exponent(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(amount).scaleb(-digits), pattern,
                          locale=locale or _current_locale())


def _current_locale():
    return get_locale() or FALLBACK_LOCALE
