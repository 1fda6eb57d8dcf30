"""The one interface every account-nickname lookup implements. No database access."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from merchant.vendors.http import VendorAdapter, send

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


class RemoteVerifier(Verifier):
    """A paid lookup service over HTTP. Subclasses send the request in `ask` and read the
    answer; every problem on the provider's side becomes Lookup(UNAVAILABLE), never an error.
    Missing settings are the registry's to refuse: it never builds one without them."""

    vendor: str = ""               # the provider's name in operator messages

    def lookup(self, game: str, account: Mapping[str, str]) -> Lookup:
        fields = [str(value).strip() for value in account.values()]
        if not fields or not fields[0]:
            return Lookup(NOT_FOUND)
        try:
            return self.ask(game, fields)
        except VerificationError as exc:
            return Lookup(UNAVAILABLE, message=str(exc))

    def ask(self, game: str, fields: list[str]) -> Lookup:
        """Look up the account whose field values are `fields` (user id first). May raise
        VerificationError for the operator's log."""
        raise NotImplementedError

    def request(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        return send(self.http, method, url, vendor=self.vendor, what=what, timeout=self.timeout,
                    error=VerificationError, **kwargs)

    def json_object(self, response: requests.Response) -> dict:
        """The answer as a JSON object. :raise VerificationError: anything else."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise VerificationError(
                f"{self.vendor} answered HTTP {response.status_code} without a JSON object: "
                f"{response.text[:120]!r}")
        return body
