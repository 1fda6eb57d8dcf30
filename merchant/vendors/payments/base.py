"""The one interface every payment gateway adapter implements.

Adapters translate between our domain and a vendor's HTTP API. They never touch the
database: they take a PaymentRequest and return plain results, or raise PaymentError.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from merchant.vendors.http import VendorAdapter

# The statuses an adapter reports, whatever the vendor calls them.
PAID = "paid"
PENDING = "pending"
FAILED = "failed"
EXPIRED = "expired"
REFUNDED = "refunded"


class PaymentError(Exception):
    """The vendor refused or could not be reached. The message is for the operator's log."""


class Unservable(PaymentError):
    """The shop's settings, or this order, keep the gateway from taking the payment: no vendor
    was asked and nothing is down, so the customer is not told to try again later."""


class ForgedCallback(PaymentError):
    """A callback whose signature or token does not verify."""


@dataclass(frozen=True)
class PaymentRequest:
    ref: str                       # our order reference: the vendor's external/merchant id
    amount: int                    # minor units of `currency`
    currency: str
    method: str                    # our payment method code: QRIS, GOPAY, BCA_VA, CARD ...
    description: str
    expires_at: dt.datetime        # UTC, naive
    callback_url: str
    return_url: str
    email: str | None = None
    phone: str | None = None
    customer_name: str | None = None


@dataclass(frozen=True)
class Checkout:
    gateway_ref: str               # the vendor's id for this payment
    checkout_url: str | None = None    # where to send the customer (redirect methods)
    qr_string: str | None = None       # a QRIS/EMV payload to draw (QR methods)
    pay_code: str | None = None        # a virtual account number or payment code
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class PaymentUpdate:
    """What a callback or a status query says about one payment."""
    order_ref: str
    status: str                    # PAID, PENDING, FAILED, EXPIRED or REFUNDED
    amount: int | None             # minor units, as the vendor reported it
    currency: str | None
    gateway_ref: str | None = None
    event_id: str | None = None    # the vendor's dedupe key for this delivery
    detail: str = ""               # a short line for the order history
    raw: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class RefundRequest:
    """Give a paid order's money back through the gateway that took it."""
    ref: str                       # our order reference
    gateway_ref: str | None        # the vendor's id for the payment
    amount: int                    # minor units of `currency`: the whole order total
    currency: str
    method: str                    # our payment method code (some vendors refund some only)
    reason: str                    # the operator's note, sent where the vendor takes one


@dataclass(frozen=True)
class Refund:
    """The vendor's answer to a refund request."""
    refund_ref: str                # the vendor's id for the refund
    status: str                    # REFUNDED (done) or PENDING (accepted, the vendor finishes it)
    detail: str = ""               # a short line for the order history


@dataclass(frozen=True)
class CallbackReply:
    """The exact answer a vendor expects from our callback endpoint."""
    body: str = "OK"
    status: int = 200
    content_type: str = "text/plain"


class Gateway(VendorAdapter):
    """Base class: one subclass per vendor, registered in merchant.payments."""

    name: str = ""
    #: Our payment method codes -> the vendor's channel for each. None: the gateway takes any
    #: code (the sandbox pretends every one; Stripe offers its dashboard's methods).
    channels: Mapping[str, str] | None = None
    #: The setting (a dict, without MERCHANT_) in which the operator maps more codes, if any.
    channels_setting: str | None = None

    def create_payment(self, request: PaymentRequest) -> Checkout:
        raise NotImplementedError

    @classmethod
    def channel_map(cls, settings: Mapping) -> dict[str, str] | None:
        """`channels` with the operator's own mapping over them; None when any code goes."""
        if cls.channels is None:
            return None
        extra = settings.get(cls.channels_setting) if cls.channels_setting else None
        return {**cls.channels, **(extra or {})}

    @classmethod
    def serves(cls, method: str, settings: Mapping) -> bool:
        """Whether this gateway has a channel for our payment method code `method`."""
        channels = cls.channel_map(settings)
        return channels is None or method in channels

    def vendor_method(self, method: str, vendor: str) -> str:
        """The vendor's code for our payment method. :raise PaymentError: naming the method
        when neither `channels` nor the operator's setting maps it."""
        channels = self.channel_map(self.settings)
        if channels is None:
            return method
        if method not in channels:
            raise Unservable(f"payment method {method!r} has no {vendor} channel; "
                               f"map it in {self.channels_setting} or use another gateway for it")
        return channels[method]

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentUpdate:
        """Verify a callback over its raw body and translate it. Raises ForgedCallback."""
        raise NotImplementedError

    def query(self, ref: str, gateway_ref: str | None) -> PaymentUpdate | None:
        """Ask the vendor about one payment; None when the vendor knows nothing yet."""
        raise NotImplementedError

    def expire(self, ref: str, gateway_ref: str | None) -> None:
        """Cancel an unpaid payment at the vendor, where the vendor supports it."""

    def can_refund(self, method: str) -> bool:
        """Whether the vendor refunds payments made with `method` through its API.

        False: the operator gives the money back by other means and records it as manual."""
        return False

    def refund(self, request: RefundRequest) -> Refund:
        """Ask the vendor to refund the payment. :raise PaymentError: refused or unreachable."""
        raise PaymentError(f"{self.name} does not refund through its API")

    def callback_reply(self, update: PaymentUpdate | None) -> CallbackReply:
        return CallbackReply()
