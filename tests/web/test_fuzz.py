"""Hypothesis fuzzing of every form field, query parameter and callback body.

Whatever arrives: never a 5xx, and nothing changes (orders, their histories, callback records)
unless a correctly signed, well-formed callback is recorded. Each callback is fuzzed twice: random
bodies (signed and unsigned), and the vendor's documented body for a real order with one field
swapped for a hostile value (a list, Infinity, a NUL, a huge number), signed with the test secret.

Sized for a 2-core machine (about 2,000 requests); `derandomize=True` makes every run try the
same cases. MERCHANT_FUZZ_SCALE=5 tries five times as many.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections import Counter
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from conftest import buy, create_admin, get_order, make_app, order_ref, sign_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent, PaymentMethod, WebhookEvent
from merchant.vendors.payments import midtrans as midtrans_adapter

SCALE = float(os.environ.get("MERCHANT_FUZZ_SCALE", "1"))
TALLY: Counter = Counter()

SECRETS = {
    "XENDIT_SECRET_KEY": "xnd_development_fuzz", "XENDIT_CALLBACK_TOKEN": "fuzz-callback-token",
    "XENDIT_API_URL": "http://127.0.0.1:9",
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-fuzz", "MIDTRANS_API_URL": "http://127.0.0.1:9",
    "STRIPE_SECRET_KEY": "sk_test_fuzz", "STRIPE_WEBHOOK_SECRET": "whsec_fuzz",
    "STRIPE_API_URL": "http://127.0.0.1:9",
    "TRIPAY_API_KEY": "DEV-fuzz", "TRIPAY_PRIVATE_KEY": "fuzz-private-key",
    "TRIPAY_MERCHANT_CODE": "T0001", "TRIPAY_API_URL": "http://127.0.0.1:9/",
    "DIGIFLAZZ_USERNAME": "fuzzuser", "DIGIFLAZZ_API_KEY": "fuzz-key",
    "DIGIFLAZZ_WEBHOOK_SECRET": "fuzz-hook-secret", "DIGIFLAZZ_API_URL": "http://127.0.0.1:9",
}
# A payment method per real gateway, so each one's callbacks are open beside the sandbox.
METHOD_GATEWAYS = {"OVO": "xendit", "DANA": "midtrans", "CARD": "stripe", "BCA_VA": "tripay"}


def fuzz(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                         HealthCheck.data_too_large])


# -- values an attacker sends ----------------------------------------------------------------

CONTROL = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff"])
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), CONTROL, st.text(max_size=8)),
    st.sampled_from(["", " ", "0", "-1", "1e999", "99999999999999999999", "2147483648",
                     "NaN", "Infinity", "null", "[]", "{}", "<script>alert(1)</script>",
                     "' OR 1=1 --", "%00", "../../etc/passwd", "é", "\u202e", "a" * 3000]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
JSON_HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), TEXT,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=3),
)
JSON_ANY = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | TEXT,
                        lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                        max_leaves=12)
SHOP_FIELDS = ["username", "user_id", "zone_id", "player_id", "uid", "server", "package",
               "method", "email", "whatsapp", "verification_token", "idempotency_key", "auto",
               "csrf_token", "confirm_username", "confirm_player_id", "ref", "contact", "t",
               "since", "action"]
FORM = st.dictionaries(st.one_of(st.sampled_from(SHOP_FIELDS), TEXT), TEXT, max_size=8)
SLUGS = st.one_of(st.sampled_from(["tiktok-coins", "mobile-legends", "genshin-impact"]), TEXT)


# -- the app under fire ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop(tmp_path_factory, request):
    """One app for the module (a fresh one per example would be 100x slower), with an order
    on every gateway and a signed-in owner; disposed at the end."""
    app = make_app(tmp_path_factory.mktemp("fuzz"), **SECRETS)
    with app.app_context():
        for code, gateway in METHOD_GATEWAYS.items():
            db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.code == code)
                               .values(gateway=gateway))
        db.session.commit()
    customer = app.test_client()
    refs = {"sandbox": order_ref(buy(customer, app))}
    for gateway in ("xendit", "midtrans", "stripe", "tripay", "digiflazz"):
        refs[gateway] = order_ref(buy(customer, app))
        with app.app_context():
            changes = ({"supplier": "digiflazz", "supplier_ref_id": refs[gateway]}
                       if gateway == "digiflazz" else
                       {"gateway": gateway, "gateway_ref": f"{gateway}-ref-{refs[gateway]}"})
            db.session.execute(sa.update(Order).where(Order.ref == refs[gateway])
                               .values(**changes))
            db.session.commit()
    create_admin(app)
    owner = app.test_client()
    assert sign_in(owner).status_code == 303
    started = time.monotonic()
    yield {"app": app, "client": app.test_client(), "customer": customer, "owner": owner,
           "refs": refs, "orders": {g: get_order(app, r) for g, r in refs.items()}}
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    line = (f"fuzz: {TALLY['requests']} requests tried, {TALLY['5xx']} answered 5xx, "
            f"{time.monotonic() - started:.0f} s")
    if reporter is not None:
        reporter.write_line(line)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def state(app) -> tuple:
    """What no refused request may change: counts, and every order's status and flag."""
    with app.app_context():
        counted = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                        for model in (Order, OrderEvent, WebhookEvent))
        orders = tuple(db.session.execute(
            sa.select(Order.ref, Order.status, Order.flag).order_by(Order.id)))
        db.session.remove()
        return counted, orders


def send(shop, call, *args, **kwargs):
    """One request: counted, never a 5xx, and nothing changed unless a callback was taken."""
    before = state(shop["app"])
    response = call(*args, **kwargs)
    TALLY["requests"] += 1
    if response.status_code >= 500:
        TALLY["5xx"] += 1
    assert response.status_code < 500, (args, kwargs, response.text[:500])
    (orders, events, hooks), rows = state(shop["app"])
    (orders_before, events_before, hooks_before), rows_before = before
    assert (orders, events, rows) == (orders_before, events_before, rows_before), (args, kwargs)
    if response.status_code >= 400 or not args[0].startswith("/webhooks/"):
        assert hooks == hooks_before, (args, kwargs)
    return response


# -- the shop ------------------------------------------------------------------------------------

@fuzz(200)
@given(slug=SLUGS, args=FORM, htmx=st.booleans())
def test_product_page_and_summary_query(shop, slug, args, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    client = shop["client"]
    send(shop, client.get, f"/p/{quote(slug, safe='')}", query_string=args, headers=headers)
    send(shop, client.get, f"/p/{quote(slug, safe='')}/summary", query_string=args,
         headers=headers)


@fuzz(250)
@given(slug=SLUGS, form=FORM, htmx=st.booleans(),
       route=st.sampled_from(["verify", "summary", "order"]))
def test_shop_forms(shop, slug, form, htmx, route):
    headers = {"HX-Request": "true"} if htmx else {}
    send(shop, shop["client"].post, f"/p/{quote(slug, safe='')}/{route}", data=form,
         headers=headers)


@fuzz(200)
@given(ref=st.one_of(TEXT, st.just("REAL")), args=FORM, status=st.booleans())
def test_order_pages(shop, ref, args, status):
    ref = shop["refs"]["sandbox"] if ref == "REAL" else ref
    path = f"/o/{quote(ref, safe='')}" + ("/status" if status else "")
    send(shop, shop["client"].get, path, query_string=args)
    send(shop, shop["customer"].get, path, query_string=args)     # the buyer's own browser


@fuzz(150)
@given(form=FORM, get_args=FORM)
def test_track(shop, form, get_args):
    send(shop, shop["client"].post, "/track", data=form)
    send(shop, shop["client"].get, "/track", query_string=get_args)


@fuzz(150)
@given(ref=st.one_of(TEXT, st.just("REAL")),
       action=TEXT.filter(lambda a: a not in ("pay", "fail", "expire")), form=FORM)
def test_sandbox_pay_page(shop, ref, action, form):
    ref = shop["orders"]["sandbox"].gateway_ref if ref == "REAL" else ref
    path = f"/sandbox/pay/{quote(ref, safe='')}"
    send(shop, shop["client"].get, path, query_string=form)
    send(shop, shop["client"].post, path, data={**form, "action": action})


@fuzz(150)
@given(args=FORM, page=st.sampled_from(["orders", "audit", "export", "dashboard", "",
                                        "export/orders.csv"]),
       login=FORM)
def test_admin_queries_and_login(shop, args, page, login):
    send(shop, shop["owner"].get, f"/admin/{page}", query_string=args)
    send(shop, shop["client"].post, "/admin/login", data=login)


# -- callbacks -----------------------------------------------------------------------------------

def _hmac(key: str, body: bytes, digest=hashlib.sha256) -> str:
    return hmac.new(key.encode(), body, digest).hexdigest()


def sign(provider: str, body: bytes, payload) -> dict[str, str]:
    """The headers that make `body` genuine for `provider`, from the test secrets."""
    if provider == "sandbox":
        return {"X-Sandbox-Signature": _hmac("test-sandbox-webhook-secret", body)}
    if provider == "xendit":
        return {"x-callback-token": SECRETS["XENDIT_CALLBACK_TOKEN"]}
    if provider == "stripe":
        t = int(time.time())
        signature = hmac.new(SECRETS["STRIPE_WEBHOOK_SECRET"].encode(), f"{t}.".encode() + body,
                             hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={t},v1={signature}"}
    if provider == "tripay":
        return {"X-Callback-Signature": _hmac(SECRETS["TRIPAY_PRIVATE_KEY"], body),
                "X-Callback-Event": "payment_status"}
    if provider == "digiflazz":
        return {"X-Hub-Signature": "sha1=" + _hmac(SECRETS["DIGIFLAZZ_WEBHOOK_SECRET"], body,
                                                   hashlib.sha1)}
    return {}   # midtrans signs inside the body


def documented_body(provider: str, order: Order) -> dict:
    """The vendor's body for `order` in a state that changes nothing (still pending)."""
    ref, gateway_ref, total = order.ref, order.gateway_ref, order.total
    if provider == "sandbox":
        return {"event_id": "evt-fuzz", "order_ref": ref, "gateway_ref": gateway_ref,
                "status": "pending", "amount": total, "currency": "IDR"}
    if provider == "xendit":
        return {"id": gateway_ref, "external_id": ref, "status": "PENDING", "amount": total,
                "paid_amount": total, "currency": "IDR", "payment_method": "EWALLET",
                "payment_channel": "OVO"}
    if provider == "midtrans":
        return {"order_id": ref, "status_code": "201", "gross_amount": f"{total}.00",
                "transaction_status": "pending", "fraud_status": "accept",
                "transaction_id": gateway_ref, "payment_type": "gopay", "currency": "IDR"}
    if provider == "stripe":
        return {"id": "evt_fuzz", "object": "event", "type": "checkout.session.completed",
                "data": {"object": {"id": gateway_ref, "object": "checkout.session",
                                    "client_reference_id": ref, "payment_status": "unpaid",
                                    "status": "open", "amount_total": total * 100,
                                    "currency": "idr", "metadata": {"order_ref": ref}}}}
    if provider == "tripay":
        return {"reference": gateway_ref, "merchant_ref": ref, "status": "UNPAID",
                "total_amount": total, "fee_customer": 0, "amount_received": total,
                "is_closed_payment": 1, "payment_method_code": "BRIVA"}
    return {"data": {"ref_id": ref, "customer_no": "12345", "buyer_sku_code": "ML86",
                     "status": "Pending", "rc": "03", "sn": "", "message": "Transaksi Pending",
                     "price": 1000}}


def midtrans_signed(payload: dict) -> dict:
    fields = [payload.get(k) for k in ("order_id", "status_code", "gross_amount")]
    if all(isinstance(f, str) for f in fields):
        payload["signature_key"] = midtrans_adapter.signature(*fields,
                                                              SECRETS["MIDTRANS_SERVER_KEY"])
    return payload


def callback_path(provider: str) -> str:
    return ("/webhooks/supplier/digiflazz" if provider == "digiflazz"
            else f"/webhooks/{provider}")


PROVIDERS = ["sandbox", "xendit", "midtrans", "stripe", "tripay", "digiflazz"]


@st.composite
def mutation(draw, body: dict):
    """The documented body with one field (at any depth) replaced, removed or added to."""
    body = json.loads(json.dumps(body))
    target = body
    while True:
        key = draw(st.sampled_from(sorted(target)))
        if isinstance(target[key], dict) and draw(st.booleans()):
            target = target[key]
            continue
        break
    how = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add"]))
    if how == "replace":
        target[key] = draw(JSON_HOSTILE)
    elif how == "remove":
        del target[key]
    else:
        target[draw(TEXT)] = draw(JSON_HOSTILE)
    return body


@pytest.mark.parametrize("provider", PROVIDERS)
@fuzz(120)
@given(data=st.data())
def test_signed_callbacks_with_one_field_gone_wrong(shop, provider, data):
    order = shop["orders"]["digiflazz" if provider == "digiflazz" else provider]
    payload = data.draw(mutation(documented_body(provider, order)))
    if provider == "midtrans":
        payload = midtrans_signed(payload)
    body = json.dumps(payload, allow_nan=True).encode()
    headers = {"Content-Type": "application/json", **sign(provider, body, payload)}
    send(shop, shop["client"].post, callback_path(provider), data=body, headers=headers)


@pytest.mark.parametrize("provider", PROVIDERS)
@fuzz(60)
@given(body=st.one_of(st.binary(max_size=300),
                      JSON_ANY.map(lambda v: json.dumps(v, allow_nan=True).encode())),
       signed=st.booleans(), headers=st.dictionaries(
           st.sampled_from(["X-Sandbox-Signature", "x-callback-token", "Stripe-Signature",
                            "X-Callback-Signature", "X-Callback-Event", "X-Hub-Signature",
                            "X-Digiflazz-Event", "X-Digiflazz-Delivery", "Content-Type"]),
           TEXT.filter(lambda v: "\n" not in v and "\r" not in v), max_size=3))
def test_random_callback_bodies(shop, provider, body, signed, headers):
    if signed:
        headers = {**headers, **sign(provider, body, None)}
    send(shop, shop["client"].post, callback_path(provider), data=body, headers=headers)
