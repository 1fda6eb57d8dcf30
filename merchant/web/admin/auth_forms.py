"""Sign-in and first-owner setup forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from merchant.staff.admins import MIN_PASSWORD
from merchant.web.admin.fields import LineField

# The one password-length rule of every form that sets a password.
LONG_ENOUGH = Length(min=MIN_PASSWORD, message=_l("Use at least %(count)s characters.",
                                                  count=MIN_PASSWORD))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


# A phone opens its number pad, and offers the code an app or a text message just gave.
CODE_FIELD = {"inputmode": "numeric", "autocomplete": "one-time-code"}


class CodeForm(FlaskForm):
    code = LineField(_l("Code from your authenticator app"),
                     validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=12)],
                     render_kw=CODE_FIELD)


class RecoveryForm(FlaskForm):
    recovery = LineField(_l("Recovery code"),
                         validators=[DataRequired(_l("Enter one of your recovery codes.")),
                                     Length(max=40)],
                         render_kw={"autocomplete": "off", "autocapitalize": "none",
                                    "spellcheck": "false"})


class SetupForm(FlaskForm):
    email = EmailField(_l("Your email"), validators=[DataRequired(_l("Enter your email."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Choose a password.")),
        LONG_ENOUGH])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password again.")),
        EqualTo("password", message=_l("The two passwords differ."))])
