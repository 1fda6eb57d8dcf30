"""Apigames (apigames.id) account-nickname lookup: GET /merchant/{id}/cek-username/{game}.

Vendor docs: https://docs.apigames.id/docs/cek-username
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

import requests

from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE, Lookup, RemoteVerifier

DEFAULT_API_URL = "https://v1.apigames.id"

# The game codes Apigames' cek-username accepts (use one as the product's verifier game code).
GAME_CODES = {
    # Mobile Legends: the product's fields are user_id then zone_id. Apigames has no zone
    # parameter: the zone is appended to the user id (user 12345678, zone 1234 -> 123456781234).
    "mobilelegend": "Mobile Legends: Bang Bang",
    "freefire": "Free Fire (player id only)",
    "higgs": "Higgs Domino (user id only; listed in the docs' summary, not in its code table)",
}

# A `status: 0` answer carries `error_msg`. The docs define "not found" as `status: 1` with
# `data.is_valid: false`; third-party clients also report `status: 0` with "Invalid User ID Or
# Zone ID", so that wording counts as not found too. Every other error is the provider's.
_NOT_FOUND_ERROR = re.compile(r"invalid user id|user id not found|tidak ditemukan|not found", re.I)
_PROVIDER_ERROR = re.compile(r"signature|merchant|secret|saldo|balance|maintenance|ip\b", re.I)


def signature(merchant_id: str, secret_key: str) -> str:
    """Apigames' request signature: md5(merchant_id + secret_key), lowercase hex."""
    return hashlib.md5((merchant_id + secret_key).encode()).hexdigest()


class ApigamesVerifier(RemoteVerifier):
    name = "apigames"
    vendor = "Apigames"
    required_settings = ("APIGAMES_MERCHANT_ID", "APIGAMES_SECRET_KEY")

    def ask(self, game: str, fields: list[str]) -> Lookup:
        """Look up the nickname in Apigames game `game` (e.g. "mobilelegend")."""
        user_id = "".join(fields[:2])
        merchant_id = str(self.settings["APIGAMES_MERCHANT_ID"])
        base = str(self.settings.get("APIGAMES_API_URL") or DEFAULT_API_URL).rstrip("/")
        url = f"{base}/merchant/{quote(merchant_id, safe='')}/cek-username/{quote(game, safe='')}"
        params = {
            "user_id": user_id,
            "signature": signature(merchant_id, str(self.settings["APIGAMES_SECRET_KEY"])),
        }
        response = self.request("GET", url, f"GET cek-username/{game}", params=params)
        return _interpret(response, self.json_object(response))


def _interpret(response: requests.Response, body: dict) -> Lookup:
    """Translate Apigames' answer into a Lookup."""
    if not response.ok:
        detail = body.get("error_msg") or body.get("message") or ""
        return Lookup(UNAVAILABLE, message=f"Apigames HTTP {response.status_code}: {detail}")

    status = str(body.get("status"))
    data = body.get("data")
    if status == "1" and isinstance(data, dict):
        if data.get("is_valid") in (True, 1, "1", "true"):
            username = data.get("username")
            if isinstance(username, str) and username.strip():
                return Lookup(FOUND, nickname=username.strip())
            return Lookup(UNAVAILABLE, message="Apigames said is_valid but sent no username")
        if data.get("is_valid") in (False, 0, "0", "false"):
            return Lookup(NOT_FOUND)
    if status == "0":
        error = str(body.get("error_msg") or body.get("message") or "")
        if _NOT_FOUND_ERROR.search(error) and not _PROVIDER_ERROR.search(error):
            return Lookup(NOT_FOUND)
        return Lookup(UNAVAILABLE, message=f"Apigames error (rc {body.get('rc')}): {error}")
    return Lookup(UNAVAILABLE, message=f"Apigames answered something unexpected: {str(body)[:200]}")
