"""Resellers' H2H API in the panel: a customer's keys (the owner makes, edits and revokes them;
a new key's secret is shown once, on the page that answers its creation), the API page with
the latest calls and callbacks, and "Send again" for a callback."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import ApiCall, ApiCallback, ApiKey, Customer
from merchant.h2h import callbacks, calls, keys
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.api_forms import (
    ActionForm,
    OwnerEditKeyForm,
    OwnerKeyForm,
)
from merchant.web.htmx import is_htmx

LOG_ROWS = 100


def _actor() -> audit.Actor:
    return audit.Actor.of(current_user)




def _keys_section(customer: Customer) -> str:
    return url_for("admin.customer_page", customer_id=customer.id, _anchor="api-keys")


@dataclass(frozen=True)
class CustomerApi:
    """What a customer's page shows of their API use."""
    keys: list[ApiKey]
    calls: list[ApiCall]
    callbacks: list[ApiCallback]
    key_of: dict[int, ApiKey]        # the keys by id, for the call log's rows


@bp.app_template_global()
def api_of(customer: Customer) -> CustomerApi:
    """A customer's keys, calls and callbacks (the customer page's API section)."""
    own = keys.of_customer(customer.id)
    return CustomerApi(own, calls.of_keys([key.id for key in own]),
                       callbacks.of_customer(customer.id), {key.id: key for key in own})


@bp.get("/api", endpoint="api")
@owner_only
def api_page():
    """The latest calls to the API across every key, and the callbacks sent to resellers."""
    latest = calls.latest(LOG_ROWS)
    return render_template("admin/api/index.html", calls=latest,
                           key_of=keys.by_ids(call.key_id for call in latest),
                           callbacks=callbacks.latest(LOG_ROWS),
                           pending=callbacks.pending_count())


@bp.route("/customers/<int:customer_id>/api-keys/new", methods=["GET", "POST"])
@owner_only
def api_key_new(customer_id: int):
    """Make a key for the customer; the answer shows its secret, this once."""
    customer = db.get_or_404(Customer, customer_id)
    form = OwnerKeyForm()
    error = None
    if form.validate_on_submit():
        try:
            key, secret = keys.create(
                customer, label=form.label.data, sandbox=form.sandbox,
                ip_allowlist=form.ip_allowlist.data, callback_url=form.callback_url.data,
                rate_per_minute=form.rate_per_minute.data, actor=_actor(),
                created_by=current_user.email)
        except keys.KeyRefused as exc:
            error = str(exc)
        else:
            return render_template("admin/api/new_key.html", customer=customer, key=key,
                                   secret=secret)
    status = 422 if error or form.errors else 200
    return render_template("admin/api/key_form.html", customer=customer, key=None, form=form,
                           error=error, default_rate=current_app.config["H2H_RATE_PER_MINUTE"]
                           ), status


@bp.route("/api-keys/<int:key_id>/edit", methods=["GET", "POST"])
@owner_only
def api_key_edit(key_id: int):
    """Change a key's label, allowlist, callback URL and calls per minute; audited."""
    key = db.get_or_404(ApiKey, key_id)
    form = OwnerEditKeyForm() if request.method == "POST" else OwnerEditKeyForm.of(key)
    error = None
    if form.validate_on_submit():
        try:
            keys.update(key, label=form.label.data, ip_allowlist=form.ip_allowlist.data,
                        callback_url=form.callback_url.data,
                        rate_per_minute=form.rate_per_minute.data, actor=_actor())
        except keys.KeyRefused as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(_("Saved the API key %(key)s.", key=key.key_id))
            return redirect_to(_keys_section(key.customer))
    status = 422 if error or form.errors else 200
    return render_template("admin/api/key_form.html", customer=key.customer, key=key, form=form,
                           error=error, default_rate=current_app.config["H2H_RATE_PER_MINUTE"]
                           ), status


@bp.post("/api-keys/<int:key_id>/revoke")
@owner_only
def api_key_revoke(key_id: int):
    """Stop a key at once: its next call is refused. Audited."""
    key = db.get_or_404(ApiKey, key_id)
    if ActionForm().validate_on_submit():
        if keys.revoke(key, _actor()):
            flash(_("Revoked the API key %(key)s: calls with it are refused from now on.",
                    key=key.key_id))
        else:
            flash(_("The API key %(key)s was revoked already.", key=key.key_id))
    return redirect_to(_keys_section(key.customer))


@bp.post("/api-keys/<int:key_id>/reset-play-saldo")
@owner_only
def api_key_reset(key_id: int):
    """A sandbox key's play saldo back to its start."""
    key = db.get_or_404(ApiKey, key_id)
    if ActionForm().validate_on_submit():
        try:
            keys.reset_play_saldo(key)
        except keys.KeyRefused as exc:
            flash(str(exc))
        else:
            flash(_("The play saldo of %(key)s is back to its start.", key=key.key_id))
    return redirect_to(_keys_section(key.customer))


@bp.post("/api/callbacks/<int:callback_id>/send-again")
@owner_only
def api_send_again(callback_id: int):
    """Send a callback again (a given-up one gets one more try): the worker sends it next."""
    callback = db.get_or_404(ApiCallback, callback_id)
    sent = ActionForm().validate_on_submit()
    if sent:
        callbacks.send_again(callback)
    if is_htmx():
        return render_template("admin/api/_callback_row.html", callback=callback,
                               show_account=request.form.get("back") != "customer",
                               queued=sent), 200 if sent else 422
    flash(_("The callback for %(ref)s is queued: it is sent within a few seconds.",
            ref=callback.api_order.ref_id) if sent else
          _("This form was open too long. Reload the page and try again."))
    if request.form.get("back") == "customer":
        return redirect_to(url_for("admin.customer_page",
                                   customer_id=callback.api_order.customer_id,
                                   _anchor="api-callbacks"))
    return redirect_to(url_for("admin.api", _anchor="callbacks"))
