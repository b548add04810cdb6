"""Data-file helpers for the `files` tools: text decoding, CSV, JSON, XML and YAML, read safely.

Uploads are hostile: XML goes through defusedxml (no entity declarations, no external references,
nothing fetched), YAML through yaml.safe_load (no Python objects), and every parser error becomes a
short InputRejected instead of a traceback.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from app.engine.tool import InputRejected, ToolFailure

# A CSV field may hold a whole paragraph; csv's 128 kB default refuses some real exports.
csv.field_size_limit(16 * 1024 * 1024)

# JSON/YAML nesting deeper than this is refused: the converters recurse.
MAX_DEPTH = 200


def read_text(path: Path) -> str:
    """The file as text: UTF-8 (with or without a BOM), else Windows-1252, which Excel writes."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


# -- CSV ------------------------------------------------------------------------------------------------


def sniff_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a text: delimiter among , ; tab |, sniffed from its first lines."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _encoding(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut at the end of the sample is still UTF-8.
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8-sig"


def iter_csv(path: Path) -> Iterator[list[str]]:
    """The rows of a CSV file, streamed (delimiter sniffed from the start), blank lines skipped."""
    encoding = _encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        dialect = sniff_dialect(f.read(64 * 1024))
        f.seek(0)
        try:
            for row in csv.reader(f, dialect):
                if any(c.strip() for c in row):
                    yield row
        except csv.Error as exc:
            raise InputRejected(f"The CSV file could not be read: {_short(exc)}", 400) from exc


def read_csv(path: Path) -> list[list[str]]:
    """All rows of a CSV file (delimiter sniffed), blank lines dropped."""
    rows = list(iter_csv(path))
    if not rows:
        raise InputRejected("The CSV file has no rows", 400)
    return rows


def write_csv(path: Path, rows: Iterable[Iterable[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def rows_to_records(rows: list[list[str]]) -> list[dict[str, str]]:
    """The first row names the columns; short rows get empty strings, long rows' extras are kept as
    column_N."""
    header = unique_names(rows[0])
    records = []
    for row in rows[1:]:
        cells = row + [""] * (len(header) - len(row))
        names = header + [f"column_{i + 1}" for i in range(len(header), len(cells))]
        records.append(dict(zip(names, cells, strict=True)))
    return records


def unique_names(names: list[str]) -> list[str]:
    """Column names made non-empty and unique (a, a_2, column_3 ...)."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        base = name.strip() or f"column_{i + 1}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


# -- JSON -----------------------------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    try:
        value = json.loads(read_text(path))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputRejected(f"The file is not valid JSON: {_short(exc)}", 400) from exc
    check_depth(value)
    return value


def dump_json(value: Any, pretty: bool) -> str:
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InputRejected(f"The data is nested more than {MAX_DEPTH} levels deep", 400)
    if isinstance(value, dict):
        for v in value.values():
            check_depth(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_depth(v, depth + 1)


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}, "c": [1, 2]} -> {"a.b": 1, "c": "[1, 2]"}: nested objects become dotted columns,
    lists their JSON text."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, dict)):
            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value
    return out


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def records_to_rows(value: Any) -> list[list[str]]:
    """JSON data as CSV rows: an array of objects (columns in first-seen order), an array of arrays,
    or an object holding one such array."""
    if isinstance(value, dict):
        arrays = [v for v in value.values() if isinstance(v, list)]
        value = arrays[0] if len(arrays) == 1 else [value]
    if not isinstance(value, list) or not value:
        raise ToolFailure("the JSON must be a non-empty array of objects or arrays")
    if all(isinstance(item, list) for item in value):
        return [[cell_text(v) if not isinstance(v, (dict, list)) else json.dumps(v) for v in item] for item in value]
    if not all(isinstance(item, dict) for item in value):
        raise ToolFailure("the JSON array must hold only objects or only arrays")
    flat = [flatten(item) for item in value]
    columns: dict[str, None] = {}
    for item in flat:
        columns.update(dict.fromkeys(item))
    header = list(columns)
    return [header] + [[cell_text(item.get(c)) for c in header] for item in flat]


# -- XML ------------------------------------------------------------------------------------------------


def parse_xml(path: Path) -> Element:
    """Parses XML with defusedxml: entity declarations and external references are refused, so no
    file or URL is ever read (XXE) and no entity expansion bomb runs."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(path.read_bytes(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputRejected("XML with entity declarations or external references is not accepted", 400) from exc
    except (ParseError, ValueError, RecursionError) as exc:
        raise InputRejected(f"The file is not well-formed XML: {_short(exc)}", 400) from exc


def local_name(tag: str) -> str:
    """'{namespace}item' -> 'item'."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else "node"


def xml_to_data(element: Element, depth: int = 0) -> Any:
    """An element as JSON data: attributes as "@name", text as "#text" (or the value itself when the
    element has nothing else), repeated children as lists."""
    if depth > MAX_DEPTH:
        raise InputRejected(f"The XML is nested more than {MAX_DEPTH} levels deep", 400)
    out: dict[str, Any] = {f"@{local_name(k)}": v for k, v in element.attrib.items()}
    groups: dict[str, list[Any]] = {}
    for child in element:
        if isinstance(child.tag, str):  # not a comment or processing instruction
            groups.setdefault(local_name(child.tag), []).append(xml_to_data(child, depth + 1))
    for name, values in groups.items():
        out[name] = values if len(values) > 1 else values[0]
    text = (element.text or "").strip()
    if text:
        if not out:
            return text
        out["#text"] = text
    return out or None


_NAME_START = re.compile(r"^[^A-Za-z_]")
_NAME_BAD = re.compile(r"[^\w.-]")


def xml_name(key: str) -> str:
    name = _NAME_BAD.sub("_", str(key)) or "item"
    if _NAME_START.match(name) or name.lower().startswith("xml"):
        name = "_" + name
    return name


def data_to_xml(value: Any, root_name: str = "root") -> Element:
    """JSON data as XML: an object with one key becomes that root; otherwise a <root>. "@x" keys become
    attributes and "#text" the text, so XML -> JSON -> XML round-trips."""
    if isinstance(value, dict) and len(value) == 1 and not next(iter(value)).startswith(("@", "#")):
        ((key, inner),) = value.items()
        if not isinstance(inner, list):
            return _build(xml_name(key), inner)
    return _build(root_name, value)


def _build(name: str, value: Any) -> Element:
    element = Element(name)
    _fill(element, value)
    return element


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            key = str(key)
            if key.startswith("@") and not isinstance(inner, (dict, list)):
                element.set(xml_name(key[1:]), cell_text(inner))
            elif key == "#text":
                element.text = cell_text(inner)
            elif isinstance(inner, list):
                for item in inner:
                    element.append(_build(xml_name(key), item))
            else:
                element.append(_build(xml_name(key), inner))
    elif isinstance(value, list):
        for item in value:
            element.append(_build("item", item))
    else:
        element.text = cell_text(value)


def xml_text(element: Element, pretty: bool) -> str:
    from xml.etree.ElementTree import indent, tostring

    if pretty:
        indent(element, space="  ")
    body = tostring(element, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + ("\n" if pretty else "")


def find_records(root: Element) -> list[Element]:
    """The repeating element of a document: among all parents, the child tag that repeats most often
    (ties go to the shallower one). A document with no repetition gives the root's children."""
    best: tuple[int, int] = (0, 0)
    found: list[Element] = []
    stack: list[tuple[Element, int]] = [(root, 0)]
    while stack:
        parent, depth = stack.pop()
        groups: dict[str, list[Element]] = {}
        for child in parent:
            if isinstance(child.tag, str):
                groups.setdefault(child.tag, []).append(child)
                stack.append((child, depth + 1))
        for items in groups.values():
            score = (len(items), -depth)
            if len(items) >= 2 and score > best:
                best, found = score, items
    if not found:
        found = [c for c in root if isinstance(c.tag, str)] or [root]
    return found


def record_fields(element: Element) -> dict[str, str]:
    """One record as columns: attributes (@name), leaf children by name, deeper ones as a.b paths,
    repeated leaves joined with '; '."""
    out: dict[str, str] = {f"@{local_name(k)}": v for k, v in element.attrib.items()}

    def walk(node: Element, prefix: str, depth: int) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            name = prefix + local_name(child.tag)
            for key, value in child.attrib.items():
                out[f"{name}@{local_name(key)}"] = value
            if len(child) and depth < 20:
                walk(child, name + ".", depth + 1)
            text = (child.text or "").strip()
            if text or not len(child):
                out[name] = f"{out[name]}; {text}" if name in out and text else text or out.get(name, "")

    walk(element, "", 0)
    text = (element.text or "").strip()
    if text:
        out[local_name(element.tag)] = text
    return out


# -- YAML -----------------------------------------------------------------------------------------------


def read_yaml(path: Path) -> Any:
    """yaml.safe_load: plain data only (no Python object tags); several documents become a list."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(read_text(path)))
        value = documents[0] if len(documents) == 1 else documents
        # Aliases share one object in memory; written out, each is a full copy, which is how a
        # "billion laughs" YAML grows. The copy is bounded by a node budget, and a cycle by the depth.
        value = _jsonable(value, [MAX_NODES], 0)
    except yaml.YAMLError as exc:
        raise InputRejected(f"The file is not valid YAML: {_short(exc)}", 400) from exc
    except RecursionError as exc:
        raise InputRejected("The YAML is nested too deeply", 400) from exc
    return value


MAX_NODES = 2_000_000


def _jsonable(value: Any, budget: list[int], depth: int) -> Any:
    """YAML values JSON has no type for (dates, binary, sets) become strings."""
    budget[0] -= 1
    if budget[0] < 0:
        raise InputRejected("The YAML expands to too much data (aliases repeated too often)", 400)
    if depth > MAX_DEPTH:
        raise InputRejected(f"The data is nested more than {MAX_DEPTH} levels deep", 400)
    if isinstance(value, dict):
        return {k if isinstance(k, str) else cell_text(k): _jsonable(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v, budget, depth + 1) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def dump_yaml(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


# -- ZIP archives ---------------------------------------------------------------------------------------

MAX_ARCHIVE_ENTRIES = 1000
MAX_ARCHIVE_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100
# Small, very repetitive files (a page of spaces) compress past 100:1 without being a bomb; the
# ratio is judged once an entry (or the archive) has given more than this.
RATIO_FLOOR_BYTES = 1024 * 1024
_CHUNK = 256 * 1024
_SYMLINK = 0o120000


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if "\x00" in name:
        return "a name with a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"an absolute path ({name!r})"
    if ".." in parts:
        return f"a path leaving the archive ({name!r})"
    if (info.external_attr >> 16) & 0o170000 == _SYMLINK:
        return f"a symbolic link ({name!r})"
    if info.flag_bits & 0x1:
        return "password-protected entries"
    return None


def safe_extract(
    archive: Path, dest_name: Callable[[str], Path], check_cancelled: Callable[[], None]
) -> list[tuple[str, Path, int]]:
    """Extracts the files of a ZIP, refusing zip-slip names, symlinks, too many entries, and bombs.

    The limits on size and ratio are enforced on the bytes actually inflated, counted while they
    are written, never on the sizes the headers claim. `dest_name(entry name)` gives each file's
    path. Returns (entry name, path, size) for each file; a refusal removes what was written.
    """
    written: list[tuple[str, Path, int]] = []
    try:
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            if len(infos) > MAX_ARCHIVE_ENTRIES:
                raise InputRejected(f"The archive has {len(infos)} entries (the limit is {MAX_ARCHIVE_ENTRIES})", 400,
                                    "ARCHIVE_REFUSED")  # fmt: skip
            for info in infos:
                problem = _entry_problem(info)
                if problem:
                    raise InputRejected(f"The archive was refused: it contains {problem}", 400, "ARCHIVE_REFUSED")
            archive_size = max(1, archive.stat().st_size)
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                check_cancelled()
                target = dest_name(info.filename)
                size = 0
                with z.open(info) as src, target.open("wb") as out:
                    written.append((info.filename, target, 0))
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if total > MAX_ARCHIVE_BYTES:
                            raise InputRejected("The archive unpacks to more than 500 MiB", 400, "ARCHIVE_REFUSED")
                        if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(1, info.compress_size):
                            raise InputRejected(f"The archive was refused: {info.filename!r} expands more than "
                                                f"{MAX_RATIO}:1 (a zip bomb?)", 400, "ARCHIVE_REFUSED")  # fmt: skip
                        if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * archive_size:
                            raise InputRejected(f"The archive was refused: it expands more than {MAX_RATIO}:1 "
                                                "(a zip bomb?)", 400, "ARCHIVE_REFUSED")  # fmt: skip
                        out.write(chunk)
                written[-1] = (info.filename, target, size)
    except InputRejected:
        _remove(written)
        raise
    except zipfile.BadZipFile as exc:
        _remove(written)
        raise InputRejected(f"The archive is damaged: {_short(exc)}", 400) from exc
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error) as exc:
        _remove(written)
        raise InputRejected("The archive is damaged or uses an unsupported compression", 400) from exc
    return written


def _remove(written: list[tuple[str, Path, int]]) -> None:
    for _, path, _ in written:
        path.unlink(missing_ok=True)


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_filename(name: str, taken: set[str], fallback: str = "file") -> str:
    """A flat, downloadable output name ('..', separators and control characters removed), made
    unique against `taken` as 'a (2).txt'."""
    flat = re.sub(r"\.{2,}", ".", _UNSAFE_NAME.sub("_", name)).strip(" .") or fallback
    if len(flat) > 180:
        stem, dot, ext = flat.rpartition(".")
        flat = (stem[: 170 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else flat[:180]
    path = Path(flat)
    candidate, n = flat, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{path.stem} ({n}){path.suffix}"
    taken.add(candidate.lower())
    return candidate
