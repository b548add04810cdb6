"""Builds the browser UI's message catalogues, app/web/static/i18n/<locale>.json (run by hand after
changing a UI text, a tool or a translation; nothing runs this at request time).

English is the source: its catalogue holds every key the UI uses, read from the scripts' t('...') and
tk('...') calls, and every tool's title and description from the registry. The other languages come
from scripts/i18n/ui.<locale>.json (UI texts and setting labels) and scripts/i18n/tools.<locale>.tsv
(id, title, description of every tool that is not a conversion preset); a conversion preset's texts are
made from a per-language pattern and its base tool's translated title.

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

# English plural forms for the keys counted with {count} (other languages give theirs in ui.<locale>.json).
EN_PLURALS: dict[str, dict[str, str]] = {
    "{count} words": {"one": "{count} word", "other": "{count} words"},
}

PRESET_DESCRIPTION = re.compile(
    r"Convert (?P<src>.+?) to (?P<dst>.+?) in one click: runs (?P<base>.+) \((?P<ref>[^)]+)\) "
    r"and takes (?P<src2>.+?) files only\."
)

# A conversion preset in each language: its title, and its description from the base tool's title.
PRESET_PATTERNS: dict[str, tuple[str, str]] = {
    "de": ("{src} in {dst}", "{src} mit einem Klick in {dst} umwandeln: führt „{base}“ ({ref}) aus und nimmt nur {src}-Dateien an."),
    "fr": ("{src} en {dst}", "Convertir {src} en {dst} en un clic : lance « {base} » ({ref}) et n’accepte que les fichiers {src}."),
    "es": ("{src} a {dst}", "Convierte {src} a {dst} con un clic: ejecuta «{base}» ({ref}) y solo acepta archivos {src}."),
    "zh-CN": ("{src} 转 {dst}", "一键将 {src} 转换为 {dst}：运行“{base}”（{ref}），仅接受 {src} 文件。"),
    "ja": ("{src} を {dst} に変換", "{src} をワンクリックで {dst} に変換：「{base}」（{ref}）を実行し、{src} ファイルのみを受け付けます。"),
}


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


def read_tool_translations(locale: str) -> dict[str, tuple[str, str]]:
    path = SOURCES / f"tools.{locale}.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row[0]: (row[1], row[2]) for row in rows if row and not row[0].startswith("#")}


def preset_texts(tool: Any, locale: str, titles: dict[str, str]) -> tuple[str, str] | None:
    found = PRESET_DESCRIPTION.fullmatch(tool.description)
    if not found or locale not in PRESET_PATTERNS:
        return None
    base_id = found["ref"].split(",")[0].strip()
    title_pattern, description_pattern = PRESET_PATTERNS[locale]
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
    en_ui = SOURCES / "ui.en.json"
    if en_ui.exists():  # setting labels and other keys made at run time ("setting.<name>")
        english.update(json.loads(en_ui.read_text(encoding="utf-8")))
    write("en", english)

    for locale in ("de", "fr", "es", "zh-CN", "ja"):
        source = SOURCES / f"ui.{locale}.json"
        ui = json.loads(source.read_text(encoding="utf-8")) if source.exists() else {}
        messages: dict[str, Any] = {key: ui[key] for key in english if key in ui}
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
