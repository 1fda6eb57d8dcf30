"""Signed verification tokens: bound to product, account and nickname; valid 30 minutes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from merchant.catalog import accounts
from merchant.core.extensions import db
from merchant.core.models import Product


def product(slug):
    return db.session.scalar(sa.select(Product).where(Product.slug == slug))


def test_a_token_vouches_for_the_nickname_it_was_issued_with(app):
    with app.app_context():
        tiktok = product("tiktok-coins")
        token = accounts.issue_token(tiktok, {"username": "demo_user"}, "Player-1234")
        assert accounts.read_token(token, tiktok, {"username": "demo_user"}) == "Player-1234"


@pytest.mark.parametrize("change", ["account", "product", "tamper", "missing"])
def test_a_token_for_anything_else_is_refused(app, change):
    with app.app_context():
        tiktok, ff = product("tiktok-coins"), product("free-fire")
        token = accounts.issue_token(tiktok, {"username": "demo_user"}, "Player-1234")
        args = {
            "account": (token, tiktok, {"username": "someone_else"}),
            "product": (token, ff, {"username": "demo_user"}),
            "tamper": (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), tiktok,
                       {"username": "demo_user"}),
            "missing": ("", tiktok, {"username": "demo_user"}),
        }[change]
        with pytest.raises(accounts.TokenError) as error:
            accounts.read_token(*args)
        assert "Check" in str(error.value)


def test_a_token_expires(app, clock):
    with app.app_context():
        tiktok = product("tiktok-coins")
        token = accounts.issue_token(tiktok, {"username": "demo_user"}, "Player-1234")
        accounts.read_token(token, tiktok, {"username": "demo_user"}, max_age=1)
        clock.advance(2)   # itsdangerous counts whole seconds
        with pytest.raises(accounts.TokenError, match="expired"):
            accounts.read_token(token, tiktok, {"username": "demo_user"}, max_age=1)
        assert app.config["VERIFICATION_MAX_AGE"] == 30 * 60


def test_a_token_signed_with_another_shops_key_is_refused(app, tmp_path):
    with app.app_context():
        tiktok = product("tiktok-coins")
        token = accounts.issue_token(tiktok, {"username": "demo_user"}, "Player-1234")
    app.config["SECRET_KEY"] = "another-key"
    with app.app_context(), pytest.raises(accounts.TokenError, match="not valid"):
        accounts.read_token(token, product("tiktok-coins"), {"username": "demo_user"})
