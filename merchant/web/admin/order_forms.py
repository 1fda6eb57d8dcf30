"""The order list's filters and the forms of the actions on one order."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ... import orders
from ...order_search import Filters


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class FilterForm(FlaskForm):
    """The list's filters: a plain GET form (no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=254)],
                    description="Reference, account ID, nickname, email or WhatsApp")
    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(code, label) for code, label in orders.LABELS.items()],
        validators=[Optional()])
    product = SelectField("Product", coerce=_optional_int, validators=[Optional()])
    method = SelectField("Payment method", validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    before = HiddenField()

    def set_choices(self, products: list[tuple[int, str]], methods: list[tuple[str, str]]):
        self.product.choices = [SelectChoice("", "Any product")] + [
            SelectChoice(str(id_), name) for id_, name in products]
        self.method.choices = [SelectChoice("", "Any method")] + [
            SelectChoice(code, name) for code, name in methods]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def validate_before(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("Not a page of this list.")

    def filters(self) -> Filters:
        return Filters(status=self.status.data or "", product_id=self.product.data,
                       method=self.method.data or "", date_from=self.date_from.data,
                       date_to=self.date_to.data, q=(self.q.data or "").strip(),
                       before=int(self.before.data) if self.before.data else None)


class RetryForm(FlaskForm):
    retry = SubmitField("Retry")
    fallback = SubmitField("Retry with the fallback supplier")


class DeliverForm(FlaskForm):
    proof = TextAreaField("Proof of delivery", validators=[
        DataRequired("Enter the proof of delivery (a serial number or what you sent)."),
        Length(max=2000)])


class RefundForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)])
    api = SubmitField("Refund through the gateway")
    manual = SubmitField("Record a manual refund")


class NoteForm(FlaskForm):
    text = TextAreaField("Note", validators=[DataRequired("Write the note first."),
                                             Length(max=2000)])


class ClearFlagForm(FlaskForm):
    note = StringField("What you checked", validators=[
        DataRequired("Say what you checked before clearing the flag."), Length(max=500)])
