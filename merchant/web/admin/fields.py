"""Form fields the panel's forms share: one-line text, money as people type it, and the
phone's number pad."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

from merchant.core import money
from merchant.core.validation import is_one_line

# A phone opens its number pad for these (type="number" alone still offers letters on some).
WHOLE_NUMBER = {"inputmode": "numeric"}
DECIMAL_NUMBER = {"inputmode": "decimal"}


class MoneyField(StringField):
    """An amount typed as the reader writes it ("14.000", "14,000", "Rp 14.000"); `data` is
    integer minor units, or None when left empty and not `required`. A wrong amount gets one
    message that says what to type, and the page shows back what was typed.

    `currency` is a code, or a function of the form (a currency chosen on the same form).
    """

    def __init__(self, label=None, validators=None, currency: str | Callable = "IDR",
                 required=True, required_message=None, minimum=0, minimum_message=None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.currency = currency
        self.required = required
        self.required_message = required_message or _l("Enter an amount.")
        self.minimum = minimum
        self.minimum_message = minimum_message
        self.typed: str | None = None
        self.flags.required = required

    def currency_code(self) -> str:
        return self.currency(self._form) if callable(self.currency) else self.currency

    def process_formdata(self, valuelist):
        self.typed = valuelist[0] if valuelist else ""
        self.data = None

    def pre_validate(self, form):
        if self.typed is None:
            return
        if not self.typed.strip():
            if self.required:
                raise StopValidation(self.required_message)
            return
        currency = self.currency_code()
        try:
            self.data = money.to_minor(self.typed, currency)
        except ValueError:
            example = 14_000 if money.exponent(currency) == 0 else 1_250
            raise StopValidation(_l("Enter an amount in %(currency)s, like %(example)s.",
                                    currency=currency,
                                    example=money.for_input(example, currency))) from None
        if self.data < self.minimum:
            raise StopValidation(self.minimum_message or _l(
                "Enter at least %(amount)s.",
                amount=money.for_input(self.minimum, currency)))

    def _value(self):
        if self.typed is not None:
            return self.typed
        return "" if self.data is None else money.for_input(self.data, self.currency_code())

    def __call__(self, **kwargs):
        whole = money.exponent(self.currency_code()) == 0
        kwargs.setdefault("inputmode", "numeric" if whole else "decimal")
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(**kwargs)


class LineField(StringField):
    """A one-line text field (a name, a code, a badge). It refuses line breaks, tabs and other
    control characters: they end up in places that hold one line, such as an email's subject.
    (A browser's text box cannot send them; a paste into a script or a crafted request can.)"""

    def pre_validate(self, form) -> None:
        if isinstance(self.data, str) and not is_one_line(self.data):
            raise StopValidation(_l("Write this on one line: line breaks, tabs and other control "
                                    "characters cannot be used here."))
