"""Promo codes (owner only): the list with uses and an on/off switch, add, edit."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from merchant.catalog import promos
from merchant.core import audit, shop_settings
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.promos_forms import ActiveForm, PromoForm
from merchant.web.htmx import is_htmx

# promos.state() -> what the list and the form show
STATE_LABELS = {"on": _l("On"), "off": _l("Off"), "scheduled": _l("Scheduled"),
                "ended": _l("Ended"), "used up": _l("Used up")}


@bp.context_processor
def promo_state_labels():
    return {"promo_states": STATE_LABELS}


def _actor() -> audit.Actor:
    return audit.Actor.of(current_user)


def _promo_or_404(promo_id: int):
    promo = promos.get(promo_id)
    if promo is None:
        abort(404)
    return promo


@bp.get("/promos", endpoint="promos")
@owner_only
def promos_list():
    """Every code: its discount, limits, uses so far and whether customers may use it."""
    archived = request.args.get("archived") == "1"
    return render_template("admin/promos/index.html", promos=promos.all_promos(archived),
                           archived=archived,
                           active_form=ActiveForm(), state=promos.state,
                           describe=promos.describe)


@bp.route("/promos/new", methods=["GET", "POST"])
@owner_only
def promos_new():
    """A new code."""
    form = PromoForm()
    if not form.is_submitted():
        form.currency.data = shop_settings.current().currency
    error = None
    if form.validate_on_submit():
        try:
            promo = promos.create(form.values(), _actor())
        except promos.PromoError as exc:
            error = _show(form, exc)
        else:
            flash(_("Added the code %(code)s.", code=promo.code))
            return redirect_to(url_for("admin.promos"))
    status = 422 if error or form.errors else 200
    return render_template("admin/promos/form.html", form=form, promo=None,
                           error=error), status


@bp.route("/promos/<int:promo_id>", methods=["GET", "POST"])
@owner_only
def promos_edit(promo_id: int):
    """Change a code; its uses, latest orders and history of changes below the form."""
    promo = _promo_or_404(promo_id)
    form = PromoForm.of(promo)
    error = None
    if form.validate_on_submit():
        try:
            promos.update(promo, form.values(), _actor())
        except promos.PromoError as exc:
            error = _show(form, exc)
        else:
            flash(_("Saved the code %(code)s.", code=promo.code))
            return redirect_to(url_for("admin.promos"))
    status = 422 if error or form.errors else 200
    return render_template("admin/promos/form.html", form=form, promo=promo, error=error,
                           orders=promos.recent_orders(promo), state=promos.state(promo),
                           history=audit.entries_for("promo", promo.id)), status


@bp.post("/promos/<int:promo_id>/active")
@owner_only
def promos_active(promo_id: int):
    """Turn a code on or off: the row again for htmx, the list for a plain post."""
    promo = _promo_or_404(promo_id)
    form = ActiveForm()
    error, status = None, 200
    if form.validate_on_submit():
        promos.set_active(promo, form.active.data == "1", _actor())
    else:
        error, status = _("Choose on or off."), 422
    if is_htmx():
        return render_template("admin/promos/_row.html", promo=promo, error=error,
                               active_form=ActiveForm(), state=promos.state,
                               describe=promos.describe), status
    flash(error or (_("%(method)s is on.", method=promo.code) if promo.active
                    else _("%(method)s is off.", method=promo.code)))
    return redirect_to(url_for("admin.promos"))


def _show(form: PromoForm, exc: promos.PromoError) -> str:
    """Put each refusal beside its field; the sentence for the top of the form."""
    for name, message in exc.errors.items():
        getattr(form, name).errors = [message]
    return _("Nothing was saved: %(why)s", why=exc)
