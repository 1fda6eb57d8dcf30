"""Money: integer minor units plus an ISO 4217 code. Never floats."""
from __future__ import annotations

from dataclasses import dataclass

# Digits after the decimal point, as this shop counts them. IDR is 0, not ISO's 2: sen are out
# of circulation and every Indonesian gateway and supplier takes whole rupiah. Adapters whose
# vendor counts differently (Stripe: IDR has two decimals) convert at their edge.
EXPONENTS = {"IDR": 0, "VND": 0, "JPY": 0, "KRW": 0, "USD": 2, "SGD": 2, "MYR": 2, "PHP": 2,
             "THB": 2, "EUR": 2}
SYMBOLS = {"IDR": "Rp", "USD": "$", "SGD": "S$", "MYR": "RM", "PHP": "₱", "THB": "฿", "EUR": "€"}
# (thousands separator, decimal separator) for display
SEPARATORS = {"IDR": (".", ","), "VND": (".", ","), "EUR": (".", ",")}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


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

    def format(self) -> str:
        """'Rp 15.000', '$12.50'."""
        digits = exponent(self.currency)
        thousands, decimal = SEPARATORS.get(self.currency, (",", "."))
        whole, minor = divmod(abs(self.amount), 10**digits)
        text = f"{whole:,}".replace(",", thousands)
        if digits:
            text += decimal + str(minor).zfill(digits)
        symbol = SYMBOLS.get(self.currency)
        text = f"{symbol} {text}" if symbol and len(symbol) > 1 else f"{symbol or ''}{text}"
        if not symbol:
            text = f"{self.currency} {text}"
        return ("-" if self.amount < 0 else "") + text

    def __str__(self) -> str:
        return self.format()


def fee(subtotal: Money, flat: int, percent_bp: int) -> Money:
    """A payment method's fee: a flat amount plus a percentage of the subtotal, half up."""
    return Money(flat, subtotal.currency) + subtotal.percent_bp(percent_bp)


def format_bp(basis_points: int) -> str:
    """70 -> '0.7%', 250 -> '2.5%', 100 -> '1%'."""
    whole, frac = divmod(basis_points, 100)
    return f"{whole}.{str(frac).zfill(2).rstrip('0')}%" if frac else f"{whole}%"
