"""A customer's saldo in the panel: the balance, the ledger, and the owner's adjustments."""
from __future__ import annotations

import secrets

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length

from merchant.core import money, shop_settings
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import Customer
from merchant.customers import adjustments, ledger
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.fields import MoneyField


def _currency(form=None) -> str:
    return shop_settings.current().currency


class AdjustForm(FlaskForm):
    direction = RadioField(_l("Change"), choices=[
        SelectChoice("add", _l("Add to the saldo")),
        SelectChoice("take", _l("Take from the saldo"))], default="add")
    amount = MoneyField(_l("Amount"), currency=_currency, minimum=1)
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Say why you change this saldo (the reason is kept in the audit log).")),
        Length(max=500)], render_kw={"rows": 2})
    key = HiddenField()



def _page(customer: Customer, form: AdjustForm | None = None, error: str | None = None,
          status: int = 200):
    currency = _currency()
    if form is None:
        form = AdjustForm(formdata=None)
        form.key.data = secrets.token_hex(16)
    return render_template(
        "admin/saldo.html", customer=customer, form=form, error=error,
        balance=ledger.balance(customer.id, currency),
        from_rows=money.Money(ledger.balance_from_rows(customer.id), currency),
        lines=ledger.history(customer.id, limit=200), kinds=ledger.KINDS), status


@bp.get("/customers/<int:customer_id>/saldo")
def customer_saldo(customer_id):
    """A customer's balance and every movement of it."""
    return _page(db.get_or_404(Customer, customer_id))


@bp.post("/customers/<int:customer_id>/saldo")
@owner_only
def customer_saldo_adjust(customer_id):
    """The owner adds to or takes from a customer's saldo, with a reason (audited)."""
    customer = db.get_or_404(Customer, customer_id)
    form = AdjustForm()
    if not form.validate_on_submit():
        return _page(customer, form, status=422)
    amount = money.Money(form.amount.data, _currency())
    try:
        after = adjustments.adjust(customer.id, amount, form.direction.data == "add",
                                   form.reason.data, form.key.data or secrets.token_hex(16),
                                   Actor.of(current_user))
    except adjustments.AdjustmentRefused as exc:
        return _page(customer, form, error=str(exc), status=422)
    flash(_("The saldo of %(who)s is now %(balance)s.",
            who=customer.name or customer.email or customer.whatsapp, balance=after))
    return redirect_to(url_for("admin.customer_saldo", customer_id=customer.id))
