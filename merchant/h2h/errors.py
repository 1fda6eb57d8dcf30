"""The API's errors: an HTTP status and a stable code a program can branch on, and a sentence
for the developer reading the log."""
from __future__ import annotations

# code -> HTTP status
STATUSES = {
    "MISSING_AUTH": 401,            # a header of the signature is missing
    "UNKNOWN_KEY": 401,
    "KEY_REVOKED": 401,
    "INVALID_SIGNATURE": 401,
    "TIMESTAMP_SKEW": 401,          # X-Timestamp outside the replay window
    "REPLAYED": 401,                # this nonce was used before
    "IP_NOT_ALLOWED": 403,
    "RATE_LIMITED": 429,
    "INVALID_REQUEST": 422,
    "PRODUCT_NOT_FOUND": 404,
    "ORDER_NOT_FOUND": 404,
    "PRODUCT_UNAVAILABLE": 409,
    "ACCOUNT_INVALID": 422,
    "ACCOUNT_NOT_FOUND": 422,
    "CHECK_UNAVAILABLE": 503,       # the nickname check is down; try again
    "INSUFFICIENT_BALANCE": 402,
    "DUPLICATE_REF_MISMATCH": 409,
    "PAYMENT_UNAVAILABLE": 503,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, retry_after: int | None = None,
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = STATUSES[code]
        self.retry_after = retry_after
        self.fields = fields or {}

    def body(self) -> dict:
        body = {"error": {"code": self.code, "message": self.message}}
        if self.fields:
            body["error"]["fields"] = self.fields
        return body
