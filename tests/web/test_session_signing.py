"""The session cookie is verified once per cookie and still means exactly what Flask's would:
a changed cookie is no session, an old one expires, and a request changing its session never
changes what the next request with the same cookie reads."""
from __future__ import annotations

import datetime as dt
import time

import flask
import pytest
from itsdangerous import BadSignature, SignatureExpired

from merchant.web.session_signing import RememberingSerializer


@pytest.fixture
def signer():
    return RememberingSerializer("key", salt="cookie-session")


def test_the_same_cookie_reads_the_same_and_a_copy(signer):
    cookie = signer.dumps({"orders": ["M1"]})
    first = signer.loads(cookie)
    first["orders"].append("M2")                    # a request changing its session
    assert signer.loads(cookie) == {"orders": ["M1"]}


def test_a_changed_cookie_is_refused(signer):
    cookie = signer.dumps({"orders": ["M1"]})
    signer.loads(cookie)
    with pytest.raises(BadSignature):
        signer.loads(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))


def test_a_remembered_cookie_still_expires(signer, monkeypatch):
    cookie = signer.dumps({"orders": ["M1"]})
    assert signer.loads(cookie, max_age=60) == {"orders": ["M1"]}
    later = time.time() + 120
    monkeypatch.setattr("merchant.web.session_signing.time.time", lambda: later)
    with pytest.raises(SignatureExpired):
        signer.loads(cookie, max_age=60)


def test_the_shop_session_survives_requests(app):
    app.permanent_session_lifetime = dt.timedelta(days=1)

    @app.get("/_t/set")
    def set_value():
        flask.session["n"] = flask.session.get("n", 0) + 1
        return str(flask.session["n"])

    client = app.test_client()
    assert [client.get("/_t/set").text for _ in range(3)] == ["1", "2", "3"]
