"""The account last checked on this device, per product: a signed cookie set when a check
succeeds, offered (filled in) the next time the product page opens, cleared by "Forget".

The cookie's path is the product's own address, so each product remembers its own account and
no other page receives it. It only fills in the form: Buy still needs a fresh check.
"""
from __future__ import annotations

from flask import Response, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from merchant.catalog import accounts
from merchant.core.models import Product

COOKIE = "account"
SALT = "merchant.remembered-account"
MAX_AGE = 180 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _path(product: Product) -> str:
    return url_for("shop.product_page", slug=product.slug)


def remember(response: Response, product: Product, check: accounts.AccountCheck) -> None:
    """Keep a successfully checked account on this device."""
    value = _serializer().dumps({"a": check.account, "n": check.nickname})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, path=_path(product), httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])


def recall(product: Product) -> dict | None:
    """{"account": {...}, "nickname": ...} last checked on this device, or None."""
    try:
        data = _serializer().loads(request.cookies.get(COOKIE, ""))
    except BadSignature:
        return None
    account = data.get("a") if isinstance(data, dict) else None
    names = [spec["name"] for spec in product.account_fields]
    if not isinstance(account, dict) or sorted(account) != sorted(names):
        return None             # the product's fields changed since
    return {"account": {name: str(account[name]) for name in names},
            "nickname": data.get("n")}


def forget(response: Response, product: Product) -> None:
    response.delete_cookie(COOKIE, path=_path(product), httponly=True, samesite="Lax",
                           secure=current_app.config["SESSION_COOKIE_SECURE"])
