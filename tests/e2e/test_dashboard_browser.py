"""The dashboard in a real headless Chromium against the real web server and workers: an
owner and a developer sign in, each sees what they may and is refused the rest, the
developer promotes and demotes themselves, and every page is saved as a screenshot
under <VAR_DIR>/screenshots.

No ORM here: Playwright's sync API runs an event loop in this thread, and everything the
test checks is on the page (the page's data came through the admin channel)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("workers")

TIMEOUT_MS = 20_000


@pytest.fixture
def page(browser, live_server_url):
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready='1']", state="attached")


def visit(page: Page, path: str) -> None:
    page.goto(path)
    ready(page)


def shot(page: Page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 5_000


def sign_in(page: Page, email: str) -> None:
    visit(page, "/dashboard/")
    expect(page.locator("#sign-in")).to_be_visible()
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#who-email")).to_contain_text(email)
    ready(page)


def nav_pages(page: Page) -> set[str]:
    return set(page.locator("#nav a").evaluate_all("links => links.map(a => a.dataset.page)"))


def test_sign_in_refuses_a_wrong_password(page, screenshots):
    visit(page, "/dashboard/")
    page.fill("input[name=email]", "owner@acme.test")
    page.fill("input[name=password]", "not-the-password")
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#sign-in-error")).not_to_be_empty()
    expect(page.locator("#content")).to_be_hidden()
    shot(page, screenshots, "sign-in-refused")


def test_an_owner_sees_their_tenant_and_not_the_platform(page, screenshots):
    sign_in(page, "owner@acme.test")
    assert nav_pages(page) == {
        "overview", "index", "tenants", "logs", "release", "django-admin",
    }  # fmt: skip
    # Overview: the tenant's summary, from dashboard.summary.
    expect(page.locator("#page-title")).to_have_text("Overview")
    expect(page.locator("#summary-cards")).to_contain_text("members")
    expect(page.locator("#summary-cards")).to_contain_text("intact")
    expect(page.locator("#platform-cards")).to_have_count(0)
    shot(page, screenshots, "owner-overview")

    visit(page, "/dashboard/index/")
    rows = page.locator("#index-table tbody tr")
    total = rows.count()
    assert total > 60
    page.select_option("#index-state", "dummy")
    expect(page.locator("#index-count")).to_contain_text(f"of {total} actions")
    assert 0 < rows.count() < total
    states = page.locator("#index-table tbody tr td:nth-child(5)").all_inner_texts()
    assert set(states) == {"dummy"}
    page.select_option("#index-state", "")
    page.fill("#index-search", "system.queues")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("admin")
    headers = page.locator("#index-table thead th").all_inner_texts()
    cells = dict(zip(headers, rows.first.locator("td").all_inner_texts(), strict=True))
    # Released where it runs: everything runs in local test; hosted live only `released`.
    assert (cells["local_test"], cells["hosted_live"]) == ("✓", "–")
    shot(page, screenshots, "owner-index")

    visit(page, "/dashboard/tenants/")
    expect(page.locator("#tenants-table")).to_have_count(0)  # the platform's list: not for owners
    expect(page.locator("#owners-table")).to_contain_text("owner@acme.test")
    expect(page.locator("#config-effective")).to_contain_text("rate_limits")
    expect(page.locator("#django-admin-link")).to_have_attribute("href", re.compile("acme"))
    shot(page, screenshots, "owner-tenants")

    visit(page, "/dashboard/logs/")
    expect(page.locator("#audit-chain")).to_contain_text("intact")
    expect(page.locator("#audit-table")).to_be_visible()
    expect(page.locator("#errors-table")).to_have_count(0)  # the central log: developers'
    expect(page.locator("#tenant-errors-table")).to_be_visible()  # the tenant's own errors
    shot(page, screenshots, "owner-logs")

    # A command: ask for a release of an action of the index in hosted test.
    visit(page, "/dashboard/release/")
    expect(page.locator("#release-table")).to_contain_text("system.queues")
    page.fill("#request-action", "dashboard.summary")
    page.select_option("#request-environment", "hosted_test")
    page.fill("#request-note", "Browser test: our owners want the summary")
    page.click("#request-release")
    expect(page.locator("#release-requested")).to_contain_text("hosted_test, pending")
    expect(page.locator("#requests-table")).to_contain_text("dashboard.summary")
    shot(page, screenshots, "owner-release")

    # Pages not in the owner's menu: the admin channel itself refuses their commands.
    for name in ("system", "charts"):
        visit(page, f"/dashboard/{name}/")
        refused = page.locator(".refused").first
        expect(refused).to_have_attribute("data-code", "forbidden")
        shot(page, screenshots, f"owner-{name}-refused")
    expect(page.locator("#queues-table")).to_have_count(0)

    # Django admin: the same account; the tenant's config and subscriptions.
    visit(page, "/dashboard/tenants/")
    page.click("#django-admin-link")
    page.fill("input[name=username]", "owner@acme.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.click("#result_list a:text-is('acme')")
    expect(page.locator("body")).to_contain_text("Effective config")
    expect(page.locator("body")).to_contain_text("Connector subscriptions")
    shot(page, screenshots, "owner-django-admin-tenant")


def test_a_developer_sees_the_platform_and_a_tenant_only_while_promoted(page, screenshots):
    sign_in(page, "dev@switchboard.test")
    assert nav_pages(page) >= {"overview", "system", "charts", "superadmin", "tenants", "logs"}
    expect(page.locator("#platform-cards")).to_contain_text("actions (1 h)")
    expect(page.locator("#queues-table")).to_contain_text("switchboard.user.actions")
    expect(page.locator("#summary-cards")).to_have_count(0)  # no tenant view: not promoted
    shot(page, screenshots, "developer-overview")

    visit(page, "/dashboard/system/")
    expect(page.locator("#queues-table")).to_contain_text("switchboard.admin.actions")
    expect(page.locator("#workers-table")).to_contain_text("user-test@")
    expect(page.locator("#workers-table")).to_contain_text("admin-test@")
    first = page.locator("#system-updated").inner_text()
    expect(page.locator("#system-updated")).not_to_have_text(first, timeout=10_000)  # live
    shot(page, screenshots, "developer-system")

    visit(page, "/dashboard/charts/")
    expect(page.locator("#chart-calls svg path.series").first).to_be_attached()
    assert page.locator("#chart-p95 svg rect.bar").count() >= 1
    expect(page.locator("#metrics-table")).to_contain_text("auth.login")
    shot(page, screenshots, "developer-charts")

    visit(page, "/dashboard/tenants/")
    expect(page.locator("#tenants-table")).to_contain_text("acme")
    expect(page.locator("#tenants-table")).to_contain_text("owner@beta.test")
    expect(page.locator("#owners-table")).to_have_count(0)
    shot(page, screenshots, "developer-tenants")

    visit(page, "/dashboard/logs/")
    expect(page.locator("#audit-chain")).to_contain_text("intact")
    expect(page.locator("#errors-table")).to_be_visible()
    page.fill("#errors-code", "forbidden")
    page.click("#errors-code ~ button")
    expect(page.locator("#errors-table tbody tr").first).to_contain_text("forbidden")
    shot(page, screenshots, "developer-logs")

    visit(page, "/dashboard/index/")
    expect(page.locator("#index-table")).to_be_visible()
    shot(page, screenshots, "developer-index")

    visit(page, "/dashboard/release/")
    shot(page, screenshots, "developer-release")

    # A command: promote on beta, with a reason and an expiry.
    visit(page, "/dashboard/superadmin/")
    page.select_option("#promote-tenant", "beta")
    page.fill("#promote-reason", "Browser test: looking at beta's summary")
    page.fill("#promote-minutes", "15")
    page.click("#promote")
    expect(page.locator("#promoted")).to_contain_text("Super admin on beta")
    expect(page.locator("#grants-table")).to_contain_text("beta")
    shot(page, screenshots, "developer-superadmin")

    # While promoted: beta's tenant views.
    visit(page, "/dashboard/")
    expect(page.locator("#tenant-select")).to_have_value("beta")
    expect(page.locator("#summary-cards")).to_contain_text("members")
    shot(page, screenshots, "developer-overview-promoted")
    visit(page, "/dashboard/logs/")
    audit = page.locator("#audit-table")
    expect(audit).to_contain_text("superadmin.promote")
    shot(page, screenshots, "developer-logs-promoted")

    # Demoted: beta's views are refused again by the admin channel.
    visit(page, "/dashboard/superadmin/")
    page.click("[data-demote='beta']")
    expect(page.locator("#grants-table tbody")).to_contain_text("nothing")
    visit(page, "/dashboard/")
    expect(page.locator("#summary-cards")).to_have_count(0)
