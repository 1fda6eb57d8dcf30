"""The receipt channels (email, WhatsApp): which ones the operator switched on, and what the
checkout form may promise about receipts because of it. The receipts package sends them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

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
