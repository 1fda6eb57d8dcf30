"""Payment gateways behind one interface (see base.py). Adapters are looked up by name.

`refusal` answers the one question "can this shop take payments for this method through this
gateway"; its reasons are for the operator (the panel, Needs attention), never the customer.
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


def unconfigured(gateway: str, settings) -> str | None:
    """Why `gateway` cannot be used by this shop (unknown, settings missing, sandbox off)."""
    if gateway not in ADAPTERS:
        return f"No payment gateway is called {gateway!r}."
    if gateway == "sandbox" and not settings.get("SANDBOX_ENABLED"):
        return ("The sandbox gateway is off in this shop (it takes pretend payments): "
                "choose a real gateway.")
    missing = gateway_class(gateway).missing_settings(settings)
    if missing:
        return (f"The {gateway} gateway is not configured: set {', '.join(missing)} in the "
                "environment or instance/config.py, then restart the shop.")
    return None


def unserved(gateway: str, code: str, settings) -> str | None:
    """Why `gateway` has no channel for our payment method `code`, or None when it has one."""
    if gateway not in ADAPTERS:
        return f"No payment gateway is called {gateway!r}."
    cls = gateway_class(gateway)
    if cls.serves(code, settings):
        return None
    where = f" or map it in MERCHANT_{cls.channels_setting}" if cls.channels_setting else ""
    return (f"{gateway} has no channel for {code}: use one of {', '.join(sorted(cls.channels))}"
            f"{where}, or choose another gateway for it.")


def refusal(gateway: str, code: str, settings) -> str | None:
    """Why payments for method `code` cannot be taken through `gateway`; None when they can."""
    return unconfigured(gateway, settings) or unserved(gateway, code, settings)


def method_refusal(method, settings) -> str | None:
    """Why customers cannot pay with the payment method row `method` (its own gateway, or the
    shop's GATEWAY); None when they can."""
    return refusal(method.gateway or settings["GATEWAY"], method.code, settings)
