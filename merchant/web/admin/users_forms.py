"""Forms of the admins page, My account and the audit log's filters."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ...admins import MIN_PASSWORD
from ...models import OWNER, STAFF

ROLE_CHOICES = [SelectChoice(STAFF, "Staff: orders only"), SelectChoice(OWNER, "Owner: everything")]


class AddAdminForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter their email.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default=STAFF)
    password = PasswordField("Temporary password", validators=[
        DataRequired("Choose a temporary password."),
        Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters.")])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


class PasswordForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[DataRequired("Enter your current password.")])
    new = PasswordField("New password", validators=[
        DataRequired("Choose a new password."),
        Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters.")])
    confirm = PasswordField("New password again", validators=[
        DataRequired("Type the new password again."),
        EqualTo("new", message="The two new passwords differ.")])


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app",
                       validators=[DataRequired("Enter the 6-digit code."), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})


class AuditFilterForm(FlaskForm):
    """The audit log's filters: a GET form, so the address can be bookmarked and shared."""
    class Meta:
        csrf = False

    actor = SelectField("Who", validators=[Optional()])
    action = StringField("Action starts with", validators=[Optional(), Length(max=64)],
                         render_kw={"placeholder": "order. or admin.role"})
    target_type = SelectField("Target", validators=[Optional()])
    target_id = StringField("Target ID", validators=[Optional(), Length(max=64)],
                            render_kw={"placeholder": "an order ref, a slug, an id"})
