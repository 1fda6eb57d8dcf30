"""Pages light on mobile data: fingerprinted assets cached for good, everything compressed."""
from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys

import brotli
import pytest

from merchant import ROOT
from merchant.web.edge.static_files import build_folder

BROWSER = {"Accept-Encoding": "br, gzip"}
YEAR = 365 * 24 * 3600


def fetch(client, url: str, **headers):
    """GET `url` and release the file WhiteNoise opened for it (a server closes it too)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def assets(html: str) -> list[str]:
    return sorted(set(re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="(/[^"]+)"', html)))


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    return response.data


def test_stylesheet_is_fingerprinted_immutable_and_served_compressed(client):
    page = client.get("/", headers=BROWSER)
    url = re.search(r'<link rel="stylesheet" href="([^"]+)"', decoded(page).decode()).group(1)
    assert re.fullmatch(r"/static/app\.[0-9a-f]{12}\.css", url)
    with open(os.path.join(ROOT, "static", "app.css"), "rb") as handle:
        source = handle.read()
    for encoding in ("br", "gzip"):
        response = fetch(client, url, **{"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == encoding
        assert len(response.data) < len(source) / 2
        assert decoded(response) == source
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "public" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR


def test_htmx_is_vendored_and_deferred(client):
    html = decoded(client.get("/", headers=BROWSER)).decode()
    script = re.search(r'<script src="(/static/htmx-[^"]+\.js)"([^>]*)>', html)
    assert script and "defer" in script.group(2)
    assert fetch(client, script.group(1)).status_code == 200


def test_first_load_is_at_most_30_kb_and_a_repeat_visit_needs_only_the_html(client):
    for path in ("/", "/p/tiktok-coins"):
        page = client.get(path, headers=BROWSER)
        assert page.headers["Content-Encoding"] == "br"
        assert "Accept-Encoding" in page.headers["Vary"]
        total, urls = len(page.data), assets(decoded(page).decode())
        assert len(urls) >= 5
        for url in urls:
            response = fetch(client, url, **BROWSER)
            assert response.status_code == 200, url
            total += len(response.data)
            cache = response.headers["Cache-Control"]
            assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= YEAR
        assert total <= 30 * 1024, (path, total)


def test_small_responses_are_not_compressed(client):
    response = client.get("/theme.css?v=123456", headers=BROWSER)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_the_plain_name_still_answers_but_is_not_cached_for_good(client):
    response = fetch(client, "/static/app.css")
    assert response.status_code == 200 and "immutable" not in response.headers["Cache-Control"]


def test_a_changed_file_gets_a_new_name_and_the_old_one_keeps_working(tmp_path):
    source, build = tmp_path / "static", tmp_path / "build"
    source.mkdir()
    (source / "site.css").write_text("body { color: black; }\n" * 40)
    before, _ = build_folder(str(source), str(build))
    (source / "site.css").write_text("body { color: navy; }\n" * 40)
    after, served = build_folder(str(source), str(build))
    assert before["site.css"] != after["site.css"]
    assert re.fullmatch(r"site\.[0-9a-f]{12}\.css", after["site.css"])
    for name in (before["site.css"], after["site.css"]):
        assert os.path.exists(os.path.join(served, name))
        assert os.path.exists(os.path.join(served, name + ".br"))
        assert os.path.exists(os.path.join(served, name + ".gz"))


@pytest.mark.process
def test_processes_starting_together_on_an_empty_instance_all_start(tmp_path):
    """gunicorn's workers and the flask workers build the same folder at the same moment: none
    may trip over another's half-made files while WhiteNoise lists the folder."""
    build = tmp_path / "static-build"
    script = ("import sys; from whitenoise import WhiteNoise;"
              "from merchant.web.edge import static_files;"
              "m, b = static_files.build_folder(sys.argv[1], sys.argv[2]);"
              "WhiteNoise(None, root=b, prefix='static/'); print(len(m))")
    starts = [subprocess.Popen([sys.executable, "-c", script, os.path.join(ROOT, "static"),
                                str(build)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0] * 6, [err for _, err in results]
    assert len({out for out, _ in results}) == 1
    assert not [path for path in build.rglob("*") if "build-" in path.name]
