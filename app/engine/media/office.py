"""Office, markdown, HTML and EPUB engines for the `files` tools: LibreOffice headless, pandoc,
WeasyPrint and markdown-it, each run so that an uploaded document can't reach anything outside it.

- LibreOffice: a fresh user profile per job inside the job folder (conversions run in parallel and
  share no state), macros disabled in that profile, no network proxy, a time limit, its own process
  group killed on cancel or timeout.
- pandoc: `--sandbox`, so a document can't include local files or fetch URLs.
- WeasyPrint: a URL fetcher that refuses every file:// and network URL, so nothing outside the
  HTML is read; only data: URIs (content inside the document itself) are decoded.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.engine.media import process
from app.engine.tool import InputFile, InputRejected, ToolContext, ToolFailure

log = logging.getLogger("lutra.office")

# An office document or EPUB is a ZIP of XML; these bound what a reader may inflate from one.
MAX_CONTAINER_ENTRIES = 10_000
MAX_CONTAINER_BYTES = 500 * 1024 * 1024

DEFAULT_TIMEOUT_S = 300


def check_container(path: Path) -> None:
    """Refuses a damaged ZIP container, or one whose entries claim more than the limits.

    Readers here (Python's zipfile under openpyxl/python-docx, LibreOffice's own) stop inflating an
    entry at the size its header declares, so the declared sizes bound what they will hold.
    """
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if z.testzip() is not None:
                raise InputRejected("The document is damaged (a part fails its checksum)", 400)
    except zipfile.BadZipFile as exc:
        raise InputRejected("The document is damaged or cut short", 400) from exc
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zipfile.LargeZipFile) as exc:
        raise InputRejected("The document is damaged or uses an unsupported ZIP feature", 400) from exc
    if len(infos) > MAX_CONTAINER_ENTRIES:
        raise InputRejected(f"The document has too many parts (over {MAX_CONTAINER_ENTRIES})", 400)
    if sum(i.file_size for i in infos) > MAX_CONTAINER_BYTES:
        raise InputRejected("The document unpacks to more than 500 MiB", 400)


# -- external programs --------------------------------------------------------------------------


def run_program(
    cmd: Sequence[str],
    ctx: ToolContext | None,
    *,
    what: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """process.run_program with the converters' failure wording; returns the last 20 kB of output."""
    return process.run_program(
        cmd, ctx, what=what, timeout_s=timeout_s, failure="could not convert this file", cwd=cwd, env=env
    )[1]


def _clean_env(home: Path) -> dict[str, str]:
    """A minimal environment: no proxy variables or credentials of the server leak into a converter,
    and HOME/TMPDIR point inside the job folder."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def scratch_dir(ctx: ToolContext, name: str) -> Path:
    path = (ctx.workdir / f".{name}").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def staged_input(scratch: Path, source: InputFile, ext: str) -> Path:
    """A copy of the input under a plain name: converters name outputs after inputs, and some read
    odd names (with ':' or leading '-') as URLs or options."""
    staged = scratch / f"input.{ext}"
    shutil.copyfile(source.path, staged)
    return staged


def program_timeout() -> float:
    """A converter's time limit: just under the job's, so the tool reports it, not the runner."""
    from app.config import get_settings

    return float(max(10, get_settings().job_timeout_s - 5))


# -- LibreOffice ----------------------------------------------------------------------------------

# The profile every conversion starts from. Macros: never run (security level "very high" and
# execution disabled). Links to other files or URLs inside a document: never updated on load, and
# linked pictures from untrusted referers blocked, so a document can't make LibreOffice fetch a URL
# or read a local file into the output.
_LO_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_LO_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Misc", "UseOpenCL", "false"),
    ("/org.openoffice.Office.Common/Misc", "PerformFileFormatCheck", "false"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "2"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "2"),
    ("/org.openoffice.Office.Common/Save/Document", "WarnAlienFormat", "false"),
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "0"),
)


def _lo_registry() -> str:
    items = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
        for path, name, value in _LO_SETTINGS
    )
    return _LO_REGISTRY.format(items=items)


# Output format -> (file extension, LibreOffice export filter).
LO_FILTERS: dict[str, tuple[str, str]] = {
    "docx": ("docx", "MS Word 2007 XML"),
    "odt": ("odt", "writer8"),
    "rtf": ("rtf", "Rich Text Format"),
    "txt": ("txt", "Text (encoded):UTF8"),
    "pptx": ("pptx", "Impress MS PowerPoint 2007 XML"),
    "odp": ("odp", "impress8"),
    "xlsx": ("xlsx", "Calc MS Excel 2007 XML"),
    "ods": ("ods", "calc8"),
    # Comma, double quotes, UTF-8 (76); text quoted only where needed, cells written as shown.
    "csv": ("csv", "Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true"),
    "writer-pdf": ("pdf", "writer_pdf_Export"),
    "calc-pdf": ("pdf", "calc_pdf_Export"),
    "impress-pdf": ("pdf", "impress_pdf_Export"),
}

# Detected kind -> the extension the staged copy gets (LibreOffice picks its import filter from it).
_STAGE_EXT = {"docx": "docx", "odt": "odt", "rtf": "rtf", "txt": "txt", "xlsx": "xlsx", "xls": "xls", "ods": "ods",
              "csv": "csv", "pptx": "pptx", "odp": "odp"}  # fmt: skip
_CSV_IMPORT = "CSV:44,34,76,1"


def soffice_convert(ctx: ToolContext, source: InputFile, target: str, *, what: str = "LibreOffice") -> Path:
    """Converts one document with headless LibreOffice into the job's output folder; returns the file.

    Each call starts LibreOffice with its own new profile inside the job folder, so conversions run
    in parallel and no state (or macro setting) carries from one upload to the next.
    """
    if shutil.which("soffice") is None:
        raise ToolFailure("LibreOffice is not installed on this server")
    if source.kind in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
        check_container(source.path)
    ext, export = LO_FILTERS[target]
    scratch = scratch_dir(ctx, "soffice")
    profile = scratch / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_lo_registry(), "utf-8")
    outdir = scratch / "out"
    outdir.mkdir(exist_ok=True)
    staged = staged_input(scratch, source, _STAGE_EXT.get(source.kind, "bin"))
    cmd = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
           "--nologo", "--nodefault", "--nolockcheck"]  # fmt: skip
    if source.kind in ("csv", "txt") and target in ("xlsx", "ods", "csv", "calc-pdf"):
        staged = _normalise_csv(staged)
        cmd.append(f"--infilter={_CSV_IMPORT}")
    cmd += ["--convert-to", f"{ext}:{export}", "--outdir", str(outdir), str(staged)]
    try:
        run_program(cmd, ctx, what=what, timeout_s=program_timeout(), cwd=scratch, env=_clean_env(scratch))
        result = outdir / f"{staged.stem}.{ext}"
        if not result.is_file() or result.stat().st_size == 0:
            # soffice exits 0 even when it could not load the input.
            raise ToolFailure(f"{what} could not read this document")
        final = ctx.output_path(f"{source.stem}.{ext}")
        shutil.move(result, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _normalise_csv(path: Path) -> Path:
    """Rewrites a CSV with any delimiter (; tab |) as UTF-8 comma CSV, the one import LibreOffice is told."""
    from app.engine.media import data

    out = path.with_name("input-normalised.csv")
    data.write_csv(out, data.iter_csv(path))
    return out


def pdf_pages(path: Path) -> int | None:
    """The page count of a converted PDF (None when it can't be read)."""
    try:
        import pikepdf

        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except Exception:  # a count is informative only; the file itself was produced
        return None


# -- markdown ---------------------------------------------------------------------------------------

_STYLE = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; line-height: 1.5; color: #222;
       max-width: 48em; margin: 0 auto; padding: 1em; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.2em 0 0.5em; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; background: #f4f4f4; }
pre { padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
blockquote { margin: 0; padding-left: 1em; border-left: 3px solid #ccc; color: #555; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; }
img { max-width: 100%; }
@page { size: A4; margin: 2cm; }
"""


def markdown_html(text: str) -> str:
    """Markdown (CommonMark + tables and strikethrough) as an HTML fragment. Raw HTML in the source is
    escaped, never passed through, so no <script> or event handler survives; markdown-it also refuses
    javascript:, vbscript: and file: links."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md.render(text)


def html_document(body: str, title: str) -> str:
    from html import escape

    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


# -- WeasyPrint -------------------------------------------------------------------------------------


def _blocking_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class Blocked(URLFetcher):
        """Refuses every URL but data: (content inside the document): no file:// read, no request
        sent, whatever the HTML or its CSS names."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url[:5].lower() == "data:" and len(url) < 20_000_000:
                return super().fetch(url, headers)
            raise ValueError("external resources are disabled")

    return Blocked(timeout=1, allowed_protocols=("data",), allow_redirects=False)


def html_to_pdf(ctx: ToolContext, html: str, out: Path) -> Path:
    """Renders HTML to PDF with WeasyPrint; nothing outside the HTML is fetched. No script runs
    (WeasyPrint has no JavaScript engine)."""
    from weasyprint import HTML

    ctx.check_cancelled()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    try:
        # base_url=None: relative URLs resolve to nothing rather than to the worker's folder.
        HTML(string=html, base_url=None, url_fetcher=_blocking_fetcher()).write_pdf(out)
    except (ValueError, OSError, AssertionError, IndexError, KeyError, TypeError, RecursionError) as exc:
        log.warning("WeasyPrint failed: %s", exc)
        raise ToolFailure("the HTML could not be rendered to PDF") from exc
    return out


# -- pandoc -------------------------------------------------------------------------------------------


def pandoc(ctx: ToolContext, source: Path, out: Path, reader: str, writer: str, args: Sequence[str] = (),
           *, what: str = "pandoc") -> Path:  # fmt: skip
    """Runs pandoc with --sandbox: the document can't include local files or fetch URLs (images it
    names are left out). Reads and writes inside a scratch folder; the result moves to `out`."""
    if shutil.which("pandoc") is None:
        raise ToolFailure("pandoc is not installed on this server")
    scratch = scratch_dir(ctx, "pandoc")
    staged = scratch / f"input{source.suffix.lower() if source.suffix else ''}"
    shutil.copyfile(source, staged)
    target = scratch / f"output{out.suffix}"
    cmd = ["pandoc", "--sandbox", "-f", reader, "-t", writer, *args, "-o", target.name, staged.name]
    try:
        run_program(cmd, ctx, what=what, timeout_s=program_timeout(), cwd=scratch, env=_clean_env(scratch))
        if not target.is_file() or target.stat().st_size == 0:
            raise ToolFailure(f"{what} produced no output")
        shutil.move(target, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


# pandoc 2.17's --sandbox also keeps its writers from reading pandoc's own data files, so the DOCX
# and EPUB writers fail under it. Those conversions go through the document tree instead: the
# reader runs sandboxed (it reads nothing but the upload; embedded pictures are extracted), the tree
# is cleaned here so that it names nothing outside the job (pictures only from the extracted ones or
# data: URIs, no raw HTML/LaTeX, no metadata such as cover-image or css that makes a writer read a
# file), and then the writer runs on that tree.
_META_KEEP = {"title", "subtitle", "author", "creator", "date", "lang", "language", "description", "subject",
              "publisher", "rights", "abstract"}  # fmt: skip


def _picture_allowed(target: str, media: Path, root: Path) -> bool:
    if target[:5].lower() == "data:":
        return True
    if "://" in target or target.startswith(("//", "\\")):
        return False
    path = (root / target).resolve()
    return path.is_relative_to(media) and path.is_file()


def _clean_tree(node: Any, media: Path, root: Path) -> Any:
    if isinstance(node, list):
        return [c for c in (_clean_tree(n, media, root) for n in node) if c is not _DROP]
    if not isinstance(node, dict):
        return node
    kind = node.get("t")
    if kind in ("RawBlock", "RawInline"):
        return _DROP
    if kind == "Image":
        attr, alt, (target, _title) = node["c"]
        if not _picture_allowed(str(target), media, root):
            # The picture goes; its description stays as text.
            return {"t": "Span", "c": [attr, _clean_tree(alt, media, root)]}
    return {k: _clean_tree(v, media, root) for k, v in node.items()}


_DROP = object()


def pandoc_tree(ctx: ToolContext, source: Path, out: Path, reader: str, writer: str, args: Sequence[str] = (),
                *, title: str | None = None, what: str = "pandoc") -> Path:  # fmt: skip
    """reader (sandboxed) -> cleaned document tree -> writer; see the note above."""
    import json

    if shutil.which("pandoc") is None:
        raise ToolFailure("pandoc is not installed on this server")
    scratch = scratch_dir(ctx, "pandoc")
    staged = scratch / f"input{source.suffix.lower() if source.suffix else ''}"
    shutil.copyfile(source, staged)
    media = (scratch / "media").resolve()
    tree_path = scratch / "tree.json"
    target = scratch / f"output{out.suffix}"
    env = _clean_env(scratch)
    limit = program_timeout()
    try:
        run_program(["pandoc", "--sandbox", "-f", reader, "-t", "json", "--extract-media=media", "-o", tree_path.name,
                     staged.name], ctx, what=what, timeout_s=limit, cwd=scratch, env=env)  # fmt: skip
        try:
            tree = json.loads(tree_path.read_text("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise ToolFailure(f"{what} could not read this document") from exc
        meta = {k: v for k, v in tree.get("meta", {}).items() if k in _META_KEEP}
        tree["meta"] = _clean_tree(meta, media, scratch.resolve())
        tree["blocks"] = _clean_tree(tree.get("blocks", []), media, scratch.resolve())
        if title and "title" not in tree["meta"]:
            tree["meta"]["title"] = {"t": "MetaString", "c": title}
        tree_path.write_text(json.dumps(tree), "utf-8")
        ctx.check_cancelled()
        run_program(["pandoc", "-f", "json", "-t", writer, *args, f"--resource-path={scratch}", "-o", target.name,
                     tree_path.name], ctx, what=what, timeout_s=limit, cwd=scratch, env=env)  # fmt: skip
        if not target.is_file() or target.stat().st_size == 0:
            raise ToolFailure(f"{what} produced no output")
        shutil.move(target, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
