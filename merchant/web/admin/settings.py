"""Shop settings (owner only): name, logo, accent colour, support contacts, currency, time zone,
terms and refund policy, all shown to customers."""
from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core import audit, media, shop_settings
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.settings_forms import SettingsForm, zone_suggestions


@bp.route("/settings", methods=["GET", "POST"])
@owner_only
def settings():
    """The settings form; an empty field means the default its placeholder shows."""
    form = SettingsForm(data=_typed_values())
    if form.validate_on_submit():
        values = form.values()
        try:
            if form.logo.data:
                values["logo"] = media.save_image(form.logo.data)
            elif form.remove_logo.data:
                values["logo"] = ""
        except media.MediaError as exc:
            form.logo.errors = [str(exc)]
        else:
            shop_settings.update(values, audit.Actor.of(current_user))
            flash(_("Settings saved. Customers see them from now on."))
            return redirect_to(url_for("admin.settings"))
    status = 422 if form.errors else 200
    return render_template("admin/settings/index.html", form=form, zones=zone_suggestions(),
                           current=shop_settings.current(),
                           defaults=shop_settings.defaults()), status


def _typed_values() -> dict[str, str]:
    """The stored settings as the form's starting values. Not the logo: a file field holds only
    what is uploaded now, and an empty upload means "keep the logo you have"."""
    values = shop_settings.stored()
    values.pop("logo", None)
    return values
