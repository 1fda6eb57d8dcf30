"""The session cookie's signer is built once per secret key, and a rotated key takes effect at
once: the old key still reads cookies while it is a fallback, and not after."""
from __future__ import annotations

from tests.conftest import buy, order_ref


def test_a_rotated_secret_key_is_used_at_once(client, app):
    ref = order_ref(buy(client, app))
    poll = f"/o/{ref}/status?since=awaiting_payment"
    assert client.get(poll).status_code == 200        # this browser placed it: remembered
    old = app.secret_key

    app.secret_key = "a-new-secret-key-for-the-shop-0123456789"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get(poll).status_code == 200        # read with the fallback

    app.config["SECRET_KEY_FALLBACKS"] = []
    stranger = app.test_client()
    stranger.set_cookie("session", client.get_cookie("session").value)
    assert stranger.get(poll).status_code == 404      # the old key is gone: not remembered
