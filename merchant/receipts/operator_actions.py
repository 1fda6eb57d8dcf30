"""The operator's say on a receipt that may not have arrived (or was refused): send it again,
or record that the customer has it. Both audited, with a line in the order's history."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from merchant import orders
from merchant.core import audit
from merchant.core.audit import Actor
from merchant.core.extensions import db
from merchant.core.models import Order, Receipt, utcnow
from merchant.core.receipt_channels import EMAIL
from merchant.core.transactions import write_unit
from merchant.orders.operator_actions import ActionRefused
from merchant.receipts import email, records, whatsapp
from merchant.receipts.records import FAILED, IN_DOUBT, PENDING, SENT
from merchant.vendors import registry


def settleable():
    """SQL: rows the operator may resend or close: not sent, and not being sent right now."""
    return sa.or_(Receipt.state.in_((IN_DOUBT, FAILED, PENDING)), records.cut_off())


def _find(order: Order, receipt_id: int) -> Receipt:
    row = db.session.get(Receipt, receipt_id)
    if row is None or row.order_id != order.id:
        raise ActionRefused(_("That receipt is not one of this order's."))
    if row.state == SENT:
        raise ActionRefused(_("That receipt was sent; there is nothing to do."))
    return row


def resend(order: Order, receipt_id: int, actor: Actor) -> str:
    """Send the receipt again, now (the customer may get it twice). Its state afterwards.

    :raise ActionRefused: it was sent, is being sent, or its channel is off.
    """
    row = _find(order, receipt_id)
    channel = _channel(row)
    with write_unit():
        reopened = db.session.execute(
            sa.update(Receipt).where(Receipt.id == row.id, settleable())
            .values(state=PENDING, claim=None, lost_answers=0, error=None, updated_at=utcnow())
        ).rowcount == 1
        if reopened:
            summary = f"Resent the {row.channel} receipt ({row.kind}) to {row.recipient}"
            audit.record(actor, "receipt.resend", "order", order.ref, summary,
                         before={"state": row.state}, after={"state": PENDING})
            orders.record(order.id, "admin", f"{summary} ({actor.name}).")
    if not reopened:
        raise ActionRefused(_("That receipt is being sent right now."))
    try:
        return channel(row)
    except (email.Retry, whatsapp.Retry) as exc:
        raise ActionRefused(f"Not sent yet: {exc}. Try again in a moment.") from None


def _channel(row: Receipt):
    config = current_app.config
    if row.channel == EMAIL:
        smtp = email.settings(config)
        if smtp is None:
            raise ActionRefused(_("Email receipts are off: set MERCHANT_SMTP_HOST and "
                                  "MERCHANT_SMTP_FROM."))
        return lambda r: email.send(r, smtp)
    fonnte = whatsapp.gateway(config, registry.http_session())
    if fonnte is None:
        raise ActionRefused(_("WhatsApp receipts are off: set MERCHANT_FONNTE_TOKEN."))
    return lambda r: whatsapp.send(r, fonnte)


def mark_arrived(order: Order, receipt_id: int, actor: Actor) -> None:
    """The customer has the receipt after all (they said so): it needs nothing more."""
    row = _find(order, receipt_id)
    with write_unit():
        won = db.session.execute(
            sa.update(Receipt).where(Receipt.id == row.id, settleable())
            .values(state=SENT, claim=None, sent_at=utcnow(), updated_at=utcnow())
        ).rowcount == 1
        if won:
            summary = f"Marked the {row.channel} receipt ({row.kind}) as received"
            audit.record(actor, "receipt.arrived", "order", order.ref, summary,
                         before={"state": row.state}, after={"state": SENT})
            orders.record(order.id, "admin", f"{summary} ({actor.name}).")
    if not won:
        raise ActionRefused(_("That receipt is being sent right now."))
