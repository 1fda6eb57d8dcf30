"""The outbox listeners that send receipts (registered when the app factory imports this)."""
from __future__ import annotations

from merchant.core import outbox
from merchant.receipts import content, email, whatsapp


@outbox.listener("email_receipt", kinds=content.KINDS)
def send_email_receipt(event: outbox.Event) -> None:
    """Email the customer a receipt for a delivery, a failed delivery or a refund."""
    email.send_for_event(event)


@outbox.listener("whatsapp_receipt", kinds=content.KINDS)
def send_whatsapp_receipt(event: outbox.Event) -> None:
    """The same receipt by WhatsApp, through Fonnte, when the shop has a Fonnte token."""
    whatsapp.send_for_event(event)
