"""The door's documentation, in English and Bahasa Indonesia, tells what the door does: its base
URL, and every rc it can answer."""
from __future__ import annotations

import re

import pytest
from door_shop import DOOR

from merchant.h2h import digiflazz, digiflazz_wire


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_docs_give_the_base_url_and_every_rc_the_door_answers(app, language):
    with app.test_request_context():
        page = app.jinja_env.get_template(f"api/digiflazz_{language}.html").render(
            base_url="https://shop.example")
    assert f"<code>https://shop.example{DOOR}</code>" in page
    documented = set(re.findall(r"<tr><td>(\d\d)</td>", page))
    answered = set(digiflazz.RC_OF.values()) | set(digiflazz_wire.RC.values()) | {"58", "69"}
    assert documented == answered
    assert "<html" not in page and "<body" not in page
    for fact in ("X-Hub-Signature", "mk_test_", "12345678(1234)", "/deposit", "pasca"):
        assert fact in page
