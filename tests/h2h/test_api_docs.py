"""The API's documentation: a valid OpenAPI 3.1 document generated from the models the views
validate with, whose every example the app answers as documented; a readable page in both
languages; and the curl and Python examples, run against a real server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from resellers import call, item, make_reseller

from merchant.core.extensions import db
from merchant.core.models import ApiOrder
from tests.conftest import served

EXAMPLES = Path(__file__).parents[2] / "merchant" / "web" / "api" / "examples"


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    paths = document["paths"]
    assert set(paths) >= {"/api/v1/profile", "/api/v1/products", "/api/v1/orders",
                          "/api/v1/orders/{ref_id}", "/api/v1/account-check",
                          "/api/v1/deposits"}
    assert {"XKeyId", "XTimestamp", "XNonce", "XSignature"} <= \
        set(document["components"]["securitySchemes"])


def _schema(document, reference: dict) -> dict:
    name = reference["$ref"].rsplit("/", 1)[1]
    return document["components"]["schemas"][name]


def test_every_request_example_is_answered_as_documented(app, client):
    """Each documented request example, sent signed to the app, answers a documented status
    with a body holding the documented response's required fields."""
    document = client.get("/api/v1/openapi.json").get_json()
    dewi = make_reseller(app, saldo=500_000)
    sku = item(client, dewi, name="257 Diamonds")["code"]
    sent = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = None
            content = operation.get("requestBody", {}).get("content", {})
            if content:
                schema = _schema(document, content["application/json"]["schema"])
                body = dict(schema["examples"][0])
                if "sku" in body:
                    body["sku"] = sku         # the example's code is another shop's package
            url = path.replace("{ref_id}", "INV-20261207-0001")
            answer = call(client, dewi, method.upper(), url, json=body)
            documented = operation["responses"]
            assert str(answer.status_code) in documented, (method, path, answer.get_json())
            expected = documented[str(answer.status_code)]["content"]["application/json"]
            required = _schema(document, expected["schema"]).get("required", [])
            assert set(required) <= set(answer.get_json()), (method, path)
            sent += 1
    assert sent == 6


@pytest.mark.parametrize("language, words", [("en", "Five minutes"), ("id", "Lima menit")])
def test_the_page_reads_in_both_languages(client, language, words):
    page = client.get(f"/api/v1/docs?lang={language}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert words in text and "X-Signature" in text and "POST" in text
    assert "/api/v1/orders" in text and "openssl dgst -sha256 -hmac" in text


@pytest.mark.process
@pytest.mark.parametrize("example", ["h2h.sh", "h2h.py"])
def test_the_examples_order_against_a_real_server(app, client, example):
    dewi = make_reseller(app, saldo=100_000)
    sku = item(client, dewi)["code"]
    with served(app) as url:
        env = os.environ | {"BASE_URL": url, "KEY_ID": dewi.key_id, "SECRET": dewi.secret,
                            "SKU": sku, "REF_ID": f"DOC-{example}"}
        command = ["bash", str(EXAMPLES / example)] if example.endswith(".sh") \
            else [sys.executable, str(EXAMPLES / example)]
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    if example.endswith(".sh"):
        answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        assert answers[0]["saldo"]["balance"] == 100_000
        assert answers[2]["order"]["ref_id"] == "DOC-h2h.sh"
        assert answers[3]["order"]["status"] == "success"
    else:
        assert "status: success SN " in run.stdout
    with app.app_context():
        assert db.session.scalar(db.select(ApiOrder.ref_id)) == f"DOC-{example}"


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_page_fits_a_phone(app, browser, language):
    with served(app) as url:
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.goto(f"{url}/api/v1/docs?lang={language}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.locator("h1").inner_text() in ("H2H API", "API H2H")
