"""Orders through the API, under the reseller's ref_id: unique per reseller, forever.

The same ref_id with the same body is the same order (answered again, never bought twice);
with another body it is refused. A live order is a shop order paid from the account's saldo
(merchant/orders/checkout.place_order with the Saldo method), so it is delivered, refunded and
counted like any other. A sandbox key's order goes to the sandbox supplier and spends the
key's play saldo: a reseller can build against the API before paying anything.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from merchant.catalog import accounts
from merchant.core.extensions import db
from merchant.core.models import ApiKey, ApiOrder, Customer, Package, Product, utcnow
from merchant.core.transactions import write_unit
from merchant.customers import ledger, saldo
from merchant.h2h import callbacks, keys, products
from merchant.h2h.errors import ApiError
from merchant.h2h.outcomes import FAILED, PENDING, SUCCESS
from merchant.orders import checkout
from merchant.vendors import registry
from merchant.vendors.suppliers.base import DELIVERED, Delivery
from merchant.vendors.suppliers.base import FAILED as SUPPLIER_FAILED
from merchant.vendors.verifiers.base import FOUND, NOT_FOUND

log = logging.getLogger(__name__)

REF_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SANDBOX = "sandbox"


def body_hash(sku: str, account: Mapping[str, str]) -> str:
    """What makes two requests under one ref_id the same order."""
    return hashlib.sha256(json.dumps([sku, sorted(account.items())]).encode()).hexdigest()


def find(customer_id: int, ref_id: str) -> ApiOrder | None:
    return db.session.scalar(sa.select(ApiOrder).where(ApiOrder.customer_id == customer_id,
                                                       ApiOrder.ref_id == ref_id))


def balance(key: ApiKey) -> int:
    """What the key's orders spend from: the account's saldo, or a sandbox key's play saldo."""
    if key.sandbox:
        return int(db.session.scalar(sa.select(ApiKey.play_balance).where(ApiKey.id == key.id)))
    return saldo.balance(key.customer, "IDR").amount


def place(key: ApiKey, ref_id: str, sku: str, account: Mapping[str, str], *, door: str = "v1",
          callback_url: str | None = None, email: str = "", whatsapp: str = ""
          ) -> tuple[ApiOrder, bool]:
    """The order under `ref_id` (made now, or the one made before: then True).

    :raise ApiError: INVALID_REQUEST, PRODUCT_NOT_FOUND, PRODUCT_UNAVAILABLE, ACCOUNT_INVALID,
        ACCOUNT_NOT_FOUND, CHECK_UNAVAILABLE, INSUFFICIENT_BALANCE, DUPLICATE_REF_MISMATCH.
    """
    if not REF_ID.fullmatch(ref_id or ""):
        raise ApiError("INVALID_REQUEST", "ref_id must be 1-64 letters, digits, '.', '_', ':' "
                                          "or '-'.", fields={"ref_id": "invalid"})
    account = {str(k): str(v).strip() for k, v in account.items()}
    digest = body_hash(sku, account)
    existing = find(key.customer_id, ref_id)
    if existing is not None:
        return _same(existing, digest), True
    package = products.find(sku)
    if package is None:
        raise ApiError("PRODUCT_NOT_FOUND", f"No package on sale has the code {sku!r}: see "
                                            f"the price list.")
    product = package.product
    form = account_form(product, account)
    url = key.callback_url if callback_url is None else _callback_url(callback_url)
    if key.sandbox:
        return _place_sandbox(key, ref_id, sku, package, form, digest, door, url)
    form |= _vouched(product, form)
    form |= {"package": str(package.id), "method": saldo.SALDO, "email": email,
             "whatsapp": whatsapp,
             "idempotency_key": hashlib.sha256(f"api\n{ref_id}".encode()).hexdigest()}
    try:
        order = checkout.place_order(product, form, key_owner=f"api:{key.customer_id}",
                                     customer=key.customer, contact_required=False)
    except checkout.PurchaseError as exc:
        raise _refusal(exc) from exc
    if order.package_id != package.id or order.account != accounts.read_fields(product, form)[0]:
        # The ref_id's order was made by an earlier request whose answer was lost before its
        # API row was written, and this one asks for something else.
        raise ApiError("DUPLICATE_REF_MISMATCH", f"ref_id {ref_id!r} was used for another "
                                                 f"order: use a new ref_id.")
    api_order = ApiOrder(customer_id=key.customer_id, key_id=key.id, ref_id=ref_id,
                         body_hash=digest, door=door, sandbox=False, order_id=order.id, sku=sku,
                         customer_no=products.customer_no_of(product, account),
                         status=PENDING, price=order.total, currency=order.currency,
                         callback_url=url, created_at=utcnow(), updated_at=utcnow())
    try:
        with write_unit():
            db.session.add(api_order)
    except IntegrityError:
        # The same ref_id sent twice at once: the other request stored it.
        return _same(find(key.customer_id, ref_id), digest), True
    callbacks.tell_if_final(api_order)
    return api_order, False


def _callback_url(raw: str) -> str:
    try:
        return keys.read_callback_url(raw)
    except keys.KeyRefused as exc:
        raise ApiError("INVALID_REQUEST", str(exc), fields={"callback_url": str(exc)}) from None


def _same(existing: ApiOrder, digest: str) -> ApiOrder:
    if existing.body_hash != digest:
        raise ApiError("DUPLICATE_REF_MISMATCH", f"ref_id {existing.ref_id!r} was used for "
                                                 f"another order: use a new ref_id.")
    return existing


def account_form(product: Product, account: Mapping[str, str]) -> dict[str, str]:
    """The account fields as the storefront's form carries them (the confirmation of an
    uncheckable product's ID included: a program does not mistype)."""
    form = dict(account)
    for spec in accounts.confirm_fields(product):
        form[accounts.confirm_name(spec)] = account.get(spec["name"], "")
    fields, errors = accounts.read_fields(product, form)
    if errors:
        raise ApiError("ACCOUNT_INVALID", "; ".join(errors.values()),
                       fields={name: str(message) for name, message in errors.items()})
    return form


def _checked(product: Product, form: Mapping[str, str]) -> accounts.AccountCheck:
    """The product's account check. :raise ApiError: ACCOUNT_INVALID."""
    check = accounts.check(product, form)
    if check.status == accounts.INVALID:
        raise ApiError("ACCOUNT_INVALID", "; ".join(map(str, check.errors.values())),
                       fields={name: str(message) for name, message in check.errors.items()})
    return check


def _check_unavailable() -> ApiError:
    return ApiError("CHECK_UNAVAILABLE", "The account check is not answering: try again in a "
                                         "minute.")


def _vouched(product: Product, form: Mapping[str, str]) -> dict[str, str]:
    """The nickname check Buy relies on, as form fields."""
    check = _checked(product, form)
    if check.status == NOT_FOUND:
        raise ApiError("ACCOUNT_NOT_FOUND", "No account has this ID: check it with the "
                                            "buyer.")
    if check.status == accounts.UNAVAILABLE:
        if check.token is None:
            raise _check_unavailable()
        return {"verification_token": check.token, "continue_unverified": "1"}
    return {"verification_token": check.token} if check.token else {}


def look_up(key: ApiKey, package: Package, account: Mapping[str, str]) -> tuple[bool, str | None]:
    """(found, nickname) for the API's account check: the product's own check, or for a
    sandbox key the sandbox verifier's (a test integration never costs a vendor call).
    :raise ApiError: ACCOUNT_INVALID, CHECK_UNAVAILABLE."""
    product = package.product
    form = account_form(product, {str(k): str(v).strip() for k, v in account.items()})
    if key.sandbox:
        return _sandbox_found(product, form), None
    check = _checked(product, form)
    if check.status == accounts.UNAVAILABLE:
        raise _check_unavailable()
    return check.status in (FOUND, accounts.CONFIRMED), check.nickname or None


def _refusal(exc: checkout.PurchaseError) -> ApiError:
    short = exc.__cause__
    if isinstance(short, ledger.SaldoShort):
        return ApiError("INSUFFICIENT_BALANCE", f"Your saldo ({short.balance.amount} "
                                                f"{short.balance.currency}) does not cover "
                                                f"{short.needed.amount}: deposit first.")
    if "package" in exc.errors:
        return ApiError("PRODUCT_UNAVAILABLE", str(exc.errors["package"]))
    if set(exc.errors) & {"account", "method", "payment"}:
        first = next(iter(exc.errors.values()))
        code = "ACCOUNT_INVALID" if "account" in exc.errors else "PAYMENT_UNAVAILABLE"
        return ApiError(code, str(first))
    return ApiError("INVALID_REQUEST", str(exc),
                    fields={name: str(message) for name, message in exc.errors.items()})


# The sandbox ------------------------------------------------------------------------------

def _place_sandbox(key: ApiKey, ref_id: str, sku: str, package: Package, form: dict,
                   digest: str, door: str, url: str) -> tuple[ApiOrder, bool]:
    product = package.product
    account = {spec["name"]: form.get(spec["name"], "") for spec in product.account_fields}
    if not _sandbox_found(product, form):
        raise ApiError("ACCOUNT_NOT_FOUND", "No account has this ID (sandbox: IDs starting "
                                            "with 000 are not found).")
    price = products.price_of(key.customer, package)
    api_order = ApiOrder(customer_id=key.customer_id, key_id=key.id, ref_id=ref_id,
                         body_hash=digest, door=door, sandbox=True, order_id=None, sku=sku,
                         customer_no=products.customer_no_of(product, account), status=PENDING,
                         price=price, currency=package.currency, callback_url=url,
                         created_at=utcnow(), updated_at=utcnow())
    try:
        with write_unit():
            paid = db.session.execute(
                sa.update(ApiKey).where(ApiKey.id == key.id, ApiKey.play_balance >= price)
                .values(play_balance=ApiKey.play_balance - price)).rowcount
            if not paid:
                raise ApiError("INSUFFICIENT_BALANCE", "The play saldo of this sandbox key "
                                                       "does not cover it: reset it in the "
                                                       "account's API page.")
            db.session.add(api_order)
    except IntegrityError:
        return _same(find(key.customer_id, ref_id), digest), True
    advance_sandbox(api_order)
    return api_order, False


def _sandbox_found(product: Product, form: Mapping[str, str]) -> bool:
    """The sandbox verifier's rule (DESIGN.md): an ID starting with 000 is not found."""
    if product.verifier == accounts.NO_VERIFIER:
        return True
    account = {spec["name"]: form.get(spec["name"], "") for spec in product.account_fields}
    return registry.verifier(SANDBOX).lookup(product.slug, account).status == FOUND


def advance_sandbox(api_order: ApiOrder) -> None:
    """Ask the sandbox supplier about a pending sandbox order, and settle it if it is done."""
    package = products.find(api_order.sku)
    account = products.split_customer_no(package.product, api_order.customer_no) \
        if package is not None else {"account": api_order.customer_no}
    result = registry.supplier(SANDBOX).place(
        Delivery(ref_id=f"API{api_order.id}", sku=api_order.sku, account=account))
    if result.status == DELIVERED:
        settle_sandbox(api_order, SUCCESS, result.proof)
    elif result.status == SUPPLIER_FAILED:
        settle_sandbox(api_order, FAILED)


def settle_sandbox(api_order: ApiOrder, status: str, sn: str = "") -> bool:
    """Move a pending sandbox order to success or failed (its play saldo back), once."""
    with write_unit():
        changed = db.session.execute(
            sa.update(ApiOrder).where(ApiOrder.id == api_order.id, ApiOrder.status == PENDING)
            .values(status=status, sn=sn, updated_at=utcnow())).rowcount
        if changed and status == FAILED:
            db.session.execute(sa.update(ApiKey).where(ApiKey.id == api_order.key_id)
                               .values(play_balance=ApiKey.play_balance + api_order.price))
    db.session.refresh(api_order)
    if changed:
        callbacks.tell(api_order)
    return bool(changed)


def advance_pending_sandbox(limit: int = 50) -> int:
    """The worker's pass: pending sandbox orders asked again (the slow ones finish)."""
    pending = list(db.session.scalars(
        sa.select(ApiOrder).where(ApiOrder.sandbox, ApiOrder.status == PENDING)
        .order_by(ApiOrder.id).limit(limit)))
    for api_order in pending:
        advance_sandbox(api_order)
    return sum(1 for api_order in pending if api_order.status != PENDING)


def of_customer(customer: Customer, limit: int = 50) -> list[ApiOrder]:
    return list(db.session.scalars(sa.select(ApiOrder).where(ApiOrder.customer_id == customer.id)
                                   .order_by(ApiOrder.id.desc()).limit(limit)))
