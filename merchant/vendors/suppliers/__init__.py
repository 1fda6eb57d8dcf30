"""Suppliers behind one interface (see base.py). Adapters are looked up by name."""
from __future__ import annotations

import importlib

from merchant.vendors.suppliers.base import Supplier

ADAPTERS = {
    "sandbox": "merchant.vendors.suppliers.sandbox:SandboxSupplier",
    "manual": "merchant.vendors.suppliers.manual:ManualSupplier",
    "digiflazz": "merchant.vendors.suppliers.digiflazz:DigiflazzSupplier",
    "vipreseller": "merchant.vendors.suppliers.vipreseller:VipResellerSupplier",
    "apigames": "merchant.vendors.suppliers.apigames:ApigamesSupplier",
    "tokovoucher": "merchant.vendors.suppliers.tokovoucher:TokovoucherSupplier",
}


def supplier_class(name: str) -> type[Supplier]:
    """The adapter class for a supplier name. :raise KeyError: for an unknown name."""
    module, _, cls = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)
