"""Favourites, recently used tools and the theme in a real browser, kept per user on the server; and
the installable app: manifest, service worker, and a cache holding only the app shell."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import Server, screenshot, sign_in


def test_favourites_and_recent_tools_come_first_and_follow_the_user(
    new_page: Callable[..., Page], server: Server
) -> None:
    page = sign_in(new_page(), then="/")
    resize = page.locator('.tool-section[data-category="Essentials"] li.tool-card[data-tool="resize"]')
    resize.get_by_role("button", name="Add Resize to favourites").click()
    favourites = page.locator('.tool-section[data-section="favourites"]')
    expect(favourites.locator("li.tool-card")).to_have_count(1)
    expect(favourites.locator(".tool-title")).to_have_text("Resize")
    assert server.api().get("/api/v1/user/preferences").json()["favourites"] == ["resize"]

    page.goto("/tools/pdf/compress-pdf")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Compress")
    # Another browser, same user: the favourite and the recent tool are there too.
    other = sign_in(new_page(), then="/")
    expect(other.locator('.tool-section[data-section="favourites"] .tool-title')).to_have_text("Resize")
    expect(other.locator('.tool-section[data-section="recent"] li.tool-card')).to_have_attribute(
        "data-tool", "compress-pdf"
    )
    # A search shows matches only, without the personal sections.
    other.get_by_label("Search tools").fill("merge pdf")
    expect(other.locator('.tool-section[data-section="favourites"]')).to_have_count(0)
    other.get_by_label("Search tools").fill("")
    other.locator('.tool-section[data-section="favourites"]').get_by_role(
        "button", name="Remove Resize from favourites"
    ).click()
    expect(other.locator('.tool-section[data-section="favourites"]')).to_have_count(0)
    assert server.api().get("/api/v1/user/preferences").json()["favourites"] == []


def test_the_theme_toggle_overrides_the_system_and_is_kept(new_page: Callable[..., Page], server: Server) -> None:
    page = sign_in(new_page(), then="/settings/profile")
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(246, 247, 249)"  # the system (light here) by default
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == "rgb(15, 19, 24)"
    assert server.api().get("/api/v1/user/preferences").json()["theme"] == "dark"
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator(".tool-card").first).to_be_visible()
    screenshot(page, "home-dark")
    page.goto("/settings/profile")
    page.get_by_label("Theme").select_option("system")
    expect(page.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
    assert page.evaluate(background) == "rgb(246, 247, 249)"


def test_installable_with_a_service_worker_that_caches_only_the_shell(
    new_page: Callable[..., Page], server: Server
) -> None:
    page = sign_in(new_page(), then="/")
    manifest = page.locator('link[rel="manifest"]').get_attribute("href")
    assert manifest == "/static/manifest.webmanifest"
    state = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active && r.active.scriptURL)")
    assert state.endswith("/sw.js")
    page.evaluate("fetch('/api/v1/tools').then((r) => r.json())")
    cached = page.evaluate(
        """async () => {
          const names = await caches.keys();
          const urls = [];
          for (const name of names) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
          }
          return { names, urls };
        }"""
    )
    assert len(cached["names"]) == 1 and cached["names"][0].startswith("lutra-shell-")
    assert "/static/app.js" in cached["urls"] and "/" in cached["urls"]
    assert all(u == "/" or u.startswith("/static/") for u in cached["urls"]), cached["urls"]
