"""The database tables. Times are naive UTC."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from merchant.core import clock
from merchant.core.extensions import db


def utcnow() -> dt.datetime:
    return clock.now()


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    publisher: Mapped[str] = mapped_column(sa.String(120), default="")
    image: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # [{"name": "user_id", "label": "User ID", "pattern": "[0-9]{6,12}", "hint": "...",
    #   "placeholder": "...", "options": ["Asia", ...] (a select), "inputmode": "numeric"}]
    account_fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    help_text: Mapped[str] = mapped_column(sa.Text, default="")
    verifier: Mapped[str] = mapped_column(sa.String(32), default="sandbox")  # or "none"
    verifier_code: Mapped[str] = mapped_column(sa.String(64), default="")     # provider's game code
    allow_unverified: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str] = mapped_column(sa.String(16), default="games")  # catalog.CATEGORIES
    featured: Mapped[bool] = mapped_column(default=False)      # listed first in the catalog
    # Search results and link previews; empty means the shop's default wording.
    meta_title: Mapped[str] = mapped_column(sa.String(120), default="")
    meta_description: Mapped[str] = mapped_column(sa.String(300), default="")
    guide: Mapped[str] = mapped_column(sa.Text, default="")   # how to top up, on the product page
    faq: Mapped[list] = mapped_column(sa.JSON, default=list)   # [{"q": "...", "a": "..."}]
    # Set: archived (see merchant/catalog/archive.py), hidden from customers and the panel's lists.
    archived_at: Mapped[dt.datetime | None]

    packages: Mapped[list[Package]] = relationship(
        back_populates="product", order_by="Package.sort_order, Package.price"
    )


class Package(db.Model):
    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    quantity: Mapped[int] = mapped_column(default=0)
    bonus: Mapped[int] = mapped_column(default=0)
    price: Mapped[int]                                  # minor units
    currency: Mapped[str] = mapped_column(sa.String(3), default="IDR")
    badge: Mapped[str] = mapped_column(sa.String(40), default="")
    supplier: Mapped[str] = mapped_column(sa.String(32), default="sandbox")
    supplier_sku: Mapped[str] = mapped_column(sa.String(64), default="")
    supplier_cost: Mapped[int | None]
    # A second supplier tried when the first fails finally (not when it is pending or unknown).
    fallback_supplier: Mapped[str | None] = mapped_column(sa.String(32))
    fallback_sku: Mapped[str] = mapped_column(sa.String(64), default="")
    fallback_cost: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Set in the panel (the package form or "Change prices"): price imports keep the price.
    price_by_hand: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # How an order picks among the package's offers: "priority", "cheapest"; "" the shop's rule.
    offer_rule: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
    # Why no offer can sell it now (merchant/supply/availability.py), kept by the worker's
    # supply pass for the pages; None while it sells. `unavailable_until`: "HH:MM" in the
    # supplier's time zone when a cut-off ends.
    unavailable_reason: Mapped[str | None] = mapped_column(sa.String(16))
    unavailable_until: Mapped[str | None] = mapped_column(sa.String(24))
    archived_at: Mapped[dt.datetime | None]

    product: Mapped[Product] = relationship(back_populates="packages")


class PaymentMethod(db.Model):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(16), default="ewallet")  # qr, ewallet, va, card
    gateway: Mapped[str | None] = mapped_column(sa.String(32))  # None: the shop's GATEWAY
    icon: Mapped[str] = mapped_column(sa.String(200), default="")
    fee_flat: Mapped[int] = mapped_column(default=0)             # minor units
    fee_percent_bp: Mapped[int] = mapped_column(default=0)       # basis points: 70 = 0.70 %
    currency: Mapped[str] = mapped_column(sa.String(3), default="IDR")
    min_amount: Mapped[int] = mapped_column(default=0)
    max_amount: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[dt.datetime | None]


class Order(db.Model):
    __tablename__ = "orders"
    # The admin list shows the newest first: each filter's index ends in (created_at, id), so a
    # filtered page is read in order, never sorted (merchant/orders/search.py).
    __table_args__ = (
        sa.Index("ix_orders_status_created", "status", "created_at", "id"),
        sa.Index("ix_orders_product_created", "product_id", "created_at", "id"),
        sa.Index("ix_orders_method_created", "payment_method", "created_at", "id"),
        # The dashboard's revenue: delivered orders by delivery time.
        sa.Index("ix_orders_status_delivered", "status", "delivered_at"),
        # The operator's search for part of an account ID, nickname, email or WhatsApp (ILIKE
        # '%dewi%'): trigram indexes on PostgreSQL, 200 ms -> 1 ms at 100,000 orders. SQLite
        # reads the plain indexes above whole instead (bench/orders_list.py).
        *(sa.Index(f"ix_orders_{column}_trgm", column, postgresql_using="gin",
                   postgresql_ops={column: "gin_trgm_ops"},
                   info={"only_on": "postgresql"}).ddl_if(dialect="postgresql")
          for column in ("account_id", "nickname", "email", "whatsapp")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(16), unique=True)
    view_token: Mapped[str] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(24), default="awaiting_payment")
    previous_status: Mapped[str | None] = mapped_column(sa.String(24))

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id"))
    product_name: Mapped[str] = mapped_column(sa.String(120))
    package_name: Mapped[str] = mapped_column(sa.String(120))
    quantity: Mapped[int]
    bonus: Mapped[int] = mapped_column(default=0)
    account: Mapped[dict] = mapped_column(sa.JSON)
    # The first account field's value (user ID, username ...), for the operator's search.
    account_id: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    nickname: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    whatsapp: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    # The language the customer ordered in ("id", "en"): receipts and messages use it.
    locale: Mapped[str] = mapped_column(sa.String(8), default="id")

    payment_method: Mapped[str] = mapped_column(sa.String(32))
    payment_method_name: Mapped[str] = mapped_column(sa.String(80))
    gateway: Mapped[str] = mapped_column(sa.String(32))
    subtotal: Mapped[int]
    fee: Mapped[int]
    total: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    gateway_ref: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.String(1000))
    qr_string: Mapped[str | None] = mapped_column(sa.Text)
    pay_code: Mapped[str | None] = mapped_column(sa.String(64))
    payment_expires_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None] = mapped_column(index=True)   # dashboard: paid per period
    gateway_checked_at: Mapped[dt.datetime | None]

    supplier: Mapped[str] = mapped_column(sa.String(32))
    supplier_sku: Mapped[str] = mapped_column(sa.String(64), default="")
    supplier_cost: Mapped[int | None]
    supplier_ref_id: Mapped[str | None] = mapped_column(sa.String(40))  # our idempotency key there
    supplier_ref: Mapped[str | None] = mapped_column(sa.String(128))    # the supplier's own id
    supplier_attempts: Mapped[int] = mapped_column(default=0)
    supplier_choice: Mapped[int] = mapped_column(default=0)   # index in supply_plan being tried
    # The offers this order may be delivered by, in the order they are tried:
    # [[supplier, sku, cost], ...] (None for orders placed before offers: the package's).
    supply_plan: Mapped[list | None] = mapped_column(sa.JSON)
    supplier_paid: Mapped[int | None]       # what the supplier really charged, minor units
    # When the current supplier_ref_id was first sent: past the supplier's safe window it is
    # never sent again automatically (Digiflazz buys anew for a ref_id older than 90 days).
    supplier_sent_at: Mapped[dt.datetime | None]
    next_check_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    delivery_proof: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[dt.datetime | None]

    refund_ref: Mapped[str | None] = mapped_column(sa.String(128))  # the gateway's refund id
    refunded_at: Mapped[dt.datetime | None]
    # A manual refund: how the money went back, as the operator wrote it (the customer sees it).
    refund_note: Mapped[str | None] = mapped_column(sa.Text)

    # A promo code: the discount is already taken off subtotal (price = subtotal + discount).
    # promo_counted: the order holds one of the code's uses (given back when it dies unpaid).
    promo_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("promos.id", name="fk_orders_promo_id"), index=True)
    promo_code: Mapped[str | None] = mapped_column(sa.String(32))
    discount: Mapped[int] = mapped_column(default=0, server_default="0")
    promo_counted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    # The signed-in customer who placed it (None: a guest order, as every order before accounts).
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_orders_customer_id"), index=True)

    # A flash sale's package: the order was priced at its sale price (catalog/flash_sales.py).
    # flash_counted: the order holds one unit of the sale's stock (given back when it dies
    # unpaid, as promo uses are).
    flash_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("flash_sale_items.id", name="fk_orders_flash_item_id"), index=True)
    flash_counted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    flag: Mapped[str | None] = mapped_column(sa.String(200), index=True)  # why to look at it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id"
    )
    product: Mapped[Product] = relationship()

    def account_lines(self) -> list[tuple[str, str]]:
        """(label, value) for each account field, labelled as the product names them."""
        labels = {spec["name"]: spec["label"] for spec in self.product.account_fields}
        return [(labels.get(name, name), value) for name, value in self.account.items()]


class Promo(db.Model):
    """A promo code: a percentage or a flat amount off the price, within its limits."""
    __tablename__ = "promos"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)    # upper case
    percent_bp: Mapped[int | None]              # basis points off: 1000 = 10 %
    amount_off: Mapped[int | None]              # or a flat amount off, minor units
    currency: Mapped[str] = mapped_column(sa.String(3), default="IDR")
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))  # None: any
    min_spend: Mapped[int] = mapped_column(default=0)          # the package price, minor units
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    max_uses: Mapped[int | None]                # None: no limit
    max_per_contact: Mapped[int | None]         # per email, and per WhatsApp number
    uses: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The owner accepted that the discount sells some packages below their cost.
    allow_below_cost: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[dt.datetime | None]

    product: Mapped[Product | None] = relationship()


class PromoContactUse(db.Model):
    """How many of a promo's uses one contact (an email or a WhatsApp number) holds."""
    __tablename__ = "promo_contact_uses"

    promo_id: Mapped[int] = mapped_column(sa.ForeignKey("promos.id"), primary_key=True)
    contact: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    uses: Mapped[int] = mapped_column(default=0)


class OrderEvent(db.Model):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str | None] = mapped_column(sa.String(24))
    source: Mapped[str] = mapped_column(sa.String(16))   # customer, webhook, poll, worker, admin
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    # A line of merchant.order_texts and its parameters, shown in the reader's language;
    # None: `detail` is shown as written (older events, a vendor's words).
    code: Mapped[str | None] = mapped_column(sa.String(40))
    params: Mapped[dict | None] = mapped_column(sa.JSON)

    order: Mapped[Order] = relationship(back_populates="events")


class Receipt(db.Model):
    """One receipt per order event and channel (email, whatsapp): to whom, and how far it got.

    The state moves by conditional updates only (merchant/receipts/records.py), so at most one
    worker ever holds a receipt, and a crash leaves a state that says what may have been sent.
    """
    __tablename__ = "receipts"
    __table_args__ = (sa.UniqueConstraint("event_id", "channel"),
                      sa.Index("ix_receipts_state_updated", "state", "updated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id"))  # what it answers
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))        # delivered, fulfillment_failed ...
    channel: Mapped[str] = mapped_column(sa.String(16))     # email, whatsapp
    recipient: Mapped[str] = mapped_column(sa.String(254))
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)        # sends started
    lost_answers: Mapped[int] = mapped_column(default=0)    # sends whose answer never came
    claim: Mapped[str | None] = mapped_column(sa.String(32))   # the holder's random token
    claimed_until: Mapped[dt.datetime | None]
    message_id: Mapped[str | None] = mapped_column(sa.String(200))  # Message-ID, Fonnte's id
    body: Mapped[str | None] = mapped_column(sa.Text)       # what was (or is being) sent
    error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(200), default="")
    # The order the callback was about, when it matched one (the admin order timeline).
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders.id", name="fk_webhook_events_order_id"), index=True)


class OutboxEvent(db.Model):
    """A status change, written with it, for the listeners the worker hands it to."""
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))          # the order's new status
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxDelivery(db.Model):
    """One listener's job for one event. Due while next_attempt_at <= now; done when done_at is
    set; given up (left for the operator) when neither is set."""
    __tablename__ = "outbox_deliveries"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id"), primary_key=True)
    listener: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # Also the claim's lease: a claimed job is due again only when its worker died.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    done_at: Mapped[dt.datetime | None]


class WorkerBeat(db.Model):
    """One row per worker, touched every loop: /healthz reports the freshest."""
    __tablename__ = "worker_beats"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    beat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SupplierPriceCache(db.Model):
    """A supplier's last price list: Digiflazz allows one fetch per 5 minutes."""
    __tablename__ = "supplier_price_cache"

    supplier: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    payload: Mapped[list] = mapped_column(sa.JSON, default=list)


class SupplierBalance(db.Model):
    """The last balance check per supplier, for the log and the admin dashboard."""
    __tablename__ = "supplier_balances"

    supplier: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    balance: Mapped[int | None]                       # minor units; None when the check failed
    pending_cost: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    # The deposit cannot cover what paid and waiting orders will cost (merchant/supply/).
    short: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class NicknameCache(db.Model):
    """Recent nickname lookups, shared by every process: lookups cost money and are abused."""
    __tablename__ = "nickname_cache"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)   # sha256 of the query
    status: Mapped[str] = mapped_column(sa.String(16))
    nickname: Mapped[str | None] = mapped_column(sa.String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


OWNER = "owner"      # everything
STAFF = "staff"      # orders only


class AdminUser(UserMixin, db.Model):
    """Someone who runs the shop from /admin."""
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=STAFF)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))   # set: a second factor is on
    totp_last_step: Mapped[int | None]      # the last code's time step: a code works once
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on a password change or "sign out everywhere": older sessions stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Set when the owner gave them a temporary password: the panel asks for their own first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


class AdminSession(db.Model):
    """One signed-in browser of an admin (only its token's hash is kept): signing out deletes
    it, so a copy of that browser's cookie is refused from then on."""
    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_users.id", ondelete="CASCADE"),
                                          index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class AdminRecoveryCode(db.Model):
    """One of the ten codes an admin can sign in with instead of the authenticator's (a lost
    phone); only its hash is kept, and it works once."""
    __tablename__ = "admin_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_users.id", ondelete="CASCADE"),
                                          index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[dt.datetime | None]


class AuditEntry(db.Model):
    """One admin action: who, what, when, and the values before and after."""
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_users.id"))
    actor: Mapped[str] = mapped_column(sa.String(254))       # the admin's email, or "cli"
    action: Mapped[str] = mapped_column(sa.String(64))       # e.g. order.retry, package.update
    target_type: Mapped[str] = mapped_column(sa.String(32))  # order, product, package, ...
    target_id: Mapped[str] = mapped_column(sa.String(64))    # order ref, product slug, id ...
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)


class SetupToken(db.Model):
    """The one-time link that creates the shop's first owner (only its hash is kept)."""
    __tablename__ = "setup_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class ShopSettings(db.Model):
    """The shop's own settings, edited in the panel (one row, id 1). Empty means the default."""
    __tablename__ = "shop_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_name: Mapped[str] = mapped_column(sa.String(80), default="")
    logo: Mapped[str] = mapped_column(sa.String(200), default="")
    accent_color: Mapped[str] = mapped_column(sa.String(7), default="")
    support_whatsapp: Mapped[str] = mapped_column(sa.String(20), default="")
    support_email: Mapped[str] = mapped_column(sa.String(254), default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="")
    default_locale: Mapped[str] = mapped_column(sa.String(8), default="")
    terms: Mapped[str] = mapped_column(sa.Text, default="")
    refund_policy: Mapped[str] = mapped_column(sa.Text, default="")
    # Whether staff admins may refund orders (gateway or manual); the owner always may.
    staff_may_refund: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Which offer a package's order takes when the package leaves it to the shop.
    offer_rule: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
    # What a supplier may charge above an offer's cost before we refuse (max_price), minor units.
    cost_tolerance: Mapped[int] = mapped_column(default=0, server_default="0")
    privacy_policy: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Who sells, as the law names them (merchant/trust/identity.py): the business's registered
    # name, its NIB (Nomor Induk Berusaha) and its PSE registration at Komdigi (Indonesia).
    legal_name: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    nib: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    pse_number: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    # Days after delivery a customer may report a problem with an order; None: the default.
    claim_window_days: Mapped[int | None]
    # A failed delivery of a signed-in customer's order paid through a gateway goes back to
    # their saldo at once (True) or waits for the operator's gateway refund (False). Orders paid
    # with saldo always go back to it.
    refund_to_saldo: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportJob(db.Model):
    """A price import started from the panel, with its progress and outcome."""
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier: Mapped[str] = mapped_column(sa.String(32))
    markup: Mapped[str] = mapped_column(sa.String(20))
    round_to: Mapped[int] = mapped_column(default=100)
    # The list's products of a brand and denomination another supplier sells become more
    # offers of those packages (prices.plan_import).
    merge: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # running, ready (a preview waits for the owner), done, failed
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    stage: Mapped[str] = mapped_column(sa.String(200), default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict | None] = mapped_column(sa.JSON)
    # The changes shown before the owner applies them (prices.ImportPlan.shown), and the time
    # of the price list they were planned from: applying uses that same list.
    preview: Mapped[dict | None] = mapped_column(sa.JSON)
    list_fetched_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class CatalogVersion(db.Model):
    """One row whose number goes up with every change to the catalog (products, packages,
    payment methods, shop settings), in the same transaction: the processes' page caches
    compare it once per request (merchant/core/versioned_cache.py)."""
    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=1)


# create_all (the tests) installs what the migration installs: pg_trgm, for Order's search.
sa.event.listen(Order.__table__, "before_create",
                sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))

# create_all (the tests) makes the row the migration inserts.
FIRST_CATALOG_VERSION = sa.DDL("INSERT INTO catalog_version (id, version) VALUES (1, 1)")
sa.event.listen(CatalogVersion.__table__, "after_create", FIRST_CATALOG_VERSION)


class PriceLevel(db.Model):
    """A price level customers can hold (Member, Reseller, VIP ...): what they pay for a
    package is derived from its rule (merchant/customers/ holds the pricing)."""
    __tablename__ = "price_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The level's rule: a markup over the supplier's cost, or a discount off the retail price,
    # rounded up to round_to like the price import (LEVEL_MARKUP / LEVEL_DISCOUNT below).
    kind: Mapped[str] = mapped_column(sa.String(10), default="discount",
                                      server_default="discount")
    percent_bp: Mapped[int] = mapped_column(default=0, server_default="0")     # 500 = 5 %
    flat: Mapped[int] = mapped_column(default=0, server_default="0")   # a markup's flat part
    round_to: Mapped[int] = mapped_column(default=100, server_default="100")
    allow_below_cost: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Customers whose delivered orders over the last spend_days add up to spend_threshold
    # (minor units of `currency`) move up to this level by themselves; None: by hand only.
    spend_threshold: Mapped[int | None]
    spend_days: Mapped[int] = mapped_column(default=30, server_default="30")
    currency: Mapped[str] = mapped_column(sa.String(3), default="IDR", server_default="IDR")
    # Customers at this level may make their own H2H API keys (merchant/h2h/).
    api_self_service: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class Customer(db.Model):
    """A buyer with an account (optional: guests buy without one). Signs in with a one-time
    code sent to the email address or WhatsApp number; a password is optional."""
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    whatsapp: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    level_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("price_levels.id", name="fk_customers_level_id"), index=True)
    # Bumped by "sign out everywhere" or a password change: older sessions stop working.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    level: Mapped[PriceLevel | None] = relationship()


class CustomerSession(db.Model):
    """One signed-in browser of a customer (only its token's hash is kept)."""
    __tablename__ = "customer_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int]              # the customer's session_epoch when it began
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


# Price levels' rules and hand prices, sign-in codes and saved game accounts (issue 20).

LEVEL_MARKUP, LEVEL_DISCOUNT = "markup", "discount"


class LevelPrice(db.Model):
    """A level's price for one package, set by the owner's hand (wins over the level's rule)."""
    __tablename__ = "level_prices"

    level_id: Mapped[int] = mapped_column(
        sa.ForeignKey("price_levels.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True)
    price: Mapped[int]


class SignInCode(db.Model):
    """A one-time sign-in code sent to an email address or a WhatsApp number: only its keyed
    hash is kept; it works once, until expires_at, for a few tries."""
    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact: Mapped[str] = mapped_column(sa.String(254), index=True)   # normalized
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class SavedAccount(db.Model):
    """A game account a customer keeps for one product (ID, zone ... and its checked nickname)."""
    __tablename__ = "saved_accounts"
    __table_args__ = (sa.UniqueConstraint("customer_id", "product_id", "account_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    account: Mapped[dict] = mapped_column(sa.JSON)
    account_key: Mapped[str] = mapped_column(sa.String(64))    # a digest of `account`
    nickname: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertSettings(db.Model):
    """The owner's alerts (one row, id 1): where they go, per kind, and their thresholds.

    merchant/alerts/ reads and writes it; summary_day is also the daily summary's claim."""
    __tablename__ = "alert_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # kind -> the channels it goes to (telegram, whatsapp, email); a kind not named: defaults.
    channels: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    telegram_chat_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    telegram_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    telegram_name: Mapped[str] = mapped_column(sa.String(120), default="")
    telegram_bot: Mapped[str] = mapped_column(sa.String(64), default="")   # the bot's username
    telegram_offset: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # getUpdates offset
    whatsapp: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    deposit_threshold: Mapped[int | None] = mapped_column(sa.BigInteger)   # minor units (IDR)
    spike_failures: Mapped[int] = mapped_column(default=5)
    spike_minutes: Mapped[int] = mapped_column(default=15)
    summary_hour: Mapped[int | None] = mapped_column(default=21)   # the shop's hour; None: off
    summary_day: Mapped[dt.date | None]              # the last shop day a summary was queued for
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertLinkCode(db.Model):
    """A one-time code for `/start <code>` that links the owner's Telegram chat (hash only)."""
    __tablename__ = "alert_link_codes"

    code_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class AlertEpisode(db.Model):
    """One alert from its raise to its clear: "deposit low at digiflazz" until it recovers.

    open_key is "<kind>:<key>" while the episode is open and NULL once cleared: the unique
    constraint makes a second raise of an open alert a no-op (NULLs never collide)."""
    __tablename__ = "alert_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(120))
    open_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None]


class AlertMessage(db.Model):
    """One message to the owner on one channel: an episode's raise or its clear.

    Moved by conditional updates only (merchant/alerts/queue.py), like receipts."""
    __tablename__ = "alert_messages"
    __table_args__ = (sa.UniqueConstraint("episode_id", "event", "channel"),
                      sa.Index("ix_alert_messages_state_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_episodes.id"))
    event: Mapped[str] = mapped_column(sa.String(16))        # raised, cleared
    channel: Mapped[str] = mapped_column(sa.String(16))      # telegram, whatsapp, email
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    lost_answers: Mapped[int] = mapped_column(default=0)
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_until: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class SupplierFailure(db.Model):
    """A supplier attempt that failed (for good or for now), for the failure-spike alert.
    `attempt` (ref_id and attempt number) is unique: a callback and a worker seeing the same
    failure count it once."""
    __tablename__ = "supplier_failures"
    __table_args__ = (sa.UniqueConstraint("supplier", "attempt"),
                      sa.Index("ix_supplier_failures_supplier_at", "supplier", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier: Mapped[str] = mapped_column(sa.String(32))
    attempt: Mapped[str] = mapped_column(sa.String(80))
    final: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PackageOffer(db.Model):
    """One supplier able to deliver a package: its SKU there and what it costs us. A package's
    offers are tried in `position` order (or cheapest first, by the package's rule)."""
    __tablename__ = "package_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("packages.id", name="fk_package_offers_package_id", ondelete="CASCADE"),
        index=True)
    position: Mapped[int] = mapped_column(default=0)
    supplier: Mapped[str] = mapped_column(sa.String(32))
    sku: Mapped[str] = mapped_column(sa.String(64), default="")
    cost: Mapped[int | None]


class SupplierProduct(db.Model):
    """A product on a supplier's price list that one of our offers uses, as the last sync saw
    it: status, stock, cut-off window (\"HH:MM\" in the supplier's time zone) and price."""
    __tablename__ = "supplier_products"

    supplier: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    listed: Mapped[bool] = mapped_column(default=True)      # False: gone from the list
    buyer_product_status: Mapped[bool] = mapped_column(default=True)
    seller_product_status: Mapped[bool] = mapped_column(default=True)
    unlimited_stock: Mapped[bool] = mapped_column(default=True)
    stock: Mapped[int] = mapped_column(default=0)
    start_cut_off: Mapped[str] = mapped_column(sa.String(8), default="")
    end_cut_off: Mapped[str] = mapped_column(sa.String(8), default="")
    price: Mapped[int | None]
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FlashSale(db.Model):
    """A flash sale: some packages at a sale price, between two times, while its stock lasts."""
    __tablename__ = "flash_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    max_per_contact: Mapped[int | None]         # per email, and per WhatsApp number
    # Whether a promo code may take more off the sale price (the owner's rule; default not).
    with_promo: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The owner accepted that some sale prices are below the packages' cost.
    allow_below_cost: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    items: Mapped[list[FlashSaleItem]] = relationship(
        back_populates="sale", order_by="FlashSaleItem.id", cascade="all, delete-orphan")


class FlashSaleItem(db.Model):
    """One package of a flash sale: its sale price and stock, and how many units orders hold."""
    __tablename__ = "flash_sale_items"
    __table_args__ = (sa.UniqueConstraint("sale_id", "package_id",
                                          name="uq_flash_sale_items_sale_package"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("flash_sales.id"), index=True)
    package_id: Mapped[int] = mapped_column(sa.ForeignKey("packages.id"), index=True)
    sale_price: Mapped[int]                     # minor units, in the package's currency
    stock: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0, server_default="0")

    sale: Mapped[FlashSale] = relationship(back_populates="items")
    package: Mapped[Package] = relationship()


class FlashSaleContactUse(db.Model):
    """How many units of a flash sale one contact (an email or a WhatsApp number) holds."""
    __tablename__ = "flash_sale_contact_uses"

    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("flash_sales.id"), primary_key=True)
    contact: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    uses: Mapped[int] = mapped_column(default=0)


class Review(db.Model):
    """A buyer's rating (1-5) and short comment on a delivered order: one per order, held by
    the unique order_id. The owner can hide one (with a reason), never change it."""
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating"),
        # The product page's latest visible reviews and its average.
        sa.Index("ix_reviews_product_hidden", "product_id", "hidden_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders.id", name="fk_reviews_order_id"), unique=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("products.id", name="fk_reviews_product_id"))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    author: Mapped[str] = mapped_column(sa.String(40), default="")   # masked: "D***i"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[dt.datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(300))


class Claim(db.Model):
    """A customer's report of a problem with a delivered order, and the shop's answer.

    open_order_id is the order's id while the claim is open and NULL once answered: its unique
    constraint allows one open claim per order (NULLs never collide, on SQLite and PostgreSQL).
    """
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders.id", name="fk_claims_order_id"), index=True)
    open_order_id: Mapped[int | None] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(sa.String(24))     # not_received, wrong_account, other
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_by: Mapped[str | None] = mapped_column(sa.String(254))
    answered_at: Mapped[dt.datetime | None]


class SaldoBalance(db.Model):
    """A customer's saldo, cached from their ledger rows (merchant/customers/ledger.py). Every
    change is one conditional UPDATE in the transaction that writes the rows, so a debit can
    never take it below zero, and the cache never drifts from the rows."""
    __tablename__ = "saldo_balances"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="ck_saldo_balances_not_negative"),)

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_saldo_balances_customer_id"), primary_key=True)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)     # minor units
    currency: Mapped[str] = mapped_column(sa.String(3))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LedgerTransaction(db.Model):
    """One movement of saldo money: its entries sum to zero. `key` names its one source (a
    deposit's payment, an order's purchase or refund, an owner's adjustment), so the same
    source can never move money twice."""
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))    # deposit, purchase, refund, adjustment
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_ledger_transactions_customer_id"), index=True)
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders.id", name="fk_ledger_transactions_order_id"), index=True)
    deposit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("deposits.id", name="fk_ledger_transactions_deposit_id"), index=True)
    memo: Mapped[str] = mapped_column(sa.Text, default="")     # an adjustment's reason
    actor: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(order_by="LedgerEntry.id")


class LedgerEntry(db.Model):
    """One side of a ledger transaction: an amount on one account (positive: the account
    grows). `customer` rows carry the customer; the shop's accounts (revenue, fees, gateway,
    refunds, adjustments) do not."""
    __tablename__ = "ledger_entries"
    __table_args__ = (sa.Index("ix_ledger_entries_account_customer", "account", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ledger_transactions.id", name="fk_ledger_entries_transaction_id"),
        index=True)
    account: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_ledger_entries_customer_id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)      # minor units, signed
    currency: Mapped[str] = mapped_column(sa.String(3))


class Deposit(db.Model):
    """A customer's top-up of their saldo, paid through a gateway like an order. Its status
    moves by conditional updates only (merchant/customers/deposits.py); a payment credits the
    saldo in the same transaction, once."""
    __tablename__ = "deposits"
    __table_args__ = (sa.Index("ix_deposits_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(16), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_deposits_customer_id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(24), default="awaiting_payment")
    amount: Mapped[int]             # what the saldo gets, minor units
    fee: Mapped[int]
    total: Mapped[int]              # what the customer pays: amount + fee
    currency: Mapped[str] = mapped_column(sa.String(3))
    payment_method: Mapped[str] = mapped_column(sa.String(32))
    payment_method_name: Mapped[str] = mapped_column(sa.String(80))
    gateway: Mapped[str] = mapped_column(sa.String(32))
    gateway_ref: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.String(1000))
    qr_string: Mapped[str | None] = mapped_column(sa.Text)
    pay_code: Mapped[str | None] = mapped_column(sa.String(64))
    payment_expires_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    gateway_checked_at: Mapped[dt.datetime | None]
    flag: Mapped[str | None] = mapped_column(sa.String(200))     # e.g. an amount mismatch
    locale: Mapped[str] = mapped_column(sa.String(8), default="id")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(db.Model):
    """A reseller's key to the H2H API (merchant/h2h/). Only the secret's hash is kept: the
    secret itself is derived from the shop's SECRET_KEY and the row's salt, so the database
    alone cannot sign a request."""
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_api_keys_customer_id", ondelete="CASCADE"),
        index=True)
    key_id: Mapped[str] = mapped_column(sa.String(40), unique=True)     # public: mk_live_...
    salt: Mapped[str] = mapped_column(sa.String(64))
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(60), default="")
    # Sandbox keys order from the sandbox supplier and spend play saldo (play_balance).
    sandbox: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    play_balance: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # Addresses or networks ("203.0.113.7 198.51.100.0/24"); empty: any address.
    ip_allowlist: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    callback_url: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    rate_per_minute: Mapped[int] = mapped_column(default=60, server_default="60")
    created_by: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    customer: Mapped[Customer] = relationship()


class ApiNonce(db.Model):
    """A request's nonce, kept for the replay window: the same signed request twice is refused."""
    __tablename__ = "api_nonces"

    key_id: Mapped[int] = mapped_column(
        sa.ForeignKey("api_keys.id", name="fk_api_nonces_key_id", ondelete="CASCADE"),
        primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ApiOrder(db.Model):
    """An order placed through the API under the reseller's ref_id (unique per reseller,
    forever). A live one points at its shop order; a sandbox one is its own record."""
    __tablename__ = "api_orders"
    __table_args__ = (sa.UniqueConstraint("customer_id", "ref_id",
                                          name="uq_api_orders_customer_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", name="fk_api_orders_customer_id"), index=True)
    key_id: Mapped[int] = mapped_column(
        sa.ForeignKey("api_keys.id", name="fk_api_orders_key_id"), index=True)
    ref_id: Mapped[str] = mapped_column(sa.String(64))
    body_hash: Mapped[str] = mapped_column(sa.String(64))   # what a same-ref_id retry must match
    door: Mapped[str] = mapped_column(sa.String(12), default="v1")       # v1, digiflazz
    sandbox: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders.id", name="fk_api_orders_order_id"), unique=True)
    sku: Mapped[str] = mapped_column(sa.String(80))
    customer_no: Mapped[str] = mapped_column(sa.String(120))
    # A sandbox order's own state (a live one reads its order's): pending, success, failed.
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    sn: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    price: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="IDR")
    callback_url: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    key: Mapped[ApiKey] = relationship()
    order: Mapped[Order | None] = relationship()


class ApiCall(db.Model):
    """One request to the API, for the call log (kept API_CALL_LOG_DAYS)."""
    __tablename__ = "api_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_keys.id", name="fk_api_calls_key_id", ondelete="CASCADE"),
        index=True)
    door: Mapped[str] = mapped_column(sa.String(12), default="v1")
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(40), default="")   # our error code, or rc
    latency_ms: Mapped[int] = mapped_column(default=0)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ApiCallback(db.Model):
    """One status change told to a reseller's callback URL: the queue and its delivery log."""
    __tablename__ = "api_callbacks"
    __table_args__ = (sa.Index("ix_api_callbacks_due", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("api_orders.id", name="fk_api_callbacks_api_order_id"), index=True)
    event_id: Mapped[str] = mapped_column(sa.String(80), unique=True)   # the receiver's dedupe key
    url: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12))     # the order's status it tells
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]            # None: delivered or given up
    last_http_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    last_latency_ms: Mapped[int | None]
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    api_order: Mapped[ApiOrder] = relationship()
