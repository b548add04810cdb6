"""The home page's way to a tool in a real browser: the category sidebar (wide screens) and menu (phones),
search by category and by format, sprite icons that really draw, the AI model note with an install
button for admins, schema enums as selects; and screenshots of the main pages in both themes."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import SCREENSHOTS, Server, screenshot, sign_in

BACKGROUND = "getComputedStyle(document.body).backgroundColor"


def catalog(server: Server) -> list[dict]:
    return server.api().get("/api/v1/tools").json()["tools"]


def shown_tools(page: Page) -> set[str]:
    return set(page.locator(".tool-card").evaluate_all("cards => cards.map(c => c.dataset.tool)"))


def in_viewport(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                         return r.top >= 0 && r.top < window.innerHeight / 2; }""",
            selector,
        )
    )


def test_the_sidebar_jumps_to_a_category_on_a_wide_screen(new_page: Callable[..., Page], server: Server) -> None:
    tools = catalog(server)
    page = sign_in(new_page(), then="/")
    sidebar = page.get_by_role("navigation", name="Categories")
    expect(sidebar).to_be_visible()
    expect(page.get_by_label("Category")).to_be_hidden()  # the phone menu stays out of the way
    names = sidebar.locator("a").evaluate_all("links => links.map(a => a.dataset.category)")
    assert names == [
        "Essentials",
        "Optimization",
        "Adjustments",
        "AI Tools",
        "Watermark & Overlay",
        "Utilities",
        "Layout & Composition",
        "Format & Conversion",
        "Video",
        "Audio",
        "Document",
        "File",
    ]
    audio = {t["id"] for t in tools if t["category"] == "Audio"}
    expect(sidebar.get_by_role("link", name=f"Audio {len(audio)}")).to_be_visible()

    assert page.evaluate("window.scrollY") == 0
    sidebar.get_by_role("link", name="Audio").click()
    expect(page.locator("#cat-audio")).to_be_focused()
    assert page.evaluate("window.scrollY") > 1000
    assert in_viewport(page, "#cat-audio")
    cards = page.locator('.tool-section[data-category="Audio"] .tool-card')
    assert set(cards.evaluate_all("cards => cards.map(c => c.dataset.tool)")) == audio
    expect(sidebar).to_be_visible()  # sticky: still there after the jump
    screenshot(page, "home-jumped-to-audio")


def test_the_category_menu_works_on_a_phone(new_page: Callable[..., Page], server: Server) -> None:
    page = sign_in(new_page(width=375, height=812), then="/")
    expect(page.get_by_role("navigation", name="Categories")).to_be_hidden()
    menu = page.get_by_label("Category")
    expect(menu).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out sideways
    menu.select_option("Document")
    expect(page.locator("#cat-document")).to_be_focused()
    assert page.evaluate("window.scrollY") > 2000
    assert in_viewport(page, "#cat-document")
    expect(page.locator('.tool-section[data-category="Document"] .tool-card').first).to_be_in_viewport()
    screenshot(page, "home-phone-document")


def test_the_search_matches_categories_and_formats(new_page: Callable[..., Page], server: Server) -> None:
    tools = catalog(server)
    page = sign_in(new_page(), then="/")
    search = page.get_by_label("Search tools")

    search.fill("Layout & Composition")
    layout = {t["id"] for t in tools if t["category"] == "Layout & Composition"}
    assert {"collage", "stitch", "sprite-sheet"} <= layout
    expect(page.locator(".tool-card")).to_have_count(len(layout))
    assert shown_tools(page) == layout
    expect(page.get_by_role("heading", level=2)).to_have_text([f"Layout & Composition {len(layout)}"])

    search.fill("Audio")
    shown = shown_tools(page)
    assert {t["id"] for t in tools if t["category"] == "Audio"} <= shown
    assert "extract-audio" in shown and "resize" not in shown

    # Formats: what a tool takes (HEIC photos) and what it makes (convert writes HEIC too).
    search.fill("heic")
    expect(page.locator('.tool-card[data-tool="heic-to-jpg"]')).to_have_count(1)
    shown = shown_tools(page)
    assert {"heic-to-jpg", "heic-to-png", "resize", "convert"} <= shown
    assert not shown & {"merge-pdf", "trim-audio", "csv-json"}
    screenshot(page, "home-search-heic-formats")


def test_every_tool_icon_draws_from_the_sprite(new_page: Callable[..., Page], server: Server) -> None:
    tools = catalog(server)
    page = sign_in(new_page(), then="/")
    expect(page.locator(".tool-card")).to_have_count(len(tools))
    hrefs = page.locator(".tool-card use").evaluate_all("uses => uses.map(u => u.getAttribute('href'))")
    assert len(hrefs) == len(tools)
    assert {h.split("#")[0] for h in hrefs} == {"/static/icons/sprite.svg"}
    # A <use> whose symbol does not resolve draws nothing: its box stays 0 x 0.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tool-card use, .category-nav use')]"
        ".every(u => u.getBBox().width > 0 && u.getBBox().height > 0)"
    )
    first = page.locator('.tool-card[data-tool="crop"] .tool-icon')
    box = first.bounding_box()
    assert box and box["width"] >= 16
    assert page.locator('.tool-card[data-tool="crop"] use').get_attribute("href") == "/static/icons/sprite.svg#crop"
    # No icon font or outside server: every request the page made stayed on this server.
    origins = page.evaluate("performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
    assert set(origins) == {server.base}


def test_an_ai_tool_without_its_model_says_so_before_upload(new_page: Callable[..., Page], server: Server) -> None:
    # Colorize's model is a download, never present in a fresh data folder.
    tool = next(t for t in catalog(server) if t["id"] == "colorize")
    assert tool["featureInstalled"] is False and tool["featureDownloadSize"] > 0
    size_mb = tool["featureDownloadSize"] / 1024 / 1024
    size = f"{size_mb:.1f} MB" if size_mb < 10 else f"{size_mb:.0f} MB"
    expected = f"Needs the {tool['featureName']} model ({size})"

    admin = sign_in(new_page(), then="/")
    card = admin.locator('.tool-card[data-tool="colorize"]')
    expect(card.locator(".model-note")).to_contain_text(expected)
    expect(card.get_by_role("button", name="Install the")).to_be_visible()
    expect(admin.locator('.tool-card[data-tool="resize"] .model-note')).to_have_count(0)
    admin.goto("/tools/image/colorize")
    note = admin.locator(".tool-page-note")
    expect(note).to_contain_text(expected)
    expect(
        note.get_by_role("button", name=f"Install the {tool['featureName']} model for AI Colorization")
    ).to_be_enabled()
    screenshot(admin, "tool-ai-model-note-admin")

    api = server.api()
    r = api.post("/api/auth/register", json={"username": "nora", "password": "nora-temp-pass"})
    assert r.status_code == 201, r.text
    nora = server.client(server.login("nora", "nora-temp-pass"))
    r = nora.post(
        "/api/auth/change-password", json={"currentPassword": "nora-temp-pass", "newPassword": "nora-password-1"}
    )
    assert r.status_code == 200, r.text
    user = sign_in(new_page(), "nora", "nora-password-1", then="/")
    card = user.locator('.tool-card[data-tool="colorize"]')
    expect(card.locator(".model-note")).to_contain_text(expected)
    expect(card.locator(".model-note")).to_contain_text("An administrator can install it.")
    expect(card.get_by_role("button")).to_have_count(1)  # only the favourite star, no install
    user.goto("/tools/image/colorize")
    expect(user.locator(".tool-page-note")).to_contain_text("An administrator can install it under Settings")
    expect(user.locator(".tool-page-note button")).to_have_count(0)


def test_enum_settings_are_selects_built_from_the_schema(new_page: Callable[..., Page], server: Server) -> None:
    tool = next(t for t in catalog(server) if t["id"] == "upscale")
    choices = tool["settingsSchema"]["properties"]["model"]["enum"]
    page = sign_in(new_page(), then="/tools/image/upscale")
    model = page.get_by_label("Model", exact=True)
    assert model.evaluate("el => el.tagName") == "SELECT"
    options = model.locator("option").all_inner_texts()
    assert [o for o in options if o] == choices
    # A one-value Literal (JSON Schema `const`) is a choice too, not a free-text box.
    assert next(t for t in catalog(server) if t["id"] == "colorize")["settingsSchema"]["properties"]["model"]["const"]
    page.goto("/tools/image/colorize")
    model = page.get_by_label("Model", exact=True)
    assert model.evaluate("el => el.tagName") == "SELECT"
    expect(model.locator("option:checked")).to_have_text("ddcolor")


PAGES = {
    "home": "/",
    "tool-resize": "/tools/image/resize",
    "files": "/files",
    "settings": "/settings/profile",
    "admin-system": "/settings/system",
}


def test_screenshots_of_the_main_pages_in_both_themes(new_page: Callable[..., Page], server: Server) -> None:
    api = server.api()
    backgrounds: dict[str, dict[str, str]] = {}
    for theme in ("light", "dark"):
        # The user's own choice, kept on the server, so the page paints in it from the first load.
        assert api.put("/api/v1/user/preferences", json={"theme": theme}).status_code == 200
        page = sign_in(new_page(), then="/")
        for name, path in PAGES.items():
            page.goto(path)
            expect(page.locator("#main h1").first).to_be_visible()
            expect(page.locator(".loading")).to_have_count(0)
            page.wait_for_load_state("networkidle")
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            backgrounds.setdefault(name, {})[theme] = page.evaluate(BACKGROUND)
            screenshot(page, f"{name}-{theme}")
    api.put("/api/v1/user/preferences", json={"theme": "system"})
    for name in PAGES:
        assert backgrounds[name] == {"light": "rgb(246, 247, 249)", "dark": "rgb(15, 19, 24)"}, name
        light, dark = (SCREENSHOTS / f"{name}-{t}.png" for t in ("light", "dark"))
        assert light.stat().st_size > 5000 and dark.stat().st_size > 5000
        assert light.read_bytes() != dark.read_bytes()
