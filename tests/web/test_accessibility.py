"""Accessibility: axe-core (the npm package, installed by the test command into .test-tools/) checks
every main page in both themes and at phone width; no serious or critical violation is allowed. And
every action on a page is reachable by keyboard, with a visible focus ring."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import ROOT, Server, sign_in

AXE = ROOT / ".test-tools" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PAGES = [
    "/",
    "/tools/image/resize",
    "/tools/pdf/merge-pdf",
    "/pdf-organizer",
    "/tools/audio/transcribe-audio",
    "/tools/image/colorize",  # an AI tool whose model is missing: the note and its install button
    "/pipelines",
    "/files",
    "/automations",
    "/settings/profile",
    "/settings/api-keys",
    "/settings/users",
    "/settings/teams",
    "/settings/roles",
    "/settings/audit",
    "/settings/tools",
    "/settings/ai",
    "/settings/system",
]


def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): ./lutra.sh test (or ./lutra.sh setup) installs it")
    return AXE.read_text()


def serious_violations(page: Page) -> list[str]:
    # evaluate() runs in the page through the DevTools protocol, outside its Content-Security-Policy.
    page.evaluate(axe_source())
    result = page.evaluate(f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(TAGS)}}}}})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [
                f"{', '.join(node['target'])} {json.dumps((node.get('any') or [{}])[0].get('data'))}"
                for node in violation["nodes"][:5]
            ]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def settle(page: Page) -> None:
    """Waits until the page drew its content (no 'Loading…' left)."""
    expect(page.locator("#main h1").first).to_be_visible()
    expect(page.locator(".loading")).to_have_count(0)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("path", PAGES)
def test_every_main_page_has_no_serious_violations_in_either_theme(
    new_page: Callable[..., Page], server: Server, path: str
) -> None:
    page = sign_in(new_page(), then=path)
    problems: dict[str, list[str]] = {}
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        settle(page)
        found = serious_violations(page)
        if found:
            problems[theme] = found
    assert not problems, json.dumps(problems, indent=2)


def test_the_login_page_and_a_phone_screen_have_no_serious_violations(
    new_page: Callable[..., Page], server: Server
) -> None:
    page = new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert serious_violations(page) == []
    phone = sign_in(new_page(width=375, height=740), then="/")
    settle(phone)
    assert serious_violations(phone) == []
    phone.get_by_role("button", name="Menu").click()
    assert serious_violations(phone) == []


def test_every_action_is_reachable_by_keyboard_with_a_visible_focus(
    new_page: Callable[..., Page], server: Server, tmp_path: Path
) -> None:
    page = sign_in(new_page(), then="/tools/image/resize")
    settle(page)
    # Tab through the page from its top: every focus stop shows an outline or a box-shadow ring.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
              const ring = outline || style.boxShadow !== 'none';
              const text = (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40);
              return { tag: el.tagName, text, ring };
            }"""
        )
        seen.append(info)
    unringed = [s for s in seen if not s["ring"] and s["tag"] != "BODY"]
    assert not unringed, unringed
    texts = " ".join(s["text"] for s in seen)
    # The skip link, the navigation, the file picker and the tool's Run button are all on the way.
    for expected in ("Skip to content", "Tools", "Pipelines", "Files", "Settings", "Choose from library", "Run"):
        assert expected in texts, (expected, seen)
