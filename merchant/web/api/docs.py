"""The API's documentation: the OpenAPI 3.1 document generated from the views' models, and a
page a developer can read in five minutes (English or Bahasa Indonesia, by the shop's language
choice), with the curl and Python examples that the tests run."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, render_template

from merchant.core import i18n
from merchant.web.api import bp, spec

EXAMPLES = Path(__file__).parent / "examples"


def document() -> dict:
    """The OpenAPI document, with the shop's own address as its server."""
    return spec.spec | {"servers": [{"url": current_app.config["PUBLIC_URL"].rstrip("/")}]}


@bp.get("/openapi.json")
def openapi():
    response = jsonify(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
def docs():
    language = "id" if i18n.language() == "id" else "en"
    return render_template("api/docs.html", doc_language=language,
                           base_url=current_app.config["PUBLIC_URL"].rstrip("/"),
                           curl_example=(EXAMPLES / "h2h.sh").read_text(),
                           python_example=(EXAMPLES / "h2h.py").read_text(),
                           operations=operations())


def operations() -> list[dict]:
    """method, path, summary and tag of each documented operation, in the document's order."""
    found = []
    for path, item in spec.spec["paths"].items():
        for method, operation in item.items():
            found.append({"method": method.upper(), "path": path,
                          "summary": operation.get("description") or operation.get("summary"),
                          "tag": (operation.get("tags") or [""])[0]})
    return found
