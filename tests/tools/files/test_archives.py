"""create-zip and extract-zip through the HTTP API, with the archive attacks extract-zip must refuse:
zip-slip names, absolute paths, symlinks, too many entries, and real bombs (one entry, and many
small ones, whose headers lie about their sizes)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from fastapi.testclient import TestClient

from tests.tools.files.helpers import fetch, post, refused, run, unzip, zip_of


def test_create_zip(av: TestClient) -> None:
    files = [
        ("files", "notes.txt", b"hello " * 100),
        ("files", "notes.txt", b"second"),
        ("files", "a.csv", b"a,b\n1,2\n"),
    ]
    body = run(av, "create-zip", files)
    assert body["files"] == 3 and body["entries"] == ["notes.txt", "notes (2).txt", "a.csv"]
    entries = unzip(fetch(av, body))
    assert entries == {"notes.txt": b"hello " * 100, "notes (2).txt": b"second", "a.csv": b"a,b\n1,2\n"}
    refused(post(av, "create-zip", [("files", "one.txt", b"just one file")]), 400, "TOO_FEW_FILES")
    refused(post(av, "create-zip", [("files", f"{i}.txt", b"x y z") for i in range(51)]), 400, "TOO_MANY_FILES")


def test_extract_zip(av: TestClient) -> None:
    archive = zip_of({"docs/readme.txt": b"read me", "docs/": b"", "data.csv": b"a,b\n1,2\n", "x..y.txt": b"dots"})
    body = run(av, "extract-zip", [("bundle.zip", archive)])
    assert body["files"] == 3 and body["totalSize"] == 7 + 8 + 4
    names = {e["name"]: e["filename"] for e in body["entries"]}
    assert names == {"docs/readme.txt": "docs_readme.txt", "data.csv": "data.csv", "x..y.txt": "x.y.txt"}
    got = {d["filename"]: fetch(av, body, d["downloadUrl"]) for d in body["downloads"]}
    assert got == {"docs_readme.txt": b"read me", "data.csv": b"a,b\n1,2\n", "x.y.txt": b"dots"}
    # An office document is a ZIP too.
    docx_like = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert run(av, "extract-zip", [("a.docx", docx_like)])["files"] == 2


def test_extract_zip_refuses_escaping_paths_and_links(av: TestClient) -> None:
    for name in ("../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"):
        body = refused(post(av, "extract-zip", [("slip.zip", zip_of({"ok.txt": b"fine", name: b"pwned"}))]), 400)
        assert body["code"] == "ARCHIVE_REFUSED", (name, body)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16) | 0x20
        z.writestr(link, "/etc/passwd")
    body = refused(post(av, "extract-zip", [("link.zip", buf.getvalue())]), 400, "ARCHIVE_REFUSED")
    assert "symbolic link" in body["error"]
    many = zip_of({f"f{i}.txt": b"x" for i in range(1001)})
    body = refused(post(av, "extract-zip", [("many.zip", many)]), 400, "ARCHIVE_REFUSED")
    assert "1001 entries" in body["error"]
    assert run(av, "extract-zip", [("ok.zip", zip_of({f"f{i}.txt": b"x" for i in range(1000)}))])["files"] == 1000


def _lying_bomb(size: int) -> bytes:
    """One entry of `size` zero bytes whose headers claim it is 1 kB: the check must count real bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    data = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk))) + compressor.flush()
    name = b"zeros.bin"
    crc, claimed = 0, 1024
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), claimed, len(name), 0)
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), claimed, len(name),
                          0, 0, 0, 0, 0, 0)  # fmt: skip
    body = local + name + data
    directory = central + name
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def test_extract_zip_refuses_bombs(av: TestClient) -> None:
    # A real bomb: 50 MB of zeros deflates to about 50 kB (ratio ~1000).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, z.open("zeros.bin", "w") as f:
        for _ in range(50):
            f.write(b"\0" * (1 << 20))
    bomb = buf.getvalue()
    assert len(bomb) < 100_000
    body = refused(post(av, "extract-zip", [("bomb.zip", bomb)]), 400, "ARCHIVE_REFUSED")
    assert "100:1" in body["error"]
    # The same, with headers that lie (1 kB claimed): refused from the bytes inflated, not the claim.
    body = refused(post(av, "extract-zip", [("liar.zip", _lying_bomb(20 << 20))]), 400)
    assert body["code"] in ("ARCHIVE_REFUSED", "INVALID_INPUT")
    # Many small entries that each stay under the per-file floor but add up: the archive-wide ratio.
    spread = zip_of({f"z{i}.bin": b"\0" * 900_000 for i in range(40)})
    refused(post(av, "extract-zip", [("spread.zip", spread)]), 400, "ARCHIVE_REFUSED")
    # Small, very repetitive files are fine: judged only past 1 MiB.
    assert run(av, "extract-zip", [("text.zip", zip_of({"spaces.txt": b" " * 200_000, "b.txt": b"b"}))])["files"] == 2
    # A damaged archive is refused as such.
    archive = zip_of({"a.txt": b"hello " * 1000, "b.txt": b"bye " * 1000})
    refused(post(av, "extract-zip", [("cut.zip", archive[: len(archive) // 2])]), 400)
