"""Payment methods (owner only): the list with an on/off switch, add from the gateway's
presets or by hand, edit fees, limits, gateway and icon."""
from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.catalog import payment_methods, payment_presets
from merchant.core import audit, media, shop_settings
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.methods_forms import ActiveForm, MethodForm, PresetForm
from merchant.web.htmx import is_htmx


def _actor() -> audit.Actor:
    return audit.Actor.of(current_user)


def _method_or_404(method_id: int):
    method = payment_methods.get(method_id)
    if method is None:
        abort(404)
    return method


@bp.get("/methods")
@owner_only
def methods():
    """Every payment method, and the gateway's usual ones this shop has not added."""
    gateway = current_app.config["GATEWAY"]
    archived = request.args.get("archived") == "1"
    return render_template("admin/methods/index.html",
                           methods=payment_methods.all_methods(archived), archived=archived,
                           gateway=gateway, presets=payment_presets.missing(gateway),
                           preset_form=PresetForm(), active_form=ActiveForm(),
                           refusal=payment_methods.method_refusal)


@bp.post("/methods/presets")
@owner_only
def methods_preset():
    """Add one of the gateway's usual methods, with its usual fee and limits."""
    form = PresetForm()
    if form.validate_on_submit():
        try:
            method = payment_methods.add_preset(form.code.data, _actor())
        except payment_methods.MethodError as exc:
            flash(str(exc))
        else:
            flash(_("Added %(method)s. Check its fee and limits below.", method=method.name))
    return redirect_to(url_for("admin.methods"))


@bp.post("/methods/<int:method_id>/active")
@owner_only
def methods_active(method_id):
    """Turn a method on or off: the row again for htmx, the list for a plain post."""
    method = _method_or_404(method_id)
    form = ActiveForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            payment_methods.set_active(method, form.active.data == "1", _actor())
        except payment_methods.MethodError as exc:
            error, status = _("%(method)s stays off: %(why)s", method=method.name, why=exc), 422
    else:
        error, status = _("Choose on or off."), 422
    if is_htmx():
        return render_template("admin/methods/_row.html", method=method, error=error,
                               active_form=ActiveForm(),
                               refusal=payment_methods.method_refusal), status
    flash(error or (_("%(method)s is on.", method=method.name) if method.active
                   else _("%(method)s is off.", method=method.name)))
    return redirect_to(url_for("admin.methods"))


@bp.route("/methods/new", methods=["GET", "POST"])
@owner_only
def methods_new():
    """A method of the owner's own: any code the chosen gateway has a channel for."""
    form = MethodForm()
    if not form.is_submitted():
        form.currency.data = shop_settings.current().currency
    error = None
    if form.validate_on_submit():
        try:
            values = _with_icon(form)
            method = payment_methods.create(values, _actor())
        except (media.MediaError, payment_methods.MethodError) as exc:
            error = _show(form, exc)
        else:
            flash(_("Added %(method)s.", method=method.name))
            return redirect_to(url_for("admin.methods"))
    status = 422 if error or form.errors else 200
    return render_template("admin/methods/form.html", form=form, method=None,
                           error=error), status


@bp.route("/methods/<int:method_id>", methods=["GET", "POST"])
@owner_only
def methods_edit(method_id):
    """Change a method; its history of changes below the form."""
    method = _method_or_404(method_id)
    form = MethodForm.of(method)
    error = None
    if form.validate_on_submit():
        try:
            values = _with_icon(form)
            payment_methods.update(method, values, _actor())
        except (media.MediaError, payment_methods.MethodError) as exc:
            error = _show(form, exc)
        else:
            flash(_("Saved %(method)s.", method=method.name))
            return redirect_to(url_for("admin.methods"))
    status = 422 if error or form.errors else 200
    return render_template("admin/methods/form.html", form=form, method=method, error=error,
                           history=audit.entries_for("payment_method", method.id)), status


def _with_icon(form: MethodForm) -> dict:
    """The form's values, with an uploaded icon (stored first) in place of the chosen one."""
    values = form.values()
    if form.icon_upload.data:
        values["icon"] = media.save_image(form.icon_upload.data)
    return values


def _show(form: MethodForm, exc: Exception) -> str | None:
    """Put a refusal beside its field; returns the message for the top of the form otherwise."""
    if isinstance(exc, media.MediaError):
        form.icon_upload.errors = [str(exc)]
        return None
    for name, message in exc.errors.items():
        getattr(form, name).errors = [message]
    return _("Nothing was saved: %(why)s", why=exc)
