"""Locust: phone buyers going through the whole journey, each journey a new browser.

Run by bench/spike.py (which starts the shop and reads the results); on its own:

    locust -f bench/locustfile.py --headless -u 20 -r 20 -t 30s --host http://127.0.0.1:5000

One journey, as a phone's browser sends it: the catalog; a product page; the package and the
payment method chosen (htmx asks the price summary each time); the account check (htmx, on
leaving the field); Buy (the form posted, the 303 followed to the order page); a status poll;
Pay on the sandbox gateway's hosted page (its 303s followed back to the order page); the status
polled every 2 s, as the page does, until it answers 286 Delivered. Every journey starts with no
cookies (a new buyer), with an account ID of its own that the sandbox verifier finds and the
sandbox supplier delivers at once (DESIGN.md: no 000 start, no 999 or 777 end).

CSRF: POSTs carry what a browser adds (Origin, Sec-Fetch-Site: same-origin ...), and the form's
csrf_token field (plus htmx's X-CSRFToken header) only when the page has one, so this works with
the per-visitor token and with an Origin check alone.

Environment: SPIKE_ORDERS_FILE, where each order's reference is written when it is created,
paid and seen delivered (bench/spike.py checks them in the database); SPIKE_THINK_SECONDS
(default 1), the pause between a buyer's taps; SPIKE_DELIVERY_TIMEOUT (60), how long a buyer
polls before the journey counts as failed; SPIKE_FAILURES_FILE, where each failure is written.
"""
from __future__ import annotations

import os
import random
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, constant, events, task

THINK = float(os.environ.get("SPIKE_THINK_SECONDS", "1"))
DELIVERY_TIMEOUT = float(os.environ.get("SPIKE_DELIVERY_TIMEOUT", "60"))
ORDERS_FILE = os.environ.get("SPIKE_ORDERS_FILE")
FAILURES_FILE = os.environ.get("SPIKE_FAILURES_FILE")
POLL_SECONDS = 2                # hx-trigger="every 2s"
PAID_POLL_DELAY = 0.3           # "load delay:300ms" on a paid or fulfilling status block
FINAL = ("delivered", "expired", "payment_failed", "refunded")

PHONE = ("Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36")
PAGE = {"User-Agent": PHONE, "Accept-Language": "id-ID,id;q=0.9,en;q=0.8",
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate",
        "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1"}
HTMX = {"User-Agent": PHONE, "Accept-Language": PAGE["Accept-Language"], "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate", "HX-Request": "true",
        "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}

# The demo's products a buyer picks, with account IDs the sandbox rules find and deliver.
PRODUCTS = ("mobile-legends", "mobile-legends", "free-fire", "tiktok-coins")

_written = threading.Lock()


def account(slug: str) -> dict[str, str]:
    """A new account for `slug`: a first digit 1-9 (no 000 start), an end 100-699 (no 999 or
    777 end), so it is found and delivered at once."""
    digits = f"{random.randint(1, 9)}{random.randint(0, 99999):05d}{random.randint(100, 699)}"
    if slug == "mobile-legends":
        return {"user_id": digits, "zone_id": str(random.randint(1000, 9999))}
    if slug == "tiktok-coins":
        return {"username": f"buyer.{digits}"}
    return {"player_id": digits}


def hidden(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else None


def radios(html: str, name: str) -> list[str]:
    return re.findall(rf'type="radio" name="{name}" value="([^"]+)"', html)


def status_of(html: str) -> str | None:
    found = re.search(r'class="box status status-(\w+)"', html)
    return found.group(1) if found else None


def note(ref: str, what: str) -> None:
    """One line of the orders file: `ref<TAB>created|paid|delivered`."""
    if ORDERS_FILE:
        with _written, open(ORDERS_FILE, "a", encoding="utf-8") as out:
            out.write(f"{ref}\t{what}\n")


class JourneyFailed(Exception):
    pass


@events.request.add_listener
def _failed(request_type, name, exception=None, **_) -> None:
    """Each failure, `METHOD name: reason` a line, for the bench's report."""
    if exception is not None and FAILURES_FILE:
        with _written, open(FAILURES_FILE, "a", encoding="utf-8") as out:
            reason = " ".join(str(exception).split())[:200]
            out.write(f"{request_type} {name}: {reason}\n")


class PhoneBuyer(FastHttpUser):
    wait_time = constant(0)     # the journey has its own pauses
    # A buyer gives up on a page after 10 s (Locust's default is 60 s of waiting).
    connection_timeout = 10.0
    network_timeout = 10.0

    def think(self, seconds: float | None = None) -> None:
        time.sleep(THINK * random.uniform(0.5, 1.5) if seconds is None else seconds)

    def send(self, method: str, path: str, name: str, expect: tuple[int, ...],
             headers: dict, referer: str | None = None, check=None, **kwargs):
        """One request; a failure (status, or `check(response)` returning a reason) ends the
        journey."""
        headers = dict(headers)
        if referer:
            headers["Referer"] = self.host + referer
        if method == "POST":
            headers["Origin"] = self.host
            headers.setdefault("Sec-Fetch-Site", "same-origin")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            kwargs["data"] = urlencode(kwargs.get("data") or {})
        elif "Sec-Fetch-Site" not in headers:
            headers["Sec-Fetch-Site"] = "same-origin" if referer else "none"
        with self.client.request(method, path, name=name, headers=headers,
                                 allow_redirects=False, catch_response=True,
                                 **kwargs) as response:
            reason = None
            if response.status_code not in expect:
                reason = f"{response.status_code} (expected {expect}): " \
                         f"{(response.text or '')[:200]!r}"
            elif check is not None:
                reason = check(response)
            if reason:
                response.failure(reason)
                raise JourneyFailed(reason)
            response.success()
            return response

    @task
    def journey(self) -> None:
        self.client.cookiejar.clear()
        try:
            self._journey()
        except JourneyFailed:
            self.think()        # as a person would, before starting again

    def _journey(self) -> None:
        self.send("GET", "/", "catalog", (200,), PAGE)
        self.think()
        slug = random.choice(PRODUCTS)
        product_path = f"/p/{slug}"
        page = self.send("GET", product_path, "product page", (200,), PAGE, referer="/",
                         check=lambda r: None if radios(r.text, "package") else "no packages")
        html = page.text
        csrf = hidden(html, "csrf_token")
        header_token = re.search(r'"X-CSRFToken": "([^"]+)"', html)
        htmx = dict(HTMX, **({"X-CSRFToken": header_token.group(1)} if header_token else {}))
        htmx["HX-Current-URL"] = self.host + product_path
        form = {"idempotency_key": hidden(html, "idempotency_key") or ""}
        if csrf is not None:
            form = {"csrf_token": csrf, **form}
        buyer = account(slug)
        packages = radios(html, "package")
        methods = radios(html, "method")
        choice = {"package": random.choice(packages),
                  "method": "QRIS" if "QRIS" in methods else methods[0]}

        # Typing the account and leaving the field: htmx posts the whole form with auto=1.
        self.think()
        fields = {**form, **buyer, "promo": "", "email": "", "whatsapp": "", "auto": "1"}
        checked = self.send(
            "POST", f"{product_path}/verify", "verify (account check)", (200,),
            dict(htmx, **{"HX-Trigger": "", "HX-Target": "account-check"}), data=fields,
            check=lambda r: None if hidden(r.text, "verification_token") else "no nickname")
        token = hidden(checked.text, "verification_token")

        # A package, then a method: each change asks for the summary (hx-get, hx-include).
        summary = f"{product_path}/summary"
        self.think()
        self.send("GET", summary, "summary", (200,), dict(htmx, **{"HX-Target": "summary"}),
                  params={"package": choice["package"], "promo": "", "email": "", "whatsapp": ""})
        self.think()
        self.send("GET", summary, "summary", (200,), dict(htmx, **{"HX-Target": "summary"}),
                  params={"package": choice["package"], "method": choice["method"],
                          "promo": "", "email": "", "whatsapp": ""})

        # Buy: the plain form post (not htmx), every field the form holds.
        self.think()
        email = f"spike{random.randint(0, 10**9)}@example.com"
        order_form = {**form, **buyer, "verification_token": token, **choice, "promo": "",
                      "email": email, "whatsapp": ""}
        placed = self.send(
            "POST", f"{product_path}/order", "buy (POST order)", (303,), PAGE,
            referer=product_path, data=order_form,
            check=lambda r: None if re.search(r"/o/[A-Z0-9]+$", r.headers.get("Location", ""))
            else f"redirected to {r.headers.get('Location')!r}")
        order_path = urlsplit(placed.headers["Location"]).path
        ref = order_path.rsplit("/", 1)[1]
        note(ref, "created")
        shown = self.send("GET", order_path, "order page", (200,), PAGE, referer=product_path,
                          check=lambda r: None if 'href="' in r.text and "/sandbox/pay/" in r.text
                          else "no pay link")

        # The page polls while the buyer looks at the amount, then taps Pay.
        self.think(POLL_SECONDS)
        status = status_of(shown.text)
        self.send("GET", f"{order_path}/status", "status poll", (200,),
                  HTMX | {"HX-Current-URL": self.host + order_path,
                          "HX-Target": "order-status"}, params={"since": status})
        pay_url = re.search(r'href="([^"]*/sandbox/pay/[^"]+)"', shown.text).group(1)
        pay_path = urlsplit(pay_url).path
        pay_page = self.send("GET", pay_path, "sandbox pay page", (200,), PAGE,
                             referer=order_path)
        self.think()
        pay_form = {"action": "pay"}
        pay_csrf = hidden(pay_page.text, "csrf_token")
        if pay_csrf is not None:
            pay_form = {"csrf_token": pay_csrf, **pay_form}
        paid = self.send("POST", pay_path, "sandbox Pay (POST)", (303,), PAGE,
                         referer=pay_path, data=pay_form)
        note(ref, "paid")
        back = self.send("GET", paid.headers["Location"], "order page (link token)", (303,),
                         PAGE, referer=pay_path)
        shown = self.send("GET", back.headers["Location"], "order page", (200,), PAGE,
                          referer=pay_path)
        self.poll_until_final(ref, order_path, status_of(shown.text))

    def poll_until_final(self, ref: str, order_path: str, status: str | None) -> None:
        started = time.monotonic()
        delay = PAID_POLL_DELAY if status in ("paid", "fulfilling") else POLL_SECONDS
        headers = HTMX | {"HX-Current-URL": self.host + order_path, "HX-Target": "order-status"}
        while status not in FINAL:
            if time.monotonic() - started > DELIVERY_TIMEOUT:
                self.journey_failed(f"not delivered within {DELIVERY_TIMEOUT:.0f} s "
                                    f"(last status {status})")
            self.think(delay)
            answer = self.send("GET", f"{order_path}/status", "status poll", (200, 286),
                               headers, params={"since": status})
            if answer.headers.get("HX-Reswap") != "none":     # not the unchanged answer
                new = status_of(answer.text)
                delay = PAID_POLL_DELAY if new in ("paid", "fulfilling") and new != status \
                    else POLL_SECONDS
                status = new
        if status != "delivered":
            self.journey_failed(f"ended {status}, not delivered")
        note(ref, "delivered")

    def journey_failed(self, reason: str) -> None:
        """A failure that is no one request's: counted among the errors as JOURNEY."""
        events.request.fire(request_type="JOURNEY", name="delivered", response_time=0,
                            response_length=0, exception=JourneyFailed(reason), context={})
        raise JourneyFailed(reason)
