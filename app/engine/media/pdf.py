"""PDF helpers shared by the pdf tools: opening (with the encryption, completeness and page-count
checks every tool needs), qpdf page-range syntax, saving without active content, overlays drawn with
reportlab, and running Ghostscript, poppler and OCRmyPDF with a time limit and cancellation.

Rules every PDF tool gets from here:
- Encrypted input is refused with 400 ENCRYPTED_PDF, unless the tool unlocks or re-protects it.
- A PDF whose last kilobyte holds no `%%EOF` was cut short: refused before anything reads it, since
  qpdf would otherwise "recover" half a document and hand back a plausible but incomplete result.
- Nothing is ever executed: pikepdf/qpdf, Ghostscript and poppler do not run JavaScript, and outputs
  written here lose /OpenAction, /AA, document JavaScript and Launch/JavaScript link actions.
- Ghostscript always runs with -dSAFER -dBATCH -dNOPAUSE; every program is a child process in its
  own process group, killed on cancel or at the time limit, and its log never reaches the client.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator

from app.engine import failures
from app.engine.media import process
from app.engine.tool import InputFile, InputRejected, ToolContext, ToolFailure

if TYPE_CHECKING:
    import pikepdf

log = logging.getLogger("lutra.pdf")

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
GS = "gs"
ENCRYPTED = "This PDF is encrypted: remove its password with unlock-pdf first"
DAMAGED = "The PDF is damaged or cut short (no end-of-file marker); try repair-pdf"
UNREADABLE = "Not a readable PDF (it may be damaged or truncated)"
_EOF_WINDOW = 1024  # Acrobat accepts %%EOF anywhere in the last kilobyte; so do we


def max_pages() -> int:
    from app.config import get_settings

    return get_settings().max_pdf_pages


def _default_timeout() -> float:
    from app.config import get_settings

    return float(get_settings().job_timeout_s)


# -- opening --------------------------------------------------------------------------


def looks_complete(path: Path) -> bool:
    """Whether the file ends like a PDF: `%%EOF` in its last kilobyte (an earlier revision of an
    incrementally saved file also ends that way, and is a complete document in its own right)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - _EOF_WINDOW))
        return b"%%EOF" in f.read()


def open_pdf(
    source: InputFile | Path,
    *,
    password: str = "",
    allow_encrypted: bool = False,
    require_complete: bool = True,
) -> pikepdf.Pdf:
    """Opens an input PDF for a tool, or raises the 400 the client should get.

    allow_encrypted: the tool works on encrypted files (unlock-pdf, protect-pdf); with it, a wrong
    password is a 400 WRONG_PASSWORD instead of ENCRYPTED_PDF.
    """
    import pikepdf

    path = source.path if isinstance(source, InputFile) else Path(source)
    if require_complete and not looks_complete(path):
        raise InputRejected(DAMAGED, 400, "DAMAGED_PDF")
    try:
        pdf = pikepdf.open(path, password=password)
    except pikepdf.PasswordError as exc:
        if allow_encrypted:
            what = "The password is wrong" if password else "This PDF needs a password to open"
            raise InputRejected(what, 400, "WRONG_PASSWORD") from exc
        raise InputRejected(ENCRYPTED, 400, "ENCRYPTED_PDF") from exc
    except (pikepdf.PdfError, OSError, RuntimeError, ValueError) as exc:
        log.info("pikepdf could not open %s: %s", path.name, exc)
        raise InputRejected(UNREADABLE, 400, "INVALID_PDF") from exc
    try:
        if pdf.is_encrypted and not allow_encrypted:
            # Opened with the empty user password, but still encrypted (owner password, restrictions).
            raise InputRejected(ENCRYPTED, 400, "ENCRYPTED_PDF")
        count = len(pdf.pages)
    except InputRejected:
        pdf.close()
        raise
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        pdf.close()
        raise InputRejected(UNREADABLE, 400, "INVALID_PDF") from exc
    if count == 0:
        pdf.close()
        raise InputRejected("The PDF has no pages", 400, "INVALID_PDF")
    limit = max_pages()
    if count > limit:
        pdf.close()
        raise InputRejected(f"The PDF has {count} pages; at most {limit} are accepted", 400, "TOO_MANY_PAGES")
    return pdf


def check_input(source: InputFile | Path, *, require_complete: bool = True) -> int:
    """Runs open_pdf's checks for tools that hand the file to another program; returns the page count."""
    with open_pdf(source, require_complete=require_complete) as pdf:
        return len(pdf.pages)


@contextmanager
def pdf_errors(message: str = "the PDF is damaged and could not be processed") -> Iterator[None]:
    """Turns qpdf's errors in the middle of a tool into a short, user-facing failure."""
    import pikepdf

    try:
        yield
    except (pikepdf.PdfError, pikepdf.ForeignObjectError) as exc:
        log.info("pikepdf failed: %s", exc)
        raise ToolFailure(failures.qpdf(str(exc)) or message) from exc


# -- page ranges (qpdf syntax) ----------------------------------------------------------

_NUM = r"(?:\d+|z|r\d+)"
_RANGE = rf"{_NUM}(?:-{_NUM})?"
_TOKEN = re.compile(rf"^({_RANGE})((?:x{_RANGE})*)(?::(odd|even))?$", re.IGNORECASE)


def _page_number(text: str, count: int) -> int:
    """A 1-based page from `N`, `z` (last) or `rN` (N-th from the end)."""
    text = text.lower()
    if text == "z":
        return count
    if text.startswith("r"):
        n = int(text[1:])
        if n < 1 or n > count:
            raise InputRejected(f"Page r{n} does not exist: this PDF has {count} pages", 400, "PAGE_OUT_OF_RANGE")
        return count - n + 1
    n = int(text)
    if n < 1:
        raise InputRejected("Pages are numbered from 1", 400, "PAGE_OUT_OF_RANGE")
    if n > count:
        raise InputRejected(f"Page {n} does not exist: this PDF has {count} pages", 400, "PAGE_OUT_OF_RANGE")
    return n


def _span(text: str, count: int) -> list[int]:
    first, _, last = text.partition("-")
    a = _page_number(first, count)
    b = _page_number(last, count) if last else a
    return list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))


def check_page_spec(spec: str) -> str:
    """Syntax check for settings validators (the page count is only known at run time)."""
    spec = spec.strip()
    if not spec:
        raise ValueError("is empty; use e.g. 1-5,8,10-z")
    for token in spec.replace(" ", "").split(","):
        if not _TOKEN.match(token):
            raise ValueError(f"'{token}' is not a page range (qpdf syntax: 1-5,8,10-z, r1 = last, :odd, :even)")
    return spec


PageSpec = Annotated[str, AfterValidator(check_page_spec)]


def parse_pages(spec: str, count: int) -> list[int]:
    """qpdf page-range syntax to 0-based page indexes, in the order given (repeats kept).

    `1-5,8,10-z`: numbers from 1, `z` the last page, `rN` the N-th from the end, `5-1` backwards,
    `1-10x3-4` pages 1 to 10 except 3 and 4, `1-z:odd` / `:even` every other page of a range.
    """
    pages: list[int] = []
    for token in check_page_spec(spec).replace(" ", "").split(","):
        m = _TOKEN.match(token)
        assert m is not None
        chosen = _span(m.group(1), count)
        if m.group(2):
            excluded = {p for part in m.group(2).split("x")[1:] for p in _span(part, count)}
            chosen = [p for p in chosen if p not in excluded]
        if m.group(3):
            keep = 1 if m.group(3).lower() == "odd" else 0
            chosen = [p for i, p in enumerate(chosen, 1) if i % 2 == keep % 2]
        pages.extend(chosen)
    if not pages:
        raise InputRejected("The page range selects no pages", 400, "PAGE_OUT_OF_RANGE")
    return [p - 1 for p in pages]


def ranges_text(indexes: Sequence[int]) -> str:
    """0-based indexes back to compact 1-based text (`1-3,7`), for other programs and messages."""
    parts: list[str] = []
    run_start = prev = None
    for i in [*sorted(set(indexes)), None]:
        if i is not None and prev is not None and i == prev + 1:
            prev = i
            continue
        if run_start is not None and prev is not None:
            parts.append(str(run_start + 1) if run_start == prev else f"{run_start + 1}-{prev + 1}")
        run_start = prev = i
    return ",".join(parts)


# -- saving -----------------------------------------------------------------------------

_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/Rendition", "/SubmitForm"}


def _strip_action(obj: pikepdf.Object) -> None:
    import pikepdf

    if "/AA" in obj:
        del obj["/AA"]
    action = obj.get("/A")
    if isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) in _ACTIVE_ACTIONS:
        del obj["/A"]


def strip_active(pdf: pikepdf.Pdf) -> None:
    """Removes what a viewer would run on its own: open actions, additional actions, document
    JavaScript and script/launch actions on links and form fields."""
    import pikepdf

    root = pdf.Root
    for key in ("/OpenAction", "/AA"):
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        del names["/JavaScript"]
    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots:
                if isinstance(annot, pikepdf.Dictionary):
                    _strip_action(annot)
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and isinstance(form.get("/Fields"), pikepdf.Array):
        stack = list(form.Fields)
        seen = 0
        while stack and seen < 100_000:
            field = stack.pop()
            seen += 1
            if isinstance(field, pikepdf.Dictionary):
                _strip_action(field)
                kids = field.get("/Kids")
                if isinstance(kids, pikepdf.Array):
                    stack.extend(kids)


def save_pdf(
    pdf: pikepdf.Pdf,
    path: Path,
    *,
    linearize: bool = False,
    encryption: pikepdf.Encryption | None = None,
) -> Path:
    """Writes a tool's output: active content stripped, streams compressed, object streams on."""
    import pikepdf

    with pdf_errors("the PDF could not be written"):
        strip_active(pdf)
        pdf.save(
            path,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            linearize=linearize,
            encryption=encryption if encryption is not None else False,
        )
    return path


def visible_box(page: pikepdf.Page) -> tuple[float, float, float, float]:
    """The page's CropBox (what viewers show) as x0, y0, x1, y1, normalised."""
    box = [float(v) for v in page.cropbox]
    x0, x1 = sorted((box[0], box[2]))
    y0, y1 = sorted((box[1], box[3]))
    return x0, y0, x1, y1


# -- overlays drawn with reportlab ---------------------------------------------------------


@cache
def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", FONT_BOLD))


DrawPage = Callable[[Any, int, float, float], None]


def stamp_pages(pdf: pikepdf.Pdf, indexes: Sequence[int], draw: DrawPage, *, under: bool = False) -> None:
    """Draws on the given pages: `draw(canvas, page_index, width, height)` paints one reportlab page
    the size of the page's visible box, which is then laid over (or under) the page's content."""
    import pikepdf
    from reportlab.pdfgen import canvas as rl_canvas

    _register_fonts()
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pageCompression=1)
    boxes = []
    for index in indexes:
        x0, y0, x1, y1 = visible_box(pdf.pages[index])
        boxes.append((x0, y0, x1, y1))
        canvas.setPageSize((x1 - x0, y1 - y0))
        draw(canvas, index, x1 - x0, y1 - y0)
        canvas.showPage()
    canvas.save()
    with pikepdf.open(io.BytesIO(buf.getvalue())) as stamps, pdf_errors():
        for n, index in enumerate(indexes):
            page = pdf.pages[index]
            rect = pikepdf.Rectangle(*boxes[n])
            if under:
                page.add_underlay(stamps.pages[n], rect)
            else:
                page.add_overlay(stamps.pages[n], rect)


# -- external programs ----------------------------------------------------------------------


def run_program(
    cmd: Sequence[str],
    ctx: ToolContext | None,
    *,
    what: str,
    timeout_s: float | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> tuple[int, str]:
    """process.run_program with the PDF tools' default time limit and failure wording."""
    limit = timeout_s if timeout_s is not None else _default_timeout()
    return process.run_program(
        cmd, ctx, what=what, timeout_s=limit, failure="could not process this PDF", cwd=cwd, env=env,
        ok_codes=ok_codes,
    )  # fmt: skip


def ghostscript(
    ctx: ToolContext,
    source: Path,
    output: Path,
    args: Sequence[str],
    *,
    postscript: str | None = None,
    permit_read: Sequence[str] = (),
    what: str = "Ghostscript",
    timeout_s: float | None = None,
) -> Path:
    """Rewrites `source` through Ghostscript's pdfwrite into `output`.

    -dSAFER keeps PostScript inside the input from touching files; `permit_read` opens single extra
    paths (an ICC profile) for reading. The output goes to a fixed name first because gs reads `%`
    in -sOutputFile as a page-number format.
    """
    scratch = ctx.workdir / ".gs"
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / "out.pdf"
    cmd = [GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOPROMPT", "-sDEVICE=pdfwrite"]
    cmd += [f"--permit-file-read={p}" for p in permit_read]
    cmd += [f"-sOutputFile={target}", *args]
    if postscript:
        cmd += ["-c", postscript]
    cmd += ["-f", str(Path(source).resolve())]
    try:
        run_program(cmd, ctx, what=what, timeout_s=timeout_s, cwd=scratch)
        if not target.is_file() or target.stat().st_size == 0:
            raise ToolFailure(f"{what} produced no output")
        shutil.move(target, output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return output


def finish_output(path: Path) -> Path:
    """Rewrites another program's PDF output through qpdf: active content stripped, object streams on."""
    import pikepdf

    try:
        with pikepdf.open(path, allow_overwriting_input=True) as doc:
            save_pdf(doc, path)
    except pikepdf.PdfError as exc:
        raise ToolFailure("the converted PDF could not be read back") from exc
    return path


def pdftotext(ctx: ToolContext | None, source: Path, *, first: int | None = None, last: int | None = None,
              extra: Sequence[str] = ()) -> str:  # fmt: skip
    """Text of a PDF (or of pages first..last, 1-based) through poppler's pdftotext, as UTF-8."""
    cmd = ["pdftotext", "-q", "-enc", "UTF-8", *extra]
    if first is not None:
        cmd += ["-f", str(first)]
    if last is not None:
        cmd += ["-l", str(last)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.txt"
        cmd += [str(Path(source).resolve()), str(out)]
        run_program(cmd, ctx, what="Text extraction")
        return out.read_text("utf-8", "replace") if out.is_file() else ""


# -- LibreOffice ------------------------------------------------------------------------------

_LO_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse">
<value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution"
 oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseOpenCL" oor:op="fuse"><value>false</value>
</prop></item>
</oor:items>
"""


def soffice_convert(
    ctx: ToolContext, source: Path, target_ext: str, filter_name: str, *, infilter: str | None = None,
    what: str = "LibreOffice",
) -> Path:  # fmt: skip
    """Converts one file with headless LibreOffice; returns the converted file (in a scratch folder
    under the job's workdir). Each call gets its own user profile inside the job folder, so
    conversions run in parallel, and that profile disables macros outright."""
    if shutil.which("soffice") is None:
        raise ToolFailure("LibreOffice is not installed on this server")
    scratch = ctx.workdir / ".soffice"
    profile = scratch / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_LO_PROFILE, "utf-8")
    outdir = scratch / "out"
    outdir.mkdir(exist_ok=True)
    # A plain name: LibreOffice names its output after the input and reads some names as URLs.
    staged = scratch / f"input{source.suffix.lower() or '.bin'}"
    shutil.copyfile(source, staged)
    cmd = ["soffice", f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
           "--nolockcheck", "--nodefault", "--nologo"]  # fmt: skip
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", f"{target_ext}:{filter_name}", "--outdir", str(outdir.resolve()), str(staged.resolve())]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch.resolve()), "LANG": "C.UTF-8",
           "TMPDIR": str(scratch.resolve())}  # fmt: skip
    run_program(cmd, ctx, what=what, cwd=scratch, env=env)
    result = outdir / f"input.{target_ext}"
    if not result.is_file() or result.stat().st_size == 0:
        raise ToolFailure(f"{what} could not convert this file")
    return result


def cleanup_soffice(ctx: ToolContext) -> None:
    shutil.rmtree(ctx.workdir / ".soffice", ignore_errors=True)
