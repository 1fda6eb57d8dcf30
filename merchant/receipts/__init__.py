"""Receipts for the customer after delivery, a failed delivery and a refund: by email (SMTP)
and by WhatsApp (the Fonnte gateway), each sent by an outbox listener at most once per event.

`records` keeps one row per event and channel with how far its send got; `content` is what a
receipt says; `email` and `whatsapp` send it; `listeners` hooks them to the outbox.
"""
from __future__ import annotations

import logging

from flask import Flask

from merchant.core.receipt_channels import channels_off, promise

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """The templates' support-chat link and receipt wording; and say once, at start, which
    receipts are off."""
    from merchant.receipts.whatsapp import support_chat_link
    app.add_template_global(support_chat_link)
    app.add_template_global(promise, "receipt_promise")
    off = [f"{c.label} (set {' and '.join(c.settings)})" for c in channels_off(app.config)]
    if off:
        log.info("receipts off: %s", "; ".join(off))
