"""static/ served by WhiteNoise: fingerprinted names, cached for good, gzip and brotli.

At startup every file under static/ is copied into a build folder (the instance folder's
`static-build/` unless STATIC_BUILD_FOLDER names another) under a name carrying a hash of its
bytes (`app.css` -> `app.1a2b3c4d5e6f.css`), with `.br` and `.gz` versions beside it
(whitenoise.compress). `url_for('static', filename='app.css')` gives the fingerprinted URL, so a
changed file is a new URL and every fingerprinted file can be cached as immutable: a repeat
visit fetches only the HTML. The plain names stay reachable (briefly cacheable) for links
from outside the shop.

WhiteNoise rather than hand-written file serving: it negotiates Accept-Encoding against the
pre-compressed files, answers conditional and range requests, and sets the caching headers,
all in front of Flask so a static request never runs the app.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
PLAIN_MAX_AGE = 600       # seconds, for the unfingerprinted names

# Builds made by this process (folder -> manifest), so a process that makes many apps over
# the same static/ (the tests) hashes and compresses it once.
_built: dict[str, tuple[str, dict[str, str]]] = {}


def init_app(app: Flask) -> None:
    build = app.config.get("STATIC_BUILD_FOLDER") or os.path.join(app.instance_path,
                                                                  "static-build")
    manifest, build = build_folder(app.static_folder, build)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])

    files = WhiteNoise(app.wsgi_app, root=build, prefix="static/", max_age=PLAIN_MAX_AGE,
                       immutable_file_test=lambda path, url: bool(FINGERPRINTED.search(url)),
                       add_headers_function=_nosniff)
    files.add_files(app.static_folder, prefix="static/")
    app.wsgi_app = files


def _nosniff(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def build_folder(source: str, build: str) -> tuple[dict[str, str], str]:
    """Fill `build` with the fingerprinted, compressed copies of `source`'s files.

    Returns the manifest (plain name -> fingerprinted name, '/'-separated) and the folder to
    serve: `build`, or an identical build this process made before. Files already there are
    kept, so a restart with unchanged files writes nothing.
    """
    manifest = {name: _fingerprinted(name, digest) for name, digest in _digests(source)}
    for folder, (made_from, made) in _built.items():
        if made_from == source and made == manifest and os.path.isdir(folder):
            return manifest, folder
    os.makedirs(build, exist_ok=True)
    # Beside the build, not in it: WhiteNoise lists the build folder's files when a process
    # starts, and another process's scratch folder vanishing under that listing crashed it.
    scratch = build.rstrip(os.sep) + ".scratch"
    os.makedirs(scratch, exist_ok=True)
    compressor = Compressor(quiet=True)
    for name, target in manifest.items():
        final = os.path.join(build, target)
        if not os.path.exists(final):
            _place(os.path.join(source, name), final, compressor, scratch)
    _built[build] = (source, manifest)
    return manifest, build


def _digests(source: str):
    for folder, _dirs, files in os.walk(source):
        for filename in sorted(files):
            path = os.path.join(folder, filename)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            yield os.path.relpath(path, source).replace(os.sep, "/"), digest


def _fingerprinted(name: str, digest: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or "/" in extension:
        return f"{name}.{digest[:12]}"
    return f"{stem}.{digest[:12]}.{extension}"


def _place(source_file: str, final: str, compressor: Compressor, scratch_root: str) -> None:
    """Copy and compress in a scratch folder, then move into place, the file itself last:
    another process starting at the same time never serves a half-written file."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="build-", dir=scratch_root)
    try:
        staged = os.path.join(scratch, os.path.basename(final))
        shutil.copyfile(source_file, staged)
        made = compressor.compress(staged) if compressor.should_compress(staged) else []
        for path in made:
            os.replace(path, os.path.join(os.path.dirname(final), os.path.basename(path)))
        os.replace(staged, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
