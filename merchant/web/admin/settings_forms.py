"""The shop settings form. An empty field means the default, which its placeholder shows."""
from __future__ import annotations

from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, Regexp, ValidationError

from merchant.core import i18n, media, money, shop_settings
from merchant.orders.checkout import normalize_whatsapp
from merchant.web.admin.fields import LineField, MoneyField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _colour(value):
    """" 0F766E " -> "#0f766e": the # is optional when typing."""
    value = (value or "").strip().lower()
    return "#" + value if value and not value.startswith("#") else value


class SettingsForm(FlaskForm):
    shop_name = LineField(_l("Shop name"), filters=[_strip], validators=[Length(max=80)])
    logo = FileField(_l("Logo"), render_kw={"accept": media.ACCEPT})
    remove_logo = BooleanField(_l("Use the standard logo again"))
    accent_color = LineField(_l("Accent colour"), filters=[_colour], validators=[
        Optional(), Regexp(r"^#[0-9a-f]{6}$", message=_l("Use a colour like #0f766e: a # and six "
                                                     "digits or letters a-f."))])
    support_whatsapp = LineField(_l("Support WhatsApp"), filters=[_strip],
                                 validators=[Length(max=30)])
    support_email = LineField(_l("Support email"), filters=[_strip],
                              validators=[Length(max=254)])
    currency = SelectField(_l("Currency"))
    timezone = LineField(_l("Time zone"), filters=[_strip], validators=[Length(max=64)])
    default_locale = SelectField(_l("Shop language"))
    terms = TextAreaField(_l("Terms of service"), validators=[Length(max=20_000)],
                          render_kw={"rows": 8})
    refund_policy = TextAreaField(_l("Refund policy"), validators=[Length(max=20_000)],
                                  render_kw={"rows": 8})
    staff_may_refund = BooleanField(_l("Staff may refund orders"))
    offer_rule = SelectField(_l("Which offer an order takes"), default="", choices=[
        SelectChoice("", _l("By priority: in each package's order")),
        SelectChoice("cheapest", _l("Cheapest available first"))])
    cost_tolerance = MoneyField(_l("Cost tolerance"), required=False,
                                currency=lambda form: shop_settings.current().currency)
    privacy_policy = TextAreaField(_l("Privacy policy"), validators=[Length(max=20_000)],
                                   render_kw={"rows": 8})
    legal_name = LineField(_l("Registered business name"), filters=[_strip],
                           validators=[Length(max=120)])
    nib = LineField(_l("NIB (Nomor Induk Berusaha)"), filters=[_strip], validators=[
        Optional(), Regexp(r"^[0-9]{13}$", message=_l("An NIB is 13 digits, as on your OSS "
                                                     "registration."))])
    pse_number = LineField(_l("PSE registration number"), filters=[_strip],
                           validators=[Length(max=60)])
    claim_window_days = IntegerField(_l("Days to report a problem"), validators=[
        Optional(), NumberRange(min=1, max=90, message=_l("Enter a number of days from 1 to "
                                                          "90."))])
    refund_to_saldo = BooleanField(_l("Refund failed orders of signed-in customers to their "
                                      "saldo"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        defaults = shop_settings.defaults()
        self.currency.choices = [
            SelectChoice("", _l("Default (%(value)s)", value=defaults.currency))] + [
            SelectChoice(code, code) for code in money.EXPONENTS]
        self.default_locale.choices = [
            SelectChoice("", _l("Default (%(value)s)",
                                value=i18n.LANGUAGES[defaults.default_locale]))] + [
            SelectChoice(code, name) for code, name in i18n.LANGUAGES.items()]
        self.shop_name.render_kw = {"placeholder": defaults.shop_name}
        self.timezone.render_kw = {"placeholder": defaults.timezone, "list": "time-zones",
                                   "autocomplete": "off"}
        self.accent_color.render_kw = {"placeholder": shop_settings.DEFAULT_ACCENT}
        self.support_whatsapp.render_kw = {"placeholder": "0812 3456 7890", "inputmode": "tel"}
        self.support_email.render_kw = {"placeholder": "help@example.com",
                                        "inputmode": "email"}
        self.nib.render_kw = {"inputmode": "numeric", "placeholder": "1234567890123"}
        self.claim_window_days.render_kw = {
            "placeholder": str(shop_settings.DEFAULT_CLAIM_WINDOW_DAYS), "inputmode": "numeric"}

    def validate_support_whatsapp(self, field):
        if field.data:
            number = normalize_whatsapp(field.data)
            if number is None:
                raise ValidationError(_l("Enter a WhatsApp number like 0812 3456 7890 or "
                                      "+62 812 3456 7890."))
            field.data = number

    def validate_support_email(self, field):
        if field.data:
            try:
                field.data = validate_email(field.data, check_deliverability=False).normalized
            except EmailNotValidError:
                raise ValidationError(_l("Enter an email address like help@example.com.")) from None

    def validate_timezone(self, field):
        if field.data and field.data not in available_timezones():
            raise ValidationError(_l("Enter a time zone like Asia/Jakarta, Asia/Makassar or "
                                  "Asia/Jayapura (a region and a city)."))

    def values(self) -> dict[str, str | bool]:
        """The settings from a valid form, without the logo (the view stores that)."""
        return {"shop_name": self.shop_name.data or "",
                "accent_color": self.accent_color.data or "",
                "support_whatsapp": self.support_whatsapp.data or "",
                "support_email": self.support_email.data or "",
                "currency": self.currency.data or "", "timezone": self.timezone.data or "",
                "default_locale": self.default_locale.data or "",
                "terms": self.terms.data or "", "refund_policy": self.refund_policy.data or "",
                "staff_may_refund": bool(self.staff_may_refund.data),
                "offer_rule": self.offer_rule.data or "",
                "cost_tolerance": self.cost_tolerance.data or 0,
                "privacy_policy": self.privacy_policy.data or "",
                "legal_name": self.legal_name.data or "", "nib": self.nib.data or "",
                "pse_number": self.pse_number.data or "",
                "claim_window_days": self.claim_window_days.data,
                "refund_to_saldo": bool(self.refund_to_saldo.data)}


def zone_suggestions() -> list[str]:
    """Time zones offered while typing: the Asian and Pacific ones first, where shops are."""
    zones = sorted(available_timezones())
    return [z for z in zones if z.startswith(("Asia/", "Australia/", "Pacific/"))] + [
        z for z in zones if not z.startswith(("Asia/", "Australia/", "Pacific/"))
        and "/" in z and not z.startswith(("Etc/", "SystemV/", "US/"))]
