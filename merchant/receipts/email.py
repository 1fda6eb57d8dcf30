"""Email receipts over plain SMTP (smtplib), sent at most once per order event.

How "exactly once" is bounded: the worker holding the receipt commits the mark `data_started`
after the server accepted MAIL FROM and RCPT TO and before it sends DATA. The mark is a
conditional update on the worker's claim, so only one worker can ever send DATA for an event.
- A crash or refusal before the mark: the server never got the message; it is sent again.
- A crash or a lost connection after the mark and before the server's 250 is recorded: the
  message may or may not have arrived. It is never resent by itself: the order's history says
  so, the panel lists it under Needs attention, and the operator may resend it.
The Message-ID is derived from the event, so a mail store that did get both copies of an
operator's resend can collapse them.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from flask import current_app
from flask_babel import gettext as _

from merchant import orders
from merchant.core import logs, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Receipt
from merchant.core.receipt_channels import EMAIL
from merchant.core.validation import one_line
from merchant.receipts import content, records
from merchant.receipts.records import DATA_STARTED, FAILED, IN_DOUBT, PENDING, SENDING, SENT
from merchant.trust import claims
from merchant.vendors.smtp import (
    SECURITY,
    Smtp,
    close,
    connect,
    envelope,
    failure_code,
    settings,
    why,
)

log = logging.getLogger(__name__)


class Retry(Exception):
    """The receipt was not sent this time and should be tried again later."""


def missing_settings(config) -> list[str]:
    """What the operator must fix for email receipts to work (nothing when they are off)."""
    if not config.get("SMTP_HOST"):
        return []
    problems = []
    if not config.get("SMTP_FROM"):
        problems.append("set MERCHANT_SMTP_FROM (the sender, e.g. 'Shop <receipts@shop.example>')")
    if str(config.get("SMTP_SECURITY") or "starttls").lower() not in SECURITY:
        problems.append(f"MERCHANT_SMTP_SECURITY is {config.get('SMTP_SECURITY')!r}; use one of "
                        + ", ".join(SECURITY))
    return problems


def subject(order: Order, kind: str) -> str:
    if kind == claims.CLAIM_ANSWERED:
        return _("Our answer about order %(ref)s", ref=order.ref)
    if kind == orders.DELIVERED:
        return _("Delivered: %(package)s · order %(ref)s", package=order.package_name,
                 ref=order.ref)
    if kind == orders.REFUNDED:
        return _("Refunded: order %(ref)s", ref=order.ref)
    return _("We could not deliver order %(ref)s yet", ref=order.ref)


def message_id(receipt: Receipt, smtp: Smtp) -> str:
    """Stable per event: every copy of this receipt carries the same Message-ID."""
    domain = smtp.sender_address.rpartition("@")[2] or "merchant.invalid"
    return f"<receipt.{receipt.event_id}.{receipt.kind}@{domain}>"


def compose(order: Order, receipt: Receipt, smtp: Smtp) -> EmailMessage:
    """The receipt as a multipart/alternative message (plain text, then HTML), in the
    order's language."""
    message = EmailMessage(policy=SMTP_POLICY)
    with content.in_language(order):
        subject_line = subject(order, receipt.kind)
        text = content.render("receipt.txt", order, receipt.kind)
        html = content.render("receipt.html", order, receipt.kind)
    headers = {
        "Subject": subject_line, "From": smtp.sender, "To": receipt.recipient,
        "Date": email.utils.format_datetime(receipt.created_at.replace(tzinfo=dt.UTC)),
        "Message-ID": message_id(receipt, smtp),
        "Auto-Submitted": "auto-generated",             # RFC 3834: no vacation auto-replies
        "Reply-To": shop_settings.current().support_email,
    }
    for name, value in headers.items():
        # Catalog text (a package name) reaches the subject: a line break stored in it would
        # make every send of this receipt fail, or add a header.
        if value:
            message[name] = one_line(value)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(receipt: Receipt, smtp: Smtp) -> str:
    """Send the receipt once; returns its state afterwards (sent, in_doubt, failed).

    :raise Retry: not sent this time (server unreachable, a temporary refusal, another worker
        holds it); nothing reached the server's DATA, so sending again later is safe.
    """
    message = compose(db.session.get(Order, receipt.order_id), receipt, smtp)
    lease = float(current_app.config["RECEIPT_LEASE_SECONDS"])
    token = records.claim(receipt.id, lease, lost_on_takeover=False)
    if token is None:
        return _not_ours(receipt)
    receipt = records.get(receipt.id)
    try:
        connection = connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        return _not_sent(receipt, token, SENDING, exc)
    try:
        return _transfer(connection, receipt, token, smtp, message)
    finally:
        close(connection)


def _transfer(connection: smtplib.SMTP, receipt: Receipt, token: str, smtp: Smtp,
              message: EmailMessage) -> str:
    try:
        envelope(connection, smtp.sender_address, receipt.recipient)
    except (OSError, smtplib.SMTPException) as exc:
        return _not_sent(receipt, token, SENDING, exc)
    if not records.move(receipt, token, SENDING, DATA_STARTED, live=True,
                        message_id=message["Message-ID"]):
        raise Retry("the claim ran out before the data transfer")
    try:
        connection.data(message.as_bytes())
    except smtplib.SMTPResponseException as exc:
        return _not_sent(receipt, token, DATA_STARTED, exc)  # the server answered: not taken
    except (OSError, smtplib.SMTPException) as exc:
        records.move(receipt, token, DATA_STARTED, IN_DOUBT, error=why(exc)[:300],
                     note=_doubt_note(receipt))
        log.warning("receipt %s: connection lost during the data transfer (%s); not resent",
                    receipt.id, type(exc).__name__)
        return IN_DOUBT
    records.move(receipt, token, DATA_STARTED, SENT, error=None,
                 note=f"Receipt email sent to {receipt.recipient}.")
    log.info("receipt %s: email sent (order event %s)", receipt.id, receipt.event_id)
    return SENT


def _not_ours(receipt: Receipt) -> str:
    """The claim was refused: someone else holds the row, or it is settled."""
    row = records.get(receipt.id)
    if row.state == SENDING:
        raise Retry("another worker is sending this receipt")
    if row.state == DATA_STARTED:
        if not records.settle_doubt(row, _doubt_note(row)):
            raise Retry("the data transfer may still be going on")
        # Its worker died during the data transfer: the message may have arrived.
        log.warning("receipt %s: its worker stopped during the data transfer; not resent", row.id)
        return IN_DOUBT
    return row.state


def _not_sent(receipt: Receipt, token: str, state: str, exc: Exception) -> str:
    """The server did not take the message. A permanent refusal (5xx) of the sender, the
    recipient or the message ends it (failed), so do too many attempts; anything else is
    tried again later.

    :raise Retry: unless it failed for good.
    """
    reason = why(exc)[:300]
    code = failure_code(exc)
    # A refused sign-in is the operator's settings, not this receipt: worth trying again.
    permanent = code is not None and code >= 500 \
        and not isinstance(exc, smtplib.SMTPAuthenticationError)
    if permanent or receipt.attempts >= int(current_app.config["RECEIPT_MAX_ATTEMPTS"]):
        records.move(receipt, token, state, FAILED, error=reason,
                     note=f"Receipt email to {receipt.recipient} not sent: {reason}")
        log.warning("receipt %s: email not sent, giving up (%s)", receipt.id, reason)
        return FAILED
    records.move(receipt, token, state, PENDING, error=reason)
    raise Retry(f"email receipt not sent yet: {reason}") from exc


def _doubt_note(receipt: Receipt) -> str:
    return (f"Receipt email to {receipt.recipient} may not have arrived: the connection ended "
            "while it was being transferred. It is not resent by itself; resend it from this "
            "page if the customer has not got it.")


def send_for_event(event) -> str | None:
    """The email receipt of an outbox event: its state afterwards, or None when there is
    none to send (email off, an event without a receipt, an order without an email).

    :raise Retry: not sent this time; safe to call again later.
    """
    smtp = settings(current_app.config)
    if smtp is None or event.kind not in content.KINDS:
        return None
    order = db.session.get(Order, event.order_id)
    if order is None or not order.email or content.superseded(order, event.kind):
        return None
    row = records.open_row(event.id, order.id, event.kind, EMAIL, order.email)
    with logs.about(order.ref):
        return send(row, smtp)
