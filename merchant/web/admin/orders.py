"""Orders: the list with its filters and search, one order's page with its timeline, and the
operator's actions on it (staff may use all of this, orders are their job, except refunds unless
the owner allows them in the settings)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core import shop_settings
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import Order
from merchant.orders import operator_actions
from merchant.orders import search as order_search
from merchant.receipts import records
from merchant.trust import claims, reviews
from merchant.web.admin import bp, redirect_to
from merchant.web.admin.order_forms import (
    ClaimAnswerForm,
    ClearFlagForm,
    DeliverForm,
    FilterForm,
    NoteForm,
    RefundForm,
    RetryForm,
)
from merchant.web.htmx import is_htmx, vary


@bp.get("/orders")
def orders():
    """The newest orders first, filtered and searched; "Older" pages back by id."""
    form = FilterForm(request.args)
    form.set_choices(*order_search.filter_choices())
    valid = form.validate()
    filters = form.filters() if valid else order_search.Filters()
    page = order_search.search(filters, shop_settings.current().zone)
    kept = {k: v for k, v in request.args.items() if k != "before" and v}
    older_url = url_for("admin.orders", **kept, before=page.older) if page.older else None
    newest_url = url_for("admin.orders", **kept) if filters.before else None
    template = "admin/orders/_results.html" if is_htmx() else "admin/orders/list.html"
    response = vary(render_template(template, form=form, page=page, older_url=older_url,
                                    newest_url=newest_url, filtered=bool(kept)),
                    200 if valid else 422)
    if is_htmx():
        # The address bar without the form's empty fields (?q=&status=&...).
        response.headers["HX-Push-Url"] = url_for("admin.orders", **kept,
                                                  before=filters.before or None)
    return response


@bp.get("/orders/<ref>")
def order(ref):
    """Everything about one order, its timeline, and the actions that apply to it now."""
    return _page(_order_or_404(ref))


@bp.post("/orders/<ref>/retry")
def order_retry(ref):
    """Deliver a failed order again, with the same supplier or the package's fallback."""
    form = RetryForm()
    if not form.validate_on_submit():
        return _page(_order_or_404(ref), status=422, retry=form)
    return _act(ref, lambda actor: operator_actions.retry_delivery(ref, actor,
                                                           fallback=form.fallback.data),
                lambda o: _("Order %(ref)s will be delivered again with %(supplier)s.",
                            ref=o.ref, supplier=o.supplier),
                retry=form)


@bp.post("/orders/<ref>/deliver")
def order_deliver(ref):
    """Record a delivery made by hand, with its proof."""
    form = DeliverForm()
    if not form.validate_on_submit():
        return _page(_order_or_404(ref), status=422, deliver=form)
    return _act(ref, lambda actor: operator_actions.deliver_by_hand(ref, form.proof.data, actor),
                lambda o: _("Order %(ref)s is delivered: the customer sees your proof.", ref=o.ref),
                deliver=form)


@bp.get("/orders/<ref>/refund")
def order_refund_confirm(ref):
    """The step before a refund through the gateway: how much goes back, to what, and how."""
    if not may_refund():
        return _not_allowed_to_refund()
    order = _order_or_404(ref)
    refusal = operator_actions.api_refund_refusal(order)
    if refusal:
        return _page(order, status=422, error=refusal)
    return _confirm_page(order)


@bp.post("/orders/<ref>/refund")
def order_refund(ref):
    """Refund a failed order through its gateway (sent from the confirmation step), or record a
    refund made another way."""
    if not may_refund():
        return _not_allowed_to_refund()
    form = RefundForm()
    manual = bool(form.manual.data)
    page = _page if manual else _confirm_or_order_page
    if not form.validate_on_submit():
        return page(_order_or_404(ref), status=422, refund=form)
    refund = operator_actions.refund
    return _act(ref, lambda actor: refund(ref, actor, form.note.data, manual=manual),
                lambda o: (_("Order %(ref)s is refunded (recorded as a manual refund).", ref=o.ref)
                           if manual else
                           _("Order %(ref)s is refunded through %(gateway)s (refund %(refund)s).",
                             ref=o.ref, gateway=o.gateway, refund=o.refund_ref)),
                page=page, refund=form)


@bp.post("/orders/<ref>/refund-to-saldo")
def order_refund_to_saldo(ref):
    """Give a failed order's money back to its customer's saldo, at once."""
    if not may_refund():
        return _not_allowed_to_refund()
    form = RefundForm()
    if not form.validate_on_submit():
        return _page(_order_or_404(ref), status=422, refund=form)
    return _act(ref, lambda actor: operator_actions.refund_to_saldo(ref, actor),
                lambda o: _("Order %(ref)s is refunded to the customer's saldo.", ref=o.ref),
                refund=form)


def may_refund() -> bool:
    """Whether the signed-in admin may give money back: the owner, or staff when allowed."""
    return current_user.is_owner or shop_settings.current().staff_may_refund


@bp.post("/orders/<ref>/note")
def order_note(ref):
    """Add a note to the order's history."""
    form = NoteForm()
    if not form.validate_on_submit():
        return _page(_order_or_404(ref), status=422, note=form)
    return _act(ref, lambda actor: operator_actions.add_note(ref, actor, form.text.data),
                lambda o: _("Note added."), note=form)


@bp.post("/orders/<ref>/clear-flag")
def order_clear_flag(ref):
    """Take the flag off an order the operator has looked into."""
    form = ClearFlagForm()
    if not form.validate_on_submit():
        return _page(_order_or_404(ref), status=422, clear_flag=form)
    return _act(ref, lambda actor: operator_actions.clear_flag(ref, actor, form.note.data),
                lambda o: _("The flag on order %(ref)s is cleared.", ref=o.ref),
                clear_flag=form)


@bp.post("/orders/<ref>/claims/<int:claim_id>/answer")
def order_claim_answer(ref, claim_id):
    """Answer the customer's problem report: shown on their order page and sent to them."""
    form = ClaimAnswerForm()
    order = _order_or_404(ref)
    if not form.validate_on_submit():
        return _page(order, status=422, answer=form)
    if not any(claim.id == claim_id for claim in claims.of_order(order.id)):
        abort(404)
    try:
        claims.answer(claim_id, Actor.of(current_user), form.answer.data)
    except claims.ClaimRefused as exc:
        return _page(order, status=422, error=str(exc), answer=form)
    flash(_("Your answer is on the customer's order page and on its way to them."))
    return redirect_to(url_for("admin.order", ref=order.ref))


def _act(ref, action, success, page=None, **forms):
    """Run an operator action; flash its result and go back to the order, or show why not."""
    try:
        done = action(Actor.of(current_user))
    except operator_actions.ActionRefused as exc:
        return (page or _page)(_order_or_404(ref), status=422, error=str(exc), **forms)
    flash(success(done))
    return redirect_to(url_for("admin.order", ref=done.ref))


def _order_or_404(ref: str) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref.strip().upper()))
    if order is None:
        abort(404)
    return order


def _not_allowed_to_refund():
    return render_template("admin/forbidden.html", why=_(
        "The shop's owner has not allowed staff to refund orders. Ask the owner to refund this "
        "order, or to allow it in the settings.")), 403


def _confirm_page(order: Order, status: int = 200, error: str | None = None,
                  refund: RefundForm | None = None):
    return render_template("admin/orders/refund.html", order=order, error=error,
                           form=refund or RefundForm(formdata=None)), status


def _confirm_or_order_page(order: Order, status: int = 200, error: str | None = None,
                           refund: RefundForm | None = None):
    """The confirmation step again while a gateway refund still applies; else the order page,
    which says why not."""
    if not operator_actions.api_refund_refusal(order):
        return _confirm_page(order, status, error, refund)
    return _page(order, status, error, refund=refund)


def _page(order: Order, status: int = 200, error: str | None = None, **forms):
    forms = {"retry": RetryForm(formdata=None), "deliver": DeliverForm(formdata=None),
             "refund": RefundForm(formdata=None), "note": NoteForm(formdata=None),
             "clear_flag": ClearFlagForm(formdata=None),
             "answer": ClaimAnswerForm(formdata=None), **forms}
    return render_template("admin/orders/show.html", order=order, error=error,
                           can=operator_actions.choices(order), may_refund=may_refund(),
                           failure=order_search.failure(order),
                           timeline=order_search.timeline(order),
                           ref_ids=order_search.ref_ids(order), forms=forms,
                           receipts=records.of_order(order.id),
                           claims=claims.of_order(order.id), claim_kinds=claims.KINDS,
                           review=reviews.of_order(order.id)), status
