"""Log lines carry the order's reference (text or JSON lines), never its token or contacts."""
from __future__ import annotations

import io
import json
import logging

import pytest
from conftest import buy, get_order, make_app, order_ref, sandbox_pay, work

from merchant.config import ConfigError
from merchant.core import logs


@pytest.fixture
def log_lines():
    """The shop's log handler, as create_app installs it outside tests, writing to a buffer."""
    handlers = {}

    def install(fmt: str) -> io.StringIO:
        handlers[fmt] = logs.setup(fmt, stream=io.StringIO())
        return handlers[fmt].stream

    root = logging.getLogger()
    level = root.level
    yield install
    for handler in handlers.values():
        root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines_follow_an_order_by_its_reference_without_token_or_email(
        client, app, log_lines):
    out = log_lines("json")
    ref = order_ref(buy(client, app, email="secret.buyer@example.com"))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    about = [line for line in lines if line.get("ref") == ref]
    messages = [line["message"] for line in about]
    assert any("callback" in m and m.endswith(": paid") for m in messages)
    assert any("Sandbox supplier: success" in m for m in messages)
    assert {"time", "level", "logger", "message"} <= set(about[0])
    text = out.getvalue()
    assert get_order(app, ref).view_token not in text
    assert "secret.buyer" not in text


def test_text_lines_name_the_order_and_lines_about_none_do_not(log_lines):
    out = log_lines("text")
    log = logging.getLogger("merchant.test")
    with logs.about("M7K3Q9D2F"):
        log.warning("order %s: supplier slow", "M7K3Q9D2F")
    log.warning("supplier balance low")
    log.warning("callback for order", extra={"ref": "MAAAA1111"})
    first, second, third = out.getvalue().splitlines()
    assert first.endswith(" WARNING merchant.test ref=M7K3Q9D2F: order M7K3Q9D2F: supplier slow")
    assert second.endswith(" WARNING merchant.test: supplier balance low")
    assert third.endswith("ref=MAAAA1111: callback for order")


def test_an_unknown_log_format_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="MERCHANT_LOG_FORMAT is 'xml'; use text or json"):
        make_app(tmp_path, LOG_FORMAT="xml")
