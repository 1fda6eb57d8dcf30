"""The panel's own error pages: in the panel's layout, with the way back to the panel."""
from __future__ import annotations

import io

import pytest
from conftest import create_admin, make_app, sign_in
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

BACK = {"en": "Back to the panel", "id": "Kembali ke panel"}
SHOP_BACK = {"en": "Back to the shop", "id": "Kembali ke toko"}


def in_the_panel(page: str, lang: str) -> bool:
    return (BACK[lang] in page and 'href="/admin/"' in page and 'class="admin-nav"' in page
            and SHOP_BACK[lang] not in page)


@pytest.mark.parametrize("lang, words", [
    ("en", "There is no such page in the panel"),
    ("id", "Tidak ada halaman itu di panel"),
])
def test_a_missing_panel_page(app, owner, lang, words):
    owner.get(f"/admin/?lang={lang}")
    for url in ["/admin/no-such-page", "/admin/orders/NOSUCHREF"]:
        response = owner.get(url)
        assert response.status_code == 404, url
        assert in_the_panel(response.text, lang) and words in response.text, url


def test_the_shop_keeps_its_own_error_page(app, owner):
    response = owner.get("/no-such-page")
    assert response.status_code == 404
    assert SHOP_BACK["en"] in response.text and BACK["en"] not in response.text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_too_large_picture_in_the_panel(app, owner, lang):
    """Past what the panel reads at all (8 times the picture limit): back in the panel's form,
    in the panel's layout, saying the limit (tests/core/test_admin_uploads.py has the rest)."""
    owner.get(f"/admin/?lang={lang}")
    boundary, body = encode_multipart(
        {"logo": FileStorage(io.BytesIO(b"\x89PNG" + b"0" * (20 * 1024 * 1024)), "logo.png")})
    response = owner.post("/admin/settings", data=body, follow_redirects=True,
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200 and 'name="logo"' in response.text
    assert 'class="admin-nav"' in response.text and SHOP_BACK[lang] not in response.text
    assert "2 MB" in response.text


@pytest.mark.parametrize("lang, words", [
    ("en", "Something went wrong in the panel"),
    ("id", "Terjadi kesalahan di panel"),
])
def test_a_panel_error_on_our_side(tmp_path, lang, words):
    app = make_app(tmp_path, PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("a bug")
    app.add_url_rule("/admin/broken", "admin.broken", broken)
    create_admin(app)
    client = app.test_client()
    sign_in(client)
    client.get(f"/admin/?lang={lang}")
    response = client.get("/admin/broken")
    assert response.status_code == 500
    assert in_the_panel(response.text, lang) and words in response.text
