"""Secrets and contact details never reach a log line: view tokens and one-time links in URLs
are cut, emails and phone numbers masked.

Installed as the process's log record factory, so it covers every logger alike: ours, the
werkzeug and gunicorn access logs, tracebacks (whose SQL parameters can hold an email).
"""
from __future__ import annotations

import logging
import re
import traceback

REDACTED = "[redacted]"

_TOKEN = re.compile(r"([?&;]t=)[^&;\s\"']+")
_SETUP_LINK = re.compile(r"(/admin/setup/)[^\s?\"'/]+")
_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_PHONE = re.compile(r"(\+\d{2})(\d{4,11})(\d{4})\b|\b(0)(8\d{5,10})(\d{4})\b")


def _phone(match: re.Match) -> str:
    head, middle, tail = (g for g in match.groups() if g is not None)
    return head + "*" * len(middle) + tail


def redact(text: str) -> str:
    """`text` without view tokens, setup links, full emails or full phone numbers."""
    text = _TOKEN.sub(rf"\1{REDACTED}", text)
    text = _SETUP_LINK.sub(rf"\1{REDACTED}", text)
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(_phone, text)


def install() -> None:
    """Redact every log record this process makes (once, however many apps it creates)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:      # a broken format string is logging's own error to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info))
                                     .rstrip("\n"))
        return record

    factory.redacts = True
    logging.setLogRecordFactory(factory)
