"""Streams multipart uploads straight to a job's workspace, enforcing limits while bytes arrive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import BadRequest, LutraError, PayloadTooLarge

MAX_FIELD_BYTES = 64 * 1024  # settings JSON and other text parts
MAX_HEADER_BYTES = 8 * 1024
MAX_NAME_CHARS = 180


def sanitize_filename(name: str) -> str:
    """A safe file name from an uploaded one: no path parts, control characters or odd lengths."""
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = re.sub(r"[<>:\"|?*]", "_", name).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_NAME_CHARS]
    return name or "file"


@dataclass
class UploadedFile:
    field: str
    filename: str  # sanitised
    path: Path
    size: int = 0
    original: str = ""  # as the client sent it, for display only (the file library keeps it)


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def files_named(self, *names: str) -> list[UploadedFile]:
        return [f for f in self.files if f.field in names]


class _FormSink:
    """python-multipart callbacks: file parts go to disk, text parts to small buffers."""

    def __init__(self, dest: Path, max_file_bytes: int, max_files: int | None, max_fields: int) -> None:
        self.dest = dest
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.max_fields = max_fields
        self.form = ReceivedForm()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._file: UploadedFile | None = None
        self._handle: BinaryIO | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()
        self.new_fields: list[str] = []  # text parts completed since the caller last looked

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]) or self._count(e - s),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]) or self._count(e - s),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise BadRequest("Multipart part headers too large", code="INVALID_MULTIPART")

    def part_begin(self) -> None:
        self._headers = {}
        self._header_bytes = 0
        self._file = None
        self._field_name = None
        self._field_value = bytearray()

    def header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition")
        if disposition is None:
            raise BadRequest("Multipart part without Content-Disposition", code="INVALID_MULTIPART")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in params:
            if self.max_files is not None and len(self.form.files) >= self.max_files:
                raise BadRequest(f"Too many files (at most {self.max_files})", code="TOO_MANY_FILES")
            original = params[b"filename"].decode("utf-8", "replace")
            safe = sanitize_filename(original)
            index = len(self.form.files)
            path = self.dest / f"{index:04d}-{safe}"
            self._file = UploadedFile(field=name, filename=safe, path=path, original=original)
            self._handle = path.open("wb")
            self.form.files.append(self._file)
        else:
            if len(self.form.fields) >= self.max_fields:
                raise BadRequest("Too many form fields", code="TOO_MANY_FIELDS")
            self._field_name = name

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None and self._handle is not None:
            self._file.size += end - start
            if self._file.size > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"File too large (limit {self.max_file_bytes // (1024 * 1024)} MB, see MAX_UPLOAD_SIZE_MB)"
                )
            self._handle.write(data[start:end])
        elif self._field_name is not None:
            self._field_value.extend(data[start:end])
            if len(self._field_value) > MAX_FIELD_BYTES:
                raise BadRequest(
                    f"Form field {self._field_name!r} too large (max 64 KB)",
                    code="FIELD_TOO_LARGE",
                    details={self._field_name: "over 64 KB"},
                )

    def part_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        elif self._field_name is not None:
            self.form.fields[self._field_name] = self._field_value.decode("utf-8", "replace")
            self.new_fields.append(self._field_name)
        self._file = None
        self._field_name = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


FieldHook = Callable[[str, str], Awaitable[None]]
# The body arrives in socket-sized chunks (~64 KB); they are gathered up to this much and then parsed and
# written in one thread hop: a hop per chunk cost more CPU than the parsing and writing it moved off the
# loop (60 hops for a 4 MB photo, ~5 ms of the server's CPU per request).
OFF_LOOP_BATCH = 256 * 1024
# Smaller pieces are parsed on the loop: a thread hop costs more than they do.
OFF_LOOP_MIN = 16 * 1024
# Their own thread limit (shared with resumable parts, app.uploads): many uploads at once wait for one
# of these 8, not for the shared thread limit that the routes' database work runs under.
UPLOAD_WRITERS = CapacityLimiter(8)


async def _parse(parser: MultipartParser, data: bytearray) -> None:
    if len(data) >= OFF_LOOP_MIN:
        await run_sync(parser.write, bytes(data), limiter=UPLOAD_WRITERS)
    elif data:
        parser.write(bytes(data))


async def receive_form(
    request: Request,
    dest: Path,
    *,
    max_file_bytes: int,
    max_files: int | None,
    max_fields: int = 16,
    on_field: FieldHook | None = None,
) -> ReceivedForm:
    """Parses a multipart body into `dest` as it streams in; raises 400/413 as soon as a limit is hit.

    `on_field(name, value)` is awaited as soon as each text part is complete, before the rest arrives
    (a batch's clientJobId creates its job while the files still stream in)."""
    content_type = request.headers.get("content-type", "")
    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("Expected a multipart/form-data upload", code="INVALID_MULTIPART")
    length = request.headers.get("content-length")
    # Early refusal: no need to read a body that can't fit (a little slack for the multipart framing).
    most = None if max_files is None else max_file_bytes * max(1, max_files) + 1024 * 1024
    if most is not None and length and length.isdigit() and int(length) > most:
        raise PayloadTooLarge(f"Upload too large (limit {max_file_bytes // (1024 * 1024)} MB per file)")
    dest.mkdir(parents=True, exist_ok=True)
    sink = _FormSink(dest, max_file_bytes, max_files, max_fields)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())  # type: ignore[arg-type]
    pending = bytearray()
    try:
        async for chunk in request.stream():
            pending += chunk
            if len(pending) < OFF_LOOP_BATCH and on_field is None:
                continue
            # Parsing and writing to disk happen in a thread: done on the event loop, many concurrent
            # uploads kept it busy and made every other request (health too) wait. (With on_field, each
            # chunk is parsed at once: a text part must be seen before the files behind it arrive.)
            await _parse(parser, pending)
            pending = bytearray()
            if on_field is not None:
                while sink.new_fields:
                    name = sink.new_fields.pop(0)
                    await on_field(name, sink.form.fields[name])
        await _parse(parser, pending)
        parser.finalize()
    except (LutraError, OSError):
        raise  # OSError: the server's disk, not the client's body (a full disk answers 507, see app.http)
    except Exception as exc:
        raise BadRequest("Malformed multipart body", code="INVALID_MULTIPART") from exc
    finally:
        sink.close()
    if sink._file is not None or sink._field_name is not None:
        raise BadRequest("Multipart body ended in the middle of a part", code="INVALID_MULTIPART")
    return sink.form
