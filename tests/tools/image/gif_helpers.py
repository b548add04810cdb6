"""Animated test images for the GIF tools."""

from __future__ import annotations

import pyvips

FRAME_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def animation(size: int = 20, delays: tuple[int, ...] = (100, 200, 300), suffix: str = ".gif", loop: int = 0) -> bytes:
    """A red, green, blue animation (one flat frame each) with the given per-frame delays in ms."""
    frames = [(pyvips.Image.black(size, size, bands=3) + list(c)).cast("uchar") for c in FRAME_COLOURS[: len(delays)]]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", size)
    strip.set_type(pyvips.GValue.array_int_type, "delay", list(delays))
    strip.set_type(pyvips.GValue.gint_type, "loop", loop)
    return strip.write_to_buffer(suffix)


def frames_of(data: bytes) -> tuple[pyvips.Image, list[pyvips.Image]]:
    """The whole animation and its frames, decoded."""
    image = pyvips.Image.new_from_buffer(data, "", n=-1).copy_memory()
    height = image.get("page-height") if image.get_typeof("page-height") else image.height
    return image, [image.crop(0, top, image.width, height) for top in range(0, image.height, height)]
