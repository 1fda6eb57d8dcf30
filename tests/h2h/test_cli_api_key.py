"""`flask api-key create | list | revoke`: the operator's keys from the shell, audited as the
CLI; the secret printed once and really signing, a revoked key refused at once."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from reseller_accounts import get_key, reseller

from merchant.core.extensions import db
from merchant.core.models import ApiKey, AuditEntry, Customer
from merchant.h2h import access, keys
from merchant.h2h.errors import ApiError


def run(app, *args):
    return app.test_cli_runner().invoke(args=["api-key", *args])


def test_create_prints_the_key_and_its_secret_once(app):
    customer = reseller(app, "reseller@example.com")
    made = run(app, "create", "--customer", "Reseller@Example.com", "--label", "Bot",
               "--allow", "203.0.113.7 198.51.100.0/24", "--callback",
               "https://bot.example/cb", "--rate", "20")
    assert made.exit_code == 0, made.output
    key_id = re.search(r"Key ID: (mk_live_[0-9a-f]+)", made.output).group(1)
    secret = re.search(r"Secret: (sk_\S+)", made.output).group(1)
    assert "shown only this once" in made.output
    key = get_key(app, key_id)
    assert (key.customer_id, key.sandbox, key.label, key.ip_allowlist, key.callback_url,
            key.rate_per_minute, key.created_by) == (
        customer, False, "Bot", "203.0.113.7/32 198.51.100.0/24", "https://bot.example/cb",
        20, "cli")
    with app.app_context():
        assert keys.usable_secret(db.session.get(ApiKey, key.id)) == secret
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "api_key.create"))
        assert (entry.actor, entry.admin_id) == ("cli", None)

    listed = run(app, "list")
    assert listed.exit_code == 0
    assert key_id in listed.output and "reseller@example.com" in listed.output
    assert "live" in listed.output and "active" in listed.output and secret not in listed.output


def test_a_sandbox_key_for_a_whatsapp_number(app):
    with app.app_context():
        db.session.add(Customer(whatsapp="+6281234567890"))
        db.session.commit()
    made = run(app, "create", "--customer", "0812 3456 7890", "--sandbox")
    assert made.exit_code == 0, made.output
    key = get_key(app, re.search(r"Key ID: (mk_test_[0-9a-f]+)", made.output).group(1))
    assert key.sandbox and key.play_balance == keys.PLAY_SALDO
    assert key.rate_per_minute == app.config["H2H_RATE_PER_MINUTE"]
    assert "sandbox" in run(app, "list", "--customer", "+6281234567890").output


def test_revoke_stops_the_key_at_once(app):
    reseller(app)
    key_id = re.search(r"Key ID: (\S+)", run(app, "create", "--customer",
                                               "reseller@example.com").output).group(1)
    with app.app_context():
        assert access.live_key(key_id, "203.0.113.7").key_id == key_id
    revoked = run(app, "revoke", key_id)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with app.app_context(), pytest.raises(ApiError) as refused:
        access.live_key(key_id, "203.0.113.7")
    assert refused.value.code == "KEY_REVOKED"
    assert "revoked already" in run(app, "revoke", key_id).output
    assert "revoked" in run(app, "list", "--customer", "reseller@example.com").output
    with app.app_context():
        assert [e.actor for e in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "api_key.revoke"))] == ["cli"]


def test_mistakes_end_in_a_plain_message_and_make_nothing(app):
    reseller(app)
    unknown = run(app, "create", "--customer", "nobody@example.com")
    assert unknown.exit_code != 0 and "no customer has the email address" in unknown.output
    bad = run(app, "create", "--customer", "reseller@example.com", "--allow", "10.0.0.999")
    assert bad.exit_code == 1 and "10.0.0.999 is not an IP address" in bad.output
    assert "Traceback" not in bad.output
    missing = run(app, "revoke", "mk_live_nothing")
    assert missing.exit_code == 1 and "There is no API key mk_live_nothing" in missing.output
    assert run(app, "list").output.strip() == "No API keys."
