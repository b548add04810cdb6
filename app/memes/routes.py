"""GET /api/v1/meme-templates and the template images and fonts it points at (authenticated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.deps import CurrentUser
from app.errors import NotFound

router = APIRouter(prefix="/api/v1/meme-templates", tags=["meme templates"])
BASE = "/api/v1/meme-templates"
# Built-in assets change only with a release: let browsers keep them for a day.
CACHE = {"Cache-Control": "private, max-age=86400"}


@router.get("", summary="List the built-in meme templates with their text boxes, and the meme fonts")
def list_templates(_: CurrentUser) -> dict[str, Any]:
    from app.engine.media import memes

    listing = memes.describe_all()
    for entry in listing["templates"]:
        entry["url"] = f"{BASE}/full/{entry['filename']}"
        entry["thumbnailUrl"] = f"{BASE}/thumbs/{entry['filename']}"
    for entry in listing["fonts"]:
        entry["url"] = f"{BASE}/fonts/{entry['filename']}"
    return listing


def _serve(path: Path | None, media_type: str) -> FileResponse:
    if path is None:
        raise NotFound("No such file")
    return FileResponse(path, media_type=media_type, headers=CACHE)


@router.get("/full/{filename}", summary="A template image at full size")
def full_image(filename: str, _: CurrentUser) -> FileResponse:
    from app.engine.media import memes

    # Only names listed in the manifest resolve, so '..', slashes or other files in the folder are 404s.
    return _serve(memes.full_image(filename), "image/png")


@router.get("/thumbs/{filename}", summary="A template's thumbnail")
def thumbnail(filename: str, _: CurrentUser) -> FileResponse:
    from app.engine.media import memes

    return _serve(memes.thumbnail(filename), "image/png")


@router.get("/fonts/{filename}", summary="A font file used to render meme text")
def font(filename: str, _: CurrentUser) -> FileResponse:
    from app.engine.media import memes

    found = memes.fonts().get(filename)
    if found is None:
        raise NotFound("No such font")
    return FileResponse(found.path, media_type=found.media_type, headers=CACHE)
