"""The translation catalogs as the code asks for them: compiled, complete, up to date."""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "merchant" / "translations"
# The same extraction as `make messages`.
EXTRACT = ["-F", "babel.cfg", "-k", "lazy_gettext", "-k", "_l", "--no-location",
           "--sort-output", "--project", "merchant"]


def po_files(translations: Path = TRANSLATIONS) -> list[Path]:
    return sorted(translations.glob("*/LC_MESSAGES/*.po"))


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


def wtforms_messages():
    """WTForms' own messages (its wtforms.pot): the forms' errors, in the wtforms domain."""
    from wtforms.i18n import messages_path
    return load(Path(messages_path()) / "wtforms.pot")


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


# A pseudo-translation: every message the code passes through gettext comes out between these
# marks, so words outside them on a page were never offered for translation.
OPEN, CLOSE = "\u27e6", "\u27e7"
INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
WORD = re.compile(r"[^\W\d_]{2,}")
# Words that are the same in every language the shop speaks: the currency, the zones, a brand.
UNIVERSAL = {"Rp", "WIB", "WITA", "WIT", "WhatsApp"}


def write_pseudo(code, translations: Path, language: str = "id") -> None:
    """A catalog for `language` under `translations` whose every message is marked."""
    pseudo = Catalog(locale=language)
    for message in code:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            text = tuple(OPEN + message.id[0] + CLOSE for _ in range(2))
            pseudo.add(message.id, text[:pseudo.num_plurals], context=message.context)
        else:
            pseudo.add(message.id, OPEN + message.id + CLOSE, context=message.context)
    folder = translations / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, pseudo)


class VisibleText(HTMLParser):
    """The text a visitor reads or hears: text outside scripts and styles, the title, and the
    attributes a browser shows or announces (placeholders, labels, alt texts, descriptions)."""
    SHOWN = {"placeholder", "aria-label", "title", "alt",
             "data-left", "data-over"}          # the countdown's words (static/app.js)
    META = {"description", "og:title", "og:description"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.chunks += [value for name, value in attrs.items() if name in self.SHOWN and value]
        if tag == "meta" and (attrs.get("name") or attrs.get("property")) in self.META:
            self.chunks.append(attrs.get("content") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data):
        if not self._hidden:
            self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.chunks)


def unmarked_words(html: str, without) -> list[str]:
    """Words on a page rendered with the pseudo catalog that came neither through gettext nor
    from the shop's data: `without(text)` takes the data (product names, nicknames ...) out."""
    text = visible_text(html)
    while INNERMOST.search(text):
        text = INNERMOST.sub(" ", text)
    text = without(text)
    return [word for word in WORD.findall(text) if word not in UNIVERSAL]
