"""Builds the browser UI's message catalogues, app/web/static/i18n/<locale>.json (run by hand after
changing a UI text, a tool or a translation; nothing runs this at request time).

English is the source: its catalogue holds every key the UI uses, read from the scripts' t('...') and
tk('...') calls, and every tool's title and description from the registry. The other languages come
from scripts/i18n/ui.tsv (one row per English text, then its German, French, Spanish, Simplified Chinese
and Japanese translations, separated by "¦"; a cell starting with "{\"" holds plural forms as JSON),
scripts/i18n/settings.tsv (setting labels by setting name, "setting.<name>", the same columns) and
scripts/i18n/tools.<locale>.tsv (id, title, description of every tool that is not a conversion preset);
a conversion preset's texts come from its language's pattern in scripts/i18n/presets.tsv and its base tool's title.

    PYTHONPATH=$PWD .venv/bin/python scripts/i18n_build.py
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "app" / "web" / "static"
SOURCES = Path(__file__).resolve().parent / "i18n"
OUT = STATIC / "i18n"

# t('...') and tk('...') with a single-quoted literal first argument (escaped quotes allowed).
KEY_CALL = re.compile(r"""\btk?\(\s*'((?:[^'\\]|\\.)*)'""")

# English plural forms for the keys counted with {count} (other languages give theirs in ui.tsv).
EN_PLURALS: dict[str, dict[str, str]] = {
    "{count} words": {"one": "{count} word", "other": "{count} words"},
    "{count} files": {"one": "{count} file", "other": "{count} files"},
    "{count} pages": {"one": "{count} page", "other": "{count} pages"},
    "{count} tools": {"one": "{count} tool", "other": "{count} tools"},
    "{count} users": {"one": "{count} user", "other": "{count} users"},
    "Added {count} files": {"one": "Added {count} file", "other": "Added {count} files"},
    "Delete {count} files with all their versions?": {
        "one": "Delete {count} file with all its versions?",
        "other": "Delete {count} files with all their versions?",
    },
    "Delete “{name}” and all {count} versions?": {
        "one": "Delete “{name}” and its only version?",
        "other": "Delete “{name}” and all {count} versions?",
    },
    "Scaled mode: {count} workers online.": {
        "one": "Scaled mode: {count} worker online.",
        "other": "Scaled mode: {count} workers online.",
    },
    "Saved: {count} tools turned off.": {
        "one": "Saved: {count} tool turned off.",
        "other": "Saved: {count} tools turned off.",
    },
}
LANGUAGES = ("de", "fr", "es", "zh-CN", "ja")
SEPARATOR = "¦"

PRESET_DESCRIPTION = re.compile(
    r"Convert (?P<src>.+?) to (?P<dst>.+?) in one click: runs (?P<base>.+) \((?P<ref>[^)]+)\) "
    r"and takes (?P<src2>.+?) files only\."
)


def ui_keys() -> list[str]:
    """Every message key the scripts use, in the order first met."""
    keys: dict[str, None] = {}
    for path in sorted(STATIC.rglob("*.js")):
        for match in KEY_CALL.finditer(path.read_text(encoding="utf-8")):
            keys[match.group(1).replace("\\'", "'")] = None
    return list(keys)


def tools() -> list[Any]:
    from app.engine import registry

    return sorted(registry.load_all().values(), key=lambda tool: tool.id)


def read_rows(name: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """{locale: {key: text or plural forms}} from a "¦"-separated file of English and five translations."""
    path = SOURCES / name
    out: dict[str, dict[str, Any]] = {locale: {} for locale in LANGUAGES}
    if not path.exists():
        return out
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split(SEPARATOR)]
        if len(cells) != 1 + len(LANGUAGES):
            raise SystemExit(f"{path.name}:{number}: {len(cells)} cells, expected {1 + len(LANGUAGES)}")
        key, *texts = cells
        for locale, text in zip(LANGUAGES, texts, strict=True):
            out[locale][prefix + key] = json.loads(text) if text.startswith('{"') else text
    return out


def read_tool_translations(locale: str) -> dict[str, tuple[str, str]]:
    path = SOURCES / f"tools.{locale}.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row[0]: (row[1], row[2]) for row in rows if row and not row[0].startswith("#")}


def preset_patterns() -> dict[str, tuple[str, str]]:
    """{locale: (title pattern, description pattern)} of the conversion presets."""
    lines = (SOURCES / "presets.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(SEPARATOR) for line in lines if line.strip() and not line.startswith("#")]
    return {locale: (title, description) for locale, title, description in rows}


def preset_texts(tool: Any, locale: str, titles: dict[str, str]) -> tuple[str, str] | None:
    found = PRESET_DESCRIPTION.fullmatch(tool.description)
    patterns = preset_patterns()
    if not found or locale not in patterns:
        return None
    base_id = found["ref"].split(",")[0].strip()
    title_pattern, description_pattern = patterns[locale]
    words = {"src": found["src"], "dst": found["dst"], "ref": found["ref"], "base": titles.get(base_id, found["base"])}
    src, dst = tool.title.split(" to ", 1)
    return title_pattern.format(src=src, dst=dst), description_pattern.format(**words)


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    keys = ui_keys()
    catalog = tools()
    english: dict[str, Any] = {key: EN_PLURALS.get(key, key) for key in keys}
    for tool in catalog:
        english[f"tool.{tool.id}.title"] = tool.title
        english[f"tool.{tool.id}.description"] = tool.description
    write("en", english)
    ui_rows = read_rows("ui.tsv")
    # Setting labels: English is the setting's name in words (i18n.js), so only the translations are kept.
    setting_rows = read_rows("settings.tsv", prefix="setting.")

    for locale in LANGUAGES:
        ui = ui_rows[locale]
        messages: dict[str, Any] = {key: ui[key] for key in english if key in ui}
        messages.update(setting_rows[locale])
        translated = read_tool_translations(locale)
        titles = {tool_id: title for tool_id, (title, _) in translated.items()}
        for tool in catalog:
            texts = translated.get(tool.id) or preset_texts(tool, locale, titles)
            if texts:
                messages[f"tool.{tool.id}.title"], messages[f"tool.{tool.id}.description"] = texts
        unknown = sorted(set(ui) - set(english))
        if unknown:
            print(f"{locale}: translations of keys no longer used: {unknown[:5]}", file=sys.stderr)
        write(locale, messages)


def write(locale: str, messages: dict[str, Any]) -> None:
    path = OUT / f"{locale}.json"
    path.write_text(json.dumps(messages, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(messages)} messages")


if __name__ == "__main__":
    build()
