"""The payment method form: amounts typed as the customer sees them, fees as a percentage."""
from __future__ import annotations

import os
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from merchant.core import money
from merchant.core.models import PaymentMethod
from merchant.vendors.payments import ADAPTERS
from merchant.web.admin.fields import DECIMAL_NUMBER, WHOLE_NUMBER, LineField, MoneyField

KINDS = {"qr": _l("QR code (QRIS)"), "ewallet": _l("E-wallet"), "va": _l("Virtual account"),
         "card": _l("Card")}
MAX_PERCENT = Decimal(50)
ICON_FOLDER = "icons/pay"


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def choices(pairs: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs.items()]


def icon_choices(current: str = "") -> dict[str, str]:
    """The bundled payment icons (static/icons/pay/*.svg), and the method's own if it differs."""
    folder = os.path.join(current_app.static_folder, ICON_FOLDER)
    names = sorted(name for name in os.listdir(folder) if name.endswith(".svg"))
    icons = {f"{ICON_FOLDER}/{name}": name.removesuffix(".svg") for name in names}
    if current and current not in icons:
        icons = {current: _l("Uploaded picture"), **icons}
    return icons


def percent_to_bp(text: str) -> int:
    """"1.5" or "1,5 %" -> 150 basis points. :raise ValueError: not a percentage we take."""
    cleaned = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    try:
        percent = Decimal(cleaned or "0")
    except ArithmeticError:     # InvalidOperation, or Overflow past Decimal's exponent range
        raise ValueError(text) from None
    if not percent.is_finite() or percent < 0 or percent > MAX_PERCENT:
        raise ValueError(text)
    bp = percent * 100
    if bp != bp.to_integral_value():
        raise ValueError(text)
    return int(bp)


def bp_to_percent(bp: int) -> str:
    """150 -> "1.5", 70 -> "0.7", 200 -> "2"."""
    return f"{Decimal(bp) / 100:f}"


def chosen_currency(form) -> str:
    """The currency picked on the same form: its amounts are read in it."""
    return form.currency.data or "IDR"


class MethodForm(FlaskForm):
    name = LineField(_l("Name customers see"), validators=[
        DataRequired(_l("Enter the name customers see, like GoPay.")), Length(max=80)])
    code = LineField(_l("Code"), filters=[_upper], validators=[
        DataRequired(_l("Enter a code, like GOPAY.")),
        Regexp(r"^[A-Z0-9_]{2,32}$", message=_l("Use 2-32 capital letters, digits or _, like "
                                            "BCA_VA."))])
    kind = SelectField(_l("Kind"), choices=choices(KINDS))
    gateway = SelectField(_l("Gateway"))
    currency = SelectField(_l("Currency"),
                           choices=choices({code: code for code in money.EXPONENTS}))
    fee_flat = MoneyField(_l("Flat fee"), currency=chosen_currency, required=False, default=0)
    fee_percent = LineField(_l("Percentage fee (%)"), default="0", render_kw=DECIMAL_NUMBER)
    min_amount = MoneyField(_l("Smallest total"), currency=chosen_currency, required=False,
                            default=0)
    max_amount = MoneyField(_l("Largest total"), currency=chosen_currency, required=False)
    icon = SelectField(_l("Icon"))
    icon_upload = FileField(_l("Or upload an icon"))
    sort_order = IntegerField(_l("Position"), default=0, render_kw=WHOLE_NUMBER, validators=[
        InputRequired(_l("Enter a position (0 comes first).")), NumberRange(min=0, max=100_000)])
    active = BooleanField(_l("Offer it to customers"), default=True)

    def __init__(self, *args, current_icon: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        default = current_app.config["GATEWAY"]
        self.gateway.choices = choices({"": _l("The shop's gateway (%(gateway)s)", gateway=default),
                                        **{name: name for name in ADAPTERS}})
        self.icon.choices = choices(icon_choices(current_icon))
        self.amounts: dict[str, int | None] = {}

    @classmethod
    def of(cls, method: PaymentMethod) -> MethodForm:
        """The form filled in with a method's values (for GET of the edit page)."""
        return cls(current_icon=method.icon, data={
            "name": method.name, "code": method.code, "kind": method.kind,
            "gateway": method.gateway or "", "currency": method.currency,
            "fee_flat": method.fee_flat, "fee_percent": bp_to_percent(method.fee_percent_bp),
            "min_amount": method.min_amount, "max_amount": method.max_amount,
            "icon": method.icon, "sort_order": method.sort_order, "active": method.active})

    def validate(self, extra_validators=None) -> bool:
        """The field checks (amounts are read in the chosen currency), then the percentage and
        the range."""
        valid = super().validate(extra_validators)
        try:
            self.amounts["fee_percent_bp"] = percent_to_bp(self.fee_percent.data)
        except ValueError:
            self.fee_percent.errors.append(
                _l("Enter a percentage from 0 to %(max)s, like 1.5 (at most two decimals).",
                   max=MAX_PERCENT))
            valid = False
        low, high = self.min_amount.data or 0, self.max_amount.data
        if not self.min_amount.errors and high is not None and high < low:
            self.max_amount.errors.append(
                _l("The largest total must be at least the smallest."))
            valid = False
        return valid

    def values(self) -> dict:
        """The method's columns from a valid form (an uploaded icon replaces `icon` later)."""
        return {"name": self.name.data.strip(), "code": self.code.data, "kind": self.kind.data,
                "gateway": self.gateway.data or None, "currency": self.currency.data,
                "fee_flat": self.fee_flat.data or 0,
                "fee_percent_bp": self.amounts["fee_percent_bp"],
                "min_amount": self.min_amount.data or 0,
                "max_amount": self.max_amount.data, "icon": self.icon.data,
                "sort_order": self.sort_order.data, "active": self.active.data}


class PresetForm(FlaskForm):
    """Add one of the gateway's usual methods with a tap."""
    code = LineField(validators=[DataRequired()])


class ActiveForm(FlaskForm):
    """Turn a method on (1) or off (0)."""
    active = SelectField(choices=choices({"1": "on", "0": "off"}))
