"""Helpers for the customers' tests: a shop whose receipts (and so sign-in codes) go to a real
SMTP server on 127.0.0.1, and signing in through the real pages."""
from __future__ import annotations

import re

import sqlalchemy as sa
from fakes.smtp import FakeSmtp
from playwright.sync_api import expect

from merchant.core.extensions import db
from merchant.core.models import Customer

SENDER = "Merchant Top-Up <receipts@shop.test>"


def smtp_config(server: FakeSmtp) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none",
            "SMTP_FROM": SENDER}


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def ask_code(client, smtp: FakeSmtp, contact: str) -> str:
    """Ask for a code on the sign-in page; the code from the email that came."""
    before = len(smtp.received)
    response = client.post("/account/sign-in", data={"contact": contact})
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith("/account/code")
    message = smtp.wait_for(before + 1)[-1].message
    assert message["To"] == contact
    return code_in(message["Subject"])


def sign_in(client, smtp: FakeSmtp, contact: str = "dewi@example.com"):
    """Sign in (or up) by email code through the pages; the response of the code step."""
    code = ask_code(client, smtp, contact)
    response = client.post("/account/code", data={"code": code})
    assert response.status_code == 303, response.text
    return response


def customer(app, email: str = "dewi@example.com") -> Customer:
    with app.app_context():
        row = db.session.scalar(sa.select(Customer).where(Customer.email == email))
        db.session.expunge(row)
        return row


def sign_in_on(page, url: str, smtp: FakeSmtp, address: str) -> None:
    """Sign in (or up) in a browser: the header's link, the address, the code the SMTP server
    received, then the account page."""
    page.goto(url)
    page.get_by_role("link", name="Sign in").click()
    page.fill("input[name=contact]", address)
    before = len(smtp.received)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator("h1")).to_have_text("Enter your code")
    code = code_in(smtp.wait_for(before + 1)[-1].message["Subject"])
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("My account")
