"""Signing in (and up) with a one-time code by email (a real SMTP server) or WhatsApp (the
Fonnte fake), or a password; codes single-use, short-lived, few tries; the same answers
whether an account exists or not; rate limits; signing out here and everywhere."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import make_app
from fakes.fonnte import TOKEN, FakeFonnte
from signing_in import ask_code, code_in, sign_in, smtp_config

from merchant.core.extensions import db
from merchant.core.models import Customer, SignInCode
from merchant.customers import codes


@pytest.fixture
def app(tmp_path, smtp):
    return make_app(tmp_path, **smtp_config(smtp))


def test_a_code_by_email_signs_up_then_signs_in_the_same_account(app, client, smtp):
    page = client.get("/")
    assert "Sign in" in page.text and "/account/sign-in" in page.text
    response = sign_in(client, smtp)
    assert response.headers["Location"].endswith("/account")
    account = client.get("/account")
    assert account.status_code == 200
    assert "dewi@example.com" in account.text and "My orders" in account.text
    assert account.headers["Cache-Control"] == "private, no-store"
    assert "My account" in client.get("/").text
    # The email says what it is, in words a customer understands.
    body = smtp.received[-1].message.get_content()
    assert "is your sign-in code" in body and "Never share it" in body
    # Signing in again later (another phone): the same account, not a second one.
    sign_in(app.test_client(), smtp)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
        # Only the code's keyed hash is kept.
        assert all(code_in(smtp.received[-1].message["Subject"]) not in row.code_hash
                   for row in db.session.scalars(sa.select(SignInCode)))


def test_a_wrong_code_an_expired_one_and_a_used_one_are_refused(app, client, smtp, clock):
    code = ask_code(client, smtp, "dewi@example.com")
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/account/code", data={"code": wrong})
    assert response.status_code == 422
    assert "That code is not right, or it has expired" in response.text
    assert client.get("/account").status_code == 303          # not signed in
    # Expired: past CUSTOMER_CODE_MINUTES.
    clock.advance(app.config["CUSTOMER_CODE_MINUTES"] * 60 + 1)
    assert client.post("/account/code", data={"code": code}).status_code == 422
    # Used: a fresh code works once; the same code again (another tab) does not.
    code = ask_code(client, smtp, "dewi@example.com")
    other = app.test_client()
    with other.session_transaction() as session:
        session["sign_in_pending"] = {"channel": "email", "value": "dewi@example.com",
                                      "next": "/account"}
    assert client.post("/account/code", data={"code": code}).status_code == 303
    assert other.post("/account/code", data={"code": code}).status_code == 422
    assert other.get("/account").status_code == 303


def test_a_new_code_ends_the_older_one_and_a_code_allows_few_tries(app, client, smtp):
    first = ask_code(client, smtp, "dewi@example.com")
    second = ask_code(client, smtp, "dewi@example.com")
    if first != second:
        assert client.post("/account/code", data={"code": first}).status_code == 422
    third = ask_code(client, smtp, "dewi@example.com")
    wrong = "000000" if third != "000000" else "111111"
    for _ in range(app.config["CUSTOMER_CODE_TRIES"]):
        assert client.post("/account/code", data={"code": wrong}).status_code == 422
    # The right code after the tries ran out: refused too (it cannot be guessed on).
    assert client.post("/account/code", data={"code": third}).status_code == 422


def test_two_requests_racing_with_one_code_sign_in_once(app, smtp):
    with app.app_context():
        code = codes.issue("dewi@example.com")
        assert codes.redeem("dewi@example.com", code) is True
        assert codes.redeem("dewi@example.com", code) is False


def test_the_answers_do_not_say_whether_an_account_exists(app, client, smtp):
    sign_in(client, smtp, "known@example.com")
    client.post("/account/sign-out")
    known, unknown = app.test_client(), app.test_client()
    answers = [c.post("/account/sign-in", data={"contact": address})
               for c, address in ((known, "known@example.com"), (unknown, "new@example.com"))]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    pages = [c.get("/account/code").text for c in (known, unknown)]
    assert pages[0].replace("k***@", "n***@") == pages[1]
    # A password for an account without one, a wrong one, and an unknown address read alike.
    refusals = [app.test_client().post("/account/password-sign-in",
                                       data={"contact": address, "password": "hunter22hunter"})
                for address in ("known@example.com", "nobody@example.com")]
    assert [r.status_code for r in refusals] == [422, 422]
    assert refusals[0].text.replace("known@", "nobody@") == refusals[1].text
    assert "do not match an account with a password" in refusals[0].text


def test_a_password_set_on_the_account_page_signs_in_and_signs_other_devices_out(
        app, client, smtp):
    sign_in(client, smtp)
    laptop = app.test_client()
    sign_in(laptop, smtp)
    short = client.post("/account/password", data={"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 8 characters" in short.text
    done = client.post("/account/password", data={"password": "kucing-oranye-7",
                                                  "confirm": "kucing-oranye-7"})
    assert done.status_code == 303
    assert "Password saved" in client.get(done.headers["Location"]).text   # still signed in
    assert laptop.get("/account").status_code == 303                        # signed out
    wrong = laptop.post("/account/password-sign-in", data={"contact": "dewi@example.com",
                                                           "password": "kucing-oranye-8"})
    assert wrong.status_code == 422
    right = laptop.post("/account/password-sign-in", data={"contact": "DEWI@example.com",
                                                           "password": "kucing-oranye-7"})
    assert right.status_code == 303 and laptop.get("/account").status_code == 200


def test_sign_out_here_and_everywhere(app, client, smtp):
    sign_in(client, smtp)
    phone = app.test_client()
    sign_in(phone, smtp)
    assert client.post("/account/sign-out").status_code == 303
    assert client.get("/account").status_code == 303
    assert phone.get("/account").status_code == 200         # the other device stays in
    sign_in(client, smtp)
    assert client.post("/account/sign-out-everywhere").status_code == 303
    assert phone.get("/account").status_code == 303
    assert client.get("/account").status_code == 303


def test_asking_for_codes_is_rate_limited_per_address_and_per_client(tmp_path, smtp):
    app = make_app(tmp_path, RATELIMIT_CUSTOMER_CODE="2 per 10 minutes",
                   RATELIMIT_CUSTOMER_SIGN_IN="3 per minute", **smtp_config(smtp))
    client = app.test_client()
    for _ in range(2):
        assert client.post("/account/sign-in",
                           data={"contact": "dewi@example.com"}).status_code == 303
    limited = client.post("/account/sign-in", data={"contact": "dewi@example.com"})
    assert limited.status_code == 429
    assert "Too many tries from here" in limited.text
    assert len(smtp.received) == 2
    # Guessing codes: limited too.
    for _ in range(3):
        client.post("/account/code", data={"code": "123456"})
    assert client.post("/account/code", data={"code": "123456"}).status_code == 429


def test_a_bad_contact_gets_a_clear_message_and_nothing_is_sent(app, client, smtp):
    response = client.post("/account/sign-in", data={"contact": "not an address"})
    assert response.status_code == 422
    assert "Enter an email address like name@example.com" in response.text
    assert smtp.received == []


def test_sign_in_is_hidden_when_no_code_can_be_sent(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    assert "/account/sign-in" not in client.get("/").text
    assert client.get("/account/sign-in").status_code == 404


@pytest.fixture
def fonnte(vendor_server):
    return FakeFonnte(vendor_server)


def test_a_code_by_whatsapp_signs_up_with_the_number(tmp_path, fonnte):
    app = make_app(tmp_path, FONNTE_TOKEN=TOKEN, FONNTE_URL=fonnte.url, HTTP_TIMEOUT=5)
    client = app.test_client()
    page = client.get("/account/sign-in")
    assert "Your WhatsApp number" in page.text
    response = client.post("/account/sign-in", data={"contact": "0812-3456-7890"})
    assert response.status_code == 303
    sent = fonnte.delivered[-1]
    assert sent.target == "6281234567890"
    code = code_in(sent.message)
    assert "+62812****7890" in client.get("/account/code").text
    assert client.post("/account/code", data={"code": code}).status_code == 303
    assert "+6281234567890" in client.get("/account").text
    with app.app_context():
        row = db.session.scalar(sa.select(Customer))
        assert (row.whatsapp, row.email) == ("+6281234567890", None)
    # An email address cannot be used when only WhatsApp sends codes.
    refused = app.test_client().post("/account/sign-in", data={"contact": "a@example.com"})
    assert refused.status_code == 422 and "WhatsApp number like" in refused.text


def test_a_code_that_could_not_be_sent_says_so(tmp_path, fonnte):
    app = make_app(tmp_path, FONNTE_TOKEN=TOKEN, FONNTE_URL=fonnte.url, HTTP_TIMEOUT=5)
    fonnte.script.append("refuse")
    response = app.test_client().post("/account/sign-in", data={"contact": "081234567890"})
    assert response.status_code == 503
    assert "We could not send the code just now" in response.text



def test_signing_in_speaks_bahasa_indonesia(app, client, smtp):
    client.set_cookie("lang", "id")
    page = client.get("/account/sign-in")
    assert "Masuk atau buat akun" in page.text and "Kirim kode" in page.text
    client.post("/account/sign-in", data={"contact": "dewi@example.com"})
    message = smtp.wait_for(1)[-1].message
    assert message["Subject"].startswith("Kode masuk Anda: ")
    assert "Jangan bagikan kode ini" in message.get_content()
    assert "Kami mengirim kode 6 angka lewat email ke d***@example.com" in \
        client.get("/account/code").text
