"""Receipts for the customer after delivery, a failed delivery and a refund: by email (SMTP)
and by WhatsApp (the Fonnte gateway), each sent by an outbox listener at most once per event.

`records` keeps one row per event and channel with how far its send got; `content` is what a
receipt says; `email` and `whatsapp` send it; `listeners` hooks them to the outbox.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

EMAIL, WHATSAPP = "email", "whatsapp"


@dataclass(frozen=True)
class Channel:
    name: str                       # EMAIL or WHATSAPP
    label: str                      # for the log: "email", "WhatsApp"
    switch: str                     # the setting whose presence turns it on
    settings: tuple[str, ...]       # what the operator sets to turn it on


CHANNELS = (
    Channel(EMAIL, "email", "SMTP_HOST", ("MERCHANT_SMTP_HOST", "MERCHANT_SMTP_FROM")),
    Channel(WHATSAPP, "WhatsApp", "FONNTE_TOKEN", ("MERCHANT_FONNTE_TOKEN",)),
)


def channels_on(config=None) -> frozenset[str]:
    """The receipt channels that are switched on (config.check has made sure they can work)."""
    config = current_app.config if config is None else config
    return frozenset(c.name for c in CHANNELS if config.get(c.switch))


def channels_off(config=None) -> list[Channel]:
    on = channels_on(config)
    return [c for c in CHANNELS if c.name not in on]


@dataclass(frozen=True)
class Promise:
    """What the checkout form says about receipts: only what is really sent."""
    heading: str
    help: str
    missing: str                    # the refusal when neither an email nor a number is left


def promise(config=None) -> Promise:
    on = channels_on(config)
    if on == {EMAIL, WHATSAPP}:
        return Promise(_l("Your receipt"),
                       _l("Leave an email or a WhatsApp number (or both) for your receipt."),
                       _l("Leave an email or a WhatsApp number for your receipt."))
    if on == {EMAIL}:
        return Promise(_l("Your receipt"),
                       _l("Receipts are sent by email: leave your email for yours. A WhatsApp "
                          "number only lets us reach you about the order."),
                       _l("Leave an email for your receipt, or a WhatsApp number so we can "
                          "reach you."))
    if on == {WHATSAPP}:
        return Promise(_l("Your receipt"),
                       _l("Receipts are sent by WhatsApp: leave your number for yours. An email "
                          "only lets us reach you about the order."),
                       _l("Leave a WhatsApp number for your receipt, or an email so we can "
                          "reach you."))
    return Promise(_l("Your contact"),
                   _l("Leave an email or a WhatsApp number so we can reach you about this "
                      "order."),
                   _l("Leave an email or a WhatsApp number so we can reach you about this "
                      "order."))


def init_app(app: Flask) -> None:
    """The templates' support-chat link and receipt wording; and say once, at start, which
    receipts are off."""
    from .whatsapp import support_chat_link
    app.add_template_global(support_chat_link)
    app.add_template_global(promise, "receipt_promise")
    off = [f"{c.label} (set {' and '.join(c.settings)})" for c in channels_off(app.config)]
    if off:
        log.info("receipts off: %s", "; ".join(off))
