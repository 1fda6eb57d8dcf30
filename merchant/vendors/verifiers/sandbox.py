"""The sandbox nickname lookup: fixed rules the demo and the tests rely on (see DESIGN.md).

An ID starting with `000`, or a username starting with `missing`, does not exist; any other
account exists, with a stable nickname derived from it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, Lookup, Verifier


class SandboxVerifier(Verifier):
    name = "sandbox"
    cache = False

    def lookup(self, game: str, account: Mapping[str, str]) -> Lookup:
        first = next(iter(account.values()), "")
        if first.startswith("000") or first.lower().startswith("missing"):
            return Lookup(NOT_FOUND)
        digest = hashlib.sha256("|".join(account.values()).encode()).hexdigest()
        return Lookup(FOUND, nickname=f"Player-{digest[:4].upper()}")
