"""Issue 13, findings 1 and 7: every password change ends the account's API tokens; wrong
current passwords count as failed sign-ins; the admin login is throttled per (email,
address) and per address, so one address cannot lock an owner out from another."""

import pytest
from django.core.management import call_command
from django.test import Client

from tenants.accounts import LOGIN_FAILURE_LIMIT, password_change
from tenants.errors import TenancyError
from tenants.models import LoginFailure, User
from tenants.tokens import InvalidToken, actor_from_authorization
from tests.tenancy import PASSWORD, bearer, make_tenant, make_user, run_inline, unique

NEW_PASSWORD = "a-brand-new-password-42"


def _assert_dead(header: str) -> None:
    with pytest.raises(InvalidToken, match="revoked"):
        actor_from_authorization(header)


def test_a_password_changed_in_the_admin_form_ends_the_api_tokens():
    owner = make_tenant("pw")["owner"]
    header = bearer(owner)
    assert actor_from_authorization(header).id == owner.pk  # live before
    browser = Client()
    browser.force_login(owner)
    answer = browser.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert answer.status_code == 302, answer.content[:500]
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    _assert_dead(header)


def test_set_password_and_save_ends_the_api_tokens():
    user = make_user(f"{unique('pw')}@tenancy.test")
    header = bearer(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    _assert_dead(header)


def test_the_changepassword_command_ends_the_api_tokens(monkeypatch):
    user = make_user(f"{unique('pw')}@tenancy.test")
    header = bearer(user)
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": NEW_PASSWORD,
    )
    call_command("changepassword", user.email, stdout=open("/dev/null", "w"))  # noqa: SIM115
    _assert_dead(header)


def test_a_silent_rehash_at_sign_in_keeps_the_tokens():
    user = make_user(f"{unique('pw')}@tenancy.test")
    # The same password under costlier argon2 parameters: check_password rehashes it.
    User.objects.filter(pk=user.pk).update(password=_argon2(PASSWORD))
    user.refresh_from_db()
    header = bearer(user)
    assert user.check_password(PASSWORD)  # rehashed with the first hasher and saved
    user.refresh_from_db()
    assert user.password != _argon2_before
    assert actor_from_authorization(header).id == user.pk


_argon2_before = ""


def _argon2(raw: str) -> str:
    global _argon2_before
    from django.contrib.auth.hashers import Argon2PasswordHasher

    _argon2_before = Argon2PasswordHasher().encode(raw, "somesaltsomesalt")
    return _argon2_before


# --- finding 7: wrong current passwords count; the admin login per (email, address) ------


def _owner():
    return make_tenant("pw")["owner"]


def test_wrong_current_passwords_in_auth_change_password_are_counted():
    owner = _owner()
    for _ in range(LOGIN_FAILURE_LIMIT):
        record = run_inline(
            "auth.change_password",
            {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
            schema="public",
            user=owner,
        )
        assert record.error["code"] == "forbidden"
    # The failures were committed although the action failed (non-atomic handler).
    assert LoginFailure.objects.filter(email=owner.email).count() == LOGIN_FAILURE_LIMIT
    # Throttled: even the right current password is not checked any more.
    with pytest.raises(TenancyError) as err:
        password_change(user_id=owner.pk, current_password=PASSWORD, new_password=NEW_PASSWORD)
    assert err.value.code == "rate_limited"
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_wrong_current_passwords_in_the_admin_form_are_counted():
    owner = _owner()
    browser = Client(REMOTE_ADDR="10.7.0.1")
    browser.force_login(owner)
    form = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for _ in range(LOGIN_FAILURE_LIMIT):
        answer = browser.post("/admin/password_change/", {**form, "old_password": "nope"})
        assert answer.status_code == 200  # the form again, with its error
    failures = LoginFailure.objects.filter(email=owner.email)
    assert failures.count() == LOGIN_FAILURE_LIMIT
    assert {f.source for f in failures} == {"10.7.0.1"}
    answer = browser.post("/admin/password_change/", {**form, "old_password": PASSWORD})
    assert answer.status_code == 200
    assert "Too many wrong passwords" in answer.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def _admin_login(address: str, email: str, password: str) -> Client:
    browser = Client(REMOTE_ADDR=address)
    browser.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
    )
    return browser


def _signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def test_an_attacker_address_cannot_lock_the_owner_out_of_the_admin():
    owner = _owner()
    for _ in range(LOGIN_FAILURE_LIMIT + 2):
        assert not _signed_in(_admin_login("10.66.0.1", owner.email, "guess"))
    # The attacker's address is throttled on this email, even with the right password...
    assert not _signed_in(_admin_login("10.66.0.1", owner.email, PASSWORD))
    # ... but the owner, from their own address, signs in.
    assert _signed_in(_admin_login("10.1.0.1", owner.email, PASSWORD))


def test_one_address_is_throttled_across_emails():
    from tenants.accounts import SOURCE_FAILURE_LIMIT

    address = "10.66.1.1"
    for n in range(SOURCE_FAILURE_LIMIT):
        _admin_login(address, f"nobody{n}.{unique('x')}@tenancy.test", "guess")
    owner = _owner()  # never guessed at: the address alone is over its budget
    assert not _signed_in(_admin_login(address, owner.email, PASSWORD))
    assert _signed_in(_admin_login("10.1.1.1", owner.email, PASSWORD))
