"""ApigamesVerifier against the fake Apigames server (tests/fakes/apigames.py)."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from merchant.vendors import registry
from merchant.vendors.verifiers import verifier_class
from merchant.vendors.verifiers.apigames import ApigamesVerifier, signature
from merchant.vendors.verifiers.base import FOUND, NOT_FOUND, UNAVAILABLE, Lookup
from tests.fakes.apigames import FakeApigames

ML = {"user_id": "12345678", "zone_id": "1234"}


@pytest.fixture
def fake(httpserver):
    fake = FakeApigames(httpserver)
    yield fake
    fake.release()


@pytest.fixture
def verifier(fake):
    with requests.Session() as session:
        yield ApigamesVerifier({**fake.settings, "HTTP_TIMEOUT": 5}, session=session)


def test_registered_under_its_name():
    assert verifier_class("apigames") is ApigamesVerifier
    assert ApigamesVerifier.required_settings == ("APIGAMES_MERCHANT_ID", "APIGAMES_SECRET_KEY")


def test_signature_is_md5_of_merchant_id_then_secret():
    assert signature("M1", "s3cret") == "fbd7fac7f8d6d893de8afa5bf7e67591"


def test_found_returns_the_vendor_username(fake, verifier):
    fake.add_account("freefire", "987654321", "¥Vino_TZY™")

    assert verifier.lookup("freefire", {"player_id": "987654321"}) == Lookup(FOUND, "¥Vino_TZY™")
    assert fake.lookup_count("freefire", "987654321") == 1


def test_unknown_account_is_not_found(fake, verifier):
    assert verifier.lookup("freefire", {"player_id": "111"}) == Lookup(NOT_FOUND)
    assert fake.lookup_count("freefire", "111") == 1


def test_zone_is_appended_to_user_id(fake, verifier):
    fake.add_account("mobilelegend", "12345678", "•CUMAN BISA MM•", zone_id="1234")

    assert verifier.lookup("mobilelegend", ML) == Lookup(FOUND, "•CUMAN BISA MM•")
    assert fake.received[-1]["user_id"] == "123456781234"
    assert set(fake.received[-1]) == {"user_id", "signature"}
    wrong_zone = {"user_id": "12345678", "zone_id": "4321"}
    assert verifier.lookup("mobilelegend", wrong_zone).status == NOT_FOUND


def test_every_lookup_reaches_the_vendor_and_is_counted(fake, verifier):
    fake.add_account("mobilelegend", "12345678", "Budi", zone_id="1234")
    for _ in range(3):
        verifier.lookup("mobilelegend", ML)

    assert fake.lookup_count("mobilelegend", "12345678", "1234") == 3


def test_bad_signature_is_unavailable_with_the_vendor_message(fake):
    fake.add_account("freefire", "987654321", "Vino")
    wrong = ApigamesVerifier({**fake.settings, "APIGAMES_SECRET_KEY": "not-the-secret"})

    result = wrong.lookup("freefire", {"player_id": "987654321"})

    assert result.status == UNAVAILABLE
    assert "Signature not valid" in result.message
    assert fake.lookup_count("freefire", "987654321") == 0


def test_missing_credentials_keep_it_from_being_ready(fake):
    """The registry refuses to build it, so no request goes out (tests/vendors/test_registry.py)."""
    readiness = registry.ready("verifier", "apigames",
                               {"APIGAMES_API_URL": fake.settings["APIGAMES_API_URL"]})

    assert not readiness
    assert readiness.missing == ("MERCHANT_APIGAMES_MERCHANT_ID", "MERCHANT_APIGAMES_SECRET_KEY")
    assert fake.received == []


def test_vendor_down_is_unavailable(fake, verifier):
    fake.down = True

    result = verifier.lookup("freefire", {"player_id": "987654321"})

    assert result.status == UNAVAILABLE
    assert "500" in result.message


def test_garbage_answer_is_unavailable(fake, verifier):
    fake.garbage = True

    result = verifier.lookup("freefire", {"player_id": "987654321"})

    assert result.status == UNAVAILABLE
    assert "Bad gateway" in result.message


def test_slow_vendor_is_unavailable_within_the_timeout(fake):
    fake.add_account("freefire", "987654321", "Vino")
    fake.delay = 10
    slow = ApigamesVerifier({**fake.settings, "HTTP_TIMEOUT": "0.3"})

    started = time.monotonic()
    result = slow.lookup("freefire", {"player_id": "987654321"})

    assert time.monotonic() - started < 5      # not the 10 s the vendor takes (a busy machine)
    assert result.status == UNAVAILABLE
    assert "0.3 s" in result.message


def test_unreachable_vendor_is_unavailable_and_does_not_leak_the_signature(fake):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {**fake.settings, "APIGAMES_API_URL": f"http://127.0.0.1:{port}"}

    result = ApigamesVerifier(settings).lookup("freefire", {"player_id": "1"})

    assert result.status == UNAVAILABLE
    assert signature(fake.merchant_id, fake.secret_key) not in result.message


@pytest.mark.parametrize(
    ("error_msg", "status"),
    [
        ("Invalid User ID Or Zone ID", NOT_FOUND),
        ("Saldo tidak mencukupi", UNAVAILABLE),
        ("Merchant tidak ditemukan", UNAVAILABLE),
        ("Engine sedang maintenance", UNAVAILABLE),
    ],
)
def test_status_zero_errors(fake, verifier, error_msg, status):
    fake.error_msg = error_msg

    result = verifier.lookup("mobilelegend", ML)

    assert result.status == status
    if status == UNAVAILABLE:
        assert error_msg in result.message


def test_unknown_game_code_is_unavailable(verifier):
    result = verifier.lookup("genshin", {"uid": "800000001"})

    assert result.status == UNAVAILABLE
    assert "Game code not valid" in result.message
