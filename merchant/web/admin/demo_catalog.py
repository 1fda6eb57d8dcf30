"""Removing the demo catalog (owner only): what it will do, then doing it."""
from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from merchant.core import audit
from merchant.ops import demo
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.users_forms import ActionForm


@bp.get("/demo")
@owner_only
def demo_catalog():
    """The confirmation: which demo products go, which stay switched off for their orders."""
    return render_template("admin/demo.html", plan=demo.removal_plan(), form=ActionForm())


@bp.post("/demo/remove")
@owner_only
def remove_demo_catalog():
    if not ActionForm().validate_on_submit():
        return render_template("admin/demo.html", plan=demo.removal_plan(), form=ActionForm(),
                               error=_("This form was open too long. Reload the page and try "
                                       "again.")), 400
    done = demo.remove(audit.Actor.of(current_user))
    flash(ngettext("Removed the demo catalog: %(num)d product deleted.",
                   "Removed the demo catalog: %(num)d products deleted.", len(done.deleted)))
    if done.switched_off:
        flash(ngettext("%(num)d product with orders is switched off and kept for them.",
                       "%(num)d products with orders are switched off and kept for them.",
                       len(done.switched_off)))
    return redirect_to(url_for("admin.products"))
