"""Picture uploads in the panel (product pictures, the shop's logo): the limit is said on the
form, a too-big file comes back as the form with a message, big photos are made smaller, and
only pictures too big to open safely are refused."""
from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
import sqlalchemy as sa
from conftest import create_admin, make_app, sign_in
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from merchant.core.extensions import db
from merchant.core.models import Product
from tests.catalog.test_admin_catalog import product_form, product_id


def multipart(fields: dict) -> dict:
    """A multipart body already encoded (the test client would spool a big one to a file the
    app never reads, and never close it)."""
    boundary, body = encode_multipart(fields)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def png_of_size(width: int, height: int) -> bytes:
    """A real, black, 1-bit PNG, built row by row so the test never holds it decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    row = b"\x00" + bytes((width + 7) // 8)
    packer = zlib.compressobj(9)
    rows = b"".join(packer.compress(row * 1000) for _ in range(height // 1000))
    rows += packer.compress(row * (height % 1000)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def jpeg_of_size(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 120).save(out, "JPEG", quality=50)
    return out.getvalue()


def stored_picture(app, slug: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Product.image).where(Product.slug == slug))


def test_the_forms_say_how_big_a_picture_may_be(app, owner):
    pid = product_id(app, "free-fire")
    assert "up to 2 MB" in owner.get(f"/admin/catalog/{pid}/edit").text
    assert "up to 2 MB" in owner.get("/admin/settings").text
    owner.get("/admin/?lang=id")
    assert "paling besar 2 MB" in owner.get(f"/admin/catalog/{pid}/edit").text


def test_a_picture_over_the_limit_comes_back_as_the_form_with_what_was_typed(app, owner):
    pid = product_id(app, "free-fire")
    photo = b"\xff\xd8\xff\xe0" + bytes(int(9.7 * 1024 * 1024))
    form = product_form(app, "free-fire", name="Free Fire MAX", publisher="Garena Indonesia",
                        picture=FileStorage(io.BytesIO(photo), "photo.jpg"))
    response = owner.post(f"/admin/catalog/{pid}/edit", **multipart(form))
    assert response.status_code == 422
    assert "The picture is larger than 2 MB" in response.text
    assert 'value="Free Fire MAX"' in response.text and 'value="Garena Indonesia"' in response.text
    assert stored_picture(app, "free-fire") == "icons/free-fire.svg"


def test_a_body_beyond_what_the_panel_reads_comes_back_to_the_panel_form(tmp_path):
    app = make_app(tmp_path, UPLOAD_MAX_BYTES=20 * 1024, MAX_CONTENT_LENGTH=64 * 1024)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", name="Renamed",
                        picture=FileStorage(io.BytesIO(bytes(3 * 1024 * 1024)), "photo.jpg"))
    response = owner.post(f"/admin/catalog/{pid}/edit", **multipart(form))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/catalog/{pid}/edit")
    page = owner.get(response.headers["Location"]).text
    assert "Nothing was saved" in page and "pictures up to 20 KB" in page
    assert 'name="picture"' in page                     # the panel's form, not the shop's page
    assert stored_picture(app, "free-fire") == "icons/free-fire.svg"
    htmx = owner.post("/admin/settings", headers={"HX-Request": "true"}, **multipart(
        {"logo": FileStorage(io.BytesIO(bytes(3 * 1024 * 1024)), "logo.png")}))
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"].endswith("/admin/settings")


@pytest.mark.parametrize("picture, size", [
    (lambda: jpeg_of_size(8000, 6000), (256, 256)),     # a 48-megapixel phone photo
    (lambda: png_of_size(6000, 200), (200, 200)),       # a wide banner
])
def test_a_large_picture_is_made_smaller_and_stored(app, owner, picture, size):
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", picture=FileStorage(io.BytesIO(picture()), "big.jpg"))
    response = owner.post(f"/admin/catalog/{pid}/edit", **multipart(form))
    assert response.status_code == 303, response.text
    path = stored_picture(app, "free-fire")
    assert re.fullmatch(r"media/[0-9a-f]{32}\.webp", path)
    with Image.open(app.instance_path + "/" + path) as stored:
        assert stored.size == size


@pytest.mark.parametrize("lang, message", [
    ("en", "The picture has too many pixels to open safely (30000 x 30000 px)"),
    ("id", "Gambar ini terlalu banyak pikselnya untuk dibuka dengan aman (30000 x 30000 px)"),
])
def test_a_decompression_bomb_is_refused_by_name(app, owner, lang, message):
    bomb = png_of_size(30000, 30000)
    assert len(bomb) < 2 * 1024 * 1024                  # under the byte limit
    owner.get(f"/admin/?lang={lang}")
    response = owner.post("/admin/settings", **multipart(
        {"shop_name": "Kilat", "logo": FileStorage(io.BytesIO(bomb), "logo.png")}))
    assert response.status_code == 422
    assert message in response.text and 'value="Kilat"' in response.text
    assert "not a picture" not in response.text and "bukan gambar" not in response.text
