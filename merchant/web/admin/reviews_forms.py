"""The forms of the reviews page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, Length

from merchant.web.admin.fields import LineField


class HideReviewForm(FlaskForm):
    reason = LineField(_l("Why hide it"), validators=[
        DataRequired(_l("Say why you hide this review: the audit log keeps the reason.")),
        Length(max=300)])


class ShowReviewForm(FlaskForm):
    """Only the CSRF token."""
