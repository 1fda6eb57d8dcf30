"""Catalog forms: product, package, bulk price change, price import."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ... import account_presets, catalog, prices, suppliers, verifiers

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
FAQ_MAX = 20


def _markup(form, field):
    try:
        prices.parse_markup(field.data)
    except prices.PriceImportError:
        raise ValidationError("Use a percentage like 8% or a flat amount like 500 "
                              "(not negative).") from None


class FaqEntryForm(Form):
    """One question and its answer on the product page; both empty: no entry."""
    q = StringField("Question", validators=[Length(max=200)])
    a = TextAreaField("Answer", validators=[Length(max=2000)])

    def validate_a(self, field):
        if (self.q.data or "").strip() and not (field.data or "").strip():
            raise ValidationError("Write the answer, or clear the question.")
        if (field.data or "").strip() and not (self.q.data or "").strip():
            raise ValidationError("Write the question this answers, or clear the answer.")


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the product's name."),
                                           Length(max=120)])
    slug = StringField("Address (slug)", validators=[
        DataRequired("Enter the slug: the product's address in the shop."), Length(max=64),
        Regexp(SLUG, message="Use lowercase letters, digits and single dashes, like "
                             "mobile-legends.")])
    publisher = StringField("Publisher", validators=[Length(max=120)])
    picture = FileField("Picture")
    preset = SelectField("Account fields")
    # One per account field of the product, in order: the message shown when the ID's format
    # is wrong (the shop's default names the field).
    hints = FieldList(StringField(validators=[Length(max=200)]))
    help_text = TextAreaField("Where the customer finds the ID", validators=[Length(max=2000)])
    verifier = SelectField("Nickname check")
    verifier_code = StringField("Game code at the nickname provider",
                                validators=[Length(max=64)])
    allow_unverified = BooleanField("Let customers continue when the check cannot answer")
    active = BooleanField("On sale", default=True)
    sort_order = IntegerField("Position", default=0,
                              validators=[InputRequired("Enter a position (0 comes first)."),
                                          NumberRange(min=0, max=100_000)])
    category = SelectField("Category", default="games")
    featured = BooleanField("Featured: list it first in the shop")
    meta_title = StringField("Title in search results", validators=[Length(max=120)])
    meta_description = TextAreaField("Description in search results",
                                     validators=[Length(max=300)])
    guide = TextAreaField("How to top up", validators=[Length(max=5000)])
    faq = FieldList(FormField(FaqEntryForm), max_entries=FAQ_MAX)

    def __init__(self, *args, current_preset: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.preset.choices = account_presets.choices()
        self.category.choices = list(catalog.CATEGORIES.items())
        if current_preset == account_presets.CUSTOM:
            self.preset.choices.insert(0, (account_presets.CUSTOM, "Keep this product's own"))
        self.verifier.choices = [("none", "None: the customer types the ID twice")] + [
            (name, name) for name in verifiers.ADAPTERS]

    def values(self) -> dict:
        """The product's columns from the form (the picture is saved separately)."""
        return {"name": self.name.data.strip(), "slug": self.slug.data.strip(),
                "publisher": (self.publisher.data or "").strip(),
                "help_text": (self.help_text.data or "").strip(),
                "verifier": self.verifier.data,
                "verifier_code": (self.verifier_code.data or "").strip(),
                "allow_unverified": self.allow_unverified.data, "active": self.active.data,
                "sort_order": self.sort_order.data, "image": None,
                "category": self.category.data, "featured": self.featured.data,
                "meta_title": (self.meta_title.data or "").strip(),
                "meta_description": " ".join((self.meta_description.data or "").split()),
                "guide": (self.guide.data or "").strip(),
                "faq": [{"q": entry["q"].strip(), "a": entry["a"].strip()}
                        for entry in self.faq.data if (entry["q"] or "").strip()]}


class PackageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the package's name, like "
                                                        "86 Diamonds."), Length(max=120)])
    quantity = IntegerField("Quantity", default=0, validators=[
        InputRequired("Enter the quantity."), NumberRange(min=0)])
    bonus = IntegerField("Bonus", default=0, validators=[
        InputRequired("Enter the bonus (0 for none)."), NumberRange(min=0)])
    price = IntegerField("Price", validators=[
        InputRequired("Enter the price."), NumberRange(min=1, message="The price must be "
                                                       "at least 1.")])
    badge = StringField("Badge", validators=[Length(max=40)])
    supplier = SelectField("Supplier")
    supplier_sku = StringField("Supplier SKU", validators=[Length(max=64)])
    supplier_cost = IntegerField("Supplier cost", validators=[Optional(), NumberRange(min=0)])
    fallback_supplier = SelectField("Fallback supplier")
    fallback_sku = StringField("Fallback SKU", validators=[Length(max=64)])
    fallback_cost = IntegerField("Fallback cost", validators=[Optional(), NumberRange(min=0)])
    active = BooleanField("On sale", default=True)
    sort_order = IntegerField("Position", default=0,
                              validators=[InputRequired("Enter a position (0 comes first)."),
                                          NumberRange(min=0, max=100_000)])
    below_cost = BooleanField("Sell below cost")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier.choices = [(name, name) for name in suppliers.ADAPTERS]
        self.fallback_supplier.choices = [("", "None")] + self.supplier.choices

    def validate_fallback_supplier(self, field):
        if field.data and field.data == self.supplier.data:
            raise ValidationError("The fallback must be another supplier.")

    def values(self) -> dict:
        """The package's columns from the form."""
        return {"name": self.name.data.strip(), "quantity": self.quantity.data,
                "bonus": self.bonus.data, "price": self.price.data,
                "badge": (self.badge.data or "").strip(), "supplier": self.supplier.data,
                "supplier_sku": (self.supplier_sku.data or "").strip(),
                "supplier_cost": self.supplier_cost.data,
                "fallback_supplier": self.fallback_supplier.data or None,
                "fallback_sku": (self.fallback_sku.data or "").strip(),
                "fallback_cost": self.fallback_cost.data,
                "active": self.active.data, "sort_order": self.sort_order.data}


class RepriceForm(FlaskForm):
    markup = StringField("Markup over cost", validators=[
        DataRequired("Enter a markup, like 8% or 500."), _markup])
    round_to = IntegerField("Round up to", default=100, validators=[
        InputRequired("Enter a step, like 100."), NumberRange(min=1, message="At least 1.")])
    below_cost = BooleanField("Sell below cost")
    # Ticked rows of the product's package table; none ticked means all of them.
    packages = SelectMultipleField(coerce=int, validate_choice=False)


class ImportForm(FlaskForm):
    supplier = SelectField("Supplier")
    markup = StringField("Markup over cost", default="8%", validators=[
        DataRequired("Enter a markup, like 8% or 500."), _markup])
    round_to = IntegerField("Round up to", default=100, validators=[
        InputRequired("Enter a step, like 100."), NumberRange(min=1, message="At least 1.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier.choices = [(name, name) for name in prices.importable()]
