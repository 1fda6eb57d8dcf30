"""Digiflazz's buyer-API words for an order's state, and its webhook's format (CONTRACTS.md §4):
what the Digiflazz-compatible door answers and calls back with, so a downstream script written
for Digiflazz reads them unchanged."""
from __future__ import annotations

import hashlib
import hmac

from merchant.h2h.outcomes import FAILED, PENDING, SUCCESS, Outcome

STATUS = {PENDING: "Pending", SUCCESS: "Sukses", FAILED: "Gagal"}
RC = {PENDING: "03", SUCCESS: "00", FAILED: "02"}
# As documented per rc (response-code page).
MESSAGES = {
    "00": "Transaksi Sukses",
    "02": "Transaksi Gagal",
    "03": "Transaksi Pending",
    "40": "Payload Error",
    "41": "Signature Anda salah",
    "42": "Gagal memproses API Buyer",
    "43": "SKU tidak di temukan atau Non-Aktif",
    "44": "Saldo tidak cukup",
    "45": "IP Anda tidak kami kenali",
    "49": "Ref ID tidak unik",
    "53": "Produk Seller Sedang Tidak Tersedia",
    "54": "Nomor Tujuan Salah",
    "55": "Produk Sedang Gangguan",
    "58": "Sedang Cut Off",
    "83": "Anda telah mencapai limitasi pengecekan pricelist, silahkan coba beberapa saat lagi",
}
USER_AGENT = "Digiflazz-Hookshot"


def transaction(outcome: Outcome, balance: int) -> dict:
    """The `data` of a /transaction answer and of a webhook, for this order."""
    rc = RC[outcome.status]
    return {"ref_id": outcome.ref_id, "customer_no": outcome.customer_no,
            "buyer_sku_code": outcome.sku, "message": MESSAGES[rc],
            "status": STATUS[outcome.status], "rc": rc, "sn": outcome.sn,
            "buyer_last_saldo": balance, "price": outcome.price, "tele": "", "wa": ""}


def callback_headers(secret: str, body: bytes, event: str = "update") -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Digiflazz-Event": event, "X-Hub-Signature": f"sha1={signature}",
            "User-Agent": USER_AGENT}
