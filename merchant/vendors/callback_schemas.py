"""The callback bodies each gateway and supplier sends, typed per field (pydantic v2).

An adapter reads a callback with `read(Schema, body, what)` once its signature verified: a body
whose fields are not what the vendor documents (a list as an id, `Infinity` as an amount, a NUL
in a reference) is `Malformed`, answered 400 and logged, and changes nothing. Fields a vendor
adds later pass through untouched (extra="allow"); only the fields we read are typed, strictly
(no "12" for 12, no true for 1). The validated dict goes on to the adapter, so one JSON parser
decides what the body says.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from merchant.core.validation import has_control

M = TypeVar("M", bound="Schema")


class Malformed(ValueError):
    """A verified callback whose body is not what its vendor documents. For the log."""


def _plain(text: str) -> str:
    if has_control(text):
        raise ValueError("contains control characters")
    return text


Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain)]
Text = Annotated[str, Field(max_length=2000), AfterValidator(_plain)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
Minor = Annotated[int, Field(ge=0, le=2**53)]
Major = Annotated[int, Field(ge=0, le=2**53)] | Annotated[
    float, Field(ge=0, le=2**53, allow_inf_nan=False)]
# Midtrans writes amounts as decimal strings ("650000.00"), signed as written.
Decimal = Annotated[str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]


class Schema(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class SandboxCallback(Schema):
    event_id: Id
    order_ref: Id
    gateway_ref: Id | None = None
    status: Id
    amount: Minor
    currency: Currency


class XenditInvoice(Schema):
    id: Id
    external_id: Id
    status: Id
    amount: Major | None = None
    paid_amount: Major | None = None
    currency: Currency | None = None
    payment_method: Text | None = None
    payment_channel: Text | None = None


class MidtransNotification(Schema):
    order_id: Id
    status_code: Id
    gross_amount: Decimal
    signature_key: Id
    transaction_status: Id | None = None
    fraud_status: Id | None = None
    transaction_id: Id | None = None
    payment_type: Text | None = None
    currency: Currency | None = None


class StripeMetadata(Schema):
    order_ref: Id | None = None


class StripeObject(Schema):
    id: Id | None = None
    client_reference_id: Id | None = None
    status: Text | None = None
    payment_status: Text | None = None
    amount_total: Minor | None = None
    currency: Currency | None = None
    metadata: StripeMetadata | None = None


class StripeData(Schema):
    object: StripeObject


class StripeEvent(Schema):
    id: Id
    type: Id
    data: StripeData


class TripayCallback(Schema):
    reference: Id
    merchant_ref: Id
    status: Id
    total_amount: Minor | None = None
    fee_customer: Minor | None = None
    amount_received: Minor | None = None
    payment_method: Text | None = None
    payment_method_code: Text | None = None


class DigiflazzTransaction(Schema):
    ref_id: Id | None = None                    # None: a ping
    status: Text | None = None
    rc: Text | None = None
    sn: Text | None = None
    message: Text | None = None
    price: Minor | Annotated[str, Field(pattern=r"^[0-9]{1,15}$")] | None = None


class DigiflazzWebhook(Schema):
    data: DigiflazzTransaction | None = None    # None: a ping, or an event without a transaction


Amount = Minor | Annotated[str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$")] | Annotated[
    float, Field(ge=0, le=2**53, allow_inf_nan=False)]


class VipResellerTransaction(Schema):
    trxid: Id | None = None
    status: Text | None = None
    note: Text | None = None


class VipResellerCallback(Schema):
    """Form or JSON; the trxid flat or under `data` (VIP publishes no callback format)."""
    data: VipResellerTransaction | None = None
    trxid: Id | None = None
    status: Text | None = None


class ApigamesWebhook(Schema):
    ref_id: Id
    trx_id: Id | None = None
    status: Text | None = None
    sn: Text | None = None
    message: Text | None = None
    last_balance: Amount | None = None


class TokovoucherWebhook(Schema):
    ref_id: Id
    trx_id: Id | None = None
    status: Text | None = None
    sn: Text | None = None
    message: Text | None = None
    sisa_saldo: Amount | None = None
    price: Amount | None = None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read(schema: type[M], body: bytes, what: str) -> dict:
    """The body as a dict, once `schema` accepts it. :raise Malformed: saying which fields."""
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise Malformed(f"{what}: the body is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed(f"{what}: the body is not a JSON object")
    return check_fields(schema, data, what)


def check_fields(schema: type[M], data: dict, what: str) -> dict:
    """`data` (a parsed JSON or form body) once `schema` accepts it. :raise Malformed:"""
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                             for e in exc.errors(include_input=False)[:3])
        raise Malformed(f"{what}: {problems}") from None
    return data
