"""An order's receipts: send one again, or record that the customer has it."""
from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core.audit import Actor
from merchant.orders.operator_actions import ActionRefused
from merchant.receipts import operator_actions
from merchant.web.admin import bp, redirect_to
from merchant.web.admin.orders import _order_or_404, _page


@bp.post("/orders/<ref>/receipts/<int:receipt_id>/resend")
def receipt_resend(ref, receipt_id):
    """Send a receipt that may not have arrived (or was refused) again, now."""
    order = _order_or_404(ref)
    try:
        state = operator_actions.resend(order, receipt_id, Actor.of(current_user))
    except ActionRefused as exc:
        return _page(order, status=422, error=str(exc))
    flash(_("Receipt sent again.") if state == "sent"
          else _("Receipt not sent: it is %(state)s.", state=state))
    return redirect_to(url_for("admin.order", ref=order.ref))


@bp.post("/orders/<ref>/receipts/<int:receipt_id>/arrived")
def receipt_arrived(ref, receipt_id):
    """The customer has the receipt: nothing more to do about it."""
    order = _order_or_404(ref)
    try:
        operator_actions.mark_arrived(order, receipt_id, Actor.of(current_user))
    except ActionRefused as exc:
        return _page(order, status=422, error=str(exc))
    flash(_("Receipt marked as received."))
    return redirect_to(url_for("admin.order", ref=order.ref))
