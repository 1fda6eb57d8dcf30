"""The one interface every account-nickname lookup implements. No database access."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..vendor_http import VendorAdapter

FOUND = "found"
NOT_FOUND = "not_found"
UNAVAILABLE = "unavailable"


class VerificationError(Exception):
    """The lookup provider could not be reached or answered nonsense."""


@dataclass(frozen=True)
class Lookup:
    status: str                    # FOUND, NOT_FOUND or UNAVAILABLE
    nickname: str | None = None
    message: str = ""              # for the log when UNAVAILABLE


class Verifier(VendorAdapter):
    name: str = ""
    cache: bool = True             # answers are cached (lookups cost money); False for free ones

    def lookup(self, game: str, account: Mapping[str, str]) -> Lookup:
        """Look an account up. `game` is the provider's code for the product."""
        raise NotImplementedError
