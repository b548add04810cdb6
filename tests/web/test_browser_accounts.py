"""The browser UI's account features: two-factor enrolment with the QR code and the login's second step,
recovery codes downloaded, admin reset, "Sign in with ..." against a real OpenID provider, branding."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, expect

from tests.oidc_provider import RunningProvider
from tests.web.conftest import (
    ADMIN_PASSWORD,
    PageErrors,
    Server,
    change_first_password,
    screenshot,
    sign_in,
    start_server,
)
from tests.web.test_browser_ui import NewPage


def _code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps))


def test_enrol_two_factor_then_log_in_with_a_code_and_an_admin_resets_it(
    new_page: NewPage, server: Server, tmp_path: Path
) -> None:
    admin = server.api()
    r = admin.post("/api/auth/register", json={"username": "erin", "password": "erin-temp-pass"})
    assert r.status_code == 201, r.text
    erin = server.client(server.login("erin", "erin-temp-pass"))
    erin.post("/api/auth/change-password", json={"currentPassword": "erin-temp-pass", "newPassword": "erin-password-1"})

    page = sign_in(new_page(), "erin", "erin-password-1", then="/settings/profile")
    page.get_by_role("button", name="Set up two-factor login").click()
    qr = page.get_by_role("img", name="QR code of the two-factor key")
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 0  # the SVG really draws
    secret = page.locator("code.secret").inner_text()
    codes = page.get_by_role("list", name="Recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    with page.expect_download() as download:
        page.get_by_role("link", name="Download recovery codes").first.click()
    saved = tmp_path / "codes.txt"
    download.value.save_as(saved)
    assert all(code in saved.read_text() for code in codes)
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid or already used code")
    page.get_by_label("Code from the app").fill(_code(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor login is on.")).to_be_visible()
    screenshot(page, "two-factor-enrolled")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill("erin-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Two-factor code")).to_be_visible()
    screenshot(page, "two-factor-login-step")
    page.get_by_label("Code", exact=True).fill(_code(secret, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".nav-user .username")).to_have_text("erin")

    # Locked out: the admin resets it from the users list.
    admin_page = sign_in(new_page(), then="/settings/users")
    row = admin_page.get_by_role("row").filter(has_text="erin")
    expect(row.get_by_text("2FA", exact=True)).to_be_visible()
    row.get_by_role("button", name="Reset 2FA").click()
    admin_page.get_by_role("dialog").get_by_role("button", name="Reset 2FA").click()
    expect(admin_page.get_by_text("Two-factor login of erin is off.")).to_be_visible()
    assert (
        "token"
        in server.client().post("/api/auth/login", json={"username": "erin", "password": "erin-password-1"}).json()
    )


def test_sign_in_with_the_identity_provider_and_branding(browser: Browser, tmp_path: Path) -> None:
    idp = RunningProvider()
    fresh = start_server(
        tmp_path / "sso", APP_NAME="Otter Works", OIDC_BUTTON_LABEL="Sign in with Test IdP", **idp.env()
    )
    context = browser.new_context(base_url=fresh.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = PageErrors(page)
    try:
        change_first_password(fresh)
        admin = fresh.api("admin", ADMIN_PASSWORD)
        assert admin.put("/api/v1/settings", json={"accentColor": "#aa3300"}).status_code == 200
        page.goto("/login")
        expect(page).to_have_title(re.compile("Otter Works"))
        expect(page.get_by_role("heading", name="Log in to Otter Works")).to_be_visible()
        accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
        assert accent == "#aa3300"
        screenshot(page, "login-with-sso")
        page.get_by_role("link", name="Sign in with Test IdP").click()
        # Off to the provider, back through the callback, and signed in on the tools page.
        expect(page.locator(".nav-user .username")).to_have_text("carol")
        assert "/authorize" in idp.provider.requests and "/token" in idp.provider.requests
        cookie = next(c for c in context.cookies() if c["name"] == "lutra-session")
        assert cookie["sameSite"] == "Lax" and cookie["httpOnly"]
        # Logging out also ends the provider's session (its end_session_endpoint), which sends us back.
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        assert "/logout" in idp.provider.requests
        assert not errors.errors, errors.errors
    finally:
        context.close()
        fresh.stop()
        idp.stop()
