"""Money typed as people type it: the reader's thousands separator, a currency sign, one clear
message when it is not an amount, and the phone's number pad."""
from __future__ import annotations

import re

import pytest
from conftest import package_id

from merchant.catalog import prices
from merchant.core import money
from tests.catalog.test_admin_catalog import audit_actions, package_form, price_of


@pytest.mark.parametrize("text, currency, locale, minor", [
    ("14.000", "IDR", "id", 14_000),
    ("14000", "IDR", "id", 14_000),
    ("Rp 14.000", "IDR", "id", 14_000),
    ("Rp. 1.250.000", "IDR", "id", 1_250_000),
    ("14,000", "IDR", "en", 14_000),
    ("14000", "IDR", "en", 14_000),
    ("IDR 14,000", "IDR", "en", 14_000),
    ("14.000,00", "IDR", "id", 14_000),
    ("0,30", "USD", "id", 30),
    ("1.234,50", "USD", "id", 123_450),
    ("0.30", "USD", "en", 30),
    ("1,234.50", "USD", "en", 123_450),
    ("US$12.50", "USD", "en", 1_250),
    ("1.234", "USD", "id", 123_400),
])
def test_amounts_as_people_type_them(text, currency, locale, minor):
    assert money.to_minor(text, currency, locale) == minor


@pytest.mark.parametrize("text, currency, locale", [
    ("14.5", "IDR", "id"), ("14,5", "IDR", "en"), ("-5000", "IDR", "id"), ("abc", "IDR", "en"),
    ("1.2.3", "IDR", "id"), ("14.00.000", "IDR", "id"), ("0,0010", "USD", "id"),
    ("", "IDR", "en"), ("1.234", "USD", "en"), ("0,305", "USD", "id"), ("1e9", "IDR", "en"),
    ("99999999999", "IDR", "en"), ("Rp", "IDR", "id"), ("14.000.", "IDR", "id"),
])
def test_what_is_not_an_amount_is_refused(text, currency, locale):
    with pytest.raises(ValueError):
        money.to_minor(text, currency, locale)


def price_errors(page: str) -> list[str]:
    return re.findall(r'<small class="error" id="price-error">([^<]*)</small>', page)


@pytest.mark.parametrize("lang, typed", [("id", "14.000"), ("id", "14000"), ("id", "Rp 14.000"),
                                         ("en", "14,000"), ("en", "14000")])
def test_a_package_price_typed_with_thousands(app, owner, lang, typed):
    owner.get(f"/admin/?lang={lang}")
    pid = package_id(app, "tiktok-coins", "70 Coins")
    response = owner.post(f"/admin/catalog/packages/{pid}/edit",
                          data=package_form(app, "tiktok-coins", "70 Coins", price=typed))
    assert response.status_code == 303, price_errors(response.text)
    assert price_of(app, "tiktok-coins", "70 Coins") == 14_000


@pytest.mark.parametrize("lang, typed, message", [
    ("en", "14.5", "Enter an amount in IDR, like 14.000."),
    ("en", "fourteen", "Enter an amount in IDR, like 14.000."),
    ("id", "14,5", "Masukkan jumlah dalam IDR, seperti 14.000."),
    ("en", "", "Enter the price."),
    ("id", "", "Masukkan harga."),
    ("en", "0", "The price must be at least 1."),
])
def test_a_wrong_price_gets_one_clear_message(app, owner, lang, typed, message):
    owner.get(f"/admin/?lang={lang}")
    pid = package_id(app, "tiktok-coins", "70 Coins")
    response = owner.post(f"/admin/catalog/packages/{pid}/edit",
                          data=package_form(app, "tiktok-coins", "70 Coins", price=typed))
    assert response.status_code == 422
    assert price_errors(response.text) == [message]
    assert f'value="{typed}"' in response.text                  # what they typed, to mend
    assert price_of(app, "tiktok-coins", "70 Coins") == 15_000 and audit_actions(app) == []


# A shop in Asia/Jakarta reads English as en_ID, where rupiah are written "Rp 15.000" too.
@pytest.mark.parametrize("lang, shown", [("id", "15.000"), ("en", "15.000")])
def test_the_price_is_shown_as_the_reader_writes_it(app, owner, lang, shown):
    owner.get(f"/admin/?lang={lang}")
    pid = package_id(app, "tiktok-coins", "70 Coins")
    page = owner.get(f"/admin/catalog/packages/{pid}/edit").text
    price = re.search(r'<input[^>]*name="price"[^>]*>', page).group(0)
    assert f'value="{shown}"' in price and 'inputmode="numeric"' in price
    response = owner.post(f"/admin/catalog/packages/{pid}/edit",
                          data=package_form(app, "tiktok-coins", "70 Coins", price=shown))
    assert response.status_code == 303
    assert price_of(app, "tiktok-coins", "70 Coins") == 15_000


NUMBERS = re.compile(r'<input[^>]*name="(price|quantity|bonus|supplier_cost|fallback_cost|'
                     r'sort_order|fee_flat|fee_percent|min_amount|max_amount|min_spend|'
                     r'max_uses|max_per_contact|round_to)"[^>]*>')


def number_fields(page: str) -> dict[str, str | None]:
    """name -> inputmode of every input that takes a number."""
    modes = {}
    for match in NUMBERS.finditer(page):
        mode = re.search(r'inputmode="(\w+)"', match.group(0))
        modes[match.group(1)] = mode and mode.group(1)
    return modes


@pytest.mark.parametrize("url", ["/admin/catalog/packages/{pid}/edit", "/admin/methods/new",
                                 "/admin/promos/new"])
def test_number_fields_open_the_number_pad(app, owner, url):
    pid = package_id(app, "tiktok-coins", "70 Coins")
    fields = number_fields(owner.get(url.format(pid=pid)).text)
    assert fields and all(mode in ("numeric", "decimal") for mode in fields.values()), fields


@pytest.mark.parametrize("typed", ["1.000", "1,000", "1000", "Rp 1.000"])
def test_a_flat_markup_with_thousands_is_a_thousand_rupiah(typed):
    assert prices.parse_markup(typed).flat == 1_000


def test_a_markup_that_is_no_whole_rupiah_is_refused():
    with pytest.raises(prices.PriceImportError):
        prices.parse_markup("1.5")
