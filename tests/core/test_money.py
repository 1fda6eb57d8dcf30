"""Money arithmetic, fee rounding and formatting."""
import pytest

from merchant.core.money import Money, fee, format_bp


@pytest.mark.parametrize("amount, bp, expected", [
    (15_000, 70, 105),        # exact
    (15_500, 70, 109),        # 108.5 rounds half up
    (15_499, 70, 108),        # 108.493 rounds down
    (100, 50, 1),             # 0.5 rounds up
    (99, 50, 0),              # 0.495 rounds down
    (1_435_000, 290, 41_615),
    (0, 290, 0),
])
def test_percentages_round_half_up(amount, bp, expected):
    assert Money(amount, "IDR").percent_bp(bp) == Money(expected, "IDR")


def test_negative_amounts_round_half_away_from_zero():
    assert Money(-100, "IDR").percent_bp(50) == Money(-1, "IDR")


def test_fee_is_flat_plus_percent_of_the_subtotal():
    assert fee(Money(75_000, "IDR"), 2_000, 290) == Money(4_175, "IDR")   # 2.000 + 2.175


def test_floats_and_mixed_currencies_are_refused():
    with pytest.raises(TypeError):
        Money(15.5, "IDR")
    with pytest.raises(ValueError):
        Money(1, "IDR") + Money(1, "USD")


@pytest.mark.parametrize("money, locale, text", [
    (Money(15_000, "IDR"), "id_ID", "Rp 15.000"),          # Indonesian shops set Rp apart
    (Money(1_435_000, "IDR"), "id_ID", "Rp 1.435.000"),
    (Money(0, "IDR"), "id_ID", "Rp 0"),
    (Money(-15_000, "IDR"), "id_ID", "-Rp 15.000"),
    (Money(15_000, "IDR"), "en_ID", "Rp 15.000"),          # English in Indonesia (Asia/Jakarta)
    (Money(15_000, "IDR"), "en", "IDR 15,000"),
    (Money(1250, "USD"), "en", "$12.50"),
    (Money(-705, "USD"), "en", "-$7.05"),
    (Money(1250, "USD"), "id_ID", "US$12,50"),
    (Money(99_900, "PHP"), "en_PH", "₱999.00"),
    (Money(12, "JPY"), "en", "¥12"),
])
def test_formatting_follows_the_locale(money, locale, text):
    assert money.format(locale) == text


def test_outside_a_request_money_reads_as_in_indonesia():
    assert Money(15_000, "IDR").format() == "Rp 15.000"


def test_basis_points_read_as_percentages():
    assert [format_bp(bp, "en") for bp in (70, 200, 150, 290, 5)] == ["0.7%", "2%", "1.5%",
                                                                       "2.9%", "0.05%"]
    assert format_bp(70, "id_ID") == "0,7%"
