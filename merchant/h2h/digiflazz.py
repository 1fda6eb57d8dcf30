"""The Digiflazz-compatible door (/compat/digiflazz/v1/): a reseller's script written for
Digiflazz's buyer API (CONTRACTS.md §4) works here by changing its base URL, its username (our
key's key_id) and its apiKey (our key's secret).

Each command answers an `Answer`: the HTTP status and the JSON body Digiflazz would send, the
rc for the call log, and the key when one was recognised. The checks run in Digiflazz's order,
and a request stops at the first that fails, having changed nothing:
payload (rc 40), username (42), sign (41: md5(username + apiKey + "pricelist" | "depo" |
ref_id)), the key still usable (revoked or its account closed: 42, said only to a caller whose
sign is right), the caller's address in the key's allowlist (45), the key's calls per minute
(83). Any refusal forms no order: the same ref_id may be sent again once its cause is fixed.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import ApiKey, ApiOrder, utcnow
from merchant.core.transactions import write_unit
from merchant.h2h import access, digiflazz_wire, keys, orders, products
from merchant.h2h.errors import STATUSES, ApiError
from merchant.h2h.outcomes import FAILED, outcome_of
from merchant.supply import availability

DOOR = "digiflazz"

# Digiflazz's words for every refusal this door gives (the response-code page, and rc 69 from
# the alasan-gagal page); the documented ones come from digiflazz_wire.
MESSAGES = digiflazz_wire.MESSAGES | {
    "50": "Transaksi Tidak Ditemukan",
    "69": "Harga seller lebih besar dari ketentuan harga Buyer",
}

# Every ApiError code of the H2H core as a Digiflazz rc (a test holds this to errors.STATUSES).
RC_OF = {
    "MISSING_AUTH": "40",
    "UNKNOWN_KEY": "42",
    "KEY_REVOKED": "42",
    "INVALID_SIGNATURE": "41",
    "TIMESTAMP_SKEW": "40",
    "REPLAYED": "40",
    "IP_NOT_ALLOWED": "45",
    "RATE_LIMITED": "83",
    "INVALID_REQUEST": "40",
    "PRODUCT_NOT_FOUND": "43",
    "ORDER_NOT_FOUND": "50",
    "PRODUCT_UNAVAILABLE": "53",        # 58 when the package is in its cut-off window
    "ACCOUNT_INVALID": "54",
    "ACCOUNT_NOT_FOUND": "54",
    "CHECK_UNAVAILABLE": "55",
    "INSUFFICIENT_BALANCE": "44",
    "DUPLICATE_REF_MISMATCH": "49",
    "PAYMENT_UNAVAILABLE": "55",
}
assert set(RC_OF) == set(STATUSES), "every ApiError code needs its Digiflazz rc"

# Our catalog's shelves as Digiflazz's categories.
CATEGORIES = {"games": "Games", "phone": "Pulsa", "apps": "Voucher"}
NO_CUT_OFF = "00:00"
SEPARATORS = re.compile(r"[\s|()/;,.:]+")


@dataclass(frozen=True)
class Answer:
    status: int                 # HTTP status
    body: dict                  # {"data": ...}
    rc: str = ""                # for the call log
    key: ApiKey | None = None
    retry_after: int | None = None


class Refused(Exception):
    """A Digiflazz refusal: its rc and the message after Digiflazz's own words."""

    def __init__(self, rc: str, detail: str = "", status: int = 400,
                 retry_after: int | None = None, key: ApiKey | None = None):
        super().__init__(detail or MESSAGES.get(rc, rc))
        self.rc, self.detail, self.status = rc, detail, status
        self.retry_after, self.key = retry_after, key

    @property
    def message(self) -> str:
        said = MESSAGES.get(self.rc, "Transaksi Gagal")
        return f"{said}: {self.detail}" if self.detail else said


def refusal_of(exc: ApiError, key: ApiKey | None = None) -> Refused:
    status = 429 if exc.code == "RATE_LIMITED" else 400
    return Refused(RC_OF[exc.code], exc.message, status, exc.retry_after, key)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


# Who is calling ------------------------------------------------------------------------------

def authenticate(body: dict, signed: str, address: str) -> ApiKey:
    """The key whose username and sign these are, usable from `address` and under its rate.
    :raise Refused: 42 unknown username, 41 wrong sign, 42 revoked, 45 address, 83 rate."""
    username = _text(body, "username")
    key = keys.by_key_id(username) if username else None
    if key is None:
        raise Refused("42", "no API key has this username (use your key id, mk_live_... "
                            "or mk_test_...)")
    secret = keys.usable_secret(key)
    given = _text(body, "sign").lower().encode("utf-8", "replace")
    if secret is None or not hmac.compare_digest(_md5(username + secret + signed).encode(),
                                                 given):
        raise Refused("41", f"sign must be md5(username + apiKey + {signed!r}), with your API "
                            f"key's secret as apiKey", key=key)
    try:
        access.live_key(username, address)
        access.within_rate(key)
    except ApiError as exc:
        raise refusal_of(exc, key) from exc
    with write_unit():
        db.session.execute(sa.update(ApiKey).where(ApiKey.id == key.id)
                           .values(last_used_at=utcnow()))
    return key


def _error_data(refused: Refused) -> dict:
    return {"rc": refused.rc, "message": refused.message}


def _refused(refused: Refused, data: dict) -> Answer:
    return Answer(refused.status, {"data": data}, refused.rc, refused.key, refused.retry_after)


# price-list ----------------------------------------------------------------------------------

def price_list(body: dict, address: str) -> Answer:
    """POST /price-list: the key's prices in Digiflazz's item fields; `pasca` is empty."""
    if body.get("cmd") not in ("prepaid", "pasca"):
        refused = Refused("40", 'cmd must be "prepaid" or "pasca"')
        return _refused(refused, _error_data(refused))
    try:
        key = authenticate(body, "pricelist", address)
    except Refused as refused:
        # Over the rate Digiflazz answers rc 83 with HTTP 200.
        status = 200 if refused.rc == "83" else refused.status
        return Answer(status, {"data": _error_data(refused)}, refused.rc, refused.key,
                      refused.retry_after)
    if body["cmd"] == "pasca":
        return Answer(200, {"data": []}, "00", key)
    wanted = {name: _text(body, name).lower() for name in ("category", "brand", "type")}
    seller = shop_settings.current().shop_name
    rows = [_item(item, seller)
            for item in products.price_list(key.customer, code=_text(body, "code"))]
    rows = [row for row in rows
            if all(not value or row[name].lower() == value for name, value in wanted.items())]
    return Answer(200, {"data": rows}, "00", key)


def _item(item: products.Item, seller: str) -> dict:
    start, end = _cut_off(item)
    return {"product_name": f"{item.product} {item.name}",
            "category": CATEGORIES.get(item.package.product.category, "Games"),
            "brand": item.product.upper(), "type": "Umum",
            "seller_name": seller, "price": item.price,
            "buyer_sku_code": item.code, "buyer_product_status": True,
            "seller_product_status": item.available,
            "unlimited_stock": item.reason != availability.STOCK, "stock": 0,
            "multi": True, "start_cut_off": start, "end_cut_off": end,
            "desc": _desc(item)}


def _desc(item: products.Item) -> str:
    names = [field["label"] for field in item.account_fields]
    if len(names) == 2:
        return f"customer_no: {names[0]}({names[1]}), e.g. 12345678(1234)"
    return f"customer_no: {names[0]}" if names else ""


def _cut_off(item: products.Item) -> tuple[str, str]:
    """The cut-off window the package is in now (its supplier's clock, WIB for Indonesian
    suppliers), or none. A package that sells through another offer has none."""
    if item.reason != availability.CUTOFF:
        return NO_CUT_OFF, NO_CUT_OFF
    states = availability.of_packages([item.package])[item.package.id].states
    rows = availability.products_for([s.offer for s in states if s.reason == availability.CUTOFF])
    for row in rows.values():
        return row.start_cut_off, row.end_cut_off
    return NO_CUT_OFF, NO_CUT_OFF


# cek-saldo -----------------------------------------------------------------------------------

def cek_saldo(body: dict, address: str) -> Answer:
    """POST /cek-saldo: the account's saldo, or a sandbox key's play saldo."""
    if body.get("cmd") != "deposit":
        refused = Refused("40", 'cmd must be "deposit"')
        return _refused(refused, _error_data(refused))
    try:
        key = authenticate(body, "depo", address)
    except Refused as refused:
        return _refused(refused, _error_data(refused))
    return Answer(200, {"data": {"deposit": orders.balance(key)}}, "00", key)


# transaction ---------------------------------------------------------------------------------

REQUIRED = ("username", "buyer_sku_code", "customer_no", "ref_id", "sign")


def transaction(body: dict, address: str) -> Answer:
    """POST /transaction: a new ref_id orders; the same ref_id again (same sku and customer_no)
    answers that order's state now, and never orders twice."""
    echo = {"ref_id": _text(body, "ref_id"), "customer_no": _text(body, "customer_no"),
            "buyer_sku_code": _text(body, "buyer_sku_code")}
    key = None
    try:
        if not all(_text(body, name) for name in REQUIRED):
            raise Refused("40", f"{', '.join(REQUIRED)} are required strings")
        key = authenticate(body, echo["ref_id"], address)
        api_order = _order(key, body, **echo)
    except Refused as refused:
        # The saldo is told only to a caller who passed every check of authenticate().
        saldo = orders.balance(key) if key is not None else 0
        return _refused(refused, {**echo, "message": refused.message, "status": "Gagal",
                                  "rc": refused.rc, "sn": "", "buyer_last_saldo": saldo,
                                  "price": 0})
    outcome = outcome_of(api_order)
    data = digiflazz_wire.transaction(outcome, orders.balance(key))
    return Answer(400 if outcome.status == FAILED else 200, {"data": data}, data["rc"], key)


def _order(key: ApiKey, body: dict, ref_id: str, customer_no: str,
           buyer_sku_code: str) -> ApiOrder:
    """The order under ref_id, placed now or before. :raise Refused:"""
    max_price, cb_url = _options(key, body)
    package = products.find(buyer_sku_code)
    existing = orders.find(key.customer_id, ref_id)
    if existing is not None and package is None:
        # The package is off sale since: the order is still answered, by its stored request.
        if existing.sku == buyer_sku_code and \
                SEPARATORS.sub("", existing.customer_no) == SEPARATORS.sub("", customer_no):
            return existing
        raise refusal_of(ApiError("DUPLICATE_REF_MISMATCH", f"ref_id {ref_id!r} was used for "
                                                            f"another order"), key)
    if package is None:
        raise Refused("43", f"no package is on sale as {buyer_sku_code!r}: see price-list",
                      key=key)
    if existing is None:
        price = products.price_of(key.customer, package)
        if max_price is not None and price > max_price:
            raise Refused("69", f"the price is {price}, above max_price {max_price}", key=key)
        _readable_customer_no(package.product, customer_no, key)
    account = products.split_customer_no(package.product, customer_no)
    try:
        api_order, _again = orders.place(key, ref_id, buyer_sku_code, account, door=DOOR,
                                         callback_url=cb_url)
    except ApiError as exc:
        refused = refusal_of(exc, key)
        if exc.code == "PRODUCT_UNAVAILABLE" and _in_cut_off(package):
            refused.rc = "58"
        raise refused from exc
    return api_order


def _options(key: ApiKey, body: dict) -> tuple[int | None, str | None]:
    """(max_price, cb_url) as sent, and `testing` allowed only with a sandbox key (the shop's
    testing mode). :raise Refused: 40 for a wrong one."""
    testing = body.get("testing", False)
    if not isinstance(testing, bool):
        raise Refused("40", "testing must be true or false", key=key)
    if testing and not key.sandbox:
        raise Refused("40", "testing: true is for sandbox keys: send it with your mk_test_ "
                            "key (its orders spend play saldo), or leave it out to buy for "
                            "real", key=key)
    max_price = body.get("max_price")
    if max_price is not None:
        max_price = _whole(max_price)
        if max_price is None:
            raise Refused("40", "max_price must be a whole number of rupiah", key=key)
    cb_url = body.get("cb_url")
    if cb_url is not None and not isinstance(cb_url, str):
        raise Refused("40", "cb_url must be a URL", key=key)
    try:
        cb_url = keys.read_callback_url(cb_url or "") or None
    except keys.KeyRefused as exc:
        raise Refused("40", str(exc), key=key) from exc
    return max_price, cb_url


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _readable_customer_no(product, customer_no: str, key: ApiKey) -> None:
    """A game with a zone needs the two apart: "12345678(1234)". Digits run together
    ("123456781234") cannot be split for certain, so they are refused, not guessed."""
    fields = product.account_fields
    if len(fields) >= 2 and not SEPARATORS.search(customer_no.strip()):
        names = "(".join(str(spec["name"]) for spec in fields[:2]) + ")"
        raise Refused("54", f"write customer_no as {names}, e.g. 12345678(1234)", key=key)


def _in_cut_off(package) -> bool:
    found = availability.of_packages([package])[package.id]
    return found.reason == availability.CUTOFF

