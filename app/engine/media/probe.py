"""Cheap checks on an upload before any job runs: header-only reads, never a full decode."""

from __future__ import annotations

from pathlib import Path

from app.engine.media.integrity import is_truncated
from app.engine.media.sniff import AUDIO_KINDS, IMAGE_KINDS, KIND_GROUPS, SUBTITLE_KINDS, VIDEO_KINDS, svgz_text
from app.engine.tool import InputRejected

MAX_SVGZ_BYTES = 20 * 1024 * 1024


def check_image(path: Path, kind: str, max_megapixels: int) -> tuple[int, int]:
    """Reads only the image header; rejects unreadable files and ones over MAX_MEGAPIXELS."""
    import pyvips

    if kind in ("svg", "svgz"):
        # librsvg does not fetch remote resources, but any tool may open an SVG: refuse every
        # reference that points outside the document (URLs, files, entities, CSS imports) up front.
        from app.engine.media.layout import svg_external_references

        text = svgz_text(path, MAX_SVGZ_BYTES) if kind == "svgz" else path.read_bytes()[:5_000_000]
        if len(text) > MAX_SVGZ_BYTES:
            # Refused before librsvg sees it: it would unpack the whole document to read the header.
            raise InputRejected("The compressed SVG unpacks to over 20 MB", 413, "PAYLOAD_TOO_LARGE")
        if svg_external_references(text[:5_000_000]):
            raise InputRejected("SVG files referring to external resources are not accepted", 415, "UNSAFE_INPUT")
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail=True)
        width, height = image.width, image.height
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    except pyvips.Error as exc:
        raise InputRejected("The file is not a readable image", 415, "UNSUPPORTED_MEDIA_TYPE") from exc
    pixels = width * height * max(1, min(int(pages), 1000))
    if width <= 0 or height <= 0:
        raise InputRejected("The image has no pixels", 400, "INVALID_INPUT")
    if pixels > max_megapixels * 1_000_000:
        raise InputRejected(
            f"Image too large: {pixels / 1e6:.1f} megapixels (limit {max_megapixels}, see MAX_MEGAPIXELS)",
            400,
            "IMAGE_TOO_LARGE",
        )
    if is_truncated(path, kind):
        raise InputRejected("The image file is truncated or damaged", 400, "TRUNCATED_FILE")
    return width, height


def _resolve(accepted: tuple[str, ...]) -> set[str]:
    return {k for name in accepted for k in KIND_GROUPS.get(name, (name,))}


def check_media(path: Path, kind: str, accepted: tuple[str, ...] = ()) -> None:
    """ffprobes an audio, video or subtitle upload with the same safe input rules ffmpeg uses.

    Rejects files that are not readable media, that have no video stream for a video-only tool, or
    that run longer than MAX_VIDEO_DURATION_S.
    """
    from app.config import get_settings
    from app.engine.media import ffmpeg

    try:
        info = ffmpeg.probe(path, kind)
    except ffmpeg.ProbeFailed as exc:
        raise InputRejected(f"The file is {exc}", 415, "UNSUPPORTED_MEDIA_TYPE") from exc
    if kind in SUBTITLE_KINDS:
        if not info.subtitles:
            raise InputRejected("The file is not a readable subtitle file", 415, "UNSUPPORTED_MEDIA_TYPE")
        return
    if info.video is None and info.audio is None:
        raise InputRejected("The file has no audio or video stream", 415, "UNSUPPORTED_MEDIA_TYPE")
    wanted = _resolve(accepted)
    # A tool that takes no audio formats needs pictures: an audio-only MP4 or WebM can't feed it.
    if kind in VIDEO_KINDS and wanted and not wanted & set(AUDIO_KINDS) and info.video is None:
        raise InputRejected("The file has no video stream", 400, "NO_VIDEO_STREAM")
    if wanted and wanted <= set(AUDIO_KINDS) | set(VIDEO_KINDS) and wanted & set(AUDIO_KINDS) and info.audio is None:
        raise InputRejected("The file has no audio stream", 400, "NO_AUDIO_STREAM")
    limit = get_settings().max_video_duration_s
    if info.duration > limit:
        raise InputRejected(
            f"Media too long: {info.duration:.0f} s (limit {limit} s, see MAX_VIDEO_DURATION_S)", 400, "MEDIA_TOO_LONG"
        )


def check_input(path: Path, kind: str, max_megapixels: int, accepted: tuple[str, ...] = ()) -> None:
    """`accepted` is the tool's Inputs.kinds, so media checks know whether it needs pictures or sound."""
    if kind in IMAGE_KINDS or kind in ("psd", "svgz"):
        check_image(path, kind, max_megapixels)
    elif kind == "eps":
        from app.engine.media import eps

        eps.check(path, max_megapixels)
    elif kind in VIDEO_KINDS or kind in AUDIO_KINDS or kind in SUBTITLE_KINDS:
        check_media(path, kind, accepted)
