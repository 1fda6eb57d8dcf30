"""The Alerts page's form: a box per kind of alert and channel, the recipients, the limits."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from merchant.alerts import kinds, preferences
from merchant.orders.checkout import normalize_whatsapp
from merchant.web.admin.fields import WHOLE_NUMBER, LineField, MoneyField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def box_name(kind: str, channel: str) -> str:
    return f"send_{kind}_{channel}"


class AlertsForm(FlaskForm):
    whatsapp = LineField(_l("WhatsApp number for alerts"), filters=[_strip],
                         validators=[Length(max=30)],
                         render_kw={"placeholder": "0812 3456 7890", "inputmode": "tel"})
    email = LineField(_l("Email for alerts"), filters=[_strip], validators=[Length(max=254)],
                      render_kw={"placeholder": "owner@example.com", "inputmode": "email"})
    deposit_threshold = MoneyField(_l("Alert when a supplier deposit is below"), required=False)
    spike_failures = IntegerField(_l("Failed supplier attempts"), render_kw=WHOLE_NUMBER,
                                  validators=[InputRequired(_l("Enter a number.")),
                                              NumberRange(1, 1000)])
    spike_minutes = IntegerField(_l("Within minutes"), render_kw=WHOLE_NUMBER,
                                 validators=[InputRequired(_l("Enter a number.")),
                                             NumberRange(1, 1440)])
    summary_hour = SelectField(_l("Daily summary at"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.summary_hour.choices = [SelectChoice("", _l("No daily summary"))] + [
            SelectChoice(str(hour), f"{hour:02d}.00") for hour in range(24)]

    def validate_whatsapp(self, field):
        if field.data:
            number = normalize_whatsapp(field.data)
            if number is None:
                raise ValidationError(_l("Enter a WhatsApp number like 0812 3456 7890 or "
                                         "+62 812 3456 7890."))
            field.data = number

    def validate_email(self, field):
        if field.data:
            try:
                field.data = validate_email(field.data, check_deliverability=False).normalized
            except EmailNotValidError:
                raise ValidationError(_l("Enter an email address like owner@example.com.")) \
                    from None

    def values(self) -> dict:
        return {"whatsapp": self.whatsapp.data or "", "email": self.email.data or "",
                "deposit_threshold": self.deposit_threshold.data,
                "spike_failures": self.spike_failures.data,
                "spike_minutes": self.spike_minutes.data,
                "summary_hour": int(self.summary_hour.data) if self.summary_hour.data else None}

    def channels(self) -> dict[str, list[str]]:
        return {kind: [channel for channel in preferences.CHANNELS
                       if getattr(self, box_name(kind, channel)).data]
                for kind in kinds.KINDS}


for _kind in kinds.KINDS:
    for _channel in preferences.CHANNELS:
        setattr(AlertsForm, box_name(_kind, _channel), BooleanField(
            _l("%(kind)s by %(channel)s", kind=kinds.KINDS[_kind].label,
               channel=preferences.CHANNELS[_channel])))


def form_data(prefs: preferences.Preferences) -> dict:
    data = {"whatsapp": prefs.whatsapp, "email": prefs.email,
            "deposit_threshold": prefs.deposit_threshold,
            "spike_failures": prefs.spike_failures, "spike_minutes": prefs.spike_minutes,
            "summary_hour": "" if prefs.summary_hour is None else str(prefs.summary_hour)}
    for kind, chosen in prefs.channels.items():
        for channel in preferences.CHANNELS:
            data[box_name(kind, channel)] = channel in chosen
    return data
