"""The browser UI's message catalogues (app/web/static/i18n/<locale>.json): every key the scripts use is in
English, every language has every UI text and every tool's title and description, placeholders match, and
DEFAULT_LOCALE accepts the six languages only. Run with -s to see each catalogue's completeness."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.config import LOCALES, Settings
from app.engine import registry

STATIC = Path(__file__).resolve().parents[1] / "app" / "web" / "static"
CATALOGUES = STATIC / "i18n"
KEY_CALL = re.compile(r"""\btk?\(\s*'((?:[^'\\]|\\.)*)'""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(locale: str) -> dict[str, Any]:
    return dict(json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8")))


def keys_used_in_scripts() -> dict[str, str]:
    """{key: the script that uses it} for every t('...') and tk('...') with a literal key."""
    used: dict[str, str] = {}
    for path in sorted(STATIC.rglob("*.js")):
        for match in KEY_CALL.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(1).replace("\\'", "'"), path.relative_to(STATIC).as_posix())
    return used


def placeholders(value: Any) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def setting_names() -> set[str]:
    """Every tool setting's name: a label the forms show ("setting.<name>" in a catalogue, else English)."""
    names: set[str] = set()
    for tool in registry.load_all().values():
        if tool.settings is not None:
            names |= set(tool.settings.model_json_schema().get("properties", {}))
    return names


ENGLISH = load("en")
UI_KEYS = [key for key in ENGLISH if not key.startswith("tool.")]
TOOL_KEYS = [key for key in ENGLISH if key.startswith("tool.")]


def test_the_scripts_use_t_and_every_key_is_in_english() -> None:
    used = keys_used_in_scripts()
    assert len(used) > 400, "the UI's texts should go through t()"
    missing = {key: script for key, script in used.items() if key not in ENGLISH}
    assert not missing, f"keys used in the scripts but missing from en.json (run scripts/i18n_build.py): {missing}"
    unused = sorted(set(UI_KEYS) - set(used))
    assert not unused, f"en.json holds keys no script uses: {unused[:10]}"


def test_every_tool_has_its_english_title_and_description() -> None:
    tools = registry.load_all()
    assert len(tools) >= 150
    for tool_id, tool in tools.items():
        assert ENGLISH[f"tool.{tool_id}.title"] == tool.title
        assert ENGLISH[f"tool.{tool_id}.description"] == tool.description
    assert len(TOOL_KEYS) == 2 * len(tools)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    messages = load(locale) if locale != "en" else ENGLISH
    ui = sum(key in messages for key in UI_KEYS)
    tools = sum(key in messages for key in TOOL_KEYS)
    names = setting_names()
    # English labels are the setting names in words (i18n.js), so English has them all.
    settings = len(names) if locale == "en" else sum(f"setting.{name}" in messages for name in names)
    print(
        f"\n{locale:6} UI texts {100 * ui / len(UI_KEYS):5.1f} % ({ui}/{len(UI_KEYS)})"
        f"  tool titles and descriptions {100 * tools / len(TOOL_KEYS):5.1f} % ({tools}/{len(TOOL_KEYS)})"
        f"  setting labels {100 * settings / len(names):5.1f} % ({settings}/{len(names)}, others in English)"
    )
    assert ui == len(UI_KEYS), sorted(set(UI_KEYS) - set(messages))[:10]
    assert tools == len(TOOL_KEYS), sorted(set(TOOL_KEYS) - set(messages))[:10]


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_translations_keep_placeholders_and_are_translated(locale: str) -> None:
    messages = load(locale)
    names = setting_names()
    for key, value in messages.items():
        if key.startswith("setting."):
            assert key.removeprefix("setting.") in names, f"{locale}: {key!r} names no tool setting"
            assert isinstance(value, str) and value, key
            continue
        assert key in ENGLISH, f"{locale}: {key!r} is not an English key any more"
        assert placeholders(value) == placeholders(ENGLISH[key]), f"{locale}: {key!r} -> {value!r}"
        if isinstance(value, dict):
            assert "other" in value, f"{locale}: plural forms of {key!r} need 'other'"
    # Translated, not copied: most tool titles differ from English (a few, like "Duotone", may not).
    titles = [key for key in TOOL_KEYS if key.endswith(".title")]
    same = [key for key in titles if messages[key] == ENGLISH[key]]
    assert len(same) < len(titles) / 10, f"{locale}: {len(same)} tool titles left in English, e.g. {same[:5]}"


def test_default_locale_is_one_of_the_six() -> None:
    assert Settings(_env_file=None).default_locale == "en"  # type: ignore[call-arg]
    assert Settings(_env_file=None, default_locale="zh_cn").default_locale == "zh-CN"  # type: ignore[call-arg]
    assert Settings(_env_file=None, default_locale="JA").default_locale == "ja"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="must be one of en, de, fr, es, zh-CN, ja"):
        Settings(_env_file=None, default_locale="ko")  # type: ignore[call-arg]
