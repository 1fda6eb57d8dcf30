"""The H2H API from Python (requests): sign, read the price list, order, read the status.

    BASE_URL=https://shop.example KEY_ID=mk_live_... SECRET=sk_... SKU=mobile-legends-3 \
        python h2h.py
"""
import hashlib
import hmac
import json
import os
import secrets
import time

import requests

BASE_URL, KEY_ID, SECRET = os.environ["BASE_URL"], os.environ["KEY_ID"], os.environ["SECRET"]


def api(method: str, path: str, body: dict | None = None) -> dict:
    """One signed request; the answer's JSON (an error raises, with its code)."""
    raw = json.dumps(body).encode() if body is not None else b""
    stamp, nonce = str(int(time.time())), secrets.token_hex(12)
    signed = "\n".join([method, path, stamp, nonce, hashlib.sha256(raw).hexdigest()])
    signature = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
    headers = {"X-Key-Id": KEY_ID, "X-Timestamp": stamp, "X-Nonce": nonce,
               "X-Signature": signature, "Content-Type": "application/json"}
    answer = requests.request(method, BASE_URL + path, data=raw or None, headers=headers,
                              timeout=30)
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.status_code} {answer.json()['error']}")
    return answer.json()


def main() -> None:
    print("saldo:", api("GET", "/api/v1/profile")["saldo"])
    sku = os.environ.get("SKU") or api("GET", "/api/v1/products")["items"][0]["code"]
    item = api("GET", f"/api/v1/products?code={sku}")["items"][0]
    print("buying:", item["product"], item["name"], item["price"])
    ref_id = os.environ.get("REF_ID") or f"INV-{int(time.time())}"
    order = {"ref_id": ref_id, "sku": sku,
             "account": {"user_id": "12345678", "zone_id": "1234"}}
    print("placed:", api("POST", "/api/v1/orders", order)["order"]["status"])
    for _ in range(30):                 # or wait for the callback
        status = api("GET", f"/api/v1/orders/{ref_id}")["order"]
        if status["status"] != "pending":
            break
        time.sleep(1)
    print("status:", status["status"], status["sn"])


if __name__ == "__main__":
    main()
