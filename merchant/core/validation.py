"""What any input must be before the shop looks at it: ids that fit the database, text without
control characters. Shared by the request guard (web/guards.py) and the callback schemas.
"""
from __future__ import annotations

import datetime as dt
import re

# Ids, amounts and counts are INTEGER columns: PostgreSQL refuses anything above 2**31 - 1 with an
# error (SQLite above 2**63 - 1), so a bigger id is no such row and a bigger amount a form error.
MAX_INT = 2**31 - 1
MAX_ID = MAX_INT

# C0 and C1 control characters and DEL; lone surrogates (they cannot be stored as UTF-8).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tabs and line breaks are fine in a text area.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_ID = re.compile(r"[0-9]{1,10}")
# What breaks a line without being a control character: the Unicode line and paragraph separators.
_LINE_SEPARATORS = re.compile(r"[\u2028\u2029]")

# The days a date filter may name. A day is turned into its local midnight and the next one in
# UTC, which Python cannot hold near its own limits (0001-01-01 in Jakarta is before year 1 in
# UTC, 9999-12-31 has no next day): OverflowError. No shop has orders outside these.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def bounded_id(value) -> int | None:
    """A database id from a form or query value: a positive int up to MAX_ID, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value.strip()):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def day_in_range(day: dt.date) -> bool:
    """Whether a date filter may name `day` (FIRST_DAY to LAST_DAY)."""
    return FIRST_DAY <= day <= LAST_DAY


def has_control(text: str, line_breaks: bool = False) -> bool:
    """Whether `text` holds a control character (tabs and line breaks allowed if asked)."""
    return bool((_CONTROL_IN_TEXT if line_breaks else _CONTROL).search(text))


def is_one_line(text: str) -> bool:
    """Whether `text` fits a one-line field: no control character, tab or line break."""
    return not (has_control(text) or _LINE_SEPARATORS.search(text))


def one_line(text: str) -> str:
    """`text` with every run of control characters, line breaks and spaces made one space:
    fit for an email header or a log line whatever was stored."""
    return " ".join(_LINE_SEPARATORS.sub(" ", _CONTROL.sub(" ", text)).split())


def whatsapp_number(raw: str) -> str | None:
    """'0812-3456-7890' -> '+6281234567890'. None when it cannot be a phone number."""
    digits = re.sub(r"[\s().-]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]          # a local Indonesian number
    if not re.fullmatch(r"[1-9][0-9]{7,14}", digits):
        return None
    return "+" + digits
