"""VIP Reseller ("VIPayment", vip-reseller.co.id): game top-ups over POST /api/game-feature.

Every call is a form POST with `key` (API key) and the static `sign` = md5(API ID + API key).
`type=order` buys (`service`, `data_no`, `data_zone`), `type=status` reads one order by VIP's
`trxid` (or, without it, the latest `limit` orders), `type=services` is the price list; POST
/api/profile gives the balance. Failures are `{"result": false, "message": ...}` with no codes.

Idempotency: VIP takes no reference of ours; it numbers orders itself (`trxid`), so sending
`order` twice buys twice. The order is therefore sent once per ref_id and never again by the
worker: every later look (status check, crash recovery, callback) asks `status` by the trxid
from the first answer. When that answer was lost (timeout, crash), `check` looks for the order
among VIP's latest ones by account and service and adopts it only if exactly one matches;
otherwise it keeps answering RETRY, and after the last attempt the operator decides (a retry
from the panel orders again). Residual risk: an earlier order of ours for the same account and
service can be taken for a lost one that never reached VIP.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import requests
from flask_babel import lazy_gettext as _l

from merchant.vendors.callback_schemas import VipResellerCallback, check_fields, read
from merchant.vendors.http import header, send
from merchant.vendors.suppliers.base import (
    DELIVERED,
    FAILED,
    PENDING,
    REFUSED,
    RETRY,
    Delivery,
    ForgedCallback,
    PriceItem,
    Supplier,
    SupplierError,
    SupplierResult,
)
from merchant.vendors.suppliers.wire import json_object, md5_hex, rupiah, target_and_zone

DEFAULT_API_URL = "https://vip-reseller.co.id/api"
RECONCILE_LIMIT = 50        # latest orders searched for one whose answer was lost

# VIP's order statuses ("official PDF statuses" per client libraries; `partial` in one README).
STATUSES = {"waiting": PENDING, "processing": PENDING, "success": DELIVERED, "error": FAILED,
            "partial": REFUSED}

# VIP publishes no result codes, so ours name the kind of answer (for ADVICE and the history).
UNKNOWN, AUTH, IP, BALANCE, PRODUCT, TARGET, REFUSAL, PARTIAL = (
    "unknown", "auth", "ip", "balance", "product", "target", "refused", "partial")
# A refused order (`result: false`) is not formed, so it is final for this ref_id: the worker
# never re-sends an order. Wordings are unpublished: match loosely, most specific first.
_REFUSALS = (
    (IP, REFUSED, re.compile(r"\bip\b|whitelist|not permitted", re.I)),
    (AUTH, REFUSED, re.compile(r"\b(sign|signature|key|api ?id)\b", re.I)),
    (BALANCE, FAILED, re.compile(r"saldo|balance", re.I)),
    (PRODUCT, FAILED, re.compile(r"layanan|service|produk|product|gangguan|maintenance", re.I)),
    (TARGET, FAILED, re.compile(r"tujuan|target|data_no|zone|\bid\b", re.I)),
)

ADVICE = {
    UNKNOWN: _l("VIP Reseller's answer was lost and the order could not be found by its account "
                "among VIP's latest orders. Look for it in VIP Reseller's transaction list "
                "before retrying: a retry orders again."),
    AUTH: _l("VIP Reseller refused the API key or signature: check MERCHANT_VIPRESELLER_API_ID "
             "and MERCHANT_VIPRESELLER_API_KEY, then retry."),
    IP: _l("VIP Reseller does not accept this server's IP address (it must be an IPv4 address "
           "whitelisted in the VIP member area): fix it, then retry."),
    BALANCE: _l("Your VIP Reseller balance is too low: top up your supplier deposit, then retry."),
    PRODUCT: _l("VIP Reseller does not sell this package's service code right now: check the "
                "package's SKU, retry later, or retry with another supplier."),
    TARGET: _l("VIP Reseller says the account ID or zone is wrong: check it with the customer, "
               "then deliver by hand or refund."),
    REFUSAL: _l("VIP Reseller refused the order: read its message in the history, then retry, "
                "deliver by hand, or refund."),
    PARTIAL: _l("VIP Reseller delivered only part of the order: settle the rest by hand or "
                "refund the difference."),
}


def sign(api_id: str, api_key: str) -> str:
    """VIP's request (and callback) signature: md5(API ID + API key); the same for every call."""
    return md5_hex(api_id + api_key)


class VipResellerSupplier(Supplier):
    name = "vipreseller"
    required_settings = ("VIPRESELLER_API_ID", "VIPRESELLER_API_KEY")
    ADVICE = ADVICE

    def _sign(self) -> str:
        return sign(str(self.settings["VIPRESELLER_API_ID"]),
                    str(self.settings["VIPRESELLER_API_KEY"]))

    def _post(self, path: str, form: dict) -> tuple[requests.Response, dict | None]:
        """POST one form with the credentials. :raise SupplierError: no answer, not reached."""
        base = str(self.settings.get("VIPRESELLER_API_URL") or DEFAULT_API_URL).rstrip("/")
        form = {"key": str(self.settings["VIPRESELLER_API_KEY"]), "sign": self._sign(), **form}
        what = f"POST /{path} {form.get('type', '')}".rstrip()
        response = send(self.http, "POST", f"{base}/{path}", vendor="VIP Reseller", what=what,
                        timeout=self.timeout, error=SupplierError, data=form)
        return response, json_object(response)

    # ---- orders ---------------------------------------------------------------------------
    def place(self, delivery: Delivery) -> SupplierResult:
        """Order once. With a trxid already known (a crash or an operator's retry after an
        answer), only its status is read: an order is never sent twice for one ref_id."""
        if delivery.supplier_ref:
            return self._status(delivery.ref_id, delivery.supplier_ref)
        target, zone = target_and_zone(delivery.account)
        form = {"type": "order", "service": delivery.sku, "data_no": target}
        if zone:
            form["data_zone"] = zone
        try:
            response, body = self._post("game-feature", form)
        except SupplierError as exc:
            return _lost(delivery.ref_id, str(exc))
        if body is None or "result" not in body:
            return _lost(delivery.ref_id, f"HTTP {response.status_code} without a readable "
                                          f"answer: {response.text[:200]!r}")
        if not _true(body.get("result")):
            return _refused(delivery.ref_id, str(body.get("message") or ""))
        data = body.get("data")
        if not isinstance(data, dict) or not data.get("trxid"):
            return _lost(delivery.ref_id, f"order accepted without a trxid: {str(body)[:200]}")
        return _result(delivery.ref_id, data)

    def check(self, delivery: Delivery) -> SupplierResult:
        """The order's status by its trxid; without one, look for it (never order again)."""
        if delivery.supplier_ref:
            return self._status(delivery.ref_id, delivery.supplier_ref)
        return self._reconcile(delivery)

    def _status(self, ref_id: str, trxid: str, event_id: str | None = None) -> SupplierResult:
        try:
            response, body = self._post("game-feature", {"type": "status", "trxid": trxid})
        except SupplierError as exc:
            return SupplierResult(ref_id, RETRY, message=str(exc), supplier_ref=trxid,
                                  code=UNKNOWN)
        rows = _rows(body)
        found = [row for row in rows if str(row.get("trxid")) == trxid]
        if not found:
            said = (body or {}).get("message") or response.text[:200]
            return SupplierResult(ref_id, RETRY, supplier_ref=trxid, code=UNKNOWN,
                                  message=f"VIP Reseller status of {trxid}: not readable ({said})")
        return _result(ref_id, found[0], event_id=event_id)

    def _reconcile(self, delivery: Delivery) -> SupplierResult:
        target, zone = target_and_zone(delivery.account)
        limit = int(self.settings.get("VIPRESELLER_RECONCILE_LIMIT") or RECONCILE_LIMIT)
        try:
            _, body = self._post("game-feature", {"type": "status", "limit": str(limit)})
        except SupplierError as exc:
            return _lost(delivery.ref_id, str(exc))
        matches = [row for row in _rows(body)
                   if str(row.get("data") or "") == target and str(row.get("zone") or "") == zone
                   and str(row.get("code") or delivery.sku) == delivery.sku]
        if len(matches) == 1 and matches[0].get("trxid"):
            return _result(delivery.ref_id, matches[0])
        found = "no order" if not matches else f"{len(matches)} orders"
        return SupplierResult(
            delivery.ref_id, RETRY, code=UNKNOWN,
            message=f"VIP Reseller: {found} for {target} {zone} ({delivery.sku}) among the "
                    f"latest {limit}; not ordered again")

    # ---- balance and price list -----------------------------------------------------------
    def balance(self) -> int:
        """The VIP balance, whole rupiah. :raise SupplierError: on any failure."""
        response, body = self._post("profile", {})
        data = (body or {}).get("data")
        if not body or not _true(body.get("result")) or not isinstance(data, dict):
            raise SupplierError(f"VIP Reseller balance: {_said(response, body)}")
        try:
            return rupiah(data.get("balance"))
        except ValueError as exc:
            raise SupplierError(f"VIP Reseller balance: unreadable {data.get('balance')!r}") \
                from exc

    def price_list(self) -> list[PriceItem]:
        """Every game service with the price of our member tier (VIPRESELLER_PRICE_TIER:
        basic, premium or special). `empty` is out of stock; VIP publishes no stock count and
        no cut-off for games. :raise SupplierError: on any failure."""
        response, body = self._post("game-feature", {"type": "services"})
        if not body or not _true(body.get("result")) or not isinstance(body.get("data"), list):
            raise SupplierError(f"VIP Reseller services: {_said(response, body)}")
        tier = str(self.settings.get("VIPRESELLER_PRICE_TIER") or "basic")
        items = []
        for row in body["data"]:
            if not isinstance(row, dict) or not row.get("code"):
                continue
            price = row.get("price")
            if isinstance(price, dict):
                price = price.get(tier, price.get("basic"))
            try:
                amount = rupiah(price)
            except ValueError as exc:
                raise SupplierError(f"VIP Reseller services: unreadable price of "
                                    f"{row.get('code')!r}: {price!r}") from exc
            status = str(row.get("status") or "").lower()
            items.append(PriceItem(
                sku=str(row["code"]), product_name=str(row.get("name") or row["code"]),
                category="Games", brand=str(row.get("game") or ""),
                type=str(row.get("server") or ""), seller_name="", price=amount,
                buyer_product_status=True,
                seller_product_status=status in ("available", "empty"),
                unlimited_stock=status == "available", stock=0, desc=""))
        return items

    # ---- callbacks ------------------------------------------------------------------------
    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> SupplierResult:
        """A status callback: `X-Client-Signature` = md5(API ID + API key), which never changes
        and so proves little. The body only names the trxid; its status is then read from
        VIP's `status` call, so a forged or replayed body cannot deliver anything.
        :raise ForgedCallback: missing or wrong signature.
        :raise SupplierError: signed, but no trxid, or the status could not be read.
        """
        given = header(headers, "X-Client-Signature") or ""
        if not given:
            raise ForgedCallback("VIP Reseller callback without X-Client-Signature")
        if not hmac.compare_digest(self._sign().encode(), given.strip().encode("utf-8",
                                                                               "replace")):
            raise ForgedCallback("VIP Reseller callback X-Client-Signature does not match")
        fields = _callback_fields(body, header(headers, "Content-Type") or "")
        data = fields.get("data") if isinstance(fields.get("data"), dict) else fields
        trxid = str(data.get("trxid") or data.get("trx_id") or "")
        if not trxid:
            raise SupplierError("VIP Reseller callback names no trxid")
        result = self._status("", trxid)
        if result.status == RETRY:
            raise SupplierError(f"VIP Reseller callback for {trxid}: {result.message}")
        return replace(result, event_id=f"{trxid}:{result.raw.get('status')}")


def _callback_fields(body: bytes, content_type: str) -> dict:
    """The callback's fields, JSON or form (`data[trxid]=...` or flat), checked by the schema."""
    what = "VIP Reseller callback"
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return read(VipResellerCallback, body, what)
    fields: dict[str, Any] = {}
    data: dict[str, str] = {}
    for key, values in parse_qs(body.decode("utf-8", "replace")).items():
        inner = re.fullmatch(r"data\[(\w+)\]", key)
        (data if inner else fields)[inner.group(1) if inner else key] = values[-1]
    if data:
        fields["data"] = data
    return check_fields(VipResellerCallback, fields, what)


def _true(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def _rows(body: dict | None) -> list[dict]:
    if not body or not _true(body.get("result")):
        return []
    data = body.get("data")
    if isinstance(data, dict):
        data = [data]
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []


def _said(response: requests.Response, body: dict | None) -> str:
    if body and body.get("message"):
        return str(body["message"])
    return f"HTTP {response.status_code}, unexpected answer {response.text[:200]!r}"


def _lost(ref_id: str, why: str) -> SupplierResult:
    """No readable answer to an order that may have been made: find it later, never re-order."""
    return SupplierResult(ref_id, RETRY, code=UNKNOWN,
                          message=f"VIP Reseller: {why}; the order will be looked up, not re-sent")


def _refused(ref_id: str, message: str) -> SupplierResult:
    code, outcome = next(((code, outcome) for code, outcome, wording in _REFUSALS
                          if wording.search(message)), (REFUSAL, FAILED))
    return SupplierResult(ref_id, outcome, code=code,
                          message=f"VIP Reseller refused the order: {message or 'no reason given'}")


def _result(ref_id: str, data: Mapping, event_id: str | None = None) -> SupplierResult:
    """One VIP order (the order answer's or a status row) as our result."""
    trxid = str(data.get("trxid") or "")
    status = str(data.get("status") or "").lower()
    note = str(data.get("note") or data.get("sn") or "")
    outcome = STATUSES.get(status, RETRY)
    try:
        price = rupiah(data.get("price")) if outcome in (DELIVERED, PENDING, REFUSED) else None
    except ValueError:
        price = None
    code = PARTIAL if status == "partial" else (UNKNOWN if outcome == RETRY else None)
    said = f"VIP Reseller {trxid} {status or 'unknown status'}"
    return SupplierResult(
        ref_id=ref_id, status=outcome, proof=note if outcome == DELIVERED else "",
        message=f"{said}: {note}" if note else said, supplier_ref=trxid or None, price=price,
        code=code, event_id=event_id, raw=dict(data))
