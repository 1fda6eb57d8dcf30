"""The shop's log lines: readable text, or JSON lines when MERCHANT_LOG_FORMAT=json.

A line about an order carries its reference (`ref=M7K3Q9D2F`, or a "ref" field in JSON), so
one grep follows an order through the web processes and the workers. The reference comes from
`about(ref)` around the work on that order (a context variable, so the adapters' and
vendor_http's lines inside it carry it too), or from `extra={"ref": ...}` on one call.
View tokens and contact details are never logged: the reference is what identifies an order.
"""
from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

_order_ref: ContextVar[str | None] = ContextVar("order_ref", default=None)

TEXT = "%(asctime)s %(levelname)s %(name)s%(ref_note)s: %(message)s"
JSON = "%(levelname)s %(name)s %(message)s"


@contextmanager
def about(ref: str) -> Iterator[None]:
    """Every line logged inside (in this thread or task) is about order `ref`."""
    token = _order_ref.set(ref)
    try:
        yield
    finally:
        _order_ref.reset(token)


def about_order(func: Callable) -> Callable:
    """Decorates a function whose first argument is an Order: its lines carry the order's ref."""
    @functools.wraps(func)
    def wrapper(order, *args: Any, **kwargs: Any):
        with about(order.ref):
            return func(order, *args, **kwargs)
    return wrapper


class OrderRef(logging.Filter):
    """Gives each record `ref` (None when it is about no order) and the text form's note."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "ref", None) is None:
            record.ref = _order_ref.get()
        record.ref_note = f" ref={record.ref}" if record.ref else ""
        return True


class _Json(JsonFormatter):
    def process_log_record(self, log_record: dict) -> dict:
        if log_record.get("ref") is None:
            log_record.pop("ref", None)
        return log_record


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return _Json(JSON, timestamp="time", rename_fields={"levelname": "level", "name": "logger"},
                     reserved_attrs=[*RESERVED_ATTRS, "ref_note", "taskName"])
    return logging.Formatter(TEXT)


def setup(fmt: str = "text", stream: IO[str] | None = None,
          level: int = logging.INFO) -> logging.Handler:
    """Send the root logger's lines to `stream` (stderr) in `fmt` ("json" or "text").

    Replaces the handler an earlier setup() installed, so making the app twice logs once.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "merchant", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.merchant = True
    handler.addFilter(OrderRef())
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
