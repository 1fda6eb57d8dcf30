"""Builds gateway, supplier and verifier adapters from the app's configuration.

One requests.Session per app is shared by every adapter (connection pooling), and each adapter
instance is built once per app.
"""
from __future__ import annotations

import threading

import requests
from flask import current_app

from merchant.vendors.payments import gateway_class
from merchant.vendors.payments.base import Gateway
from merchant.vendors.suppliers import supplier_class
from merchant.vendors.suppliers.base import Supplier
from merchant.vendors.verifiers import verifier_class
from merchant.vendors.verifiers.base import Verifier

_lock = threading.Lock()


def _registry() -> dict:
    return current_app.extensions.setdefault("merchant.vendors.registry", {})


def _build(kind: str, name: str, factory):
    registry = _registry()
    key = (kind, name)
    if key not in registry:
        with _lock:
            if key not in registry:
                session = registry.setdefault(("session", ""), requests.Session())
                registry[key] = factory(name)(current_app.config, session)
    return registry[key]


def http_session() -> requests.Session:
    """The app's one session, for vendor calls made outside an adapter (Fonnte receipts)."""
    registry = _registry()
    if ("session", "") not in registry:
        with _lock:
            registry.setdefault(("session", ""), requests.Session())
    return registry[("session", "")]


def gateway(name: str) -> Gateway:
    return _build("gateway", name, gateway_class)


def supplier(name: str) -> Supplier:
    return _build("supplier", name, supplier_class)


def verifier(name: str) -> Verifier:
    return _build("verifier", name, verifier_class)

