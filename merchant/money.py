"""Money: integer minor units plus an ISO 4217 code. Never floats."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, format_percent, get_currency_symbol
from flask_babel import get_locale

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


def _current_locale():
    return get_locale() or FALLBACK_LOCALE
