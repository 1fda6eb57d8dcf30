"""Every string the code shows is translated: the catalogs are complete and up to date."""
from __future__ import annotations

import catalogs
import pytest
from babel.messages.catalog import Catalog


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    """The messages in the code and templates now, extracted as `make messages` does."""
    return catalogs.extract(tmp_path_factory.mktemp("pot") / "messages.pot")


@pytest.mark.parametrize("po", catalogs.po_files(), ids=lambda po: po.parts[-3])
def test_every_message_is_translated_and_the_catalog_is_up_to_date(code, po):
    assert catalogs.problems(code, catalogs.load(po)) == []


def test_a_message_missing_untranslated_fuzzy_or_gone_is_reported():
    code, po = Catalog(), Catalog(locale="id")
    for text in ("Pay", "Track order", "Delivered", "Waiting for payment"):
        code.add(text)
    code.add(("%(count)s package", "%(count)s packages"))
    po.add("Pay", "Bayar")
    po.add("Track order", "")
    po.add("Delivered", "Terkirim", flags=["fuzzy"])
    po.add(("%(count)s package", "%(count)s packages"), ("",))
    po.add("Old words", "Kata lama")
    assert catalogs.problems(code, po) == [
        "not translated: 'Track order'",
        "fuzzy: 'Delivered'",
        "not in the catalog (run make messages): 'Waiting for payment'",
        "not translated: '%(count)s package'",
        "no longer in the code (run make messages): 'Old words'",
    ]
