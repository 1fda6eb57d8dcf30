"""Payment gateways behind one interface (see base.py). Adapters are looked up by name.

Whether a gateway can be used at all is the registry's `ready`; `unserved` says whether a
gateway has a channel for one of our payment methods.
"""
from __future__ import annotations

import importlib

from merchant.vendors.payments.base import Gateway

ADAPTERS = {
    "sandbox": "merchant.vendors.payments.sandbox:SandboxGateway",
    "xendit": "merchant.vendors.payments.xendit:XenditGateway",
    "midtrans": "merchant.vendors.payments.midtrans:MidtransGateway",
    "stripe": "merchant.vendors.payments.stripe:StripeGateway",
    "tripay": "merchant.vendors.payments.tripay:TripayGateway",
}


def gateway_class(name: str) -> type[Gateway]:
    """The adapter class for a gateway name. :raise KeyError: for an unknown name."""
    module, _, cls = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def unserved(gateway: str, code: str, settings) -> str | None:
    """Why the known gateway `gateway` has no channel for our payment method `code`, or None
    when it has one. :raise KeyError: for an unknown gateway (ask registry.ready first)."""
    cls = gateway_class(gateway)
    if cls.serves(code, settings):
        return None
    where = f" or map it in MERCHANT_{cls.channels_setting}" if cls.channels_setting else ""
    return (f"{gateway} has no channel for {code}: use one of {', '.join(sorted(cls.channels))}"
            f"{where}, or choose another gateway for it.")
