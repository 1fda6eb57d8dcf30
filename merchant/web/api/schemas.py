"""The API's request and response bodies: what the views validate with and what the OpenAPI
document (/api/v1/openapi.json) is generated from, examples included. The examples are sent
to the app by the tests, so they stay true."""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

REF_ID = r"^[A-Za-z0-9._:-]{1,64}$"


def _example(**example) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable: branch on it (MISSING_AUTH, UNKNOWN_KEY, "
                                  "KEY_REVOKED, INVALID_SIGNATURE, TIMESTAMP_SKEW, REPLAYED, "
                                  "IP_NOT_ALLOWED, RATE_LIMITED, INVALID_REQUEST, "
                                  "PRODUCT_NOT_FOUND, PRODUCT_UNAVAILABLE, ACCOUNT_INVALID, "
                                  "ACCOUNT_NOT_FOUND, CHECK_UNAVAILABLE, INSUFFICIENT_BALANCE, "
                                  "DUPLICATE_REF_MISMATCH, ORDER_NOT_FOUND, "
                                  "PAYMENT_UNAVAILABLE).")
    message: str = Field(description="For the developer reading the log.")
    fields: dict[str, str] | None = Field(None, description="Per request field, when one is "
                                                            "wrong.")


class Error(BaseModel):
    model_config = _example(error={"code": "INVALID_SIGNATURE",
                                   "message": "The signature does not match this request."})
    error: ErrorDetail


class Saldo(BaseModel):
    balance: int = Field(description="Minor units (rupiah). A sandbox key's play saldo.")
    currency: str = Field(examples=["IDR"])


class AccountInfo(BaseModel):
    id: int
    name: str
    email: str | None
    whatsapp: str | None
    level: str | None = Field(description="The price level the prices are at.")


class KeyInfo(BaseModel):
    key_id: str
    label: str
    sandbox: bool = Field(description="Sandbox keys order from the sandbox supplier and spend "
                                      "play saldo.")
    rate_per_minute: int


class Profile(BaseModel):
    model_config = _example(
        account={"id": 7, "name": "Dewi Cell", "email": "dewi@example.com", "whatsapp": None,
                 "level": "Reseller"},
        key={"key_id": "mk_live_3f9a0c1d2e4b5a6c7d8e", "label": "WA bot", "sandbox": False,
             "rate_per_minute": 120},
        saldo={"balance": 250000, "currency": "IDR"})
    account: AccountInfo
    key: KeyInfo
    saldo: Saldo


class AccountField(BaseModel):
    name: str = Field(examples=["user_id"])
    label: str = Field(examples=["User ID"])
    pattern: str = Field("", description="A regular expression the value must match.")


class Product(BaseModel):
    code: str = Field(description="The package's code: send it as `sku`.",
                      examples=["mobile-legends-3"])
    product: str = Field(examples=["Mobile Legends"])
    product_slug: str = Field(examples=["mobile-legends"])
    name: str = Field(examples=["86 Diamonds"])
    price: int = Field(description="What this account pays, minor units.")
    currency: str
    available: bool = Field(description="False: an order would be refused now "
                                        "(PRODUCT_UNAVAILABLE).")
    reason: str | None = Field(None, description="Why not: off, stock, cutoff, deposit.")
    until: str | None = Field(None, description="A cut-off's end, e.g. \"00:30 WIB\".")
    account_fields: list[AccountField]


class ProductQuery(BaseModel):
    code: str = Field("", description="Only this package.")
    product: str = Field("", description="Only this product's packages (its slug).")


class ProductList(BaseModel):
    items: list[Product]


class AccountCheckRequest(BaseModel):
    model_config = _example(sku="mobile-legends-3", account={"user_id": "12345678",
                                                              "zone_id": "1234"})
    sku: str = Field(max_length=80)
    account: dict[str, str] = Field(description="The product's account fields (see "
                                                "`account_fields` in the price list).")


class AccountCheck(BaseModel):
    found: bool
    nickname: str | None = Field(None, description="The account's name, where the game "
                                                   "tells it.")


class OrderRequest(BaseModel):
    model_config = _example(ref_id="INV-20261207-0001", sku="mobile-legends-3",
                            account={"user_id": "12345678", "zone_id": "1234"})
    ref_id: str = Field(pattern=REF_ID, description="Your reference, unique forever in your "
                                                    "account: sending it again answers the "
                                                    "same order, never a second one.")
    sku: str = Field(max_length=80, description="A package code from the price list.")
    account: dict[str, str]
    callback_url: str | None = Field(None, max_length=500,
                                     description="Where to send this order's callbacks "
                                                 "(default: the key's callback URL).")
    email: str = Field("", max_length=254, description="The buyer's email for a receipt "
                                                       "(optional).")
    whatsapp: str = Field("", max_length=20, description="The buyer's WhatsApp for a receipt "
                                                         "(optional).")


class Order(BaseModel):
    ref_id: str
    order_id: str = Field(description="The shop's reference (SBX-... for a sandbox order).")
    status: str = Field(description="pending, success or failed (failed: the price is back "
                                    "in your saldo).")
    sn: str = Field(description="The serial number or voucher, once success.")
    message: str
    sku: str
    customer_no: str = Field(description="The account as one string, e.g. 12345678(1234).")
    price: int
    currency: str
    sandbox: bool
    created_at: dt.datetime


class OrderPlaced(BaseModel):
    model_config = _example(
        order={"ref_id": "INV-20261207-0001", "order_id": "MK7Q2D9XA", "status": "pending",
               "sn": "", "message": "Processing", "sku": "mobile-legends-3",
               "customer_no": "12345678(1234)", "price": 19500, "currency": "IDR",
               "sandbox": False, "created_at": "2026-12-07T03:30:00Z"},
        duplicate=False, balance_after=230500)
    order: Order
    duplicate: bool = Field(description="True: this ref_id was placed before; nothing new "
                                        "was bought.")
    balance_after: int


class OrderStatus(BaseModel):
    order: Order


class DepositRequest(BaseModel):
    model_config = _example(ref_id="DEP-0001", amount=100000, method="QRIS")
    ref_id: str = Field(pattern=REF_ID, description="Yours: the same ref_id again answers the "
                                                    "same deposit.")
    amount: int = Field(gt=0, description="What your saldo gets, minor units.")
    method: str = Field(description="A payment method code of the shop (QRIS, BCA_VA ...).")


class Deposit(BaseModel):
    deposit_id: str
    status: str = Field(description="awaiting_payment, paid, expired, failed.")
    amount: int
    fee: int
    total: int = Field(description="What to pay: amount + fee.")
    currency: str
    checkout_url: str | None
    pay_code: str | None
    qr_string: str | None
    expires_at: dt.datetime
