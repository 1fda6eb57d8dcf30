"""Form fields shared by the panel's forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

from ...validation import is_one_line


class LineField(StringField):
    """A one-line text field (a name, a code, a badge). It refuses line breaks, tabs and other
    control characters: they end up in places that hold one line, such as an email's subject.
    (A browser's text box cannot send them; a paste into a script or a crafted request can.)"""

    def pre_validate(self, form) -> None:
        if isinstance(self.data, str) and not is_one_line(self.data):
            raise StopValidation(_l("Write this on one line: line breaks, tabs and other control "
                                    "characters cannot be used here."))
