"""Builds gateway, supplier and verifier adapters from the app's configuration, and owns the one
answer to "can this adapter be used in this shop?" (`ready`).

One requests.Session per app is shared by every adapter (connection pooling), and each adapter
instance is built once per app. An adapter that is not ready is never built: `gateway`,
`supplier` and `verifier` raise VendorNotReady instead.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from flask import current_app
from flask_babel import gettext

from merchant.core.i18n import N_
from merchant.vendors import payments, suppliers, verifiers
from merchant.vendors.payments.base import Gateway, PaymentError
from merchant.vendors.suppliers.base import Supplier, SupplierError
from merchant.vendors.verifiers.base import VerificationError, Verifier

GATEWAY, SUPPLIER, VERIFIER = "gateway", "supplier", "verifier"
_ADAPTERS = {GATEWAY: payments.ADAPTERS, SUPPLIER: suppliers.ADAPTERS,
             VERIFIER: verifiers.ADAPTERS}
_CLASSES = {GATEWAY: payments.gateway_class, SUPPLIER: suppliers.supplier_class,
            VERIFIER: verifiers.verifier_class}

# Why an adapter is not ready: the one wording, said in English for logs and order history
# (Readiness.reason) and in the panel's language for the owner (Readiness.said()).
UNKNOWN = "unknown"
SWITCHED_OFF = "switched_off"
UNCONFIGURED = "unconfigured"


_WORDING = {
    UNKNOWN: N_("There is no %(what)s called %(name)s."),
    # A method row left on the sandbox must not take pretend payments beside a real gateway.
    SWITCHED_OFF: N_("The sandbox gateway is off in this shop (it takes pretend payments): "
                     "choose a real gateway."),
    UNCONFIGURED: N_("The %(name)s %(what)s is not configured: set %(settings)s."),
}
# What the owner calls each kind, in the sentences above.
_WHAT = {GATEWAY: N_("payment gateway"), SUPPLIER: N_("supplier"),
         VERIFIER: N_("account checker")}


@dataclass(frozen=True)
class Readiness:
    """Whether the adapter `name` of `kind` can be used here; falsy with a `problem` when not."""
    kind: str
    name: str
    problem: str | None = None          # UNKNOWN, SWITCHED_OFF or UNCONFIGURED
    missing: tuple[str, ...] = ()       # the MERCHANT_* variables to set, when UNCONFIGURED

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __bool__(self) -> bool:
        return self.ok

    def _values(self, what) -> dict:
        return {"what": what, "name": repr(self.name) if self.problem == UNKNOWN else self.name,
                "settings": ", ".join(self.missing)}

    @property
    def reason(self) -> str:
        """Why it cannot be used, in English (logs, order history, startup); "" when it can."""
        if self.ok:
            return ""
        return _WORDING[self.problem] % self._values(_WHAT[self.kind])

    def said(self) -> str:
        """`reason` in the language of the request (the owner's panel); "" when ready."""
        if self.ok:
            return ""
        return gettext(_WORDING[self.problem], **self._values(gettext(_WHAT[self.kind])))


class VendorNotReady(Exception):
    """An adapter was asked for that `ready` refuses. The message is its `reason`; `missing`
    names the settings to set. Each kind's subclass is also that kind's own error, so callers
    that already handle PaymentError or SupplierError handle this too."""

    def __init__(self, readiness: Readiness):
        super().__init__(readiness.reason)
        self.readiness = readiness
        self.missing = readiness.missing


class GatewayNotReady(VendorNotReady, PaymentError):
    pass


class SupplierNotReady(VendorNotReady, SupplierError):
    pass


class VerifierNotReady(VendorNotReady, VerificationError):
    pass


_ERRORS = {GATEWAY: GatewayNotReady, SUPPLIER: SupplierNotReady, VERIFIER: VerifierNotReady}


def names(kind: str) -> list[str]:
    """Every adapter name merchant knows for `kind`."""
    return list(_ADAPTERS[kind])


def _adapter_class(kind: str, name: str) -> type:
    """The adapter class of `kind` called `name`. :raise KeyError: for an unknown name."""
    return _CLASSES[kind](name)


def ready(kind: str, name: str, settings: Mapping | None = None) -> Readiness:
    """Whether the `kind` ("gateway", "supplier" or "verifier") adapter `name` can be used with
    `settings` (the app's config by default): merchant knows it, the sandbox gateway is on if
    it is the sandbox, and every setting it needs is there."""
    settings = current_app.config if settings is None else settings
    if name not in _ADAPTERS[kind]:
        return Readiness(kind, name, UNKNOWN)
    if kind == GATEWAY and name == "sandbox" and not settings.get("SANDBOX_ENABLED"):
        return Readiness(kind, name, SWITCHED_OFF)
    missing = _adapter_class(kind, name).missing_settings(settings)
    if missing:
        return Readiness(kind, name, UNCONFIGURED, tuple(missing))
    return Readiness(kind, name)


_lock = threading.Lock()


def _registry() -> dict:
    return current_app.extensions.setdefault("merchant.vendors.registry", {})


def _build(kind: str, name: str):
    readiness = ready(kind, name)
    if not readiness:
        raise _ERRORS[kind](readiness)
    registry = _registry()
    key = (kind, name)
    if key not in registry:
        session = http_session()
        with _lock:
            if key not in registry:
                registry[key] = _adapter_class(kind, name)(current_app.config, session)
    return registry[key]


def http_session() -> requests.Session:
    """The app's one session, for vendor calls made outside an adapter (Fonnte receipts)."""
    registry = _registry()
    if ("session", "") not in registry:
        with _lock:
            registry.setdefault(("session", ""), requests.Session())
    return registry[("session", "")]


def gateway(name: str) -> Gateway:
    """The gateway adapter. :raise GatewayNotReady: (a PaymentError) see `ready`."""
    return _build(GATEWAY, name)


def supplier(name: str) -> Supplier:
    """The supplier adapter. :raise SupplierNotReady: (a SupplierError) see `ready`."""
    return _build(SUPPLIER, name)


def verifier(name: str) -> Verifier:
    """The verifier adapter. :raise VerifierNotReady: (a VerificationError) see `ready`."""
    return _build(VERIFIER, name)
