"""The panel's locks: sign-in and its rate limit, the setup link, sessions, roles, TOTP."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, create_admin, make_app, sign_in
from flask import url_for
from werkzeug.routing import BuildError

from merchant import cli
from merchant.config import ConfigError
from merchant.core.extensions import db
from merchant.core.models import AdminRecoveryCode, AdminUser, AuditEntry, SetupToken, utcnow
from merchant.staff import admins, two_factor
from merchant.web import qr
from merchant.web.admin import MENU, OPEN_ENDPOINTS

FORM = {"email": "x@example.com", "password": "a long enough password", "role": "owner",
        "code": "123456", "name": "Changed", "price": "1", "status": "paid"}


def snapshot(app) -> dict:
    """Every row of every table: the proof that a refused request changed nothing."""
    with app.app_context():
        return {table.name: sorted(map(repr, db.session.execute(sa.select(table)).all()))
                for table in db.metadata.sorted_tables}


def admin_rules(app, keep=lambda rule: True):
    """(url, method, endpoint) for every panel route, its URL parameters filled with 1."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin.") or not keep(rule):
                continue
            try:
                url = url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments})
            except BuildError:
                url = url_for(rule.endpoint, **{arg: "x" for arg in rule.arguments})
            found += [(url, method, rule.endpoint)
                      for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def to_login(response) -> bool:
    location = response.headers.get("Location") or response.headers.get("HX-Redirect") or ""
    return (response.status_code in (302, 303) or "HX-Redirect" in response.headers) \
        and urlsplit(location).path == "/admin/login"


# --- nobody gets in without signing in --------------------------------------------------

def test_every_admin_route_refuses_an_anonymous_user(app, client):
    create_admin(app)
    create_admin(app, "staff@example.com", role="staff")
    routes = admin_rules(app, keep=lambda rule: rule.endpoint not in OPEN_ENDPOINTS)
    assert len(routes) > 15, routes
    before = snapshot(app)
    for url, method, _endpoint in routes:
        response = client.open(url, method=method, data=FORM)
        if method == "GET":
            assert to_login(response), (url, response.status_code)
            assert "next=" in response.headers["Location"]
        else:
            assert to_login(response) or response.status_code in (401, 403, 404), \
                (method, url, response.status_code)
        htmx = client.open(url, method=method, data=FORM, headers={"HX-Request": "true"})
        assert htmx.status_code in (200, 401, 403, 404) and htmx.text == "", (method, url)
        if htmx.status_code == 200:
            assert to_login(htmx), (method, url)
    assert snapshot(app) == before


# --- staff handle orders, the owner everything ------------------------------------------

def test_staff_cannot_open_or_change_owner_areas(app, staff):
    owner_views = {endpoint for endpoint, view in app.view_functions.items()
                   if getattr(view, "owner_only", False)}
    assert {"admin.users", "admin.audit", "admin.set_role", "admin.deactivate"} <= owner_views
    for endpoint, _label, owner in MENU:
        if owner and endpoint in app.view_functions:
            assert endpoint in owner_views, f"{endpoint} is owner-only in the menu, not the view"
    routes = admin_rules(app, keep=lambda rule: rule.endpoint in owner_views)
    before = snapshot(app)
    for url, method, _endpoint in routes:
        response = staff.open(url, method=method, data=FORM)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "Only the owner can open this" in response.text
    assert snapshot(app) == before
    # ... and the menu does not offer them.
    page = staff.get("/admin/account").text
    assert 'href="/admin/users"' not in page and 'href="/admin/audit"' not in page
    assert 'href="/admin/account"' in page
    assert staff.get("/admin/orders").status_code == 200        # their part of the panel


def test_staff_cannot_make_themselves_owner(app, staff):
    with app.app_context():
        me = admins.by_email("staff@example.com").id
    assert staff.post(f"/admin/users/{me}/role", data={"role": "owner"}).status_code == 403
    with app.app_context():
        assert admins.by_email("staff@example.com").role == "staff"


# --- signing in --------------------------------------------------------------------------

def test_wrong_password_and_unknown_email_get_the_same_message(app, client):
    create_admin(app)
    for email, password in [("owner@example.com", "wrong password!"),
                            ("nobody@example.com", ADMIN_PASSWORD)]:
        response = sign_in(client, email, password)
        assert response.status_code == 422
        assert "That email and password do not match an admin of this shop." in response.text
        assert client.get("/admin/").status_code == 303


def test_the_eleventh_attempt_in_a_minute_is_refused(app, client):
    create_admin(app)
    for _ in range(10):
        assert sign_in(client, password="wrong password!").status_code == 422
    response = sign_in(client)          # even the right password, now
    assert response.status_code == 429
    assert "Too many sign-in attempts. Try again in 1 minute." in response.text
    assert client.get("/admin/").status_code == 303


@pytest.mark.parametrize("lang, message", [
    ("en", "Too many sign-in attempts. Try again in 15 minutes."),
    ("id", "Terlalu banyak percobaan masuk. Coba lagi dalam 15 menit."),
])
def test_the_lockout_says_how_long(tmp_path, lang, message):
    app = make_app(tmp_path, RATELIMIT_ADMIN_LOGIN="5 per 15 minutes")
    create_admin(app)
    client = app.test_client()
    client.get(f"/admin/login?lang={lang}")
    for _ in range(5):
        assert sign_in(client, password="wrong password!").status_code == 422
    response = sign_in(client)
    assert response.status_code == 429 and message in response.text


def test_one_email_is_limited_whatever_the_address(app):
    create_admin(app)
    client = app.test_client()
    for i in range(10):
        response = client.post("/admin/login", data={"email": "OWNER@example.com ",
                                                     "password": "wrong password!"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert response.status_code == 422
    response = client.post("/admin/login", data={"email": "owner@example.com",
                                                 "password": ADMIN_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429
    # Another admin, from another address, is not locked out by the attack.
    create_admin(app, "staff@example.com", role="staff")
    other = app.test_client().post("/admin/login", data={"email": "staff@example.com",
                                                         "password": ADMIN_PASSWORD},
                                   environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert other.status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin",
                                    "/\\evil.example", "javascript:alert(1)", "/shop"])
def test_next_never_leaves_the_panel(app, client, target):
    create_admin(app)
    response = client.post("/admin/login", query_string={"next": target},
                           data={"email": "owner@example.com", "password": ADMIN_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_next_inside_the_panel_is_followed(app, client):
    create_admin(app)
    first = client.get("/admin/users?x=1")
    assert first.status_code == 303
    login_url = first.headers["Location"]
    response = client.post(login_url, data={"email": "owner@example.com",
                                            "password": ADMIN_PASSWORD})
    assert response.headers["Location"] == "/admin/users?x=1"


# --- the one-time setup link -------------------------------------------------------------

SETUP = {"email": "Founder@Example.com", "password": "my own long password",
         "confirm": "my own long password"}


def new_link(app) -> str:
    with app.app_context():
        return f"/admin/setup/{admins.new_setup_token()}"


def test_the_setup_link_creates_the_owner_once(app, client):
    assert "This shop has no admin yet" in client.get("/admin/login").text
    link = new_link(app)
    assert client.get(link).status_code == 200
    response = client.post(link, data=SETUP)
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200            # signed in as the new owner
    with app.app_context():
        founder = admins.by_email("founder@example.com")
        assert founder.role == "owner"
    # The same link again, from another browser: refused, no second owner.
    other = app.test_client()
    assert other.get(link).status_code == 404
    second = other.post(link, data={**SETUP, "email": "intruder@example.com"})
    assert second.status_code == 404
    assert "This setup link does not work" in second.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AdminUser.id))) == 1
    assert sign_in(other, "founder@example.com", SETUP["password"]).status_code == 303


def test_the_setup_link_stops_once_any_admin_exists(app, client):
    link = new_link(app)
    create_admin(app, "cli@example.com")
    assert client.get(link).status_code == 404
    assert client.post(link, data=SETUP).status_code == 404
    with app.app_context():
        assert admins.by_email("founder@example.com") is None
        assert admins.new_setup_token() is None


def test_an_expired_setup_link_is_refused(app, client):
    link = new_link(app)
    with app.app_context():
        db.session.execute(sa.update(SetupToken).values(
            expires_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()
    assert client.get(link).status_code == 404
    assert client.post(link, data=SETUP).status_code == 404


def test_a_new_setup_link_replaces_the_old_one(app, client):
    old, new = new_link(app), new_link(app)
    assert client.post(old, data=SETUP).status_code == 404
    assert client.post(new, data=SETUP).status_code == 303


def test_an_unknown_setup_token_is_refused(app, client):
    new_link(app)
    assert client.get("/admin/setup/guessed-token").status_code == 404


def test_make_run_prints_a_working_setup_link(app, client, capsys):
    with app.app_context():
        assert cli._print_setup_link("http://127.0.0.1:5000") is True
    printed = capsys.readouterr().out
    link = re.search(r"http://127\.0\.0\.1:5000(/admin/setup/\S+)", printed).group(1)
    assert client.post(link, data=SETUP).status_code == 303
    with app.app_context():       # the next start prints nothing: the shop has its owner
        assert cli._print_setup_link("http://127.0.0.1:5000") is False
    assert capsys.readouterr().out == ""


def test_setup_link_command(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup-link"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://shop\.test(/admin/setup/\S+)", result.output).group(1)
    assert client.get(link).status_code == 200
    create_admin(app)
    refused = runner.invoke(args=["setup-link"])
    assert refused.exit_code == 1
    assert "This shop has an admin already" in refused.output
    assert client.get(link).status_code == 404


def test_create_admin_reads_a_piped_password(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "Boss@Example.com"],
                           input="piped long password\n")
    assert result.exit_code == 0, result.output
    assert "Admin boss@example.com (owner) created" in result.output
    staff = runner.invoke(args=["create-admin", "helper@example.com", "--role", "staff"],
                          input="another long password\n")
    assert staff.exit_code == 0, staff.output
    short = runner.invoke(args=["create-admin", "shorty@example.com"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    again = runner.invoke(args=["create-admin", "boss@example.com"], input="piped long password\n")
    assert again.exit_code == 1 and "There is already an admin boss@example.com" in again.output
    assert sign_in(client, "boss@example.com", "piped long password").status_code == 303
    with app.app_context():
        assert admins.by_email("helper@example.com").role == "staff"
        assert admins.by_email("shorty@example.com") is None


# --- sessions ---------------------------------------------------------------------------

def test_an_idle_session_ends(app, owner):
    assert owner.get("/admin/").status_code == 200
    with owner.session_transaction() as session:
        session["admin_seen"] -= 59 * 60
    assert owner.get("/admin/").status_code == 200          # 59 minutes idle: still fine
    with owner.session_transaction() as session:
        session["admin_seen"] -= 61 * 60
    response = owner.get("/admin/")
    assert to_login(response) and "expired=1" in response.headers["Location"]
    assert "Your session ended. Sign in again." in owner.get(response.headers["Location"]).text
    assert to_login(owner.get("/admin/"))                    # signed out, not just bounced


def test_a_session_ends_hours_after_signing_in_however_busy(app, owner):
    with owner.session_transaction() as session:
        session["admin_since"] -= 11.9 * 3600
    assert owner.get("/admin/").status_code == 200
    with owner.session_transaction() as session:
        session["admin_since"] -= 0.2 * 3600
    assert to_login(owner.get("/admin/"))


def test_sign_out_everywhere_ends_the_other_sessions(app, owner, staff):
    laptop = app.test_client()
    assert sign_in(laptop, "staff@example.com").status_code == 303
    with app.app_context():
        staff_id = admins.by_email("staff@example.com").id
    response = owner.post(f"/admin/users/{staff_id}/sign-out")
    assert response.status_code == 303
    assert to_login(staff.get("/admin/")) and to_login(laptop.get("/admin/"))
    assert owner.get("/admin/").status_code == 200
    assert sign_in(staff, "staff@example.com").status_code == 303     # they can come back


def test_a_deactivated_admin_is_signed_out_at_the_next_request(app, owner, staff):
    assert staff.get("/admin/").status_code == 200
    with app.app_context():
        staff_id = admins.by_email("staff@example.com").id
    assert owner.post(f"/admin/users/{staff_id}/deactivate").status_code == 303
    assert to_login(staff.get("/admin/"))
    assert sign_in(staff, "staff@example.com").status_code == 422
    # Reactivated: a fresh sign-in works, the old session stays dead.
    old = app.test_client()
    with staff.session_transaction() as before:
        saved = dict(before)
    assert owner.post(f"/admin/users/{staff_id}/reactivate").status_code == 303
    with old.session_transaction() as session:
        session.update(saved)
    assert to_login(old.get("/admin/"))
    assert sign_in(staff, "staff@example.com").status_code == 303


def test_sign_out(app, owner):
    assert owner.post("/admin/logout").status_code == 303
    assert to_login(owner.get("/admin/"))


# --- the authenticator app (TOTP) -------------------------------------------------------

T0 = 1_800_000_000.0        # a fixed moment for the codes' clock (2027-01-15)


@pytest.fixture
def clock(monkeypatch):
    """The authenticator's clock, moved by the test: no sleeping for the next 30 s code."""
    now = {"t": T0}
    monkeypatch.setattr(two_factor, "clock", lambda: now["t"])
    return now


def shown_secret(page: str) -> str:
    """The key as the page shows it to type by hand: in groups of four."""
    grouped = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", grouped), grouped
    return grouped.replace(" ", "")


def enrol_with_codes(client) -> tuple[pyotp.TOTP, list[str]]:
    """Turn on the authenticator through My account, as a person with a phone would; returns
    the app's codes and the recovery codes shown once."""
    assert client.post("/admin/account/two-factor/new").status_code == 303
    page = client.get("/admin/account").text
    assert "<svg" in page                                    # the QR code, inline
    secret = shown_secret(page)
    uri = two_factor.uri(secret, "owner@example.com", "Merchant Top-Up")     # the shop's name
    assert qr.svg(uri) in page
    assert f'href="{html.escape(uri)}"' in page              # on the phone itself: a tap
    totp = pyotp.TOTP(secret)
    response = client.post("/admin/account/two-factor/on", data={"code": totp.at(T0)})
    assert response.status_code == 200
    assert "Authenticator app turned on" in response.text
    codes = re.findall(r'<li><code class="recovery-code">([a-z2-7-]+)</code></li>', response.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


def enrol(client) -> pyotp.TOTP:
    return enrol_with_codes(client)[0]


def wrong(totp: pyotp.TOTP, at: float) -> str:
    """A 6-digit code that is none of the codes accepted around `at`."""
    near = {totp.at(at + d) for d in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(10**6)) if c not in near)


def test_with_the_authenticator_on_signing_in_needs_the_code(app, owner, clock):
    totp = enrol(owner)
    browser = app.test_client()
    response = sign_in(browser)
    assert response.headers["Location"] == "/admin/login/code"
    assert to_login(browser.get("/admin/"))                  # a password alone gets nothing
    clock["t"] = T0 + 30
    refused = browser.post("/admin/login/code", data={"code": wrong(totp, T0 + 30)})
    assert refused.status_code == 422 and "That code is not right" in refused.text
    assert to_login(browser.get("/admin/"))
    code = totp.at(T0 + 30)
    assert browser.post("/admin/login/code", data={"code": code}).status_code == 303
    assert browser.get("/admin/").status_code == 200
    # The same code a second time (someone watching over the shoulder): refused.
    thief = app.test_client()
    sign_in(thief)
    assert thief.post("/admin/login/code", data={"code": code}).status_code == 422
    assert to_login(thief.get("/admin/"))


def test_the_code_used_to_turn_it_on_cannot_sign_in(app, owner, clock):
    totp = enrol(owner)
    browser = app.test_client()
    sign_in(browser)
    assert browser.post("/admin/login/code", data={"code": totp.at(T0)}).status_code == 422


def test_the_code_step_waits_five_minutes(app, owner, clock):
    totp = enrol(owner)
    browser = app.test_client()
    sign_in(browser)
    with browser.session_transaction() as session:
        session["admin_pending"] = {**session["admin_pending"],
                                    "at": session["admin_pending"]["at"] - 301}
    clock["t"] = T0 + 30
    response = browser.post("/admin/login/code", data={"code": totp.at(T0 + 30)})
    assert to_login(response)
    assert "Sign in again: the code step waits 5 minutes at most." in \
        browser.get("/admin/login").text
    assert to_login(browser.get("/admin/"))


def test_code_guesses_are_limited_per_admin(app, owner, clock):
    totp = enrol(owner)
    browser = app.test_client()
    sign_in(browser)
    for i in range(10):
        response = browser.post("/admin/login/code", data={"code": wrong(totp, T0)},
                                environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
        assert response.status_code == 422
    clock["t"] = T0 + 30
    response = browser.post("/admin/login/code", data={"code": totp.at(T0 + 30)},
                            environ_base={"REMOTE_ADDR": "10.9.1.1"})
    assert response.status_code == 429
    assert to_login(browser.get("/admin/"))


def test_turning_it_off_needs_a_code(app, owner, clock):
    totp = enrol(owner)
    clock["t"] = T0 + 30
    refused = owner.post("/admin/account/two-factor/off", data={"code": wrong(totp, T0 + 30)})
    assert refused.status_code == 422 and "the authenticator stays on" in refused.text
    assert owner.post("/admin/account/two-factor/off",
                      data={"code": totp.at(T0 + 30)}).status_code == 303
    assert "Authenticator app turned off" in owner.get("/admin/account").text
    browser = app.test_client()
    assert sign_in(browser).headers["Location"] == "/admin/"


def test_a_wrong_code_does_not_turn_it_on(app, owner, clock):
    owner.post("/admin/account/two-factor/new")
    page = owner.get("/admin/account").text
    secret = shown_secret(page)
    response = owner.post("/admin/account/two-factor/on",
                          data={"code": wrong(pyotp.TOTP(secret), T0)})
    assert response.status_code == 422 and "That code does not match" in response.text
    assert sign_in(app.test_client()).headers["Location"] == "/admin/"


def test_the_qr_names_the_shop(app):
    with app.app_context():
        uri = two_factor.uri(two_factor.new_secret(), "owner@example.com", "Merchant Top-Up")
    assert uri.startswith("otpauth://totp/Merchant%20Top-Up:owner%40example.com?")
    assert "issuer=Merchant%20Top-Up" in uri



def test_a_half_set_up_authenticator_stays_with_its_admin(app, owner):
    owner.post("/admin/account/two-factor/new")
    assert "totp-secret" in owner.get("/admin/account").text
    owner.post("/admin/logout")
    create_admin(app, "staff@example.com", role="staff")
    assert sign_in(owner, "staff@example.com").status_code == 303    # the same browser
    page = owner.get("/admin/account").text
    assert "totp-secret" not in page and "Set up an authenticator app" in page
    refused = owner.post("/admin/account/two-factor/on", data={"code": "123456"})
    assert refused.status_code == 303
    with app.app_context():
        assert admins.by_email("staff@example.com").totp_secret is None


def admins_id(app, email: str) -> int:
    with app.app_context():
        return admins.by_email(email).id


def token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_forged_cross_site_post_changes_nothing(tmp_path):
    """With CSRF on (as in production), an action without the page's token is refused."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    create_admin(app)
    create_admin(app, "staff@example.com", role="staff")
    client = app.test_client()
    login = client.get("/admin/login").text
    assert client.post("/admin/login", data={"email": "owner@example.com",
                                             "password": ADMIN_PASSWORD}).status_code == 400
    assert client.post("/admin/login", data={"email": "owner@example.com", "password":
                                             ADMIN_PASSWORD, "csrf_token": token(login)}
                       ).status_code == 303
    staff_id = admins_id(app, "staff@example.com")
    before = snapshot(app)
    for url in [f"/admin/users/{staff_id}/deactivate", f"/admin/users/{staff_id}/sign-out",
                "/admin/account/sign-out-everywhere", "/admin/logout"]:
        assert client.post(url).status_code == 400, url
    assert client.post(f"/admin/users/{staff_id}/role", data={"role": "owner"}).status_code == 400
    assert snapshot(app) == before
    page = client.get("/admin/users").text
    assert client.post(f"/admin/users/{staff_id}/deactivate",
                       data={"csrf_token": token(page)}).status_code == 303


def test_a_copied_cookie_stops_working_after_sign_out(app, owner):
    """Someone copied the session cookie (a shared computer, a proxy log): signing out ends the
    session on the server, so the copy gets the sign-in page too."""
    copy = app.test_client()
    copy.set_cookie("session", owner.get_cookie("session").value)
    assert copy.get("/admin/").status_code == 200
    assert owner.post("/admin/logout").status_code == 303
    assert to_login(copy.get("/admin/"))
    assert to_login(copy.get("/admin/orders"))


def test_signing_out_in_one_browser_keeps_the_others(app, owner):
    laptop = app.test_client()
    assert sign_in(laptop).status_code == 303
    assert owner.post("/admin/logout").status_code == 303
    assert laptop.get("/admin/").status_code == 200



# --- two-factor on a phone: recovery codes, the code field, a lost phone at the shell -----

def test_the_code_fields_open_the_phones_number_pad(app, owner, clock):
    enrol(owner)
    browser = app.test_client()
    sign_in(browser)
    page = browser.get("/admin/login/code").text
    field = re.search(r'<input[^>]*name="code"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in field and 'autocomplete="one-time-code"' in field


@pytest.mark.parametrize("lang, words", [
    ("en", ["Recovery codes", "they are shown only now"]),
    ("id", ["Kode pemulihan", "kode ini hanya ditampilkan sekarang"]),
])
def test_recovery_codes_are_shown_once(app, owner, clock, lang, words):
    owner.get(f"/admin/account?lang={lang}")
    owner.post("/admin/account/two-factor/new")
    secret = shown_secret(owner.get("/admin/account").text)
    response = owner.post("/admin/account/two-factor/on",
                          data={"code": pyotp.TOTP(secret).at(T0)})
    codes = re.findall(r'<code class="recovery-code">([a-z2-7-]+)</code>', response.text)
    assert len(codes) == 10
    assert all(word in response.text for word in words)
    again = owner.get("/admin/account").text
    assert not any(code in again for code in codes)
    stored = json.dumps(snapshot(app))
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)


def test_a_recovery_code_signs_in_once(app, owner, clock):
    totp, codes = enrol_with_codes(owner)
    phone_lost = app.test_client()
    sign_in(phone_lost)
    typed = codes[3].upper().replace("-", " ")          # as a person might type it
    response = phone_lost.post("/admin/login/recovery", data={"recovery": typed})
    assert response.status_code == 303
    assert phone_lost.get("/admin/").status_code == 200
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())
                                   .where(AuditEntry.action == "admin.recovery_code")).first()
        assert entry.actor == "owner@example.com" and "9 left" in entry.summary
    again = app.test_client()
    sign_in(again)
    refused = again.post("/admin/login/recovery", data={"recovery": codes[3]})
    assert refused.status_code == 422 and "That recovery code is not right" in refused.text
    assert to_login(again.get("/admin/"))
    assert again.post("/admin/login/recovery", data={"recovery": codes[4]}).status_code == 303
    assert "8 recovery codes left" in again.get("/admin/account").text


def test_a_recovery_code_needs_the_password_first(app, owner, clock):
    _, codes = enrol_with_codes(owner)
    stranger = app.test_client()
    assert to_login(stranger.post("/admin/login/recovery", data={"recovery": codes[0]}))
    assert to_login(stranger.get("/admin/"))


def test_turning_it_off_forgets_the_recovery_codes(app, owner, clock):
    totp, codes = enrol_with_codes(owner)
    clock["t"] = T0 + 30
    owner.post("/admin/account/two-factor/off", data={"code": totp.at(T0 + 30)})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminRecoveryCode)) == 0


def test_a_lost_phone_is_reset_at_the_shell(app, owner, clock):
    _, codes = enrol_with_codes(owner)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-2fa", "Owner@Example.com"])
    assert result.exit_code == 0, result.output
    assert "owner@example.com" in result.output and "My account" in result.output
    assert sign_in(app.test_client()).headers["Location"] == "/admin/"     # password only
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())
                                   .where(AuditEntry.action == "admin.two_factor_reset")).one()
        assert entry.actor == "cli" and "owner@example.com" in entry.summary
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminRecoveryCode)) == 0
    again = runner.invoke(args=["reset-2fa", "owner@example.com"])
    assert again.exit_code == 1 and "has no authenticator app turned on" in again.output
    unknown = runner.invoke(args=["reset-2fa", "nobody@example.com"])
    assert unknown.exit_code == 1 and "There is no admin nobody@example.com" in unknown.output


def test_passwords_are_scrypt_unless_a_test_app_asks_for_a_cheaper_hash(app, tmp_path):
    """The suite hashes with one pbkdf2 round (conftest); a shop never does."""
    assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1"
    create_admin(app)
    with app.app_context():
        stored = sa.select(AdminUser.password_hash)
        assert db.session.scalar(stored).startswith("pbkdf2:sha256:1$")
        assert admins.authenticate("owner@example.com", ADMIN_PASSWORD) is not None
        assert admins.authenticate("nobody@example.com", ADMIN_PASSWORD) is None
        app.testing = False                 # a shop that is not a test: scrypt, whatever is set
        admins.change_password(admins.by_email("owner@example.com"), ADMIN_PASSWORD,
                               "a new long password")
        assert db.session.scalar(stored).startswith("scrypt:")
        assert admins.authenticate("owner@example.com", "a new long password") is not None
    with pytest.raises(ConfigError, match="MERCHANT_PASSWORD_HASH_METHOD is 'pbkdf2:sha256:1'"):
        make_app(tmp_path / "live", TESTING=False, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
