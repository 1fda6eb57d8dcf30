"""The supply changes the owner should hear about, one function per transition.

Each is called exactly once per change (by a conditional UPDATE of the state it records), after
that change committed. They log it; this is where the owner's alert goes.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def deposit_short(supplier: str, headroom: int | None) -> None:
    """`supplier`'s deposit can no longer cover its waiting orders or its cheapest offer."""
    log.warning("supply: %s deposit is short (left after waiting orders: %s)", supplier,
                headroom)


def deposit_recovered(supplier: str, headroom: int | None) -> None:
    """`supplier`'s deposit covers its offers again."""
    log.warning("supply: %s deposit recovered (left after waiting orders: %s)", supplier,
                headroom)


def package_unavailable(package_id: int, name: str, reason: str, until: str | None) -> None:
    """No offer of the package can sell now (reason: availability.REASONS)."""
    log.warning("supply: package %s (%s) unavailable: %s%s", package_id, name, reason,
                f" until {until}" if until else "")


def package_available(package_id: int, name: str) -> None:
    """The package sells again."""
    log.warning("supply: package %s (%s) available again", package_id, name)
