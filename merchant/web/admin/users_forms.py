"""Forms of the admins page, My account and the audit log's filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from merchant.core.models import OWNER, STAFF
from merchant.web.admin.auth_forms import LONG_ENOUGH
from merchant.web.admin.fields import LineField

ROLE_CHOICES = [SelectChoice(STAFF, _l("Staff: orders only")),
                SelectChoice(OWNER, _l("Owner: everything"))]


class AddAdminForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter their email."))])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=STAFF)
    password = PasswordField(_l("Temporary password"), validators=[
        DataRequired(_l("Choose a temporary password.")),
        LONG_ENOUGH])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Enter your current password."))])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Choose a new password.")),
        LONG_ENOUGH])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Type the new password again.")),
        EqualTo("new", message=_l("The two new passwords differ."))])




class AuditFilterForm(FlaskForm):
    """The audit log's filters: a GET form, so the address can be bookmarked and shared."""
    class Meta:
        csrf = False

    actor = SelectField(_l("Who"), validators=[Optional()])
    action = LineField(_l("Action starts with"), validators=[Optional(), Length(max=64)],
                       render_kw={"placeholder": _l("order. or admin.role")})
    target_type = SelectField(_l("Target"), validators=[Optional()])
    target_id = LineField(_l("Target ID"), validators=[Optional(), Length(max=64)],
                          render_kw={"placeholder": _l("an order ref, a slug, an id")})
