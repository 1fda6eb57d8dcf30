"""Orders as CSV for a range of the shop's days (owner only), streamed as it is read."""
from __future__ import annotations

import datetime as dt

from flask import Response, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired, ValidationError

from merchant.core import shop_settings
from merchant.orders import export as order_export
from merchant.web.admin import bp, owner_only
from merchant.web.admin.order_forms import shop_day


class ExportForm(FlaskForm):
    # A GET form: the link can be bookmarked, and there is nothing to forge.
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), name="from",
                          validators=[InputRequired(_l("Enter the first day, like 2026-11-01.")),
                                      shop_day],
                          invalid_value_message=_l(
                              "Write the first day as a date, like 2026-11-01."))
    date_to = DateField(_l("To (included)"), name="to",
                        validators=[InputRequired(_l("Enter the last day, like 2026-11-30.")),
                                    shop_day],
                        invalid_value_message=_l("Write the last day as a date, like 2026-11-30."))

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The last day is before the first day."))


@bp.get("/export")
@owner_only
def export():
    """The date range form, filled with the last 30 days of the shop."""
    today = shop_settings.local_today()
    form = ExportForm(formdata=None, date_from=today - dt.timedelta(days=29), date_to=today)
    return render_template("admin/export.html", form=form)


@bp.get("/export/orders.csv")
@owner_only
def export_csv():
    """The orders created from ?from= to ?to= (the shop's days, both included) as CSV."""
    form = ExportForm(formdata=request.args)
    if not form.validate():
        return render_template("admin/export.html", form=form), 422
    first, last = form.date_from.data, form.date_to.data
    name = order_export.filename(first, last)
    return Response(stream_with_context(order_export.csv_lines(first, last)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
