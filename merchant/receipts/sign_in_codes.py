"""Customers' one-time sign-in codes, sent at once over the receipts' channels: SMTP for an
email address, Fonnte for a WhatsApp number (merchant/customers/codes.py makes the codes).

Sent while the customer waits, not through the outbox: a code is worth nothing a few minutes
later, and the page says at once when it could not be sent.
"""
from __future__ import annotations

import email.utils
import logging
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import requests
from flask import current_app
from flask_babel import gettext as _

from merchant.core import shop_settings
from merchant.core.receipt_channels import EMAIL, channels_on
from merchant.customers.accounts import Contact
from merchant.vendors import fonnte as fonnte_api
from merchant.vendors import registry
from merchant.vendors import smtp as smtp_api

log = logging.getLogger(__name__)


class NotSent(Exception):
    """The code could not be sent; nothing the customer typed was wrong."""


def available() -> frozenset[str]:
    """The channels a code can go through: those the receipts use."""
    return channels_on()


def text(code: str) -> str:
    minutes = int(current_app.config["CUSTOMER_CODE_MINUTES"])
    return _("%(code)s is your sign-in code for %(shop)s. It works once, for %(minutes)s "
             "minutes. Never share it: we will never ask you for it.", code=code,
             shop=shop_settings.current().shop_name, minutes=minutes)


def send(contact: Contact, code: str) -> None:
    """Send `code` to the contact. :raise NotSent:"""
    if contact.channel not in available():
        raise NotSent(contact.channel)
    if contact.channel == EMAIL:
        _send_email(contact.value, code)
    else:
        _send_whatsapp(contact.value, code)


def _send_email(address: str, code: str) -> None:
    smtp = smtp_api.settings(current_app.config)
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = _("Your sign-in code: %(code)s", code=code)
    message["From"] = smtp.sender
    message["To"] = address
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text(code))
    try:
        connection = smtp_api.connect(smtp)
        try:
            connection.send_message(message, smtp.sender_address, [address])
        finally:
            connection.quit()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("sign-in code not sent by email: %s", type(exc).__name__)
        raise NotSent(EMAIL) from exc


def _send_whatsapp(number: str, code: str) -> None:
    fonnte = fonnte_api.gateway(current_app.config, registry.http_session())
    try:
        fonnte.send(number.lstrip("+"), text(code))
    except (fonnte_api.Refused, fonnte_api.AnswerLost, requests.RequestException) as exc:
        log.warning("sign-in code not sent by WhatsApp: %s", exc)
        raise NotSent("whatsapp") from exc
