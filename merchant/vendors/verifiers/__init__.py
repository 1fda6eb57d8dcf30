"""Account-nickname lookups behind one interface (see base.py). Looked up by name."""
from __future__ import annotations

import importlib

from merchant.vendors.verifiers.base import Verifier

ADAPTERS = {
    "sandbox": "merchant.vendors.verifiers.sandbox:SandboxVerifier",
    "apigames": "merchant.vendors.verifiers.apigames:ApigamesVerifier",
    "vipreseller": "merchant.vendors.verifiers.vipreseller:VipResellerVerifier",
}


def verifier_class(name: str) -> type[Verifier]:
    """The adapter class for a verifier name. :raise KeyError: for an unknown name."""
    module, _, cls = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)
