"""The order list's filters and the forms of the actions on one order."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from merchant import orders
from merchant.core.validation import FIRST_DAY, LAST_DAY, bounded_id, day_in_range
from merchant.orders.search import Filters
from merchant.web.admin.fields import LineField


def shop_day(form, field):
    """A date filter's day must be one the shop can have orders on (validation.FIRST_DAY to
    LAST_DAY)."""
    if field.data and not day_in_range(field.data):
        raise ValidationError(_l("Enter a day from %(first)s to %(last)s.",
                                 first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class FilterForm(FlaskForm):
    """The list's filters: a plain GET form (no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    q = LineField(_l("Search"), validators=[Optional(), Length(max=254)],
                  description=_l("Reference, account ID, nickname, email or WhatsApp"))
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(code, label) for code, label in orders.LABELS.items()],
        validators=[Optional()])
    product = SelectField(_l("Product"), coerce=_optional_int, validators=[Optional()])
    method = SelectField(_l("Payment method"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional(), shop_day])
    date_to = DateField(_l("To"), validators=[Optional(), shop_day])
    before = HiddenField()

    def set_choices(self, products: list[tuple[int, str]], methods: list[tuple[str, str]]):
        self.product.choices = [SelectChoice("", _l("Any product"))] + [
            SelectChoice(str(id_), name) for id_, name in products]
        self.method.choices = [SelectChoice("", _l("Any method"))] + [
            SelectChoice(code, name) for code, name in methods]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_before(self, field):
        if field.data and bounded_id(field.data) is None:
            raise ValidationError(_l("Not a page of this list."))

    def filters(self) -> Filters:
        return Filters(status=self.status.data or "", product_id=self.product.data,
                       method=self.method.data or "", date_from=self.date_from.data,
                       date_to=self.date_to.data, q=(self.q.data or "").strip(),
                       before=int(self.before.data) if self.before.data else None)


class RetryForm(FlaskForm):
    retry = SubmitField(_l("Retry"))
    fallback = SubmitField(_l("Retry with the fallback supplier"))


class DeliverForm(FlaskForm):
    proof = TextAreaField(_l("Proof of delivery"), validators=[
        DataRequired(_l("Enter the proof of delivery (a serial number or what you sent).")),
        Length(max=2000)])


class RefundForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    api = SubmitField(_l("Refund through the gateway"))
    manual = SubmitField(_l("Record a manual refund"))


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(_l("Write the note first.")),
                                             Length(max=2000)])


class ClearFlagForm(FlaskForm):
    note = LineField(_l("What you checked"), validators=[
        DataRequired(_l("Say what you checked before clearing the flag.")), Length(max=500)])


class ClaimAnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[
        DataRequired(_l("Write the answer first: the customer reads it.")), Length(max=2000)],
        render_kw={"rows": 4})
