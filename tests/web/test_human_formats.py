"""Human formats in the browser: durations and uptime in words, AI details as lists rather than JSON,
and result summaries that fit the output (a transcript shows its words, not a size change)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.conftest import Server, sign_in


def test_durations_read_as_words(new_page: Callable[..., Page]) -> None:
    page = sign_in(new_page(), then="/")
    cases = page.evaluate(
        """async () => {
          const { formatDuration } = await import('/static/dom.js');
          return [0, 42, 75, 4000, 90061, null].map(formatDuration);
        }"""
    )
    assert cases == ["0 s", "42 s", "1 min 15 s", "1 h 6 min", "1 d 1 h", "\u2013"]


def test_admin_system_shows_uptime_and_ai_in_words(new_page: Callable[..., Page], server: Server) -> None:
    page = sign_in(new_page(), then="/settings/system")
    status = page.get_by_role("region", name="Status")
    expect(status).to_contain_text(re.compile(r"Uptime\s*\d+ (s|min)"))
    ai = page.get_by_role("region", name="AI")
    # The bundles are a table: one row per bundle, its state in words (the server has the AI runtime).
    bundles = ai.locator("table").filter(has=page.locator("caption", has_text="Bundles"))
    expect(bundles.locator("thead th")).to_have_text(["Bundle", "Installed"])
    expect(bundles.locator("tbody tr").first).to_contain_text(re.compile(r"installed"))
    assert bundles.locator("tbody tr").count() >= 3
    expect(ai).to_contain_text(re.compile(r"Providers\s*CPUExecutionProvider"))
    assert "{" not in ai.inner_text() and '":' not in ai.inner_text() and "true" not in ai.inner_text()
    expect(status).not_to_contain_text(re.compile(r"\d+s\b"))


def test_a_transcript_result_shows_words_not_a_size_change(new_page: Callable[..., Page], tmp_path: Path) -> None:
    wav = tmp_path / "memo.wav"
    subprocess.run(
        ["espeak-ng", "-s", "140", "-w", str(wav), "The quick brown fox jumps over the lazy dog."], check=True
    )
    page = sign_in(new_page(), then="/tools/audio/transcribe-audio")
    page.locator(".dropzone input[type=file]").set_input_files(str(wav))
    page.get_by_role("button", name="Run", exact=True).click()
    stats = page.locator(".result .result-stats")
    expect(stats).to_contain_text(re.compile(r"\d+ words"), timeout=90_000)
    assert "%" not in stats.inner_text()
    expect(stats).to_contain_text(re.compile(r"\d+ s"))
