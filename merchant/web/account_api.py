"""A reseller's H2H API page at /account/api: their keys (made by the shop, or by themselves
when their price level allows it), their calls and callbacks with "Send again", their sandbox
keys' play saldo, and the way to the documentation.

Everything here is the signed-in customer's own: another account's key or callback is a 404,
as if it did not exist. Forms carry Flask-WTF's token (besides web/cross_origin.py), and the
pages are never kept by a cache: one of them shows a new key's secret, once.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import ApiCall, ApiCallback, ApiKey, Customer
from merchant.h2h import callbacks, calls, keys
from merchant.web.admin.api_forms import ActionForm, EditKeyForm, KeyForm
from merchant.web.customer_session import customer_or_sign_in
from merchant.web.htmx import is_htmx, vary

bp = Blueprint("account_api", __name__, url_prefix="/account/api")

@bp.after_request
def private(response):
    """The customer's own page (and once their new secret): never kept by any cache."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


def _actor(customer: Customer) -> audit.Actor:
    """The customer, in the audit log, for the keys they make and revoke themselves."""
    return audit.Actor(f"customer {customer.id}", None, "customer")


def _contact(customer: Customer) -> str:
    return customer.email or customer.whatsapp or ""


def _customer():
    """The signed-in customer, or (None, the way to the sign-in page and back to this one)."""
    return customer_or_sign_in(url_for("account_api.index"))


def _own_key(customer: Customer, key_id: int) -> ApiKey:
    """:raise 404: not a key of this customer's."""
    key = db.session.get(ApiKey, key_id)
    if key is None or key.customer_id != customer.id:
        abort(404)
    return key


@dataclass(frozen=True)
class Page:
    keys: list[ApiKey]
    calls: list[ApiCall]
    callbacks: list[ApiCallback]
    key_of: dict[int, ApiKey]
    may_make: bool


def _page(customer: Customer, status: int = 200, notice: str | None = None):
    own = keys.of_customer(customer.id)
    page = Page(own, calls.of_keys([key.id for key in own]), callbacks.of_customer(customer.id),
                {key.id: key for key in own}, keys.may_make_own(customer))
    return vary(render_template("account/api/index.html", customer=customer, page=page,
                                form=ActionForm(), docs=url_for("api.docs"),
                                contact=_contact(customer),
                                notice=notice_text(notice or request.args.get("done"))), status)


@bp.get("")
def index():
    """The customer's keys, calls and callbacks."""
    customer, away = _customer()
    if away:
        return away
    return _page(customer)


@bp.route("/keys/new", methods=["GET", "POST"])
def new_key():
    """Make a key (when the customer's level allows it); the answer shows its secret, once."""
    customer, away = _customer()
    if away:
        return away
    if not keys.may_make_own(customer):
        return _page(customer, status=403)
    form = KeyForm()
    error = None
    if form.validate_on_submit():
        try:
            key, secret = keys.create(customer, label=form.label.data, sandbox=form.sandbox,
                                      ip_allowlist=form.ip_allowlist.data,
                                      callback_url=form.callback_url.data,
                                      actor=_actor(customer), created_by=_contact(customer))
        except keys.KeyRefused as exc:
            error = str(exc)
        else:
            return render_template("account/api/new_key.html", key=key, secret=secret,
                                   docs=url_for("api.docs"))
    status = 422 if error or form.errors else 200
    return render_template("account/api/key_form.html", form=form, key=None,
                           error=error), status


@bp.route("/keys/<int:key_id>/edit", methods=["GET", "POST"])
def edit_key(key_id: int):
    """Change one's own key: its label, allowlist and callback URL."""
    customer, away = _customer()
    if away:
        return away
    key = _own_key(customer, key_id)
    if key.revoked_at is not None:
        abort(404)
    form = EditKeyForm() if request.method == "POST" else EditKeyForm.of(key)
    error = None
    if form.validate_on_submit():
        try:
            keys.update(key, label=form.label.data, ip_allowlist=form.ip_allowlist.data,
                        callback_url=form.callback_url.data, actor=_actor(customer))
        except keys.KeyRefused as exc:
            db.session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("account_api.index", done="saved"), code=303)
    status = 422 if error or form.errors else 200
    return render_template("account/api/key_form.html", form=form, key=key,
                           error=error), status


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int):
    """Stop one's own key at once (when the level lets the customer manage keys)."""
    customer, away = _customer()
    if away:
        return away
    key = _own_key(customer, key_id)
    if not keys.may_make_own(customer):
        return _page(customer, status=403)
    if not ActionForm().validate_on_submit():
        return _page(customer, status=400, notice="expired")
    keys.revoke(key, _actor(customer))
    return redirect(url_for("account_api.index", done="revoked"), code=303)


@bp.post("/keys/<int:key_id>/reset-play-saldo")
def reset_play_saldo(key_id: int):
    """A sandbox key's play saldo back to its start."""
    customer, away = _customer()
    if away:
        return away
    key = _own_key(customer, key_id)
    if not key.sandbox:
        abort(404)
    if not ActionForm().validate_on_submit():
        return _page(customer, status=400, notice="expired")
    keys.reset_play_saldo(key)
    return redirect(url_for("account_api.index", done="reset"), code=303)


@bp.post("/callbacks/<int:callback_id>/send-again")
def send_again(callback_id: int):
    """Send one of one's own callbacks again: the worker sends it within seconds."""
    customer, away = _customer()
    if away:
        return away
    callback = db.session.get(ApiCallback, callback_id)
    if callback is None or callback.api_order.customer_id != customer.id:
        abort(404)
    sent = ActionForm().validate_on_submit()
    if sent:
        callbacks.send_again(callback)
    if is_htmx():
        return vary(render_template("account/api/_callback.html", callback=callback,
                                    form=ActionForm(), queued=sent), 200 if sent else 400)
    if not sent:
        return _page(customer, status=400, notice="expired")
    return redirect(url_for("account_api.index", done="queued", _anchor="callbacks"), code=303)


def notice_text(notice: str | None) -> str | None:
    """What the page says after a change (?done=...)."""
    return {"saved": _("Key saved."),
            "revoked": _("Key revoked: calls with it are refused from now on."),
            "reset": _("Play saldo is back to its start."),
            "queued": _("The callback is queued: it is sent within a few seconds."),
            "expired": _("This form was open too long. Reload the page and try again.")
            }.get(notice or "")

