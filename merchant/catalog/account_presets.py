"""The one table of account-field presets: what a customer types to receive a top-up.

A product keeps its own copy of a preset's fields (Product.account_fields), so editing this table
changes new products only. The demo catalog, the price import and the panel's product form all
take their fields from here.

Labels, hints and placeholders are stored in English and translated where a customer sees them
(`accounts.shown`): N_ marks them for the catalog; an operator's own words show as typed.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from merchant.core.i18n import N_

CUSTOM = "custom"       # a product whose fields match no preset (edited by hand or by an import)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str              # shown in the panel's select
    fields: tuple[dict, ...]


def _digits(name: str, label: str, low: int, high: int, hint: str, placeholder: str) -> dict:
    return {"name": name, "label": label, "pattern": f"[0-9]{{{low},{high}}}", "hint": hint,
            "placeholder": placeholder, "inputmode": "numeric"}


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("user_id_zone", N_("User ID + Zone ID (Mobile Legends)"), (
        _digits("user_id", N_("User ID"), 6, 12, N_("The User ID is 6-12 digits."),
                N_("e.g. 12345678")),
        {"name": "zone_id", "label": N_("Zone ID"), "pattern": "[0-9]{4,5}",
         "hint": N_("The Zone ID is the 4-5 digits in brackets."),
         "placeholder": N_("e.g. 2345"), "inputmode": "numeric"},
    )),
    Preset("player_id", N_("Player ID, 8-12 digits (Free Fire)"), (
        _digits("player_id", N_("Player ID"), 8, 12, N_("The Player ID is 8-12 digits."),
                N_("e.g. 123456789")),
    )),
    Preset("character_id", N_("Character ID, 8-12 digits (PUBG Mobile)"), (
        _digits("player_id", N_("Character ID"), 8, 12,
                N_("The Character ID is 8-12 digits."), N_("e.g. 5123456789")),
    )),
    Preset("uid_server", N_("UID + server (Genshin Impact)"), (
        {"name": "uid", "label": N_("UID"), "pattern": "[0-9]{9,10}",
         "hint": N_("The UID is 9 or 10 digits."), "placeholder": N_("e.g. 812345678"),
         "inputmode": "numeric"},
        {"name": "server", "label": N_("Server"),
         "options": ["America", "Europe", "Asia", "TW, HK, MO"]},
    )),
    Preset("username", N_("Username (TikTok)"), (
        {"name": "username", "label": N_("TikTok username"), "pattern": "@?[A-Za-z0-9._]{2,24}",
         "hint": N_("A TikTok username has 2-24 letters, digits, dots or underscores."),
         "placeholder": N_("e.g. demo_user"), "inputmode": "text", "autocapitalize": "none"},
    )),
    Preset("phone", N_("Phone number (pulsa, data)"), (
        {"name": "phone", "label": N_("Phone number"), "pattern": "0[0-9]{9,13}",
         "hint": N_("A phone number like 081234567890."), "placeholder": N_("e.g. 081234567890"),
         "inputmode": "tel"},
    )),
    Preset("customer_id", N_("Customer ID (anything else)"), (
        {"name": "customer_id", "label": N_("Customer ID")},
    )),
)}

# Supplier brands (as Digiflazz spells them) whose games we know.
BRANDS = {
    "MOBILE LEGENDS": "user_id_zone",
    "FREE FIRE": "player_id",
    "PUBG MOBILE": "character_id",
    "GENSHIN IMPACT": "uid_server",
    "TIKTOK": "username",
}


def fields(key: str) -> list[dict]:
    """A fresh copy of a preset's fields, for a product to keep. :raise KeyError: unknown key."""
    return copy.deepcopy(list(PRESETS[key].fields))


def choices() -> list[tuple[str, str]]:
    """(key, label) for a select."""
    return [(p.key, p.label) for p in PRESETS.values()]


def matching(account_fields: list[dict]) -> str:
    """The preset whose field names and rules a product's fields have, else CUSTOM.

    Hints and placeholders may be reworded per product; names, labels, patterns and options
    decide which preset it is.
    """
    def shape(specs):
        return [(s.get("name"), s.get("label"), s.get("pattern"), tuple(s.get("options") or ()))
                for s in specs]
    wanted = shape(account_fields or [])
    for preset in PRESETS.values():
        if shape(preset.fields) == wanted:
            return preset.key
    return CUSTOM
