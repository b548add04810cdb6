"""The library page for admins: each file names its owner and a filter narrows the list to one user;
a plain user sees neither. The file page lists each version with the tool that made it."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.engine.helpers import png
from tests.web.conftest import Server, sign_in


def _user(server: Server, name: str) -> httpx.Client:
    admin = server.api()
    r = admin.post("/api/auth/register", json={"username": name, "password": f"{name}-temp-pass"})
    assert r.status_code == 201, r.text
    client = server.client(server.login(name, f"{name}-temp-pass"))
    r = client.post(
        "/api/auth/change-password", json={"currentPassword": f"{name}-temp-pass", "newPassword": f"{name}-password-1"}
    )
    assert r.status_code == 200, r.text
    return server.client(server.login(name, f"{name}-password-1"))


def _upload(client: httpx.Client, name: str) -> dict:
    r = client.post("/api/v1/files/upload", files={"file": (name, png(10, 10), "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["files"][0]


def test_admin_sees_owners_and_filters_by_owner(new_page: Callable[..., Page], server: Server) -> None:
    carol, dave = _user(server, "carol"), _user(server, "dave")
    _upload(carol, "carol-cat.png")
    _upload(carol, "carol-dog.png")
    _upload(dave, "dave-fox.png")

    page = sign_in(new_page(), then="/files")
    cards = page.locator(".file-card")
    carol_card = cards.filter(has_text="carol-cat.png")
    expect(carol_card.locator(".file-owner")).to_have_text("Owner: carol")
    expect(cards.filter(has_text="dave-fox.png").locator(".file-owner")).to_have_text("Owner: dave")

    owner = page.get_by_label("Owner")
    expect(owner.locator("option", has_text="dave")).to_have_count(1)
    owner.select_option("carol")
    expect(cards).to_have_count(2)
    expect(cards.locator(".file-name")).to_have_text(["carol-dog.png", "carol-cat.png"])
    assert "owner=carol" in page.url
    owner.select_option("")
    expect(cards.filter(has_text="dave-fox.png")).to_have_count(1)

    # Reloading keeps the filter (it is in the address).
    page.goto("/files?owner=dave")
    expect(cards).to_have_count(1)
    expect(cards.locator(".file-owner")).to_have_text("Owner: dave")


def test_a_plain_user_sees_no_owner_column(new_page: Callable[..., Page], server: Server) -> None:
    erin = _user(server, "erin")
    _upload(erin, "erin-own.png")
    page = sign_in(new_page(), "erin", "erin-password-1", then="/files")
    expect(page.locator(".file-card")).to_have_count(1)
    expect(page.locator(".file-owner")).to_have_count(0)
    expect(page.locator("select.owner-filter")).to_have_count(0)


def test_versions_keep_the_name_and_show_the_tool(new_page: Callable[..., Page], server: Server) -> None:
    frank = _user(server, "frank")
    first = _upload(frank, "frank-photo.png")
    r = frank.post("/api/v1/tools/image/resize", json={"fileId": first["id"], "width": 5})
    assert r.status_code == 200, r.text
    page = sign_in(new_page(), "frank", "frank-password-1", then=f"/files/{first['id']}")
    rows = page.get_by_role("region", name="Versions").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("frank-photo.png")
    expect(rows.nth(0)).to_contain_text(re.compile("Resize", re.I))
    expect(rows.nth(1)).to_contain_text("upload")
