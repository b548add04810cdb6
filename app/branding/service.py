"""Branding: the app name and accent colour (settings appName/accentColor over APP_NAME) and an
uploaded logo, re-encoded so nothing but pixels from the upload is ever served."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from app.config import get_settings
from app.engine.media import lazy_vips
from app.errors import BadRequest, UnsupportedMedia
from app.settings.service import get_text

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 512  # larger logos are scaled down: the UI shows them at 32 px high


def app_name(db: Session) -> str:
    return get_text(db, "appName") or get_settings().app_name


def accent_color(db: Session) -> str | None:
    """The accentColor setting; None keeps the UI theme's own accent (one for light, one for dark)."""
    return get_text(db, "accentColor") or None


def logo_path() -> Path:
    return get_settings().data_dir / "branding" / "logo.png"


def logo_version() -> int | None:
    """The logo's modification time, for cache-busting URLs; None when there is no logo."""
    try:
        return int(logo_path().stat().st_mtime)
    except FileNotFoundError:
        return None


def view(db: Session) -> dict[str, object]:
    version = logo_version()
    return {
        "appName": app_name(db),
        "accentColor": accent_color(db),
        "logoUrl": f"/api/v1/branding/logo?v={version}" if version is not None else None,
    }


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def save_logo(data: bytes) -> tuple[int, int]:
    """Decodes a PNG or WebP upload and stores it re-encoded as PNG (metadata dropped); returns its size."""
    pyvips = lazy_vips.load()

    kind = _kind(data)
    if kind is None:
        raise UnsupportedMedia("The logo must be a PNG or WebP image", code="UNSUPPORTED_MEDIA_TYPE")
    loader = pyvips.Image.pngload_buffer if kind == "png" else pyvips.Image.webpload_buffer
    try:
        header = loader(data, fail=True)
        # Shrink-on-load: never decode a decompression bomb at full size.
        if header.width * header.height > 50_000_000:
            raise BadRequest("The logo has too many pixels", code="IMAGE_TOO_LARGE")
        image = pyvips.Image.thumbnail_buffer(data, MAX_LOGO_SIDE, height=MAX_LOGO_SIDE, size="down")
        if image.interpretation not in ("srgb", "b-w"):
            image = image.colourspace("srgb")
        encoded = image.pngsave_buffer(compression=6, strip=True)
    except pyvips.Error:
        raise BadRequest("The logo is not a readable image", code="INVALID_IMAGE") from None
    path = logo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(encoded)
    os.replace(tmp, path)  # readers see the old logo or the new one, never half of one
    return image.width, image.height


def delete_logo() -> bool:
    try:
        logo_path().unlink()
        return True
    except FileNotFoundError:
        return False
