"""auth.change_password."""

from tests.tenancy import PASSWORD, code, make_tenant, ok, run_inline


def test_change_password_needs_the_current_one():
    t = make_tenant()
    user = t["member"]
    wrong = run_inline(
        "auth.change_password",
        {"current_password": "nope", "new_password": "another-good-password"},
        schema=t["slug"],
        user=user,
    )
    assert code(wrong) == "forbidden"
    ok(
        run_inline(
            "auth.change_password",
            {"current_password": PASSWORD, "new_password": "another-good-password"},
            schema=t["slug"],
            user=user,
        )
    )
    user.refresh_from_db()
    assert user.check_password("another-good-password")
