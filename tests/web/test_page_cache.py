"""The catalog and product pages (merchant/web/page_cache.py): the same bytes for every
visitor, an ETag of what they depend on, a 304 before anything is rendered, and never public
when they are one visitor's own."""
from __future__ import annotations

import contextlib
import gzip

import brotli
import pytest
import sqlalchemy as sa
from conftest import create_admin, make_app, set_product, sign_in, verify

from merchant.core.extensions import db
from tests.web.test_speed_cache import renders

PRODUCT = "/p/free-fire"
PAGES = ["/", PRODUCT, "/?category=games"]
PUBLIC = "public, max-age=0, must-revalidate, s-maxage=5"


@contextlib.contextmanager
def queries(app):
    """The SQL statements the app sends while the block runs."""
    sent: list[str] = []

    def count(conn, cursor, statement, *args):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def visitors(app):
    """A first-time visitor, one whose session holds an order and a checked account, and a
    signed-in owner."""
    first = app.test_client()
    buyer = app.test_client()
    verify(buyer, "free-fire", player_id="123456789")
    buyer.set_cookie("account", "not-a-signed-account", path=PRODUCT)    # recalls nothing
    create_admin(app)
    owner = app.test_client()
    assert sign_in(owner).status_code == 303
    return [first, buyer, owner]


@pytest.mark.parametrize("path", PAGES)
def test_every_visitor_gets_the_same_bytes_and_headers(app, path):
    answers = [visitor.get(path, headers={"Accept-Encoding": "br"})
               for visitor in visitors(app)]
    assert len({answer.data for answer in answers}) == 1
    headers = {(name, value) for name, value in answers[0].headers if name != "Date"}
    assert all({(n, v) for n, v in answer.headers if n != "Date"} == headers
               for answer in answers)
    first = answers[0]
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    assert first.headers["Cache-Control"] == PUBLIC
    assert first.headers["Content-Encoding"] == "br"
    assert set(first.vary) >= {"HX-Request", "Accept-Encoding", "Accept-Language", "Cookie"}


def test_nothing_of_a_visitor_is_on_the_product_page(client):
    page = client.get(PRODUCT).text
    assert 'name="idempotency_key" value=""' in page
    assert "csrf" not in page.lower()


def test_a_page_seen_before_is_a_304_without_a_query_or_a_render(app, client, clock):
    for path in PAGES:
        tag = client.get(path).headers["ETag"]
        clock.advance(1)            # past the catalog version's check: one query at most
        with queries(app) as sent, renders(app) as rendered:
            again = client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == PUBLIC
        assert rendered == [] and len(sent) <= 1, sent


def test_a_proxys_weak_tag_is_a_304_too(client):
    """nginx makes a strong ETag weak when it compresses the page itself."""
    tag = client.get(PRODUCT).headers["ETag"]
    assert client.get(PRODUCT, headers={"If-None-Match": f"W/{tag}"}).status_code == 304


def test_the_tag_changes_after_a_catalog_edit(app, client):
    tag = client.get("/").headers["ETag"]
    set_product(app, "free-fire", name="Free Fire MAX")
    edited = client.get("/", headers={"If-None-Match": tag})
    assert edited.status_code == 200 and "Free Fire MAX" in edited.text
    assert edited.headers["ETag"] != tag


@pytest.mark.parametrize("headers, query, cookie", [
    ({"Accept-Language": "id"}, "", None),
    ({}, "", "id"),
    ({}, "?lang=id", None),
])
def test_another_language_is_another_tag(client, headers, query, cookie):
    english = client.get(PRODUCT)
    if cookie:
        client.set_cookie("lang", cookie)
    indonesian = client.get(PRODUCT + query, headers={**headers,
                                                      "If-None-Match": english.headers["ETag"]})
    assert indonesian.status_code == 200 and 'lang="id"' in indonesian.text
    assert indonesian.headers["ETag"] != english.headers["ETag"]


def test_choosing_a_language_sets_a_cookie_so_that_answer_is_not_public(client):
    chosen = client.get(f"{PRODUCT}?lang=id")
    assert "lang=id" in chosen.headers["Set-Cookie"]
    assert "public" not in chosen.headers["Cache-Control"]
    assert "private" in chosen.headers["Cache-Control"]
    assert client.get(f"{PRODUCT}?lang=id").headers["Cache-Control"] == PUBLIC   # kept now


@pytest.mark.parametrize("encoding, decode", [
    ("br", brotli.decompress), ("gzip", gzip.decompress), ("identity", bytes)])
def test_each_encoding_is_the_same_page_under_its_own_tag(client, encoding, decode):
    plain = client.get(PRODUCT, headers={"Accept-Encoding": "identity"})
    answer = client.get(PRODUCT, headers={"Accept-Encoding": encoding})
    assert decode(answer.data) == plain.data
    assert int(answer.headers["Content-Length"]) == len(answer.data)
    if encoding != "identity":
        assert answer.headers["Content-Encoding"] == encoding
        assert answer.headers["ETag"] != plain.headers["ETag"]


def test_htmxs_fragment_has_its_own_tag(client):
    page = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true",
                                        "If-None-Match": page.headers["ETag"]})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.headers["ETag"] != page.headers["ETag"]


def test_a_remembered_account_makes_the_page_the_visitors_own(app, client):
    client.post(f"{PRODUCT}/verify", data={"player_id": "123456789"},
                headers={"HX-Request": "true"})
    tag = app.test_client().get(PRODUCT).headers["ETag"]
    page = client.get(PRODUCT, headers={"If-None-Match": tag})
    assert page.status_code == 200 and 'value="123456789"' in page.text
    assert "public" not in page.headers.get("Cache-Control", "")
    assert "ETag" not in page.headers


def test_a_search_or_typed_values_are_not_shared(client):
    for path in ("/?q=free", f"{PRODUCT}?player_id=55501234"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "public" not in answer.headers.get("Cache-Control", "")
        assert "ETag" not in answer.headers
    assert 'value="55501234"' in client.get(f"{PRODUCT}?player_id=55501234").text


def test_the_release_is_the_same_in_every_process_of_a_deployment(tmp_path):
    from merchant import create_app
    from merchant.web import page_cache
    app = make_app(tmp_path)
    other = create_app(dict(app.config), instance_path=app.instance_path)
    changed = create_app(dict(app.config, SHOP_NAME_EXAMPLE="another setting"),
                         instance_path=app.instance_path)
    assert page_cache.release(app) == page_cache.release(other)
    assert page_cache.release(app) != page_cache.release(changed)
