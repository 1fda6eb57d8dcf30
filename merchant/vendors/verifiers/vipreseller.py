"""VIP Reseller (vip-reseller.co.id, "VIPayment") nickname lookup: POST /game-feature get-nickname.

Request: form `key` (API key), `sign` = md5(API ID + API key), `type=get-nickname`, `code`,
`target`, `additional_target`. Answer: `{"result": true, "data": "<nickname>", "message": ...}`
or `{"result": false, "data": null, "message": "<why>"}`.
"""

from __future__ import annotations

import hashlib
import re

import requests

from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE, Lookup, RemoteVerifier

DEFAULT_API_URL = "https://vip-reseller.co.id/api"

# Game codes seen for get-nickname (confirm the current list in the VIP Reseller dashboard,
# "nickname-game-code"). The product's first field is `target`, its second `additional_target`.
GAME_CODES = {
    "mobile-legends": "Mobile Legends (target = user id, additional_target = zone id)",
    "free-fire": "Free Fire",
    "call-of-duty-mobile": "Call of Duty Mobile",
    "arena-of-valor": "Arena of Valor",
    "point-blank": "Point Blank",
    "valorant": "Valorant",
    "genshin-impact": "Genshin Impact (additional_target = server)",
    "hago": "Hago",
    "zepeto": "Zepeto",
    "8-ball-pool": "8 Ball Pool",
    "dragon-raja": "Dragon Raja",
    "league-of-legends-wild-rift": "League of Legends: Wild Rift",
    "lords-mobile": "Lords Mobile",
    "speed-drifters": "Speed Drifters",
    "marvel-super-war": "Marvel Super War",
}

# VIP answers every failure with `result: false` and a free-text `message`, so the wording
# decides. Credentials, IP whitelist, balance, an unknown game code or an outage are the
# provider's problem; "not found / invalid / wrong id" is the account's. Anything else stays
# UNAVAILABLE: we never tell a customer their account does not exist without the vendor saying so.
_PROVIDER_ERROR = re.compile(
    r"\b(sign|signature|key|api|ip|whitelist|saldo|balance|maintenance|gangguan|sibuk|limit"
    r"|kode|code|layanan|service|akses|access|timeout)\b",
    re.I,
)
_NOT_FOUND_ERROR = re.compile(
    r"tidak ditemukan|not found|tidak valid|\binvalid\b|\bsalah\b|\bwrong\b|tidak terdaftar", re.I
)


def sign(api_id: str, api_key: str) -> str:
    """VIP Reseller's request signature: md5(API ID + API key), lowercase hex."""
    return hashlib.md5((api_id + api_key).encode()).hexdigest()


class VipResellerVerifier(RemoteVerifier):
    name = "vipreseller"
    vendor = "VIP Reseller"
    required_settings = ("VIPRESELLER_API_ID", "VIPRESELLER_API_KEY")

    def ask(self, game: str, fields: list[str]) -> Lookup:
        """Look up the nickname in VIP Reseller game `game` (e.g. "mobile-legends")."""
        api_key = str(self.settings["VIPRESELLER_API_KEY"])
        form = {
            "key": api_key,
            "sign": sign(str(self.settings["VIPRESELLER_API_ID"]), api_key),
            "type": "get-nickname",
            "code": game,
            "target": fields[0],
        }
        if len(fields) > 1 and fields[1]:
            form["additional_target"] = fields[1]
        base = str(self.settings.get("VIPRESELLER_API_URL") or DEFAULT_API_URL).rstrip("/")
        response = self.request("POST", f"{base}/game-feature", "POST /game-feature", data=form)
        return _interpret(response, self.json_object(response))


def _interpret(response: requests.Response, body: dict) -> Lookup:
    """Translate VIP Reseller's answer into a Lookup."""
    message = str(body.get("message") or "")
    if not response.ok:
        return Lookup(
            UNAVAILABLE, message=f"VIP Reseller answered HTTP {response.status_code} {message}"
        )

    result = body.get("result")
    if result in (True, "true", 1, "1"):
        nickname = _nickname(body.get("data"))
        if nickname:
            return Lookup(FOUND, nickname=nickname)
        return Lookup(UNAVAILABLE, message=f"VIP Reseller sent success without a nickname: {body}")
    if result in (False, "false", 0, "0"):
        if _NOT_FOUND_ERROR.search(message) and not _PROVIDER_ERROR.search(message):
            return Lookup(NOT_FOUND)
        return Lookup(UNAVAILABLE, message=f"VIP Reseller refused: {message}")
    return Lookup(UNAVAILABLE, message=f"VIP Reseller answered unexpectedly: {str(body)[:200]}")


def _nickname(data: object) -> str:
    """The nickname from `data`: a plain string, or (some accounts) an object holding it."""
    if isinstance(data, dict):
        data = data.get("nickname") or data.get("username") or data.get("name")
    return data.strip() if isinstance(data, str) else ""
