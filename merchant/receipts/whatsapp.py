"""WhatsApp: receipts over the Fonnte gateway, and the click-to-chat link to the shop's support.

Fonnte has no idempotency key, so the rule is: record what is being sent (and that a send
started) before the request, and accept at most one duplicate, only when an answer was lost.
- `status: false`: Fonnte says it did not send. Tried again later, up to RECEIPT_MAX_ATTEMPTS.
- No answer (timeout, dropped connection, a reply that is not Fonnte's JSON), or a worker that
  died waiting: the message may have gone out. The first time it is sent once more (the same
  recorded text); the second time it is left in doubt, never sent again by itself.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

import requests
from flask import current_app
from flask_babel import gettext as _

from merchant.core import logs, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Receipt
from merchant.core.receipt_channels import WHATSAPP
from merchant.receipts import content, records
from merchant.receipts.records import FAILED, IN_DOUBT, LOST_ANSWERS_LIMIT, PENDING, SENDING, SENT
from merchant.vendors import registry
from merchant.vendors.fonnte import AnswerLost, Fonnte, Refused, gateway

log = logging.getLogger(__name__)


class Retry(Exception):
    """The WhatsApp receipt was not sent this time and should be tried again later."""


def send(receipt: Receipt, fonnte: Fonnte) -> str:
    """Send the receipt's recorded text; returns its state afterwards (sent, in_doubt, failed).

    :raise Retry: not sent this time (refused, unreachable, or an answer lost for the first
        time); call again later.
    """
    lease = float(current_app.config["RECEIPT_LEASE_SECONDS"])
    token = records.claim(receipt.id, lease, lost_on_takeover=True)
    receipt = records.get(receipt.id)
    if token is None:
        if receipt.state == SENDING:
            raise Retry("another worker is sending this receipt")
        return receipt.state
    try:
        message_id = fonnte.send(receipt.recipient.lstrip("+"), receipt.body)
    except Refused as exc:
        return _refused(receipt, token, str(exc))
    except requests.RequestException as exc:
        records.move(receipt, token, SENDING, PENDING, error=f"Fonnte unreachable: {exc}"[:300])
        raise Retry("Fonnte could not be reached") from exc
    except AnswerLost as exc:
        return _lost(receipt, token, str(exc))
    records.move(receipt, token, SENDING, SENT, message_id=message_id or None, error=None,
                 note=f"Receipt sent by WhatsApp to {receipt.recipient}.")
    log.info("receipt %s: WhatsApp message sent (order event %s)", receipt.id, receipt.event_id)
    return SENT


def _refused(receipt: Receipt, token: str, reason: str) -> str:
    why = f"Fonnte refused: {reason}"[:300]
    if receipt.attempts >= int(current_app.config["RECEIPT_MAX_ATTEMPTS"]):
        records.move(receipt, token, SENDING, FAILED, error=why,
                     note=f"WhatsApp receipt to {receipt.recipient} not sent: {why}.")
        log.warning("receipt %s: WhatsApp not sent, giving up (%s)", receipt.id, why)
        return FAILED
    records.move(receipt, token, SENDING, PENDING, error=why)
    raise Retry(why)


def _lost(receipt: Receipt, token: str, why: str) -> str:
    lost = receipt.lost_answers + 1
    if lost < LOST_ANSWERS_LIMIT:
        records.move(receipt, token, SENDING, PENDING, lost_answers=lost,
                     error=f"no answer from Fonnte ({why}); sending once more")
        raise Retry(f"no answer from Fonnte ({why})")
    records.move(receipt, token, SENDING, IN_DOUBT, lost_answers=lost,
                 error=f"no answer from Fonnte ({why})",
                 note=f"WhatsApp receipt to {receipt.recipient} may not have arrived: Fonnte "
                      "did not answer twice. It is not sent again by itself.")
    log.warning("receipt %s: no answer from Fonnte twice; left in doubt", receipt.id)
    return IN_DOUBT


def send_for_event(event) -> str | None:
    """The WhatsApp receipt of an outbox event: its state afterwards, or None when there is
    none to send (WhatsApp off, an event without a receipt, an order without a number).

    The text is rendered and recorded once, before the first send: every resend is the same.
    :raise Retry: not sent this time; safe to call again later.
    """
    fonnte = gateway(current_app.config, registry.http_session())
    if fonnte is None or event.kind not in content.KINDS:
        return None
    order = db.session.get(Order, event.order_id)
    if order is None or not order.whatsapp or content.superseded(order, event.kind):
        return None
    row = records.open_row(event.id, order.id, event.kind, WHATSAPP, order.whatsapp)
    if row.body is None:
        with content.in_language(order):
            records.record_body(row, content.render("whatsapp.txt", order, event.kind))
    with logs.about(order.ref):
        return send(row, fonnte)


def chat_link(number: str, text: str) -> str:
    """https://wa.me/<digits>?text=<text>: opens a chat with `number`, `text` typed in."""
    return f"https://wa.me/{number.lstrip('+')}?text={quote(text, safe='')}"


def support_chat_link(ref: str = "") -> str:
    """A chat with the shop's support WhatsApp about order `ref`; "" when no number is set."""
    number = shop_settings.current().support_whatsapp
    if not number:
        return ""
    text = (_("Hello, I need help with my order %(ref)s.", ref=ref) if ref
            else _("Hello, I need help finding my order."))
    return chat_link(number, text)
