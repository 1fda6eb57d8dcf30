"""Payment gateways behind one interface (see base.py). Adapters are looked up by name."""
from __future__ import annotations

import importlib

from .base import Gateway

ADAPTERS = {
    "sandbox": "merchant.payments.sandbox:SandboxGateway",
    "xendit": "merchant.payments.xendit:XenditGateway",
    "midtrans": "merchant.payments.midtrans:MidtransGateway",
    "stripe": "merchant.payments.stripe:StripeGateway",
    "tripay": "merchant.payments.tripay:TripayGateway",
}


def gateway_class(name: str) -> type[Gateway]:
    """The adapter class for a gateway name. :raise KeyError: for an unknown name."""
    module, _, cls = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)
