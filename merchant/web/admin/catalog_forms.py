"""Catalog forms: product, package, bulk price change, price import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
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

from merchant import catalog
from merchant.catalog import account_presets, prices
from merchant.core import media
from merchant.core.validation import MAX_INT, bounded_id
from merchant.supply.offers import Offer
from merchant.vendors import suppliers, verifiers
from merchant.web.admin.fields import WHOLE_NUMBER, LineField, MoneyField

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
FAQ_MAX = 20


def _package_id(value) -> int:
    """A ticked package's id; ValueError (a form error) for one no column can hold."""
    if isinstance(value, int):
        return value
    number = bounded_id(value)
    if number is None:
        raise ValueError(f"{value!r} is not a package")
    return number


def _markup(form, field):
    try:
        prices.parse_markup(field.data)
    except prices.PriceImportError:
        raise ValidationError(_l("Use a percentage like 8%, or a flat amount like 500 "
                              "(not negative).")) from None


class FaqEntryForm(Form):
    """One question and its answer on the product page; both empty: no entry."""
    q = LineField(_l("Question"), validators=[Length(max=200)])
    a = TextAreaField(_l("Answer"), validators=[Length(max=2000)])

    def validate_a(self, field):
        if (self.q.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Write the answer, or clear the question."))
        if (field.data or "").strip() and not (self.q.data or "").strip():
            raise ValidationError(_l("Write the question this answers, or clear the answer."))


class ProductForm(FlaskForm):
    name = LineField(_l("Name"), validators=[DataRequired(_l("Enter the product's name.")),
                                         Length(max=120)])
    slug = LineField(_l("Address (slug)"), validators=[
        DataRequired(_l("Enter the slug: the product's address in the shop.")), Length(max=64),
        Regexp(SLUG, message=_l("Use lowercase letters, digits and single dashes, like "
                           "mobile-legends."))])
    publisher = LineField(_l("Publisher"), validators=[Length(max=120)])
    picture = FileField(_l("Picture"), render_kw={"accept": media.ACCEPT})
    preset = SelectField(_l("Account fields"))
    # One per account field of the product, in order: the message shown when the ID's format
    # is wrong (the shop's default names the field).
    hints = FieldList(LineField(validators=[Length(max=200)]))
    help_text = TextAreaField(_l("Where the customer finds the ID"), validators=[Length(max=2000)])
    verifier = SelectField(_l("Nickname check"))
    verifier_code = LineField(_l("Game code at the nickname provider"),
                              validators=[Length(max=64)])
    allow_unverified = BooleanField(_l("Let customers continue when the check cannot answer"))
    active = BooleanField(_l("On sale"), default=True)
    sort_order = IntegerField(_l("Position"), render_kw=WHOLE_NUMBER, default=0,
                              validators=[InputRequired(_l("Enter a position (0 comes first).")),
                                          NumberRange(min=0, max=100_000)])
    category = SelectField(_l("Category"), default="games")
    featured = BooleanField(_l("Featured: list it first in the shop"))
    meta_title = LineField(_l("Title in search results"), validators=[Length(max=120)])
    meta_description = TextAreaField(_l("Description in search results"),
                                     validators=[Length(max=300)])
    guide = TextAreaField(_l("How to top up"), validators=[Length(max=5000)])
    faq = FieldList(FormField(FaqEntryForm), max_entries=FAQ_MAX)

    def __init__(self, *args, current_preset: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.preset.choices = [(key, _l(label)) for key, label in account_presets.choices()]
        self.category.choices = list(catalog.CATEGORIES.items())
        if current_preset == account_presets.CUSTOM:
            self.preset.choices.insert(0, (account_presets.CUSTOM, _l("Keep this product's own")))
        self.verifier.choices = [("none", _l("None: the customer types the ID twice"))] + [
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


def _package_currency(form) -> str:
    return form.money_currency


OFFERS_MAX = 8          # offer rows a package form takes
RULE_CHOICES = [SelectChoice("", _l("The shop's rule")),
                SelectChoice("priority", _l("By priority: in the order above")),
                SelectChoice("cheapest", _l("Cheapest available first"))]


class OfferForm(Form):
    """One supplier that can deliver the package; no supplier chosen: no offer."""
    rank = IntegerField(_l("Priority"), render_kw=WHOLE_NUMBER, validators=[
        Optional(), NumberRange(min=0, max=1000)])
    supplier = SelectField(_l("Supplier"))
    sku = LineField(_l("Supplier SKU"), validators=[Length(max=64)])
    cost = MoneyField(_l("Cost"), currency=_package_currency, required=False)


class PackageForm(FlaskForm):
    name = LineField(_l("Name"), validators=[DataRequired(_l("Enter the package's name, like "
                                                      "86 Diamonds.")), Length(max=120)])
    quantity = IntegerField(_l("Quantity"), render_kw=WHOLE_NUMBER, default=0, validators=[
        InputRequired(_l("Enter the quantity.")), NumberRange(min=0, max=MAX_INT)])
    bonus = IntegerField(_l("Bonus"), render_kw=WHOLE_NUMBER, default=0, validators=[
        InputRequired(_l("Enter the bonus (0 for none).")), NumberRange(min=0, max=MAX_INT)])
    price = MoneyField(_l("Price"), currency=_package_currency,
                       required_message=_l("Enter the price."),
                       minimum=1, minimum_message=_l("The price must be at least 1."))
    badge = LineField(_l("Badge"), validators=[Length(max=40)])
    offers = FieldList(FormField(OfferForm), max_entries=OFFERS_MAX)
    offer_rule = SelectField(_l("Which offer an order takes"), choices=RULE_CHOICES, default="")
    active = BooleanField(_l("On sale"), default=True)
    sort_order = IntegerField(_l("Position"), render_kw=WHOLE_NUMBER, default=0,
                              validators=[InputRequired(_l("Enter a position (0 comes first).")),
                                          NumberRange(min=0, max=100_000)])
    below_cost = BooleanField(_l("Sell below cost"))

    def __init__(self, *args, currency: str = "IDR", **kwargs):
        self.money_currency = currency      # before the fields read what was typed
        super().__init__(*args, **kwargs)
        self.prepare_offers()

    def prepare_offers(self) -> None:
        """Every offer row's supplier choices, currency and labels (call after adding rows)."""
        names = [SelectChoice(name) for name in suppliers.ADAPTERS]
        for number, entry in enumerate(self.offers, start=1):
            entry.form.money_currency = self.money_currency
            entry.form.supplier.choices = [SelectChoice("", _l("None"))] + names
            entry.form.supplier.label.text = _l("Supplier %(number)s", number=number)

    def validate_offers(self, field):
        chosen = [(entry.supplier, entry.sku.strip()) for entry in self.offer_values()]
        if not chosen:
            raise ValidationError(_l("Choose at least one supplier."))
        if len(set(chosen)) != len(chosen):
            raise ValidationError(_l("Each offer must be another supplier or SKU."))

    def offer_values(self) -> list:
        """The offers typed, in the owner's order (by Priority, else the row's place)."""
        rows = [(entry.form.rank.data if entry.form.rank.data is not None else number + 1, number,
                 entry.form) for number, entry in enumerate(self.offers)
                if entry.form.supplier.data]
        return [Offer(form.supplier.data, (form.sku.data or "").strip(), form.cost.data)
                for _, _, form in sorted(rows, key=lambda row: row[:2])]

    def values(self) -> dict:
        """The package's columns from the form, and its offers."""
        return {"name": self.name.data.strip(), "quantity": self.quantity.data,
                "bonus": self.bonus.data, "price": self.price.data,
                "badge": (self.badge.data or "").strip(), "offers": self.offer_values(),
                "offer_rule": self.offer_rule.data or "",
                "active": self.active.data, "sort_order": self.sort_order.data}


class RepriceForm(FlaskForm):
    markup = LineField(_l("Markup over cost"), validators=[
        DataRequired(_l("Enter a markup, like 500 or 8%.")), _markup])
    round_to = IntegerField(_l("Round up to"), render_kw=WHOLE_NUMBER, default=100, validators=[
        InputRequired(_l("Enter a step, like 100.")),
        NumberRange(min=1, message=_l("At least 1.")), NumberRange(max=MAX_INT)])
    below_cost = BooleanField(_l("Sell below cost"))
    # Ticked rows of the product's package table; none ticked means all of them.
    packages = SelectMultipleField(coerce=_package_id, validate_choice=False)


class ImportForm(FlaskForm):
    supplier = SelectField(_l("Supplier"))
    markup = LineField(_l("Markup over cost"), default="8%", validators=[
        DataRequired(_l("Enter a markup, like 500 or 8%.")), _markup])
    round_to = IntegerField(_l("Round up to"), render_kw=WHOLE_NUMBER, default=100, validators=[
        InputRequired(_l("Enter a step, like 100.")),
        NumberRange(min=1, message=_l("At least 1.")), NumberRange(max=MAX_INT)])
    merge = BooleanField(_l("Add to packages other suppliers sell"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier.choices = [(name, name) for name in prices.importable()]


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token: apply an import's preview, clear a mark."""
