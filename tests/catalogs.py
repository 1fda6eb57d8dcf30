"""The translation catalogs as the code asks for them: compiled, complete, up to date."""
from __future__ import annotations

import os
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "merchant" / "translations"
# The same extraction as `make messages`.
EXTRACT = ["-F", "babel.cfg", "-k", "lazy_gettext", "-k", "_l", "--no-location",
           "--sort-output", "--project", "merchant"]


def po_files(translations: Path = TRANSLATIONS) -> list[Path]:
    return sorted(translations.glob("*/LC_MESSAGES/messages.po"))


def stale(translations: Path = TRANSLATIONS) -> list[str]:
    """The .po files whose .mo is missing or older than they are."""
    found = []
    for po in po_files(translations):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            found.append(f"{mo} is "
                         + ("missing" if not mo.exists() else "older than its .po"))
    return found


def extract(pot: Path):
    """Every message in the code and templates, as a catalog (written to `pot`)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(["pybabel", "-q", "extract", *EXTRACT, "-o", str(pot), "."])
    finally:
        os.chdir(cwd)
    with pot.open("rb") as handle:
        return read_po(handle)


def load(po: Path):
    with po.open("rb") as handle:
        return read_po(handle)


def problems(code, po) -> list[str]:
    """What a translator still has to do: messages of `code` (an extracted catalog) missing,
    untranslated or fuzzy in `po`, and entries of `po` that the code no longer has."""
    found = []
    for message in code:
        if not message.id:
            continue
        entry = po.get(message.id, message.context)
        label = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"not in the catalog (run make messages): {label!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy: {label!r}")
        elif not all(entry.string) if isinstance(entry.string, tuple) else not entry.string:
            found.append(f"not translated: {label!r}")
    for entry in po:
        if entry.id and code.get(entry.id, entry.context) is None:
            label = entry.id if isinstance(entry.id, str) else entry.id[0]
            found.append(f"no longer in the code (run make messages): {label!r}")
    return found
