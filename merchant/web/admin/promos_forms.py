"""The promo code form: the discount typed as a percentage or an amount, times in the shop's
time zone, limits empty for none."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from merchant.catalog import promos
from merchant.core import money, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Product, Promo
from merchant.web.admin.fields import DECIMAL_NUMBER, WHOLE_NUMBER, LineField, MoneyField
from merchant.web.admin.methods_forms import choices, chosen_currency

KINDS = {"percent": _l("Percentage off"), "flat": _l("Amount off")}


class PromoForm(FlaskForm):
    code = LineField(_l("Code"), filters=[promos.normalize], validators=[
        DataRequired(_l("Enter the code customers type, like RAMADAN10.")),
        Regexp(promos.CODE, message=promos.CODE_RULE)])
    kind = RadioField(_l("Discount"), choices=choices(KINDS), default="percent")
    value = LineField(_l("How much off"), render_kw=DECIMAL_NUMBER, validators=[DataRequired(
        _l("Enter the discount: a percentage like 10, or an amount like 5000."))])
    currency = SelectField(_l("Currency"), choices=choices({c: c for c in money.EXPONENTS}))
    product = SelectField(_l("Only for"))
    min_spend = MoneyField(_l("Minimum spend"), currency=chosen_currency, required=False,
                           default=0)
    starts_at = DateTimeLocalField(_l("Starts"), validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[Optional()])
    max_uses = IntegerField(_l("Uses in all"), render_kw=WHOLE_NUMBER, validators=[
        Optional(), NumberRange(min=1, max=10_000_000, message=_l("At least 1, or empty."))])
    max_per_contact = IntegerField(_l("Uses per customer"), render_kw=WHOLE_NUMBER, validators=[
        Optional(), NumberRange(min=1, max=10_000, message=_l("At least 1, or empty."))])
    active = BooleanField(_l("Customers may use it"), default=True)
    allow_below_cost = BooleanField(_l("Allow below cost"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Archived products stay choosable (a code may be for one) but say so, last.
        products = db.session.execute(
            sa.select(Product.id, Product.name, Product.archived_at)
            .order_by(Product.archived_at.is_not(None), Product.name)).all()
        self.product.choices = choices({"": _l("Every product"), **{
            str(pid): _("%(name)s (archived)", name=name) if archived else name
            for pid, name, archived in products}})
        self.amounts: dict[str, int | None] = {}

    @classmethod
    def of(cls, promo: Promo) -> PromoForm:
        """The form filled in with a promo's values (for GET of the edit page)."""
        percent = promo.percent_bp is not None
        return cls(data={
            "code": promo.code, "kind": "percent" if percent else "flat",
            "value": (money.format_bp(promo.percent_bp).removesuffix("%") if percent
                      else money.for_input(promo.amount_off, promo.currency)),
            "currency": promo.currency,
            "product": str(promo.product_id) if promo.product_id else "",
            "min_spend": promo.min_spend,
            "starts_at": shop_settings.to_local(promo.starts_at),
            "ends_at": shop_settings.to_local(promo.ends_at),
            "max_uses": promo.max_uses, "max_per_contact": promo.max_per_contact,
            "active": promo.active, "allow_below_cost": promo.allow_below_cost})

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then the amounts read in the chosen currency."""
        valid = super().validate(extra_validators)
        currency = chosen_currency(self)
        if self.value.data and not self.value.errors:
            try:
                if self.kind.data == "percent":
                    self.amounts["percent_bp"] = promos.percent_to_bp(self.value.data)
                else:
                    self.amounts["amount_off"] = money.to_minor(self.value.data, currency)
            except ValueError:
                example = 50_000 if money.exponent(currency) == 0 else 500
                self.value.errors.append(
                    _l("Enter a percentage more than 0 and up to 100, like 10 or 12.5.")
                    if self.kind.data == "percent" else
                    _l("Enter an amount in %(currency)s, like %(example)s.", currency=currency,
                       example=money.for_input(example, currency)))
                valid = False
        self.amounts["min_spend"] = self.min_spend.data or 0
        return valid

    def values(self) -> dict:
        """The promo's columns from a valid form (times converted to UTC)."""
        return {"code": self.code.data, "percent_bp": self.amounts.get("percent_bp"),
                "amount_off": self.amounts.get("amount_off"), "currency": self.currency.data,
                "product_id": int(self.product.data) if self.product.data else None,
                "min_spend": self.amounts["min_spend"],
                "starts_at": shop_settings.to_utc(self.starts_at.data),
                "ends_at": shop_settings.to_utc(self.ends_at.data),
                "max_uses": self.max_uses.data, "max_per_contact": self.max_per_contact.data,
                "active": self.active.data, "allow_below_cost": self.allow_below_cost.data}


class ActiveForm(FlaskForm):
    """Turn a code on (1) or off (0)."""
    active = SelectField(choices=choices({"1": "on", "0": "off"}))
