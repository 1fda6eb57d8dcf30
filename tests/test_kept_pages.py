"""The catalog and product pages answered in front of Flask (merchant/web/kept_pages.py): the
same page and headers Flask gives, with the visitor's own token and key, and never for a
visitor or a catalog Flask would answer differently."""
from __future__ import annotations

import gzip
import re

import brotli
import pytest
from conftest import (
    create_admin,
    flask_requests,
    make_app,
    package_id,
    set_product,
    sign_in,
)

from tests.test_speed_cache import form_secrets

PRODUCT = "/p/free-fire"
CHECK = {"player_id": "123456789"}


def learnt(client, path: str = PRODUCT, **kwargs):
    """A visitor's first view (Flask makes their session), then one Flask answers with
    nothing to change, which is kept."""
    for _ in range(2):
        assert client.get(path, **kwargs).status_code == 200


def without_secrets(html: str) -> str:
    return re.sub(r'(name="(csrf_token|idempotency_key)" value=")[^"]+|'
                  r'("X-CSRFToken": ")[^"]+', r"\1\3", html)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, WTF_CSRF_ENABLED=True)


def test_a_page_seen_again_is_flasks_page_with_a_new_token_and_key(app, client):
    client.get(PRODUCT)
    flask_answer = client.get(PRODUCT)
    with flask_requests(app) as handled:
        answers = [client.get(PRODUCT) for _ in range(3)]
    assert handled == []
    texts = [flask_answer.text] + [answer.text for answer in answers]
    assert {without_secrets(text) for text in texts} == {without_secrets(flask_answer.text)}
    keys = {form_secrets(text)[1] for text in texts}
    assert len(keys) == 4 and all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)
    ignored = {"Date", "Content-Length"}
    assert {(k, v) for k, v in answers[0].headers if k not in ignored} == \
        {(k, v) for k, v in flask_answer.headers if k not in ignored}


def test_the_token_and_key_of_a_kept_answer_buy(app, client):
    learnt(client)
    with flask_requests(app) as handled:
        page = client.get(PRODUCT).text
    assert handled == []
    token, key = form_secrets(page)
    check = client.post(f"{PRODUCT}/verify", data={**CHECK, "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert check.status_code == 200, check.text
    verification = re.search(r'name="verification_token" value="([^"]+)"', check.text)[1]
    form = {**CHECK, "csrf_token": token, "verification_token": verification,
            "package": package_id(app, "free-fire", "5 Diamonds"), "method": "QRIS",
            "email": "buyer@example.com", "idempotency_key": key}
    assert client.post(f"{PRODUCT}/order", data=form).status_code == 303
    # The same key again (Buy pressed twice) finds that order, not a second one.
    again = client.post(f"{PRODUCT}/order", data=form)
    assert again.status_code == 303
    assert client.post(f"{PRODUCT}/order", data=form).headers["Location"] == \
        again.headers["Location"]


def test_another_visitors_token_is_refused(app, client):
    learnt(client)
    stranger = app.test_client()
    learnt(stranger)
    token, _ = form_secrets(stranger.get(PRODUCT).text)
    check = client.post(f"{PRODUCT}/verify", data={**CHECK, "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert check.status_code == 400


@pytest.mark.parametrize("encoding, decode", [
    ("br", brotli.decompress), ("gzip", gzip.decompress), ("identity", bytes)])
def test_each_encoding_the_browser_accepts(app, client, encoding, decode):
    headers = {"Accept-Encoding": encoding}
    learnt(client, headers=headers)
    flask_answer = client.get(PRODUCT, headers=headers)
    with flask_requests(app) as handled:
        kept = client.get(PRODUCT, headers=headers)
    assert handled == []
    assert kept.headers.get("Content-Encoding") == flask_answer.headers.get("Content-Encoding")
    assert int(kept.headers["Content-Length"]) == len(kept.data)
    page = decode(kept.data).decode()
    assert without_secrets(page) == without_secrets(decode(flask_answer.data).decode())


def test_a_catalog_edit_shows_on_the_next_view(app, client):
    learnt(client, "/")
    set_product(app, "free-fire", name="Free Fire MAX")
    with flask_requests(app) as handled:
        page = client.get("/").text
    assert handled == ["/"]
    assert "Free Fire MAX" in page


def test_another_language_is_never_the_kept_one(app, client):
    learnt(client)
    with flask_requests(app) as handled:
        indonesian = client.get(PRODUCT, headers={"Accept-Language": "id"}).text
        chosen = client.get(f"{PRODUCT}?lang=id").text
    assert handled == [PRODUCT, PRODUCT]
    assert 'lang="id"' in indonesian and 'lang="id"' in chosen
    assert 'lang="en"' in client.get(PRODUCT).text


def test_a_remembered_account_is_filled_in_by_flask(app, client):
    client.set_cookie("account", "not-a-signed-account", path=PRODUCT)    # recalls nothing
    learnt(client)
    token, _ = form_secrets(client.get(PRODUCT).text)
    client.post(f"{PRODUCT}/verify", data={**CHECK, "csrf_token": token},
                headers={"HX-Request": "true"})
    with flask_requests(app) as handled:
        page = client.get(PRODUCT).text
    assert handled == [PRODUCT]
    assert 'value="123456789"' in page


def test_a_new_or_forged_session_gets_its_cookie_from_flask(app, client):
    learnt(client)
    for cookie in (None, "forged.session.cookie"):
        visitor = app.test_client()
        if cookie:
            visitor.set_cookie("session", cookie)
        with flask_requests(app) as handled:
            answer = visitor.get(PRODUCT)
        assert handled == [PRODUCT]
        assert "session=" in answer.headers["Set-Cookie"]


def test_a_signed_in_operator_is_answered_by_flask(tmp_path):
    app = make_app(tmp_path)          # without CSRF, to sign in through the form
    create_admin(app)
    owner = app.test_client()
    assert sign_in(owner).status_code == 303
    learnt(owner)
    with flask_requests(app) as handled:
        owner.get(PRODUCT)
    assert handled == [PRODUCT]
