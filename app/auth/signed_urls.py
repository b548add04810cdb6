"""Signed download URLs: an expiring capability (`?exp=...&sig=...`) that lets a client fetch one file
without an Authorization header.

SnapOtter's scripts fetch the `downloadUrl` of an answer with a bare `curl`; Lutra keeps downloads
private, so every URL it hands out carries an HMAC-SHA256 over what it opens (job id and file name, or
a library file id) and its expiry. A URL without a valid signature still needs credentials.

The key is random, made on first use and kept in DATA_DIR (0600), so every process and host sharing the
data folder (which they must, to serve the files) accepts the same links; deleting the file revokes
every link handed out so far.

Other packages call `sign_download_url` / `sign_library_url` to hand out links and `verify_*` to check
them; nothing else needs to know the scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from app.config import Settings, get_settings

KEY_FILE = "download-signing.key"
LIBRARY_TTL_S = 24 * 3600  # library links: the file outlives any one answer, so links are short-lived
_keys: dict[Path, bytes] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> bytes:
    path = settings.data_dir / KEY_FILE
    cached = _keys.get(path)
    if cached is not None:
        return cached
    with _lock:
        if path not in _keys:
            _keys[path] = _load_or_create(path)
        return _keys[path]


def _load_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes start at once, exactly one writes the key and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):  # the writer may not have finished its one write yet
        text = path.read_text().strip()
        if text:
            return bytes.fromhex(text)
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it to make a new download signing key")


def _signature(settings: Settings, *parts: str) -> str:
    message = "\n".join(parts).encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _check(settings: Settings, exp: str | None, sig: str | None, *parts: str) -> bool:
    if not exp or not sig or not exp.isdigit() or len(exp) > 12 or len(sig) > 64:
        return False
    if int(exp) < time.time():
        return False
    return hmac.compare_digest(_signature(settings, *parts, exp), sig)


def _query(exp: int, sig: str) -> str:
    return urlencode({"exp": exp, "sig": sig})


def sign_download_url(job_id: str, filename: str, *, ttl_s: int | None = None, settings: Settings | None = None) -> str:
    """`/api/v1/download/<job>/<file>?exp=&sig=`, valid while the workspace lives (FILE_MAX_AGE_HOURS) unless
    ttl_s says otherwise."""
    settings = settings or get_settings()
    # FILE_MAX_AGE_HOURS may be fractional, or 0 (workspaces kept): then the link lasts ten years.
    ttl = ttl_s if ttl_s is not None else (settings.file_max_age_hours * 3600 or 10 * 365 * 86400)
    exp = int(time.time() + ttl)
    sig = _signature(settings, "job", job_id, filename, str(exp))
    return f"/api/v1/download/{job_id}/{quote(filename)}?{_query(exp, sig)}"


def verify_download(job_id: str, filename: str, exp: str | None, sig: str | None, settings: Settings) -> bool:
    return _check(settings, exp, sig, "job", job_id, filename)


def sign_library_url(file_id: str, *, ttl_s: int = LIBRARY_TTL_S, settings: Settings | None = None) -> str:
    """`/api/v1/files/<id>/download?exp=&sig=`, valid for 24 hours by default."""
    settings = settings or get_settings()
    exp = int(time.time()) + ttl_s
    sig = _signature(settings, "library", file_id, str(exp))
    return f"/api/v1/files/{quote(file_id)}/download?{_query(exp, sig)}"


def verify_library(file_id: str, exp: str | None, sig: str | None, settings: Settings) -> bool:
    return _check(settings, exp, sig, "library", file_id)


def url_path(url: str) -> str:
    """The URL without its signature: for code that reads the file name off a download URL."""
    return url.split("?", 1)[0]
