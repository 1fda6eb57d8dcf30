"""VipResellerVerifier against the fake VIP Reseller server (tests/fakes/vipreseller.py)."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from merchant.vendors import registry
from merchant.vendors.verifiers import verifier_class
from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE, Lookup
from merchant.vendors.verifiers.vipreseller import VipResellerVerifier, sign
from tests.fakes.vipreseller import NO_BALANCE, FakeVipReseller

ML = {"user_id": "12345678", "zone_id": "1234"}


@pytest.fixture
def fake(httpserver):
    fake = FakeVipReseller(httpserver)
    yield fake
    fake.release()


@pytest.fixture
def verifier(fake):
    with requests.Session() as session:
        yield VipResellerVerifier({**fake.settings, "HTTP_TIMEOUT": 5}, session=session)


def test_registered_under_its_name():
    assert verifier_class("vipreseller") is VipResellerVerifier
    assert VipResellerVerifier.required_settings == ("VIPRESELLER_API_ID", "VIPRESELLER_API_KEY")


def test_sign_is_md5_of_api_id_then_api_key():
    assert sign("M1", "s3cret") == "fbd7fac7f8d6d893de8afa5bf7e67591"


def test_found_returns_the_vendor_nickname(fake, verifier):
    fake.add_account("free-fire", "987654321", "M2R・ｂｏｙｙ")

    result = verifier.lookup("free-fire", {"player_id": "987654321"})

    assert result == Lookup(FOUND, "M2R・ｂｏｙｙ")
    assert fake.lookup_count("free-fire", "987654321") == 1


def test_request_is_the_documented_form(fake, verifier):
    fake.add_account("free-fire", "987654321", "Vino")
    verifier.lookup("free-fire", {"player_id": "987654321"})

    assert fake.received[-1] == {
        "key": fake.api_key,
        "sign": sign(fake.api_id, fake.api_key),
        "type": "get-nickname",
        "code": "free-fire",
        "target": "987654321",
    }


def test_zone_is_sent_as_additional_target(fake, verifier):
    fake.add_account("mobile-legends", "12345678", "Budi", additional="1234")

    assert verifier.lookup("mobile-legends", ML) == Lookup(FOUND, "Budi")
    assert fake.received[-1]["target"] == "12345678"
    assert fake.received[-1]["additional_target"] == "1234"
    wrong_zone = {"user_id": "12345678", "zone_id": "4321"}
    assert verifier.lookup("mobile-legends", wrong_zone).status == NOT_FOUND


def test_unknown_account_is_not_found(fake, verifier):
    assert verifier.lookup("mobile-legends", ML) == Lookup(NOT_FOUND)
    assert fake.lookup_count("mobile-legends", "12345678", "1234") == 1


def test_every_lookup_reaches_the_vendor_and_is_counted(fake, verifier):
    fake.add_account("mobile-legends", "12345678", "Budi", additional="1234")
    for _ in range(3):
        verifier.lookup("mobile-legends", ML)

    assert fake.lookup_count("mobile-legends", "12345678", "1234") == 3


@pytest.mark.parametrize("field", ["VIPRESELLER_API_ID", "VIPRESELLER_API_KEY"])
def test_bad_credentials_are_unavailable(fake, field):
    fake.add_account("free-fire", "987654321", "Vino")
    wrong = VipResellerVerifier({**fake.settings, field: "wrong"})

    result = wrong.lookup("free-fire", {"player_id": "987654321"})

    assert result.status == UNAVAILABLE
    assert "Sign tidak valid" in result.message
    assert fake.lookup_count("free-fire", "987654321") == 0


def test_missing_credentials_keep_it_from_being_ready(fake):
    """The registry refuses to build it, so no request goes out (tests/vendors/test_registry.py)."""
    readiness = registry.ready("verifier", "vipreseller", {"VIPRESELLER_API_ID": "x"})

    assert not readiness and readiness.missing == ("MERCHANT_VIPRESELLER_API_KEY",)
    assert fake.received == []


def test_insufficient_balance_is_unavailable(fake, verifier):
    fake.refusal = NO_BALANCE

    result = verifier.lookup("mobile-legends", ML)

    assert result.status == UNAVAILABLE
    assert NO_BALANCE in result.message


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("Target tidak ditemukan.", NOT_FOUND),
        ("User ID atau Zone ID salah.", NOT_FOUND),
        ("Invalid ID", NOT_FOUND),
        ("IP 10.0.0.1 tidak terdaftar di whitelist.", UNAVAILABLE),
        ("API Key salah.", UNAVAILABLE),
        ("Kode game tidak ditemukan.", UNAVAILABLE),
        ("Layanan sedang gangguan.", UNAVAILABLE),
        ("Terjadi kesalahan.", UNAVAILABLE),
    ],
)
def test_refusal_wording_decides_not_found_versus_unavailable(fake, verifier, message, status):
    fake.refusal = message

    result = verifier.lookup("mobile-legends", ML)

    assert result.status == status
    if status == UNAVAILABLE:
        assert message in result.message


def test_unknown_game_code_is_unavailable(verifier):
    result = verifier.lookup("mobile-legend", ML)

    assert result.status == UNAVAILABLE
    assert "Kode game" in result.message


def test_vendor_down_is_unavailable(fake, verifier):
    fake.down = True

    result = verifier.lookup("mobile-legends", ML)

    assert result.status == UNAVAILABLE
    assert "500" in result.message


def test_garbage_answer_is_unavailable(fake, verifier):
    fake.garbage = True

    result = verifier.lookup("mobile-legends", ML)

    assert result.status == UNAVAILABLE
    assert "Bad gateway" in result.message


def test_slow_vendor_is_unavailable_within_the_timeout(fake):
    fake.add_account("mobile-legends", "12345678", "Budi", additional="1234")
    fake.delay = 10
    slow = VipResellerVerifier({**fake.settings, "HTTP_TIMEOUT": 0.3})

    started = time.monotonic()
    result = slow.lookup("mobile-legends", ML)

    assert time.monotonic() - started < 5      # not the 10 s the vendor takes (a busy machine)
    assert result.status == UNAVAILABLE
    assert "0.3 s" in result.message


def test_unreachable_vendor_is_unavailable(fake):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {**fake.settings, "VIPRESELLER_API_URL": f"http://127.0.0.1:{port}/api"}

    result = VipResellerVerifier(settings).lookup("mobile-legends", ML)

    assert result.status == UNAVAILABLE
    assert fake.api_key not in result.message
