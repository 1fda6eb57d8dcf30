"""The forms for resellers' H2H API keys, in the panel (the owner) and on the account's API page
(the reseller): what a key is called, live or sandbox, where it may be used from, where its
callbacks go; the owner also sets its calls per minute."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, URLField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from merchant.core.models import ApiKey
from merchant.h2h import keys
from merchant.web.admin.fields import WHOLE_NUMBER, LineField

LIVE, SANDBOX = "live", "sandbox"
MAX_RATE = 6000


def _allowlist(form, field) -> None:
    try:
        field.data = keys.read_allowlist(field.data or "")
    except keys.KeyRefused as exc:
        raise ValidationError(str(exc)) from None


def _callback_url(form, field) -> None:
    try:
        field.data = keys.read_callback_url(field.data or "")
    except keys.KeyRefused as exc:
        raise ValidationError(str(exc)) from None


class EditKeyForm(FlaskForm):
    """What can change on a key: its name, its allowlist, its callback URL."""
    label = LineField(_l("Label"), validators=[Length(max=60)],
                      render_kw={"placeholder": _l("e.g. My bot, Website"), "autocomplete": "off"})
    ip_allowlist = LineField(_l("Allowed IP addresses"), validators=[_allowlist],
                             render_kw={"placeholder": "203.0.113.7 198.51.100.0/24",
                                        "autocomplete": "off", "spellcheck": "false"})
    callback_url = URLField(_l("Callback URL"), validators=[_callback_url],
                            render_kw={"placeholder": "https://example.com/callback",
                                       "autocomplete": "off"})

    @classmethod
    def of(cls, key: ApiKey) -> EditKeyForm:
        return cls(data={"label": key.label, "ip_allowlist": key.ip_allowlist,
                         "callback_url": key.callback_url,
                         "rate_per_minute": key.rate_per_minute})


class KeyForm(EditKeyForm):
    """A new key: the same, and live or sandbox (a key stays what it was made)."""
    mode = RadioField(_l("Kind of key"), default=LIVE, choices=[
        SelectChoice(LIVE, _l("Live: real orders, paid from the saldo")),
        SelectChoice(SANDBOX, _l("Sandbox: test orders with play saldo, nothing is delivered"))])

    @property
    def sandbox(self) -> bool:
        return self.mode.data == SANDBOX


class RateMixin:
    rate_per_minute = IntegerField(_l("Calls per minute"), render_kw=WHOLE_NUMBER,
                                   validators=[Optional(), NumberRange(min=1, max=MAX_RATE)])


class OwnerKeyForm(RateMixin, KeyForm):
    pass


class OwnerEditKeyForm(RateMixin, EditKeyForm):
    pass


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""
