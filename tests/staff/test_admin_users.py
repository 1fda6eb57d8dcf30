"""The admins page, My account and the audit log page, used as the owner and staff would."""
from __future__ import annotations

import json
import re
import threading

import pyotp
import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, create_admin, sign_in

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import AdminUser, AuditEntry
from merchant.staff import admins, two_factor


def admin_id(app, email: str) -> int:
    with app.app_context():
        return admins.by_email(email).id


def log(app) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return entries


def row(page: str, email: str) -> str:
    """The admins table's row of one admin."""
    return re.search(rf"<tr id=\"admin-\d+\">\s*<td>{re.escape(email)}.*?</tr>", page,
                     re.S).group(0)


# --- the admins page --------------------------------------------------------------------

def test_the_owner_sees_every_admin(app, owner, staff):
    page = owner.get("/admin/users").text
    mine, theirs = row(page, "owner@example.com"), row(page, "staff@example.com")
    assert "you" in mine and "owner" in mine and "WIB" in mine      # last sign-in, shop time
    assert "staff" in theirs and "active" in theirs and ">off<" in theirs
    assert "Deactivate" in theirs and "Deactivate" not in mine      # never yourself


def test_add_an_admin_with_a_temporary_password(app, owner):
    response = owner.post("/admin/users", data={"email": "Helper@Example.com", "role": "staff",
                                                "password": "temporary pass 1"})
    assert response.status_code == 303
    listed = owner.get("/admin/users").text
    assert "Added helper@example.com (staff)" in listed
    mark = '<span class="pill warn">temporary password</span>'
    assert listed.count(mark) == 1                  # the owner sees who has not chosen theirs
    helper = app.test_client()
    assert sign_in(helper, "helper@example.com", "temporary pass 1").status_code == 303
    assert helper.post("/admin/account/password", data={
        "current": "temporary pass 1", "new": "helper's own pass",
        "confirm": "helper's own pass"}).status_code == 303
    assert helper.get("/admin/users").status_code == 403
    assert mark not in owner.get("/admin/users").text
    entry = log(app)[-3]     # then the helper's sign-in and password change
    assert (entry.actor, entry.action, entry.after) == (
        "owner@example.com", "admin.create", {"email": "helper@example.com", "role": "staff"})


@pytest.mark.parametrize("data, message", [
    ({"email": "owner@example.com", "role": "staff", "password": "long enough pass"},
     "There is already an admin owner@example.com."),
    ({"email": "new@example.com", "role": "staff", "password": "short"},
     "Use at least 10 characters."),
    ({"email": "not an email", "role": "staff", "password": "long enough pass"},
     "Enter an email address like owner@example.com."),
    ({"email": "new@example.com", "role": "god", "password": "long enough pass"},
     "Not a valid choice"),
])
def test_adding_an_admin_is_refused_with_the_reason(app, owner, data, message):
    response = owner.post("/admin/users", data=data)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert admins.by_email("new@example.com") is None


def test_make_staff_an_owner_and_back(app, owner, staff):
    staff_id = admin_id(app, "staff@example.com")
    assert owner.post(f"/admin/users/{staff_id}/role", data={"role": "owner"}).status_code == 303
    assert staff.get("/admin/users").status_code == 200
    assert owner.post(f"/admin/users/{staff_id}/role", data={"role": "staff"}).status_code == 303
    assert staff.get("/admin/users").status_code == 403
    changes = [(e.action, e.before, e.after) for e in log(app) if e.action == "admin.role"]
    assert changes == [("admin.role", {"role": "staff"}, {"role": "owner"}),
                       ("admin.role", {"role": "owner"}, {"role": "staff"})]


@pytest.mark.parametrize("action, data", [("role", {"role": "staff"}), ("deactivate", {}),
                                          ("two-factor-off", {})])
def test_the_owner_cannot_lock_themselves_out(app, owner, action, data):
    me = admin_id(app, "owner@example.com")
    response = owner.post(f"/admin/users/{me}/{action}", data=data)
    assert response.status_code == 409
    assert "your own account" in response.text
    with app.app_context():
        me = admins.by_email("owner@example.com")
        assert (me.role, me.active) == ("owner", True)
    assert owner.get("/admin/users").status_code == 200


def test_the_refusals_are_in_the_panels_language(app, owner):
    me = admin_id(app, "owner@example.com")
    owner.get("/admin/users?lang=id")
    response = owner.post(f"/admin/users/{me}/deactivate")
    assert response.status_code == 409
    assert "Anda tidak bisa menonaktifkan akun Anda sendiri" in response.text
    response = owner.post(f"/admin/users/{me}/role", data={"role": "staff"})
    assert "Anda tidak bisa mengubah peran akun Anda sendiri" in response.text


def test_the_last_active_owner_stays(app):
    create_admin(app)
    with app.app_context():
        owner = admins.by_email("owner@example.com")
        for change, args in [(admins.set_active, (False,)), (admins.set_role, ("staff",))]:
            with pytest.raises(admins.AdminError, match="at least one active owner"):
                change(audit.CLI, owner.id, *args)
        assert (owner.role, owner.active) == ("owner", True)


def test_a_second_owner_can_be_deactivated_but_then_not_the_first(app, owner):
    create_admin(app, "partner@example.com")
    partner = admin_id(app, "partner@example.com")
    assert owner.post(f"/admin/users/{partner}/deactivate").status_code == 303
    assert "deactivated" in row(owner.get("/admin/users").text, "partner@example.com")
    with app.app_context():
        with pytest.raises(admins.AdminError, match="at least one active owner"):
            admins.set_active(audit.CLI, admins.by_email("owner@example.com").id, False)


def test_the_owner_turns_off_a_lost_phone(app, owner, staff, monkeypatch):
    monkeypatch.setattr(two_factor, "clock", lambda: 1_800_000_000.0)
    staff.post("/admin/account/two-factor/new")
    page = staff.get("/admin/account").text
    secret = re.search(r'class="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).at(1_800_000_000.0)
    assert staff.post("/admin/account/two-factor/on", data={"code": code}).status_code == 200
    assert ">on<" in row(owner.get("/admin/users").text, "staff@example.com")
    staff_id = admin_id(app, "staff@example.com")
    assert owner.post(f"/admin/users/{staff_id}/two-factor-off").status_code == 303
    assert ">off<" in row(owner.get("/admin/users").text, "staff@example.com")
    assert sign_in(app.test_client(), "staff@example.com").headers["Location"] == "/admin/"
    assert secret not in json.dumps([(e.summary, e.before, e.after) for e in log(app)])


def test_unknown_admin(app, owner):
    response = owner.post("/admin/users/999/deactivate")
    assert response.status_code == 409 and "There is no such admin." in response.text


# --- My account -------------------------------------------------------------------------

@pytest.mark.parametrize("lang, asked, changed", [
    ("en", "The password you were given is temporary", "Password changed"),
    ("id", "Kata sandi yang Anda terima hanya sementara", "Kata sandi diganti"),
])
def test_a_temporary_password_is_changed_at_the_first_sign_in(app, owner, lang, asked, changed):
    owner.post("/admin/users", data={"email": "helper@example.com", "role": "staff",
                                     "password": "temporary pass 1"})
    helper = app.test_client()
    helper.get(f"/admin/login?lang={lang}")
    assert sign_in(helper, "helper@example.com", "temporary pass 1").status_code == 303
    for url in ["/admin/", "/admin/orders", "/admin/account", "/admin/users"]:
        response = helper.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"] == "/admin/account/password", url
    page = helper.get("/admin/account/password")
    assert page.status_code == 200 and asked in page.text
    same = helper.post("/admin/account/password", data={
        "current": "temporary pass 1", "new": "temporary pass 1", "confirm": "temporary pass 1"})
    assert same.status_code == 422 and asked in same.text
    assert helper.get("/admin/orders").status_code == 303
    response = helper.post("/admin/account/password", data={
        "current": "temporary pass 1", "new": "helper's own pass", "confirm": "helper's own pass"})
    assert response.status_code == 303
    assert changed in helper.get(response.headers["Location"]).text
    assert helper.get("/admin/orders").status_code == 200
    assert helper.get("/admin/account/password").status_code == 200     # still there by choice


def test_an_admin_made_at_the_shell_chose_their_own_password(app, owner):
    assert owner.get("/admin/orders").status_code == 200



def test_change_my_password(app, owner):
    phone = app.test_client()
    assert sign_in(phone).status_code == 303
    wrong = owner.post("/admin/account/password", data={
        "current": "not my password", "new": "brand new password", "confirm": "brand new password"})
    assert wrong.status_code == 422 and "Your current password is not right" in wrong.text
    differ = owner.post("/admin/account/password", data={
        "current": ADMIN_PASSWORD, "new": "brand new password", "confirm": "brand new passwrd"})
    assert differ.status_code == 422 and "The two new passwords differ." in differ.text
    response = owner.post("/admin/account/password", data={
        "current": ADMIN_PASSWORD, "new": "brand new password", "confirm": "brand new password"})
    assert response.status_code == 303
    page = owner.get("/admin/account")
    assert page.status_code == 200 and "Your other sessions were signed out" in page.text
    assert phone.get("/admin/").status_code == 303                  # the other one is out
    assert sign_in(app.test_client()).status_code == 422
    assert sign_in(app.test_client(), password="brand new password").status_code == 303
    dumped = json.dumps([(e.summary, e.before, e.after) for e in log(app)])
    assert "brand new password" not in dumped and ADMIN_PASSWORD not in dumped
    with app.app_context():
        stored = db.session.scalar(sa.select(AdminUser.password_hash))
    assert stored not in dumped and stored.split("$")[0] not in dumped    # no hash, no method
    assert [e.action for e in log(app)].count("admin.password") == 1


def test_staff_have_my_account_too(app, staff):
    page = staff.get("/admin/account")
    assert page.status_code == 200 and "staff@example.com" in page.text
    assert "Set up an authenticator app" in page.text


# --- the audit log page -----------------------------------------------------------------

def fill_log(app, count: int) -> None:
    with app.app_context():
        for i in range(count):
            actor = audit.Actor("owner@example.com", 1) if i % 2 else audit.CLI
            kind = ("order", f"REF{i:03d}") if i % 3 else ("package", str(i))
            audit.record(actor, f"{kind[0]}.edit", kind[0], kind[1], f"Change number {i}",
                         before={"price": i}, after={"price": i + 1})
        db.session.commit()


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="audit-(\d+)">', page)]


def who(page: str) -> set[str]:
    """The Who column of the log's rows."""
    return set(re.findall(r'<td data-label="Who">(.*?)</td>', page))


def test_the_log_pages_newest_first_without_gaps(app, owner):
    fill_log(app, 120)
    total = len(log(app))
    seen, url = [], "/admin/audit"
    while url:
        page = owner.get(url).text
        ids = shown(page)
        assert ids == sorted(ids, reverse=True) and len(ids) <= 50
        seen += ids
        older = re.search(r'href="([^"]*before=\d+[^"]*)">Older', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(seen) == total and len(set(seen)) == total
    assert seen == sorted(seen, reverse=True)


def test_an_entry_shows_who_what_when_and_the_change(app, owner):
    fill_log(app, 2)
    page = owner.get("/admin/audit").text
    entry = re.search(r'<tr id="audit-\d+">.*?</tr>', page, re.S).group(0)
    assert "owner@example.com" in entry and "order.edit" in entry
    assert "Change number 1" in entry and "WIB" in entry
    assert re.search(r"<dt>price</dt>\s*<dd><del>1</del> → <ins>2</ins>", entry)


def test_filter_by_actor_action_and_target(app, owner):
    fill_log(app, 30)
    by_cli = owner.get("/admin/audit", query_string={"actor": "cli"}).text
    assert shown(by_cli) and who(by_cli) == {"cli"}
    assert who(owner.get("/admin/audit").text) == {"cli", "owner@example.com"}
    packages = owner.get("/admin/audit", query_string={"action": "package."}).text
    assert len(shown(packages)) == 10 and "order.edit" not in packages
    one = owner.get("/admin/audit", query_string={"target_type": "order",
                                                  "target_id": "REF004"}).text
    assert len(shown(one)) == 1 and "Change number 4" in one
    none_yet = owner.get("/admin/audit", query_string={"target_type": "refund"}).text
    assert shown(none_yet) == [] and "No entries match these filters." in none_yet
    prefix_is_literal = owner.get("/admin/audit", query_string={"action": "%"}).text
    assert shown(prefix_is_literal) == []
    assert "No entries match these filters." in prefix_is_literal


def test_the_panel_writes_to_the_log(app, owner, staff):
    staff_id = admin_id(app, "staff@example.com")
    owner.post(f"/admin/users/{staff_id}/sign-out")
    page = owner.get("/admin/audit", query_string={"target_type": "admin"}).text
    assert "admin.sign_out_everywhere" in page and "Signed staff@example.com out everywhere" in page
    assert "admin.sign_in" in page


def test_password_guesses_through_my_account_are_limited(app, owner):
    for _ in range(10):
        response = owner.post("/admin/account/password", data={
            "current": "a guess at it", "new": "brand new password",
            "confirm": "brand new password"})
        assert response.status_code == 422
    response = owner.post("/admin/account/password", data={
        "current": ADMIN_PASSWORD, "new": "brand new password", "confirm": "brand new password"})
    assert response.status_code == 429 and "Try again in 1 minute." in response.text
    assert sign_in(app.test_client()).status_code == 303            # unchanged


def test_older_pages_keep_the_filters(app, owner):
    fill_log(app, 120)                          # 80 about orders, 40 about packages
    first = owner.get("/admin/audit", query_string={"action": "order."}).text
    older = re.search(r'href="([^"]*before=\d+[^"]*)">Older', first).group(1).replace("&amp;", "&")
    assert "action=order." in older
    second = owner.get(older).text
    assert len(shown(first)) == 50 and len(shown(second)) == 30
    assert "package.edit" not in second and "Older" not in second


def test_sign_myself_out_everywhere(app, staff):
    phone = app.test_client()
    assert sign_in(phone, "staff@example.com").status_code == 303
    assert 'action="/admin/account/sign-out-everywhere"' in staff.get("/admin/account").text
    response = staff.post("/admin/account/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/login"
    assert "You are signed out in every browser" in staff.get("/admin/login").text
    assert staff.get("/admin/").status_code == 303 and phone.get("/admin/").status_code == 303
    assert [e.actor for e in log(app) if e.action == "admin.sign_out_everywhere"] == [
        "staff@example.com"]


def test_an_entry_links_to_its_target(app, owner):
    with app.app_context():
        for kind, target in [("order", "M7K3Q9D2F"), ("package", "3"), ("package", "a-slug"),
                             ("import_job", "1")]:
            audit.record(audit.CLI, f"{kind}.edit", kind, target, "Changed")
        db.session.commit()
    page = owner.get("/admin/audit").text
    assert '<a href="/admin/orders/M7K3Q9D2F">order' in page
    assert '<a href="/admin/catalog/packages/3/edit">package' in page
    assert 'package <span class="ref">a-slug</span></td>' in page            # no page to link
    assert 'import_job <span class="ref">1</span></td>' in page


def deactivate(app, barrier, outcomes, actor, target):
    """One owner's request, started together with the other's."""
    with app.app_context():
        barrier.wait()
        try:
            admins.set_active(actor, target, False)
            outcomes.append("deactivated")
        except admins.AdminError:
            outcomes.append("refused")


def test_two_owners_deactivating_each_other_at_once_leave_one(app):
    """The last-owner check and the change are one step: racing owners cannot both win."""
    for round_ in range(10):
        a, b = f"a{round_}@example.com", f"b{round_}@example.com"
        create_admin(app, a)
        create_admin(app, b)
        with app.app_context():
            pairs = [(audit.Actor.of(admins.by_email(x)), admins.by_email(y).id)
                     for x, y in [(a, b), (b, a)]]
            # Only these two are active owners in this round.
            db.session.execute(sa.update(AdminUser).where(AdminUser.email.not_in([a, b]))
                               .values(active=False))
            db.session.commit()
        barrier, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=deactivate, args=(app, barrier, outcomes, *pair))
                   for pair in pairs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["deactivated", "refused"]
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).where(
                AdminUser.role == "owner", AdminUser.active.is_(True))) == 1
