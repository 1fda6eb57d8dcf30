"""The demo catalog `make run` starts with: five games, realistic IDR packages, seven methods.

Its words (help, guide, questions, badges) are seeded in the shop's default language: the
English ones below, or their Indonesian in INDONESIAN.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from merchant.catalog import account_presets, payment_presets
from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Order, Package, PaymentMethod, Product, Promo
from merchant.core.transactions import write_unit

PRODUCTS = [
    {
        "slug": "tiktok-coins", "name": "TikTok Coins", "publisher": "TikTok",
        "image": "icons/tiktok-coins.svg", "category": "apps",
        "account_fields": account_presets.fields("username"),
        "help_text": "Open TikTok and tap Profile: your username is under your photo, after the @.",
        "packages": [
            ("30 Coins", 30, 0, 6_500, ""), ("70 Coins", 70, 0, 15_000, "Popular"),
            ("140 Coins", 140, 0, 29_500, ""), ("350 Coins", 350, 0, 73_000, ""),
            ("700 Coins", 700, 0, 145_000, ""), ("1,400 Coins", 1_400, 0, 289_000, "Best value"),
            ("3,500 Coins", 3_500, 0, 720_000, ""), ("7,000 Coins", 7_000, 0, 1_435_000, ""),
        ],
    },
    {
        "slug": "mobile-legends", "name": "Mobile Legends", "publisher": "Moonton",
        "image": "icons/mobile-legends.svg", "featured": True,
        "guide": "1. Enter your User ID and Zone ID, then press Check account: your nickname "
                 "appears, so you know the diamonds go to the right account.\n"
                 "2. Choose the diamonds and how you pay; the total includes the fee.\n"
                 "3. Pay. The diamonds arrive in the game within a minute, with your receipt.",
        "faq": [
            {"q": "Do I need to give my password?",
             "a": "No. Your User ID and Zone ID are enough; never share your password."},
            {"q": "How long does the top-up take?",
             "a": "Usually less than a minute after the payment is confirmed."},
        ],
        "account_fields": account_presets.fields("user_id_zone"),
        "help_text": "In the game, tap your avatar (top left). The numbers under your name are "
                     "your User ID, and the ones in brackets are your Zone ID: 12345678 (2345).",
        "packages": [
            ("86 Diamonds", 78, 8, 22_000, ""), ("172 Diamonds", 156, 16, 44_000, "Popular"),
            ("257 Diamonds", 234, 23, 65_000, ""), ("344 Diamonds", 312, 32, 87_000, ""),
            ("429 Diamonds", 390, 39, 108_000, ""), ("514 Diamonds", 468, 46, 130_000, ""),
            ("706 Diamonds", 625, 81, 175_000, "Best value"),
            ("Weekly Diamond Pass", 1, 0, 28_500, "Promo"),
        ],
    },
    {
        "slug": "free-fire", "name": "Free Fire", "publisher": "Garena",
        "image": "icons/free-fire.svg",
        "account_fields": account_presets.fields("player_id"),
        "help_text": "In Free Fire, tap your profile banner (top left): the ID is under your "
                     "nickname. Tap it to copy.",
        "packages": [
            ("5 Diamonds", 5, 0, 1_000, ""), ("50 Diamonds", 50, 0, 7_500, ""),
            ("70 Diamonds", 70, 0, 10_000, "Popular"), ("140 Diamonds", 140, 0, 19_500, ""),
            ("355 Diamonds", 355, 0, 48_000, ""), ("720 Diamonds", 720, 0, 95_000, ""),
            ("1,450 Diamonds", 1_450, 0, 190_000, "Best value"),
            ("Weekly Membership", 1, 0, 30_000, "Promo"),
        ],
    },
    {
        "slug": "pubg-mobile", "name": "PUBG Mobile", "publisher": "Level Infinite",
        "image": "icons/pubg-mobile.svg",
        "account_fields": account_presets.fields("character_id"),
        "help_text": "In PUBG Mobile, tap your avatar (top left): the Character ID is under your "
                     "name. Tap the copy icon beside it.",
        "packages": [
            ("60 UC", 60, 0, 15_000, ""), ("325 UC", 300, 25, 75_000, "Popular"),
            ("660 UC", 600, 60, 150_000, ""), ("1,800 UC", 1_500, 300, 375_000, "Best value"),
            ("3,850 UC", 3_000, 850, 750_000, ""), ("8,100 UC", 6_000, 2_100, 1_500_000, ""),
        ],
    },
    {
        "slug": "genshin-impact", "name": "Genshin Impact", "publisher": "HoYoverse",
        "image": "icons/genshin-impact.svg",
        "account_fields": account_presets.fields("uid_server"),
        "help_text": "Your UID is in the bottom right corner of the game screen. The first digit "
                     "tells the server: 6 America, 7 Europe, 8 Asia, 9 TW, HK, MO.",
        "packages": [
            ("60 Genesis Crystals", 60, 0, 16_000, ""),
            ("330 Genesis Crystals", 300, 30, 79_000, "Popular"),
            ("1,090 Genesis Crystals", 980, 110, 249_000, ""),
            ("2,240 Genesis Crystals", 1_980, 260, 479_000, ""),
            ("3,880 Genesis Crystals", 3_280, 600, 799_000, ""),
            ("8,080 Genesis Crystals", 6_480, 1_600, 1_599_000, "Best value"),
            ("Blessing of the Welkin Moon", 1, 0, 79_000, "Promo"),
        ],
    },
]

# The demo's words in Bahasa Indonesia, per product slug; badges by their English text.
INDONESIAN = {
    "tiktok-coins": {
        "help_text": "Buka TikTok lalu ketuk Profil: username Anda ada di bawah foto, "
                     "setelah tanda @.",
    },
    "mobile-legends": {
        "guide": "1. Masukkan User ID dan Zone ID, lalu tekan Cek akun: nickname Anda muncul, "
                 "jadi Anda tahu diamond masuk ke akun yang benar.\n"
                 "2. Pilih diamond dan cara bayar; totalnya sudah termasuk biaya.\n"
                 "3. Bayar. Diamond masuk ke game dalam semenit, beserta struk Anda.",
        "faq": [
            {"q": "Apakah saya perlu memberikan kata sandi?",
             "a": "Tidak. User ID dan Zone ID sudah cukup; jangan pernah membagikan kata "
                  "sandi Anda."},
            {"q": "Berapa lama top up diproses?",
             "a": "Biasanya kurang dari semenit setelah pembayaran dikonfirmasi."},
        ],
        "help_text": "Di dalam game, ketuk avatar Anda (kiri atas). Angka di bawah nama Anda "
                     "adalah User ID, dan angka di dalam kurung adalah Zone ID: 12345678 (2345).",
    },
    "free-fire": {
        "help_text": "Di Free Fire, ketuk banner profil Anda (kiri atas): ID ada di bawah "
                     "nickname. Ketuk untuk menyalin.",
    },
    "pubg-mobile": {
        "help_text": "Di PUBG Mobile, ketuk avatar Anda (kiri atas): Character ID ada di bawah "
                     "nama Anda. Ketuk ikon salin di sebelahnya.",
    },
    "genshin-impact": {
        "help_text": "UID Anda ada di pojok kanan bawah layar game. Angka pertamanya "
                     "menunjukkan server: 6 Amerika, 7 Eropa, 8 Asia, 9 TW, HK, MO.",
    },
}
INDONESIAN_BADGES = {"Popular": "Populer", "Best value": "Paling hemat", "Promo": "Promo"}


def in_language(spec: dict, language: str) -> dict:
    """A product's spec with its words in `language` ("id" or "en")."""
    if language != "id":
        return spec
    spec = {**spec, **INDONESIAN.get(spec["slug"], {})}
    spec["packages"] = [(name, qty, bonus, price, INDONESIAN_BADGES.get(badge, badge))
                        for name, qty, bonus, price, badge in spec["packages"]]
    return spec


# The sandbox gateway's preset set: seven methods, one table with the presets.
METHODS = payment_presets.PRESETS["sandbox"]


def seed() -> bool:
    """Insert the demo catalog into an empty shop. Returns False if products already exist."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Product)):
        return False
    language = shop_settings.current().default_locale
    for order, spec in enumerate(PRODUCTS):
        spec = dict(in_language(spec, language))
        packages = spec.pop("packages")
        product = Product(sort_order=order, verifier="sandbox", **spec)
        db.session.add(product)
        for position, (name, qty, bonus, price, badge) in enumerate(packages):
            sku = f"{spec['slug']}-{qty + bonus}".upper()
            product.packages.append(Package(
                name=name, quantity=qty, bonus=bonus, price=price, currency="IDR", badge=badge,
                supplier="sandbox", supplier_sku=sku, supplier_cost=price * 92 // 100,
                sort_order=position,
            ))
    # A shop set up before the demo (init-db, the setup link) has its methods already.
    if db.session.scalar(sa.select(PaymentMethod.id).limit(1)) is None:
        db.session.add_all(payment_presets.build(preset, "IDR", position)
                           for position, preset in enumerate(METHODS))
    db.session.commit()
    return True


@dataclass(frozen=True)
class Removal:
    """What removing the demo catalog does (or did): product names, in shop order."""
    deleted: list[str]
    switched_off: list[str]     # they have orders (or promo codes), which keep pointing at them


def leftovers() -> list[Product]:
    """The demo products still in the shop as seeded: a demo address, the sandbox nickname
    check and every package on the sandbox supplier. A product the owner moved to a real
    supplier (or an imported one that took a demo address) is theirs, not the demo's; one
    already switched off and kept for its orders is done with."""
    slugs = [spec["slug"] for spec in PRODUCTS]
    found = db.session.scalars(
        sa.select(Product).where(Product.slug.in_(slugs), Product.verifier == "sandbox")
        .options(selectinload(Product.packages)).order_by(Product.sort_order, Product.id))
    demo = [product for product in found
            if all(package.supplier == "sandbox" for package in product.packages)]
    kept = _referenced(demo)
    return [product for product in demo if product.active or product.id not in kept]


def _referenced(products: list[Product]) -> set[int]:
    """The ids among `products` that an order or a promo code points at."""
    ids = [product.id for product in products]
    ordered = sa.select(Order.product_id).where(Order.product_id.in_(ids))
    promoted = sa.select(Promo.product_id).where(Promo.product_id.in_(ids))
    return set(db.session.scalars(ordered.union(promoted)))


def removal_plan() -> Removal:
    products = leftovers()
    kept = _referenced(products)
    return Removal(deleted=[p.name for p in products if p.id not in kept],
                   switched_off=[p.name for p in products if p.id in kept])


def remove(actor: audit.Actor) -> Removal:
    """Delete the demo products nobody ordered; switch off (with their packages) those with
    orders or promo codes, whose history must keep its product. One transaction, audited."""
    with write_unit():
        products = leftovers()
        kept = _referenced(products)
        for product in products:
            if product.id in kept:
                product.active = False
                for package in product.packages:
                    package.active = False
            else:
                for package in product.packages:
                    db.session.delete(package)
                db.session.delete(product)
        done = Removal(deleted=[p.name for p in products if p.id not in kept],
                       switched_off=[p.name for p in products if p.id in kept])
        if products:
            audit.record(actor, "demo.remove", "catalog", "demo",
                         f"Removed the demo catalog: deleted {len(done.deleted)} products, "
                         f"switched off {len(done.switched_off)} that have orders",
                         after={"deleted": done.deleted, "switched_off": done.switched_off})
    return done
