"""The supply changes the owner should hear about, one function per transition.

Each is called exactly once per change (by a conditional UPDATE of the state it records), after
that change committed. They log it and raise or clear the owner's alert (merchant/alerts/); the
deposit's own alert ("deposit low", with the owner's threshold) is raised where the balance is
read (deposits._alert), so a short deposit is only logged here: the packages it stops are
alerted one by one.
"""
from __future__ import annotations

import logging

from merchant.alerts import PACKAGE_UNAVAILABLE, clear_alert, raise_alert
from merchant.core.extensions import db
from merchant.core.models import Package

log = logging.getLogger(__name__)


def deposit_short(supplier: str, headroom: int | None) -> None:
    """`supplier`'s deposit can no longer cover its waiting orders or its cheapest offer."""
    log.warning("supply: %s deposit is short (left after waiting orders: %s)", supplier,
                headroom)


def deposit_recovered(supplier: str, headroom: int | None) -> None:
    """`supplier`'s deposit covers its offers again."""
    log.warning("supply: %s deposit recovered (left after waiting orders: %s)", supplier,
                headroom)


def package_unavailable(package_id: int, name: str, reason: str, until: str | None,
                        told: str = "") -> None:
    """No offer of the package can sell now (reason: availability.REASONS; told: the same in
    the owner's words)."""
    log.warning("supply: package %s (%s) unavailable: %s%s", package_id, name, reason,
                f" until {until}" if until else "")
    raise_alert(PACKAGE_UNAVAILABLE, package_id, **_package(package_id, name),
                reason=told or reason)


def package_available(package_id: int, name: str) -> None:
    """The package sells again."""
    log.warning("supply: package %s (%s) available again", package_id, name)
    clear_alert(PACKAGE_UNAVAILABLE, package_id, **_package(package_id, name))


def _package(package_id: int, name: str) -> dict:
    package = db.session.get(Package, package_id)
    product = package.product.name if package is not None and package.product else ""
    return {"package_id": package_id, "product": product, "package": name}
