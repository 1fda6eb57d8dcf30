"""Sending one alert message on its channel: Telegram (Bot API), WhatsApp (Fonnte), email
(SMTP). Each send ends in success (the provider's message id) or one of three exceptions,
which queue.py turns into the message's next state."""
from __future__ import annotations

import datetime as dt
import email.utils
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import requests
from flask import current_app

from merchant.alerts.preferences import EMAIL, TELEGRAM, WHATSAPP
from merchant.core.models import AlertMessage
from merchant.core.validation import one_line
from merchant.vendors import fonnte, registry, smtp, telegram


class Retry(Exception):
    """Not sent this time; try again later (`after` seconds, when the provider said so)."""

    def __init__(self, why: str, after: float | None = None):
        super().__init__(why)
        self.after = after


class Failed(Exception):
    """Never going to work as it is (a chat that is gone, a channel switched off)."""


class Lost(Exception):
    """The request may have reached the provider, but its answer never came."""


def send(message: AlertMessage) -> str:
    """Send `message` once; the provider's message id ("" when it gives none)."""
    if message.channel == TELEGRAM:
        return _telegram(message)
    if message.channel == WHATSAPP:
        return _whatsapp(message)
    if message.channel == EMAIL:
        return _email(message)
    raise Failed(f"unknown channel {message.channel!r}")


def _telegram(message: AlertMessage) -> str:
    bot = telegram.bot(current_app.config, registry.http_session())
    if bot is None:
        raise Failed("no MERCHANT_TELEGRAM_BOT_TOKEN is set")
    try:
        return str(bot.send_message(int(message.recipient), message.body))
    except telegram.TelegramError as exc:
        if exc.retry_after is not None:
            raise Retry(f"Telegram: {exc}", after=exc.retry_after) from exc
        if exc.permanent:
            raise Failed(f"Telegram refused: {exc}") from exc
        raise Retry(f"Telegram: {exc}") from exc
    except telegram.Unreachable as exc:
        raise Retry(f"Telegram unreachable: {exc}") from exc
    except telegram.AnswerLost as exc:
        raise Lost(f"no answer from Telegram ({exc})") from exc


def _whatsapp(message: AlertMessage) -> str:
    gateway = fonnte.gateway(current_app.config, registry.http_session())
    if gateway is None:
        raise Failed("no MERCHANT_FONNTE_TOKEN is set")
    try:
        return gateway.send(message.recipient.lstrip("+"), message.body)
    except fonnte.Refused as exc:
        raise Retry(f"Fonnte refused: {exc}") from exc
    except requests.RequestException as exc:
        raise Retry(f"Fonnte unreachable: {type(exc).__name__}") from exc
    except fonnte.AnswerLost as exc:
        raise Lost(f"no answer from Fonnte ({exc})") from exc


def _email(message: AlertMessage) -> str:
    server = smtp.settings(current_app.config)
    if server is None:
        raise Failed("no MERCHANT_SMTP_HOST is set")
    mail = _compose(message, server)
    try:
        connection = smtp.connect(server)
    except (OSError, smtplib.SMTPException) as exc:
        raise Retry(f"SMTP: {smtp.why(exc)}") from exc
    try:
        try:
            smtp.envelope(connection, server.sender_address, message.recipient)
        except (OSError, smtplib.SMTPException) as exc:
            raise _refused(exc) from exc            # nothing was sent
        try:
            connection.data(mail.as_bytes())
        except smtplib.SMTPResponseException as exc:
            raise _refused(exc) from exc            # the server answered: not taken
        except (OSError, smtplib.SMTPException) as exc:
            raise Lost(f"SMTP connection lost during the data ({smtp.why(exc)})") from exc
    finally:
        smtp.close(connection)
    return mail["Message-ID"]


def _refused(exc: Exception) -> Exception:
    """A permanent refusal (5xx, not a sign-in) fails; anything else is tried again."""
    code = smtp.failure_code(exc) or 0
    if code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
        return Failed(f"SMTP refused: {smtp.why(exc)}")
    return Retry(f"SMTP: {smtp.why(exc)}")


def _compose(message: AlertMessage, server: smtp.Smtp) -> EmailMessage:
    mail = EmailMessage(policy=SMTP_POLICY)
    domain = server.sender_address.rpartition("@")[2] or "merchant.invalid"
    for name, value in {
        "Subject": one_line(message.subject), "From": server.sender, "To": message.recipient,
        "Date": email.utils.format_datetime(message.created_at.replace(tzinfo=dt.UTC)),
        "Message-ID": f"<alert.{message.id}@{domain}>",
        "Auto-Submitted": "auto-generated",
    }.items():
        mail[name] = value
    mail.set_content(message.body)
    return mail
