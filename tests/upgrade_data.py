"""A shop's data as each past release stored it: the rows the upgrade tests put into a database
at that revision before upgrading it to the newest one.

LAYERS has one entry per migration, oldest first: what that revision added to the shop's data
(new tables' rows, new columns' values on the rows already there). The data at a revision is
every layer up to and including its own. A migration without its layer fails the suite
(test_upgrades.py), so each new one says what a shop that ran it holds.

The rows are what the code of that release wrote: orders in every status with their history,
webhooks, outbox jobs, receipts, admins, audit entries, promo uses. Times are naive UTC, as the
models store them.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

Data = dict[str, list[dict]]

T0 = dt.datetime(2026, 11, 20, 3, 0, 0)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


USERNAME_FIELDS = [{"name": "username", "label": "TikTok username",
                    "pattern": "@?[A-Za-z0-9._]{2,24}",
                    "hint": "A TikTok username has 2-24 letters, digits, dots or underscores.",
                    "placeholder": "e.g. demo_user"}]
USER_ID_ZONE_FIELDS = [{"name": "user_id", "label": "User ID", "pattern": "[0-9]{6,12}",
                        "hint": "The User ID is 6-12 digits.", "placeholder": "e.g. 12345678"},
                       {"name": "zone_id", "label": "Zone ID", "pattern": "[0-9]{4,5}",
                        "hint": "The Zone ID is the 4-5 digits in brackets.",
                        "placeholder": "e.g. 2345"}]


def _method(id, code, name, kind, icon, fee_flat, fee_bp, min_amount, max_amount, sort):
    return {"id": id, "code": code, "name": name, "kind": kind, "gateway": None, "icon": icon,
            "fee_flat": fee_flat, "fee_percent_bp": fee_bp, "currency": "IDR",
            "min_amount": min_amount, "max_amount": max_amount, "active": True,
            "sort_order": sort}


def _package(id, product_id, name, quantity, bonus, price, sku, cost, sort, **more):
    row = {"id": id, "product_id": product_id, "name": name, "quantity": quantity,
           "bonus": bonus, "price": price, "currency": "IDR", "badge": "", "supplier": "sandbox",
           "supplier_sku": sku, "supplier_cost": cost, "fallback_supplier": None,
           "fallback_sku": "", "fallback_cost": None, "active": True, "sort_order": sort}
    return row | more


# (id, ref, status, package id, account, paid?, what happened after)
ORDERS = [
    (1, "M2K7Q9D4F", "delivered", 2, {"username": "dewi.shop"}),
    (2, "M3H8R2T6A", "delivered", 5, {"user_id": "12345678", "zone_id": "2345"}),
    (3, "M4J9S3U7B", "fulfillment_failed", 2, {"username": "buyer_fail"}),
    (4, "M5K2T4V8C", "awaiting_payment", 1, {"username": "late_payer"}),
    (5, "M6M3U5W9D", "paid", 3, {"username": "queued_buyer"}),
    (6, "M7N4V6X2E", "fulfilling", 3, {"username": "gamer_slow"}),
    (7, "M8P5W7Y3G", "expired", 1, {"username": "never_paid"}),
    (8, "M9Q6X8Z4H", "payment_failed", 5, {"user_id": "87654321", "zone_id": "5432"}),
    (9, "MA7R7Y9Z5", "refunded", 2, {"username": "refund_me"}),
]
PACKAGES = {1: ("30 Coins", 30, 0, 6_500), 2: ("70 Coins", 70, 0, 15_000),
            3: ("140 Coins", 140, 0, 29_500), 5: ("86 Diamonds", 78, 8, 22_000)}
PAID = {"paid", "fulfilling", "delivered", "fulfillment_failed", "refunded"}
HISTORY = {
    "awaiting_payment": [None, "awaiting_payment"],
    "paid": [None, "awaiting_payment", "paid"],
    "fulfilling": [None, "awaiting_payment", "paid", "fulfilling"],
    "delivered": [None, "awaiting_payment", "paid", "fulfilling", "delivered"],
    "expired": [None, "awaiting_payment", "expired"],
    "payment_failed": [None, "awaiting_payment", "payment_failed"],
    "fulfillment_failed": [None, "awaiting_payment", "paid", "fulfilling",
                           "fulfillment_failed"],
    "refunded": [None, "awaiting_payment", "paid", "fulfilling", "fulfillment_failed",
                 "refunded"],
}
DETAILS = {"awaiting_payment": "order placed", "paid": "sandbox: payment confirmed",
           "fulfilling": "claimed for delivery", "delivered": "supplier: delivered",
           "expired": "payment window closed", "payment_failed": "sandbox: payment failed",
           "fulfillment_failed": "supplier: rejected (account not found)",
           "refunded": "refunded by owner@example.com"}


def _order(id, ref, status, package_id, account) -> dict:
    name, quantity, bonus, price = PACKAGES[package_id]
    product_id = 2 if package_id == 5 else 1
    fee = price * 70 // 10_000 if package_id != 5 else 4_000
    placed = at(id * 60)
    paid = status in PAID
    return {
        "id": id, "ref": ref, "view_token": f"view-token-of-order-{id:02d}-abcdefghijkl",
        "idempotency_key": f"idem-{id:02d}", "status": status,
        "previous_status": "fulfillment_failed" if status == "refunded" else None,
        "product_id": product_id, "package_id": package_id,
        "product_name": "TikTok Coins" if product_id == 1 else "Mobile Legends",
        "package_name": name, "quantity": quantity, "bonus": bonus, "account": account,
        "nickname": f"Player-{id:04X}", "email": f"buyer{id}@example.com",
        "whatsapp": "6281234567890" if id % 2 else None,
        "payment_method": "QRIS" if package_id != 5 else "BCA_VA",
        "payment_method_name": "QRIS" if package_id != 5 else "BCA Virtual Account",
        "gateway": "sandbox", "subtotal": price, "fee": fee, "total": price + fee,
        "currency": "IDR", "gateway_ref": f"sbx_{ref.lower()}",
        "checkout_url": f"http://127.0.0.1:5000/sandbox/pay/sbx_{ref.lower()}",
        "qr_string": f"00020101021226sandbox{ref}" if package_id != 5 else None,
        "pay_code": "8808123456789" if package_id == 5 else None,
        "payment_expires_at": placed + dt.timedelta(minutes=30),
        "paid_at": placed + dt.timedelta(minutes=2) if paid else None,
        "gateway_checked_at": placed + dt.timedelta(minutes=1),
        "supplier": "sandbox", "supplier_sku": f"SKU-{package_id}",
        "supplier_cost": price - 1_500,
        "supplier_ref_id": ref if status not in {"awaiting_payment", "paid", "expired",
                                                 "payment_failed"} else None,
        "supplier_ref": f"SBX-{id}" if status in {"delivered", "fulfilling"} else None,
        "supplier_attempts": 1 if status in {"delivered", "fulfilling", "fulfillment_failed",
                                             "refunded"} else 0,
        "supplier_choice": 0,
        "next_check_at": placed + dt.timedelta(minutes=4) if status == "fulfilling" else None,
        "delivery_proof": f"SN 8891{id:04d}" if status == "delivered" else None,
        "delivered_at": placed + dt.timedelta(minutes=3) if status == "delivered" else None,
        "flag": "delivery failed: account not found" if status == "fulfillment_failed"
        else None,
        "created_at": placed, "updated_at": placed + dt.timedelta(minutes=5),
    }


def _events(order: dict, first_id: int) -> list[dict]:
    statuses = HISTORY[order["status"]]
    rows = []
    for step, (before, after) in enumerate(zip(statuses, statuses[1:], strict=False)):
        rows.append({"id": first_id + step, "order_id": order["id"],
                     "at": order["created_at"] + dt.timedelta(minutes=step),
                     "from_status": before, "to_status": after,
                     "source": "customer" if before is None else "worker",
                     "detail": DETAILS[after]})
    return rows


def initial_schema(data: Data) -> None:
    """f9ea8422244a: the catalog, methods, orders with their history, callbacks, caches."""
    data["payment_methods"] = [
        _method(1, "QRIS", "QRIS", "qr", "qris", 0, 70, 1_000, 10_000_000, 0),
        _method(2, "BCA_VA", "BCA Virtual Account", "va", "bca", 4_000, 0, 10_000, None, 1),
        _method(3, "GOPAY", "GoPay", "ewallet", "gopay", 0, 200, 1_000, 2_000_000, 2),
    ]
    data["payment_methods"][2]["active"] = False
    data["products"] = [
        {"id": 1, "slug": "tiktok-coins", "name": "TikTok Coins", "publisher": "TikTok",
         "image": "icons/tiktok-coins.svg", "active": True, "sort_order": 0,
         "account_fields": USERNAME_FIELDS,
         "help_text": "Open TikTok and tap Profile: your username is under your photo.",
         "verifier": "sandbox", "verifier_code": "", "allow_unverified": False},
        {"id": 2, "slug": "mobile-legends", "name": "Mobile Legends", "publisher": "Moonton",
         "image": "icons/mobile-legends.svg", "active": True, "sort_order": 1,
         "account_fields": USER_ID_ZONE_FIELDS,
         "help_text": "Tap your avatar: User ID and (Zone ID).", "verifier": "sandbox",
         "verifier_code": "mobilelegend", "allow_unverified": True},
    ]
    data["packages"] = [
        _package(1, 1, "30 Coins", 30, 0, 6_500, "SKU-1", 5_000, 0),
        _package(2, 1, "70 Coins", 70, 0, 15_000, "SKU-2", 13_500, 1, badge="Popular"),
        _package(3, 1, "140 Coins", 140, 0, 29_500, "SKU-3", 28_000, 2,
                 fallback_supplier="manual", fallback_sku="TT140", fallback_cost=28_500),
        _package(4, 1, "Old 10 Coins", 10, 0, 2_500, "SKU-4", None, 3, active=False),
        _package(5, 2, "86 Diamonds", 78, 8, 22_000, "SKU-5", 20_500, 0),
    ]
    data["orders"] = [_order(*spec) for spec in ORDERS]
    events: list[dict] = []
    for order in data["orders"]:
        events += _events(order, len(events) + 1)
    events.append({"id": len(events) + 1, "order_id": 3, "at": at(200), "from_status": None,
                   "to_status": None, "source": "operator",
                   "detail": "note: customer asked on WhatsApp, told them to wait"})
    data["order_events"] = events
    data["webhook_events"] = [
        {"id": 1, "provider": "sandbox", "event_id": "sbx_m2k7q9d4f:paid", "received_at": at(62),
         "body_sha256": "a" * 64, "outcome": "paid"},
        {"id": 2, "provider": "sandbox", "event_id": "sbx_m9q6x8z4h:failed",
         "received_at": at(482), "body_sha256": "b" * 64, "outcome": "payment_failed"},
    ]
    data["nickname_cache"] = [
        {"key": "c" * 64, "status": "found", "nickname": "Player-0001",
         "expires_at": at(10_000)},
        {"key": "d" * 64, "status": "missing", "nickname": None, "expires_at": at(10_000)},
    ]
    data["supplier_balances"] = [{"supplier": "sandbox", "checked_at": at(500),
                                  "balance": 5_000_000, "pending_cost": 28_000, "error": None}]
    data["supplier_price_cache"] = [{"supplier": "digiflazz", "fetched_at": at(400),
                                     "payload": [{"buyer_sku_code": "ML86", "price": 20_100,
                                                  "product_name": "86 Diamonds"}]}]
    data["worker_beats"] = [{"name": "worker-1", "beat_at": at(600)}]


def operator_panel(data: Data) -> None:
    """f4a7e5dea881: admins, audit, settings, import jobs; orders' account id and refunds."""
    data["admin_users"] = [
        {"id": 1, "email": "owner@example.com",
         "password_hash": "scrypt:32768:8:1$salt$" + "e" * 128, "role": "owner",
         "totp_secret": "JBSWY3DPEHPK3PXP", "totp_last_step": 58_000_000, "active": True,
         "session_epoch": 2, "created_at": at(0), "last_login_at": at(700)},
        {"id": 2, "email": "staff@example.com",
         "password_hash": "scrypt:32768:8:1$salt$" + "f" * 128, "role": "staff",
         "totp_secret": None, "totp_last_step": None, "active": False, "session_epoch": 0,
         "created_at": at(5), "last_login_at": None},
    ]
    data["audit_log"] = [
        {"id": 1, "at": at(10), "admin_id": 1, "actor": "owner@example.com",
         "action": "package.update", "target_type": "package", "target_id": "2",
         "summary": "70 Coins: price Rp 14.500 -> Rp 15.000", "before": {"price": 14_500},
         "after": {"price": 15_000}},
        {"id": 2, "at": at(560), "admin_id": 1, "actor": "owner@example.com",
         "action": "order.refund", "target_type": "order", "target_id": "MA7R7Y9Z5",
         "summary": "refunded Rp 15.105 through sandbox", "before": None, "after": None},
        {"id": 3, "at": at(600), "admin_id": None, "actor": "cli", "action": "admin.create",
         "target_type": "admin", "target_id": "2", "summary": "staff@example.com (staff)",
         "before": None, "after": {"role": "staff"}},
    ]
    data["shop_settings"] = [
        {"id": 1, "shop_name": "Dewi Top Up", "logo": "", "accent_color": "#0f766e",
         "support_whatsapp": "6281200001111", "support_email": "help@dewi.example",
         "currency": "IDR", "timezone": "Asia/Jakarta", "terms": "Semua pembelian final.",
         "refund_policy": "Refund within 3 days for failed deliveries.",
         "updated_at": at(20)},
    ]
    data["import_jobs"] = [
        {"id": 1, "supplier": "digiflazz", "markup": "8%", "round_to": 100, "status": "done",
         "stage": "done", "done": 1, "total": 1,
         "summary": {"created": 1, "updated": 0, "disabled": 0}, "error": None,
         "started_by": "owner@example.com", "created_at": at(400), "finished_at": at(401)},
    ]
    data["setup_tokens"] = [
        {"token_hash": "9" * 64, "created_at": at(0), "expires_at": at(60), "used_at": at(1)},
    ]
    for order in data["orders"]:
        account = order["account"]
        order["account_id"] = account.get("username") or account.get("user_id")
        order["refund_ref"] = "sbx_refund_9" if order["status"] == "refunded" else None
        order["refunded_at"] = at(560) if order["status"] == "refunded" else None
    data["webhook_events"][0]["order_id"] = 1
    data["webhook_events"][1]["order_id"] = 8


def outbox_events(data: Data) -> None:
    """d0748263f7ad: an event per status change, a job per listener (one given up)."""
    data["outbox_events"] = [
        {"id": 1, "order_id": 1, "kind": "delivered", "created_at": at(63)},
        {"id": 2, "order_id": 3, "kind": "fulfillment_failed", "created_at": at(183)},
        {"id": 3, "order_id": 9, "kind": "refunded", "created_at": at(560)},
    ]
    data["outbox_deliveries"] = [
        {"event_id": 1, "listener": "receipts.email", "attempts": 1, "next_attempt_at": None,
         "last_error": None, "done_at": at(63)},
        {"event_id": 2, "listener": "receipts.email", "attempts": 10, "next_attempt_at": None,
         "last_error": "SMTP 554: rejected", "done_at": None},
        {"event_id": 3, "listener": "receipts.whatsapp", "attempts": 2,
         "next_attempt_at": at(600), "last_error": "Fonnte: device offline", "done_at": None},
    ]


def product_seo_and_categories(data: Data) -> None:
    """3c5e8a1f0b7d: products' shelf, featured, search texts, guide and FAQ."""
    data["products"][0] |= {"category": "apps", "featured": False, "meta_title": "",
                            "meta_description": "", "guide": "", "faq": []}
    data["products"][1] |= {
        "category": "games", "featured": True, "meta_title": "Top up ML murah",
        "meta_description": "Diamond Mobile Legends, langsung masuk.",
        "guide": "1. Masukkan User ID dan Zone ID.\n2. Pilih diamond.\n3. Bayar.",
        "faq": [{"q": "Perlu password?", "a": "Tidak."}]}


def catalog_version(data: Data) -> None:
    """c7d1e5a9b3f2: the number catalog caches compare; a shop that edited its catalog has
    moved it past the migration's 1."""
    data["catalog_version"] = [{"id": 1, "version": 42}]


def languages(data: Data) -> None:
    """b3c1d2e4f5a6: the shop's language; the language each order was placed in."""
    data["shop_settings"][0]["default_locale"] = "id"
    for order in data["orders"]:
        order["locale"] = "id" if order["id"] % 3 else "en"


def receipts(data: Data) -> None:
    """0a3c39a1cef6: receipts per event and channel, sent, retrying and given up."""
    data["receipts"] = [
        {"id": 1, "event_id": 1, "order_id": 1, "kind": "delivered", "channel": "email",
         "recipient": "buyer1@example.com", "state": "sent", "attempts": 1, "lost_answers": 0,
         "claim": None, "claimed_until": None, "message_id": "<r1@dewi.example>",
         "body": "Your 70 Coins are delivered.", "error": None, "created_at": at(63),
         "updated_at": at(63), "sent_at": at(63)},
        {"id": 2, "event_id": 2, "order_id": 3, "kind": "fulfillment_failed",
         "channel": "email", "recipient": "buyer3@example.com", "state": "failed",
         "attempts": 8, "lost_answers": 0, "claim": None, "claimed_until": None,
         "message_id": None, "body": None, "error": "554 rejected", "created_at": at(183),
         "updated_at": at(300), "sent_at": None},
        {"id": 3, "event_id": 3, "order_id": 9, "kind": "refunded", "channel": "whatsapp",
         "recipient": "6281234567890", "state": "retrying", "attempts": 2, "lost_answers": 1,
         "claim": None, "claimed_until": None, "message_id": None, "body": None,
         "error": "device offline", "created_at": at(560), "updated_at": at(570),
         "sent_at": None},
    ]


def promo_codes(data: Data) -> None:
    """3df281cdc0ee: promo codes, uses per contact, the code and discount on orders."""
    data["promos"] = [
        {"id": 1, "code": "RAMADAN10", "percent_bp": 1_000, "amount_off": None,
         "currency": "IDR", "product_id": None, "min_spend": 0, "starts_at": at(0),
         "ends_at": at(100_000), "max_uses": 500, "max_per_contact": 1, "uses": 1,
         "active": True, "created_at": at(0)},
        {"id": 2, "code": "MLFLAT5K", "percent_bp": None, "amount_off": 5_000,
         "currency": "IDR", "product_id": 2, "min_spend": 20_000, "starts_at": None,
         "ends_at": None, "max_uses": None, "max_per_contact": None, "uses": 0,
         "active": False, "created_at": at(10)},
    ]
    data["promo_contact_uses"] = [{"promo_id": 1, "contact": "buyer1@example.com", "uses": 1}]
    for order in data["orders"]:
        order |= {"promo_id": None, "promo_code": None, "discount": 0, "promo_counted": False}
    data["orders"][0] |= {"promo_id": 1, "promo_code": "RAMADAN10", "discount": 1_500,
                          "promo_counted": True, "subtotal": 13_500, "fee": 94,
                          "total": 13_594}


def catalog_guards_and_archive(data: Data) -> None:
    """7a4c2e9d1b08: hand-set prices, promos allowed below cost, import previews, archived
    rows, order events as codes with parameters."""
    for package in data["packages"]:
        package |= {"price_by_hand": package["id"] == 2, "archived_at": None}
    data["packages"][3]["archived_at"] = at(900)                # the old 10 Coins
    for method in data["payment_methods"]:
        method["archived_at"] = at(901) if method["code"] == "GOPAY" else None
    for product in data["products"]:
        product["archived_at"] = None
    for promo in data["promos"]:
        promo |= {"allow_below_cost": False, "archived_at": None}
    data["promos"][1] |= {"allow_below_cost": True, "archived_at": at(902)}
    data["import_jobs"][0] |= {"preview": None, "list_fetched_at": None}
    data["import_jobs"].append(
        {"id": 2, "supplier": "digiflazz", "markup": "10%", "round_to": 500, "status": "ready",
         "stage": "preview ready", "done": 1, "total": 1, "summary": None, "error": None,
         "started_by": "owner@example.com", "created_at": at(950), "finished_at": None,
         "preview": {"new": [], "repriced": [{"package_id": 5, "old": 22_000, "new": 22_500}],
                     "kept": [{"package_id": 2}], "off": []},
         "list_fetched_at": at(949)})
    for event in data["order_events"]:
        event |= {"code": None, "params": None}
    data["order_events"].append(
        {"id": len(data["order_events"]) + 1, "order_id": 5, "at": at(960), "from_status": None,
         "to_status": None, "source": "operator",
         "detail": "Note from owner@example.com: paid by bank transfer",
         "code": "note", "params": {"admin": "owner@example.com",
                                    "text": "paid by bank transfer"}})


def panel_sessions(data: Data) -> None:
    """2d8b6f3e9a51: signed-in browsers kept on the server, recovery codes, temporary
    passwords."""
    data["admin_users"][0]["must_change_password"] = False
    data["admin_users"][1]["must_change_password"] = True
    data["admin_sessions"] = [
        {"token_hash": "1" * 64, "admin_id": 1, "created_at": at(980)},
        {"token_hash": "2" * 64, "admin_id": 1, "created_at": at(990)},
    ]
    data["admin_recovery_codes"] = [
        {"id": number, "admin_id": 1, "code_hash": f"{number:064x}",
         "used_at": at(995) if number == 1 else None} for number in range(1, 11)]


def refunds_and_order_search(data: Data) -> None:
    """9c3a7e5f2b14: whether staff may refund; how a refund by hand was paid back."""
    data["shop_settings"][0]["staff_may_refund"] = True
    for order in data["orders"]:
        order["refund_note"] = ("paid back by BCA transfer, ref 8812" if order["id"] == 9
                                else None)


def customers(data: Data) -> None:
    """a1c5d7e9f203: customer accounts and price levels; every older order was a guest's."""
    data["price_levels"] = [{"id": 1, "name": "Reseller", "sort_order": 1, "created_at": at(1000)}]
    data["customers"] = [
        {"id": 1, "email": "dewi@example.com", "whatsapp": None, "name": "Dewi",
         "password_hash": None, "level_id": None, "session_epoch": 0, "active": True,
         "created_at": at(1001), "last_login_at": at(1002)},
        {"id": 2, "email": None, "whatsapp": "6281234567890", "name": "",
         "password_hash": None, "level_id": 1, "session_epoch": 2, "active": True,
         "created_at": at(1003), "last_login_at": None},
    ]
    data["customer_sessions"] = [
        {"token_hash": "3" * 64, "customer_id": 1, "epoch": 0, "created_at": at(1002)}]
    for order in data["orders"]:
        order["customer_id"] = None


def accounts_and_levels(data: Data) -> None:
    """e5a7c9d1f246: price levels' rules and hand prices, sign-in codes, saved game accounts."""
    data["price_levels"][0].update(kind="discount", percent_bp=500, flat=0, round_to=100,
                                   allow_below_cost=False, spend_threshold=1_000_000,
                                   spend_days=30, currency="IDR")
    data["level_prices"] = [{"level_id": 1, "package_id": data["packages"][0]["id"],
                             "price": data["packages"][0]["price"] - 100}]
    data["sign_in_codes"] = [
        {"id": 1, "contact": "dewi@example.com", "code_hash": "4" * 64, "tries": 1,
         "created_at": at(1004), "expires_at": at(1014), "used_at": at(1005)}]
    data["saved_accounts"] = [
        {"id": 1, "customer_id": 1, "product_id": data["products"][0]["id"],
         "account": {"username": "dewi_plays"}, "account_key": "5" * 64,
         "nickname": "Dewi Plays", "created_at": at(1006)}]


def owner_alerts(data: Data) -> None:
    """d4f6b8c0e135: the owner's alert settings, a used Telegram link code, a deposit-low
    episode (raised and cleared, its messages sent), a delivery that failed for good, and the
    supplier failures the spike alert counts."""
    data["alert_settings"] = [
        {"id": 1, "channels": {"deposit_low": ["telegram", "whatsapp"],
                               "daily_summary": ["email"]},
         "telegram_chat_id": 5550001, "telegram_user_id": 5550001,
         "telegram_name": "@toko_owner", "telegram_bot": "merchant_alerts_bot",
         "telegram_offset": 700000002, "whatsapp": "+6281234567890",
         "email": "owner@tokodewi.id", "deposit_threshold": 100_000, "spike_failures": 5,
         "spike_minutes": 15, "summary_hour": 21, "summary_day": dt.date(2026, 11, 20),
         "updated_at": at(1010)}]
    data["alert_link_codes"] = [{"code_hash": "4" * 64, "created_at": at(1005),
                                 "expires_at": at(1015), "used_at": at(1006)}]
    data["alert_episodes"] = [
        {"id": 1, "kind": "deposit_low", "key": "digiflazz", "open_key": None,
         "params": {"supplier": "digiflazz", "balance": 40_000, "pending_cost": 0,
                    "threshold": 100_000, "currency": "IDR"},
         "opened_at": at(1020), "closed_at": at(1080)},
        {"id": 2, "kind": "delivery_failed", "key": "M4J9S3U7B:3",
         "open_key": "delivery_failed:M4J9S3U7B:3",
         "params": {"ref": "M4J9S3U7B", "product": "TikTok Coins", "package": "70 Coins",
                    "supplier": "sandbox", "reason": "sandbox: rejected"},
         "opened_at": at(1030), "closed_at": None}]
    sent = {"state": "sent", "attempts": 1, "lost_answers": 0, "claim": None,
            "claimed_until": at(1023), "error": None}
    data["alert_messages"] = [
        {"id": 1, "episode_id": 1, "event": "raised", "channel": "telegram",
         "recipient": "5550001", "subject": "Shop: Deposit at digiflazz is low",
         "body": "Deposit at digiflazz is low: Rp 40.000 left.", "next_attempt_at": at(1020),
         "created_at": at(1020), "sent_at": at(1021), **sent},
        {"id": 2, "episode_id": 1, "event": "raised", "channel": "whatsapp",
         "recipient": "+6281234567890", "subject": "Shop: Deposit at digiflazz is low",
         "body": "Deposit at digiflazz is low: Rp 40.000 left.", "next_attempt_at": at(1020),
         "created_at": at(1020), "sent_at": None, **sent, "state": "failed",
         "error": "Fonnte refused: device disconnected"},
        {"id": 3, "episode_id": 1, "event": "cleared", "channel": "telegram",
         "recipient": "5550001", "subject": "Shop: Deposit at digiflazz is enough again",
         "body": "Deposit at digiflazz is enough again: Rp 500.000.",
         "next_attempt_at": at(1080), "created_at": at(1080), "sent_at": at(1080), **sent},
        {"id": 4, "episode_id": 2, "event": "raised", "channel": "telegram",
         "recipient": "5550001", "subject": "Shop: Order M4J9S3U7B failed",
         "body": "Order M4J9S3U7B failed for good.", "next_attempt_at": at(1090),
         "created_at": at(1030), "sent_at": None, **sent, "state": "pending", "attempts": 2,
         "error": "Telegram: 429 Too Many Requests: retry after 60"}]
    data["supplier_failures"] = [
        {"id": 1, "supplier": "sandbox", "attempt": "M4J9S3U7B#0", "final": True,
         "at": at(1030)},
        {"id": 2, "supplier": "digiflazz", "attempt": "M6M3U5W9D#1", "final": False,
         "at": at(1040)}]


def supply(data: Data) -> None:
    """b2d4f6a8c013: many offers per package, the suppliers' products as the last sync saw
    them, the cost tolerance and offer rule, what the supplier charged and when a ref_id was
    first sent."""
    data["package_offers"] = [
        {"id": 1, "package_id": 1, "position": 0, "supplier": "sandbox", "sku": "SKU-1",
         "cost": 5_000},
        {"id": 2, "package_id": 2, "position": 0, "supplier": "sandbox", "sku": "SKU-2",
         "cost": 13_500},
        {"id": 3, "package_id": 3, "position": 0, "supplier": "sandbox", "sku": "SKU-3",
         "cost": 28_000},
        {"id": 4, "package_id": 3, "position": 1, "supplier": "manual", "sku": "TT140",
         "cost": 28_500},
        {"id": 5, "package_id": 5, "position": 0, "supplier": "sandbox", "sku": "SKU-5",
         "cost": 20_500},
        {"id": 6, "package_id": 5, "position": 1, "supplier": "digiflazz", "sku": "ML86",
         "cost": 20_100},
    ]
    data["supplier_products"] = [
        {"supplier": "digiflazz", "sku": "ML86", "listed": True, "buyer_product_status": True,
         "seller_product_status": True, "unlimited_stock": False, "stock": 40,
         "start_cut_off": "23:45", "end_cut_off": "0:15", "price": 20_100,
         "synced_at": at(1010)}]
    for package in data["packages"]:
        package.update(offer_rule="", unavailable_reason=None, unavailable_until=None)
    data["packages"][4].update(offer_rule="cheapest", fallback_supplier="digiflazz",
                               fallback_sku="ML86", fallback_cost=20_100)
    data["shop_settings"][0].update(offer_rule="priority", cost_tolerance=500)
    data["supplier_balances"][0]["short"] = False
    for job in data["import_jobs"]:
        job["merge"] = job["id"] == 2
    for order in data["orders"]:
        delivered = order["status"] == "delivered"
        order["supply_plan"] = [[order["supplier"], order["supplier_sku"],
                                 order["supplier_cost"]]] if order["id"] == 2 else None
        order["supplier_paid"] = order["supplier_cost"] if delivered else None
        order["supplier_sent_at"] = order["paid_at"] if order["paid_at"] else None


def flash_sales(data: Data) -> None:
    """a7c9e1f3b468: flash sales, their packages and stock, units per contact; the sale item
    that priced an order and whether it still holds its unit."""
    data["flash_sales"] = [
        {"id": 1, "name": "Flash Sale 12.12", "starts_at": at(1_100), "ends_at": at(1_400),
         "max_per_contact": 1, "with_promo": False, "allow_below_cost": False, "active": True,
         "created_at": at(1_050)}]
    data["flash_sale_items"] = [
        {"id": 1, "sale_id": 1, "package_id": 1, "sale_price": 5_900, "stock": 20, "sold": 1},
        {"id": 2, "sale_id": 1, "package_id": 2, "sale_price": 14_000, "stock": 10, "sold": 0}]
    data["flash_sale_contact_uses"] = [
        {"sale_id": 1, "contact": "buyer4@example.com", "uses": 1},
        {"sale_id": 1, "contact": "buyer7@example.com", "uses": 0}]
    for order in data["orders"]:
        order |= {"flash_item_id": None, "flash_counted": False}
    for order in data["orders"]:
        if order["id"] in (4, 7):       # one holds its unit, one expired and gave it back
            order |= {"flash_item_id": 1, "flash_counted": order["id"] == 4,
                      "subtotal": 5_900, "total": 5_900 + order["fee"]}


def reviews_claims_and_identity(data: Data) -> None:
    """b8d0f2a4c579: a buyer's review (and a hidden one), a problem report answered (its
    answer sent as an outbox event) and one open, the shop's identity and privacy policy."""
    first, second = data["orders"][0], data["orders"][1]
    data["reviews"] = [
        {"id": 1, "order_id": first["id"], "product_id": first["product_id"], "rating": 5,
         "comment": "Cepat, masuk 1 menit", "author": "P***1", "created_at": at(1100),
         "hidden_at": None, "hidden_reason": None},
        {"id": 2, "order_id": second["id"], "product_id": second["product_id"], "rating": 1,
         "comment": "beli di toko lain aja", "author": "P***2", "created_at": at(1101),
         "hidden_at": at(1102), "hidden_reason": "not about this order"},
    ]
    data["claims"] = [
        {"id": 1, "order_id": second["id"], "open_order_id": None, "kind": "not_received",
         "message": "Diamonds belum masuk", "created_at": at(1103),
         "answer": "Sudah kami cek: masuk jam 10.02, SN 88910002.",
         "answered_by": "owner@example.com", "answered_at": at(1110)},
        {"id": 2, "order_id": first["id"], "open_order_id": first["id"], "kind": "other",
         "message": "Saya mau faktur atas nama PT", "created_at": at(1120), "answer": None,
         "answered_by": None, "answered_at": None},
    ]
    data["outbox_events"].append(
        {"id": 4, "order_id": second["id"], "kind": "claim_answered", "created_at": at(1110)})
    data["outbox_deliveries"].append(
        {"event_id": 4, "listener": "email_receipt", "attempts": 1, "next_attempt_at": None,
         "last_error": None, "done_at": at(1110)})
    data["shop_settings"][0] |= {
        "privacy_policy": "Kami menyimpan email dan nomor WhatsApp untuk mengirim struk.",
        "legal_name": "CV Dewi Top Up", "nib": "9120001234567",
        "pse_number": "012345.01/DJAI.PSE/07/2026", "claim_window_days": 14}


def saldo(data: Data) -> None:
    """f6b8d0e2a357: the saldo ledger, balances, deposits; refunds to saldo chosen by the shop.
    Dewi deposited Rp 50.000 by QRIS (fee Rp 350) and bought with Rp 14.000 of it."""
    data["shop_settings"][0]["refund_to_saldo"] = True
    data["deposits"] = [
        {"id": 1, "ref": "D7K3Q9D2F", "idempotency_key": "d" * 64, "customer_id": 1,
         "status": "paid", "amount": 50_000, "fee": 350, "total": 50_350, "currency": "IDR",
         "payment_method": "QRIS", "payment_method_name": "QRIS", "gateway": "sandbox",
         "gateway_ref": "sbx_00deposit01", "checkout_url": "/sandbox/pay/sbx_00deposit01",
         "qr_string": None, "pay_code": None, "payment_expires_at": at(1100),
         "paid_at": at(1010), "gateway_checked_at": None, "flag": None, "locale": "id",
         "created_at": at(1005), "updated_at": at(1010)},
        {"id": 2, "ref": "D8M4R2E3G", "idempotency_key": "e" * 64, "customer_id": 2,
         "status": "awaiting_payment", "amount": 20_000, "fee": 0, "total": 20_000,
         "currency": "IDR", "payment_method": "BCA_VA", "payment_method_name": "BCA VA",
         "gateway": "sandbox", "gateway_ref": "sbx_00deposit02", "checkout_url": None,
         "qr_string": None, "pay_code": "8808123456", "payment_expires_at": at(1200),
         "paid_at": None, "gateway_checked_at": None, "flag": None, "locale": "en",
         "created_at": at(1020), "updated_at": at(1020)},
    ]
    data["saldo_balances"] = [
        {"customer_id": 1, "balance": 36_000, "currency": "IDR", "updated_at": at(1030)}]
    data["ledger_transactions"] = [
        {"id": 1, "key": "deposit:1", "kind": "deposit", "customer_id": 1, "order_id": None,
         "deposit_id": 1, "memo": "", "actor": "", "created_at": at(1010)},
        {"id": 2, "key": "purchase:1", "kind": "purchase", "customer_id": 1, "order_id": 1,
         "deposit_id": None, "memo": "", "actor": "", "created_at": at(1030)},
    ]
    data["ledger_entries"] = [
        {"id": 1, "transaction_id": 1, "account": "customer", "customer_id": 1,
         "amount": 50_000, "currency": "IDR"},
        {"id": 2, "transaction_id": 1, "account": "gateway", "customer_id": None,
         "amount": -50_350, "currency": "IDR"},
        {"id": 3, "transaction_id": 1, "account": "fees", "customer_id": None,
         "amount": 350, "currency": "IDR"},
        {"id": 4, "transaction_id": 2, "account": "customer", "customer_id": 1,
         "amount": -14_000, "currency": "IDR"},
        {"id": 5, "transaction_id": 2, "account": "revenue", "customer_id": None,
         "amount": 14_000, "currency": "IDR"},
    ]


def h2h_api(data: Data) -> None:
    """c9e1f3a5b680: the H2H API. Dewi sells on through a script: one live key, one order of
    hers placed through it, a call in the log and the callback that told her script."""
    data["api_keys"] = [
        {"id": 1, "customer_id": 1, "key_id": "mk_live_0dewi0script0", "salt": "s" * 32,
         "secret_hash": "h" * 64, "label": "bot WA", "sandbox": False, "play_balance": 0,
         "ip_allowlist": "203.0.113.7", "callback_url": "https://dewi.example/cb",
         "rate_per_minute": 60, "created_by": "owner@example.com", "created_at": at(1008),
         "last_used_at": at(1030), "revoked_at": None}]
    data["api_nonces"] = [{"key_id": 1, "nonce": "n" * 32, "seen_at": at(1030)}]
    data["api_orders"] = [
        {"id": 1, "customer_id": 1, "key_id": 1, "ref_id": "INV-0001", "body_hash": "b" * 64,
         "door": "v1", "sandbox": False, "order_id": 1, "sku": "mobile-legends-1",
         "customer_no": "12345678(1234)", "status": "pending", "sn": "", "price": 14_000,
         "currency": "IDR", "callback_url": "https://dewi.example/cb", "created_at": at(1030),
         "updated_at": at(1030)}]
    data["api_calls"] = [
        {"id": 1, "key_id": 1, "door": "v1", "method": "POST", "path": "/api/v1/orders",
         "status": 201, "code": "", "latency_ms": 42, "ip": "203.0.113.7", "at": at(1030)}]
    data["api_callbacks"] = [
        {"id": 1, "api_order_id": 1, "event_id": "order-1-success", "url": "https://dewi.example/cb",
         "body": '{"ref_id": "INV-0001", "status": "success"}', "status": "success",
         "attempts": 1, "next_attempt_at": None, "last_http_status": 200, "last_error": "",
         "last_latency_ms": 80, "delivered_at": at(1031), "created_at": at(1031)}]


# Every migration, oldest first, with what it added to a shop's data.
LAYERS: list[tuple[str, Callable[[Data], None]]] = [
    ("f9ea8422244a", initial_schema),
    ("f4a7e5dea881", operator_panel),
    ("d0748263f7ad", outbox_events),
    ("3c5e8a1f0b7d", product_seo_and_categories),
    ("c7d1e5a9b3f2", catalog_version),
    ("b3c1d2e4f5a6", languages),
    ("0a3c39a1cef6", receipts),
    ("3df281cdc0ee", promo_codes),
    ("7a4c2e9d1b08", catalog_guards_and_archive),
    ("2d8b6f3e9a51", panel_sessions),
    ("9c3a7e5f2b14", refunds_and_order_search),
    ("a1c5d7e9f203", customers),
    ("e5a7c9d1f246", accounts_and_levels),
    ("d4f6b8c0e135", owner_alerts),
    ("b2d4f6a8c013", supply),
    ("a7c9e1f3b468", flash_sales),
    ("b8d0f2a4c579", reviews_claims_and_identity),
    ("f6b8d0e2a357", saldo),
    ("c9e1f3a5b680", h2h_api),
]


def data_at(revision: str) -> Data:
    """The shop's rows as a database at `revision` holds them."""
    data: Data = {}
    for layer_revision, layer in LAYERS:
        layer(data)
        if layer_revision == revision:
            return copy.deepcopy(data)
    raise KeyError(f"no upgrade data for revision {revision}")


# What a migration puts into rows written before it (column -> value), per table: checked on
# every row older than the migration.
FILLED_IN = {
    "3c5e8a1f0b7d": {"products": {"category": "games", "featured": False, "meta_title": "",
                                  "meta_description": "", "guide": "", "faq": []}},
    "b3c1d2e4f5a6": {"orders": {"locale": "en"}, "shop_settings": {"default_locale": ""}},
    "3df281cdc0ee": {"orders": {"promo_id": None, "promo_code": None, "discount": 0,
                                "promo_counted": False}},
    "7a4c2e9d1b08": {"packages": {"price_by_hand": False, "archived_at": None},
                     "products": {"archived_at": None}, "payment_methods": {"archived_at": None},
                     "order_events": {"code": None, "params": None}},
    "2d8b6f3e9a51": {"admin_users": {"must_change_password": False}},
    "9c3a7e5f2b14": {"shop_settings": {"staff_may_refund": False},
                     "orders": {"refund_note": None}},
    "a1c5d7e9f203": {"orders": {"customer_id": None}},
    "e5a7c9d1f246": {"price_levels": {"kind": "discount", "percent_bp": 0, "flat": 0,
                                      "round_to": 100, "allow_below_cost": False,
                                      "spend_threshold": None, "spend_days": 30,
                                      "currency": "IDR"}},
    "b2d4f6a8c013": {"orders": {"supply_plan": None, "supplier_paid": None,
                                "supplier_sent_at": None},
                     "packages": {"offer_rule": "", "unavailable_reason": None,
                                  "unavailable_until": None},
                     "shop_settings": {"offer_rule": "", "cost_tolerance": 0},
                     "supplier_balances": {"short": False},
                     "import_jobs": {"merge": False}},
    "a7c9e1f3b468": {"orders": {"flash_item_id": None, "flash_counted": False}},
    "b8d0f2a4c579": {"shop_settings": {"privacy_policy": "", "legal_name": "", "nib": "",
                                       "pse_number": "", "claim_window_days": None}},
    "f6b8d0e2a357": {"shop_settings": {"refund_to_saldo": False}},
    "c9e1f3a5b680": {"price_levels": {"api_self_service": False}},
}
