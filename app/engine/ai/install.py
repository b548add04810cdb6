"""Installing models: resumable, hash-verified downloads and imports that never leave half a model.

Files are fetched (or copied from an import) into MODELS_DIR/.partial/<model>/, hashed while they
arrive, and only when every file of a model has the manifest's size and SHA-256 is the folder moved
into place with one rename. A broken download keeps its .part file, and the next install resumes it
with an HTTP Range request; a file that turns out wrong is deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app.engine.ai.bundles import Bundle, Model, ModelFile, models_dir

log = logging.getLogger("lutra.ai")

CHUNK = 1024 * 1024
TIMEOUT_S = 30.0
Progress = Callable[[int, str], None]  # (bytes done so far in this install, message)


class InstallError(Exception):
    """A download or import that could not complete; the message is for the admin."""


def partial_dir(model: Model) -> Path:
    return models_dir() / ".partial" / model.id


def source_url(model: Model, file: ModelFile, mirror: str = "") -> str:
    """The file's public address, or <MODEL_MIRROR_URL>/<model id>/<file name> on a mirror."""
    if mirror:
        return f"{mirror.rstrip('/')}/{model.id}/{file.name}"
    if not file.url:
        raise InstallError(f"{model.id}: {file.name} has no download address; import it instead")
    return file.url


def _hash_file(path: Path) -> tuple[hashlib._Hash, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest, size


def _open(url: str, offset: int) -> tuple[object, bool]:
    """Opens the URL, asking for the bytes from offset on; says whether the server honoured that."""
    if not url.startswith(("https://", "http://")):
        raise InstallError(f"refusing to fetch {url!r}: only http(s) addresses")
    request = urllib.request.Request(url, headers={"User-Agent": "Lutra model installer"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing left to send: the part file is already complete (or too long; the hash decides).
            return None, True
        raise InstallError(f"download failed: HTTP {exc.code} from {url}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise InstallError(f"download failed: {getattr(exc, 'reason', exc)} ({url})") from exc
    return response, offset > 0 and response.status == 206


def download_file(
    model: Model,
    file: ModelFile,
    mirror: str,
    done_before: int,
    progress: Progress,
    cancelled: Callable[[], bool],
) -> Path:
    """Fetches one file into the model's partial folder (resuming a .part), verified; returns its path."""
    folder = partial_dir(model)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / file.name
    if final.is_file() and final.stat().st_size == file.size:
        return final  # verified by an earlier, interrupted install
    part = folder / (file.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    if have > file.size:
        part.unlink()
        have = 0
    url = source_url(model, file, mirror)
    response, resumed = _open(url, have)
    if have and not resumed and response is not None:
        have = 0  # the server sent the whole file again: start over
    digest, counted = _hash_file(part) if have else (hashlib.sha256(), 0)
    assert counted == have
    if response is not None:
        with response, part.open("ab" if have else "wb") as out:  # type: ignore[attr-defined]
            while True:
                if cancelled():
                    raise InstallError("canceled")
                try:
                    chunk = response.read(CHUNK)  # type: ignore[attr-defined]
                except (http.client.HTTPException, OSError) as exc:
                    out.flush()
                    raise InstallError(
                        f"{file.name}: download interrupted at {have} of {file.size} bytes ({exc.__class__.__name__}); "
                        "run install again to resume"
                    ) from exc
                if not chunk:
                    break
                have += len(chunk)
                if have > file.size:
                    out.close()
                    part.unlink(missing_ok=True)
                    raise InstallError(f"{file.name}: the server sent more than the expected {file.size} bytes")
                digest.update(chunk)
                out.write(chunk)
                progress(done_before + have, f"Downloading {model.id}: {file.name}")
    if have != file.size:
        raise InstallError(f"{file.name}: download stopped at {have} of {file.size} bytes; run install again to resume")
    if digest.hexdigest() != file.sha256:
        part.unlink(missing_ok=True)
        raise InstallError(f"{file.name}: SHA-256 mismatch (the file was deleted; expected {file.sha256[:12]}...)")
    part.replace(final)
    return final


def accept_file(model: Model, file: ModelFile, source: Path) -> Path:
    """Moves an imported upload into the model's partial folder after checking its size and hash."""
    digest, size = _hash_file(source)
    if size != file.size:
        raise InstallError(f"{file.name}: {size} bytes, but the manifest says {file.size}")
    if digest.hexdigest() != file.sha256:
        raise InstallError(f"{file.name}: SHA-256 does not match the manifest (expected {file.sha256[:12]}...)")
    folder = partial_dir(model)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.name
    shutil.move(str(source), target)
    return target


def commit_model(model: Model) -> bool:
    """Moves a model's folder into place once all its files are verified; False while some are missing."""
    folder = partial_dir(model)
    if not all((folder / f.name).is_file() for f in model.files):
        return False
    target = model.folder()
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.part"):
        leftover.unlink()
    if target.exists():
        shutil.rmtree(target)
    os.replace(folder, target)
    log.info("installed model %s (%d bytes)", model.id, model.size)
    return True


def install_bundle(
    bundle: Bundle,
    mirror: str = "",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    only: list[str] | None = None,
) -> list[str]:
    """Downloads every missing downloadable model of the bundle (or those named); returns their ids."""
    report = progress or (lambda done, msg: None)
    done = 0
    installed = []
    for model in bundle.missing_downloads(only):
        for file in model.files:
            download_file(model, file, mirror, done, report, cancelled)
            done += file.size
        if commit_model(model):
            installed.append(model.id)
    return installed


def uninstall_bundle(bundle: Bundle) -> int:
    """Deletes every downloaded or imported file of the bundle (finished or partial); returns bytes freed."""
    freed = 0
    for model in bundle.models():
        if model.packaged:
            continue
        for folder in (model.folder(), partial_dir(model)):
            if folder is not None and folder.exists():
                freed += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                shutil.rmtree(folder, ignore_errors=True)
    bundle_root = models_dir() / bundle.id
    if bundle_root.is_dir() and not any(bundle_root.iterdir()):
        bundle_root.rmdir()
    return freed
