"""The UI in six languages, in a real browser: a German and a Japanese page (texts, tool titles, <html lang>,
numbers and dates by Intl), the language picker saving the user's choice, and DEFAULT_LOCALE for a browser
whose languages are none of the six. Which language wins: the user's saved choice, then the browser's
languages, then DEFAULT_LOCALE."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import (
    ADMIN_PASSWORD,
    Server,
    change_first_password,
    screenshot,
    start_server,
)

# Intl output checked in the page: a size, a date (2026-03-01 12:00 UTC shown in UTC) and a duration.
FORMATS = """async () => {
  const { formatBytes, formatDate, formatDuration } = await import('/static/dom.js');
  return [formatBytes(1536), formatDate('2026-03-01T12:00:00Z'), formatDuration(4000)];
}"""


@pytest.fixture
def page_in(new_page: Callable[..., Page], server: Server) -> Callable[..., Page]:
    """Pages with a browser language (navigator.languages) of the test's choice, dates shown in UTC."""

    def make(locale: str, base: str | None = None) -> Page:
        return new_page(locale=locale, timezone_id="UTC", base_url=base or server.base)

    return make


def log_in(page: Page, then: str = "/", password: str = ADMIN_PASSWORD) -> Page:
    """Signs in by the inputs' names, whatever language the login page is in."""
    page.goto("/login?next=" + then)
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".nav-user .username")).to_have_text("admin")
    return page


def test_a_german_browser_gets_german_pages_tools_and_formats(page_in: Callable[..., Page]) -> None:
    page = page_in("de-DE")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bei Lutra anmelden")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkzeuge")
    expect(page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Einstellungen")).to_be_visible()
    resize = page.locator('.tool-section[data-category="Essentials"] li.tool-card[data-tool="resize"]')
    expect(resize.locator(".tool-title")).to_have_text("Größe ändern")
    # Category names are shown in German (the data attributes stay English), the sidebar's links too,
    # and an AI tool's missing model is named in German.
    expect(page.locator('.tool-section[data-category="Essentials"] h2')).to_contain_text("Grundlagen")
    ai_tools = page.locator('.tool-section[data-category="AI Tools"]')
    expect(ai_tools.locator("h2")).to_contain_text("KI-Werkzeuge")
    expect(page.locator('.category-nav a[data-category="Watermark & Overlay"]')).to_contain_text(
        "Wasserzeichen & Überlagerung"
    )
    expect(ai_tools.locator(".model-note").first).to_contain_text("Benötigt das Modell")
    expect(resize.locator(".tool-desc")).to_contain_text("Social-Media-Vorgaben")
    # A conversion preset, translated from its pattern.
    expect(page.locator('li.tool-card[data-tool="heic-to-jpg"] .tool-title')).to_have_text("HEIC in JPG")
    expect(page.locator(".count")).to_contain_text("Werkzeuge")
    # The search finds tools by their German and by their English names.
    page.get_by_label("Werkzeuge suchen").fill("Größe ändern")
    expect(page.locator('li.tool-card[data-tool="resize"]').first).to_be_visible()
    page.get_by_label("Werkzeuge suchen").fill("resize")
    expect(page.locator('li.tool-card[data-tool="resize"]').first).to_be_visible()
    screenshot(page, "home-de")

    page.goto("/tools/image/resize")
    expect(page.get_by_role("heading", level=1)).to_have_text("Größe ändern")
    expect(page.get_by_role("button", name="Ausführen", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Auf Standardwerte zurücksetzen")).to_be_visible()
    expect(page.get_by_role("region", name="Eingabe")).to_contain_text("Datei hier ablegen")
    # A setting label from the catalogue ("setting.width"); the help texts stay English.
    expect(page.locator('.field[data-field="width"] label')).to_have_text("Breite")
    assert page.title().startswith("Größe ändern")
    size, date, duration = page.evaluate(FORMATS)
    assert size == "1,5 KB"  # German decimal comma
    assert date == "01.03.2026, 12:00"
    assert duration == "1 Std. 6 Min."
    screenshot(page, "tool-de")


def test_a_japanese_browser_gets_japanese_pages_tools_and_formats(page_in: Callable[..., Page]) -> None:
    page = log_in(page_in("ja-JP"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("ツール")
    essentials = page.locator('.tool-section[data-category="Essentials"]')
    expect(essentials.locator('li.tool-card[data-tool="resize"] .tool-title')).to_have_text("リサイズ")
    expect(page.locator('.tool-section[data-category="Video"] h2')).to_contain_text("動画")
    screenshot(page, "home-ja")

    page.goto("/tools/pdf/merge-pdf")
    expect(page.get_by_role("heading", level=1)).to_have_text("PDF の結合")
    expect(page.locator(".lead")).to_contain_text("個の PDF をアップロード順に 1 つの文書に結合します。")
    expect(page.get_by_role("button", name="実行", exact=True)).to_be_visible()
    expect(page.locator(".crumbs")).to_contain_text("ツール")
    size, date, duration = page.evaluate(FORMATS)
    assert size == "1.5 KB"
    assert date == "2026/03/01 12:00"
    assert duration == "1時間 6分"
    screenshot(page, "tool-ja")


def test_the_picker_saves_the_language_and_it_stays_after_a_reload(
    page_in: Callable[..., Page], server: Server
) -> None:
    admin = server.api()
    try:
        page = log_in(page_in("en-US"), then="/settings")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_label("Language").select_option("fr")
        # Redrawn in French at once, saved on the server.
        expect(page.get_by_role("heading", level=1)).to_have_text("Réglages")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        assert admin.get("/api/v1/user/preferences").json()["locale"] == "fr"
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Réglages")
        expect(page.get_by_label("Langue")).to_have_value("fr")
        page.get_by_role("navigation", name="Principal").get_by_role("link", name="Outils").click()
        essentials = page.locator('.tool-section[data-category="Essentials"]')
        expect(essentials.locator('li.tool-card[data-tool="resize"] .tool-title')).to_have_text("Redimensionner")

        # The saved choice beats the browser's language: a Japanese browser shows French too.
        other = log_in(page_in("ja-JP"))
        expect(other.get_by_role("heading", level=1)).to_have_text("Outils")

        # Back to "same as the browser": English again for this en-US browser.
        page.goto("/settings")
        page.get_by_label("Langue").select_option("")
        expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
        assert admin.get("/api/v1/user/preferences").json()["locale"] is None
    finally:
        admin.put("/api/v1/user/preferences", json={"locale": None})


@pytest.fixture(scope="module")
def german_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("de-default") / "data", DEFAULT_LOCALE="de")
    try:
        change_first_password(running)
        yield running
    finally:
        running.stop()


def test_default_locale_serves_browsers_whose_languages_are_not_translated(
    page_in: Callable[..., Page], german_default: Server
) -> None:
    shell = german_default.client().get("/")
    assert '<html lang="de" data-default-locale="de">' in shell.text
    # A Korean browser: none of its languages is translated, so the server's default applies.
    page = page_in("ko-KR", base=german_default.base)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bei Lutra anmelden")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkzeuge")
    # A browser in a translated language keeps its own.
    english = page_in("en-US", base=german_default.base)
    english.goto("/login")
    expect(english.get_by_role("heading", level=1)).to_have_text("Log in to Lutra")
    expect(english.locator("html")).to_have_attribute("lang", "en")


def test_a_language_stays_for_the_login_page_after_signing_out(page_in: Callable[..., Page], server: Server) -> None:
    admin = server.api()
    try:
        admin.put("/api/v1/user/preferences", json={"locale": "es"})
        page = log_in(page_in("en-US"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Herramientas")
        page.get_by_role("button", name="Cerrar sesión").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión en Lutra")
    finally:
        admin.put("/api/v1/user/preferences", json={"locale": None})
