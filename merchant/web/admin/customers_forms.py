"""The panel's customer and price-level forms."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation

from merchant.core import money
from merchant.core.models import LEVEL_DISCOUNT, LEVEL_MARKUP, PriceLevel
from merchant.web.admin.fields import DECIMAL_NUMBER, WHOLE_NUMBER, LineField, MoneyField
from merchant.web.admin.methods_forms import choices, chosen_currency

KINDS = {LEVEL_DISCOUNT: _l("A discount off the retail price"),
         LEVEL_MARKUP: _l("A markup over the supplier's cost")}


class PercentField(LineField):
    """A percentage as typed ("5", "7,5"); `bp` is basis points (500 = 5 %)."""
    bp: int = 0

    def pre_validate(self, form):
        super().pre_validate(form)
        typed = (self.data or "0").strip().rstrip("%").replace(",", ".") or "0"
        try:
            value = Decimal(typed) * 100
            if value != value.to_integral_value() or not 0 <= value <= 100_000:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            raise StopValidation(_l("Enter a percentage like 5 or 7.5.")) from None
        self.bp = int(value)


class LevelForm(FlaskForm):
    name = LineField(_l("Name"), validators=[DataRequired(_l("Name the level, like Reseller.")),
                                             Length(max=40)])
    sort_order = IntegerField(_l("Rank (higher is better)"), default=1, render_kw=WHOLE_NUMBER,
                              validators=[NumberRange(min=0, max=1000)])
    kind = RadioField(_l("Price rule"), choices=choices(KINDS), default=LEVEL_DISCOUNT)
    percent = PercentField(_l("Percent"), default="0", render_kw=DECIMAL_NUMBER)
    currency = SelectField(_l("Currency"), choices=choices({c: c for c in money.EXPONENTS}),
                           default="IDR")
    flat = MoneyField(_l("Plus a flat amount (markup only)"), currency=chosen_currency,
                      required=False, default=0)
    round_to = MoneyField(_l("Round up to"), currency=chosen_currency, default=100, minimum=1)
    allow_below_cost = BooleanField(_l("Allow below cost"))
    spend_threshold = MoneyField(_l("Customers move up to it after spending"),
                                 currency=chosen_currency, required=False)
    spend_days = IntegerField(_l("... over the last (days)"), default=30, render_kw=WHOLE_NUMBER,
                              validators=[NumberRange(min=1, max=3650)])
    api_self_service = BooleanField(_l("Customers at this level may make their own API keys"))

    @classmethod
    def of(cls, level: PriceLevel) -> LevelForm:
        form = cls(data={"name": level.name, "sort_order": level.sort_order,
                         "kind": level.kind, "percent": money.format_bp(level.percent_bp, "en")
                         .rstrip("%"), "currency": level.currency, "flat": level.flat,
                         "round_to": level.round_to, "allow_below_cost": level.allow_below_cost,
                         "spend_threshold": level.spend_threshold,
                         "spend_days": level.spend_days,
                         "api_self_service": level.api_self_service})
        return form

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "sort_order": self.sort_order.data,
                "kind": self.kind.data, "percent_bp": self.percent.bp,
                "flat": self.flat.data or 0 if self.kind.data == LEVEL_MARKUP else 0,
                "round_to": self.round_to.data or 1,
                "allow_below_cost": bool(self.allow_below_cost.data),
                "spend_threshold": self.spend_threshold.data,
                "spend_days": self.spend_days.data, "currency": self.currency.data,
                "api_self_service": bool(self.api_self_service.data)}


class HandPriceForm(FlaskForm):
    package = IntegerField(validators=[DataRequired()])
    price = MoneyField(_l("Price"), currency=chosen_currency, required=False)
    currency = SelectField(choices=choices({c: c for c in money.EXPONENTS}), default="IDR")


class CustomerLevelForm(FlaskForm):
    level = SelectField(_l("Price level"))


class PlainForm(FlaskForm):
    """A button that only needs the CSRF token."""
