"""The /api/v1 views: each reads its validated body, asks merchant/h2h/, and answers a model."""
from __future__ import annotations

import datetime as dt

from flask import g
from spectree import Response

from merchant.customers import deposits
from merchant.h2h import orders, products
from merchant.h2h.errors import ApiError
from merchant.h2h.outcomes import outcome_of
from merchant.web.api import bp, schemas, spec

ERRORS = {f"HTTP_{status}": schemas.Error for status in (401, 402, 403, 404, 409, 422, 429, 503)}


def _answers(**ok) -> Response:
    return Response(**ok, **ERRORS)


def _order(api_order) -> schemas.Order:
    return schemas.Order(**outcome_of(api_order).__dict__)


@bp.get("/profile")
@spec.validate(resp=_answers(HTTP_200=schemas.Profile), tags=["account"])
def profile():
    """Your account, this key, and your saldo."""
    key = g.api_key
    customer = key.customer
    level = products.level_of(customer)
    return schemas.Profile(
        account=schemas.AccountInfo(id=customer.id, name=customer.name, email=customer.email,
                                    whatsapp=customer.whatsapp,
                                    level=level.name if level else None),
        key=schemas.KeyInfo(key_id=key.key_id, label=key.label, sandbox=key.sandbox,
                            rate_per_minute=key.rate_per_minute),
        saldo=schemas.Saldo(balance=orders.balance(key), currency="IDR"))


@bp.get("/products")
@spec.validate(query=schemas.ProductQuery, resp=_answers(HTTP_200=schemas.ProductList),
               tags=["products"])
def price_list(query: schemas.ProductQuery):
    """The price list at your level, with what can be bought right now."""
    items = products.price_list(g.api_key.customer, code=query.code, product_slug=query.product)
    return schemas.ProductList(items=[
        schemas.Product(code=item.code, product=item.product, product_slug=item.product_slug,
                        name=item.name, price=item.price, currency=item.currency,
                        available=item.available, reason=item.reason, until=item.until,
                        account_fields=[schemas.AccountField(**field)
                                        for field in item.account_fields])
        for item in items])


@bp.post("/account-check")
@spec.validate(json=schemas.AccountCheckRequest, resp=_answers(HTTP_200=schemas.AccountCheck),
               tags=["orders"])
def account_check(json: schemas.AccountCheckRequest):
    """Look an account up before ordering: its nickname, where the game tells it."""
    package = products.find(json.sku)
    if package is None:
        raise ApiError("PRODUCT_NOT_FOUND", f"No package on sale has the code {json.sku!r}.")
    found, nickname = orders.look_up(g.api_key, package, json.account)
    return schemas.AccountCheck(found=found, nickname=nickname)

@bp.post("/orders")
@spec.validate(json=schemas.OrderRequest,
               resp=_answers(HTTP_200=schemas.OrderPlaced, HTTP_201=schemas.OrderPlaced),
               tags=["orders"])
def place(json: schemas.OrderRequest):
    """Order a package, paid from your saldo. The same ref_id again answers the same order."""
    api_order, duplicate = orders.place(g.api_key, json.ref_id, json.sku, json.account,
                                        callback_url=json.callback_url, email=json.email,
                                        whatsapp=json.whatsapp)
    placed = schemas.OrderPlaced(order=_order(api_order), duplicate=duplicate,
                                 balance_after=orders.balance(g.api_key))
    return placed, 200 if duplicate else 201


@bp.get("/orders/<ref_id>")
@spec.validate(resp=_answers(HTTP_200=schemas.OrderStatus), tags=["orders"])
def status(ref_id: str):
    """An order's state by your ref_id."""
    api_order = orders.find(g.api_key.customer_id, ref_id)
    if api_order is None:
        raise ApiError("ORDER_NOT_FOUND", f"You have no order with ref_id {ref_id!r}.")
    return schemas.OrderStatus(order=_order(api_order))


@bp.post("/deposits")
@spec.validate(json=schemas.DepositRequest, resp=_answers(HTTP_201=schemas.Deposit),
               tags=["saldo"])
def deposit(json: schemas.DepositRequest):
    """Top your saldo up: opens a payment; pay it at checkout_url (or pay_code, qr_string)."""
    key = g.api_key
    if key.sandbox:
        raise ApiError("INVALID_REQUEST", "A sandbox key has play saldo: reset it on your "
                                          "account's API page instead of depositing.")
    try:
        opened = deposits.open_deposit(
            key.customer, {"method": json.method, "amount": str(json.amount),
                           "idempotency_key": json.ref_id}, key_owner=f"api:{key.customer_id}")
    except deposits.DepositError as exc:
        raise ApiError("INVALID_REQUEST", "; ".join(map(str, exc.errors.values())),
                       fields={k: str(v) for k, v in exc.errors.items()}) from exc
    return schemas.Deposit(deposit_id=opened.ref, status=opened.status, amount=opened.amount,
                           fee=opened.fee, total=opened.total, currency=opened.currency,
                           checkout_url=opened.checkout_url, pay_code=opened.pay_code,
                           qr_string=opened.qr_string,
                           expires_at=opened.payment_expires_at.replace(tzinfo=dt.UTC)), 201

