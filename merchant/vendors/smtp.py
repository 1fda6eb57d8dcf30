"""SMTP: the settings of the shop's mail server and the steps of one send (smtplib), for email
receipts and the owner's alert emails. Callers keep their own account of how far a send got.
"""
from __future__ import annotations

import email.utils
import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str                 # starttls, ssl or none
    username: str | None
    password: str | None
    sender: str                   # the From header: "Shop <receipts@shop.example>"
    timeout: float

    @property
    def sender_address(self) -> str:
        return email.utils.parseaddr(self.sender)[1]


def settings(config) -> Smtp | None:
    """The SMTP settings, or None when the shop sends no email (no MERCHANT_SMTP_HOST)."""
    host = config.get("SMTP_HOST")
    if not host:
        return None
    security = str(config.get("SMTP_SECURITY") or "starttls").lower()
    return Smtp(host=host, port=int(config.get("SMTP_PORT") or DEFAULT_PORTS[security]),
                security=security, username=config.get("SMTP_USERNAME") or None,
                password=config.get("SMTP_PASSWORD") or None, sender=config["SMTP_FROM"],
                timeout=float(config.get("SMTP_TIMEOUT") or 10))


def failure_code(exc: Exception) -> int | None:
    """The server's reply code, when the server answered."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()))[0]
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def connect(smtp: Smtp) -> smtplib.SMTP:
    """A session ready for MAIL FROM: connected, TLS as configured, signed in."""
    name = urlsplit(str(current_app.config["PUBLIC_URL"])).hostname or "localhost"
    if smtp.security == "ssl":
        connection = smtplib.SMTP_SSL(smtp.host, smtp.port, local_hostname=name,
                                      timeout=smtp.timeout, context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, local_hostname=name, timeout=smtp.timeout)
    try:
        connection.ehlo()
        if smtp.security == "starttls":
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if smtp.username:
            connection.login(smtp.username, smtp.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def envelope(connection: smtplib.SMTP, sender: str, recipient: str) -> None:
    """MAIL FROM and RCPT TO. :raise smtplib.SMTPResponseException: refused."""
    code, reply = connection.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = connection.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})


def close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def why(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return f"{code} {reply.decode(errors='replace')}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
