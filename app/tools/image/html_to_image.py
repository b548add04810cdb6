"""HTML to Image: capture a web page with headless Chromium, without letting it reach the host's network.

The URL is checked here before a browser starts (http/https, public addresses only); the browser
module then checks and pins every further request: redirects, frames, images, scripts, XHR.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import pyvips
from pydantic import Field, field_validator

from app.engine.media import browser, vips
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

DEVICES: dict[str, tuple[int, int, bool]] = {
    "desktop": (1280, 720, False),
    "tablet": (768, 1024, True),
    "mobile": (390, 844, True),
}
NAVIGATION_TIMEOUT_S = 20.0
TOTAL_TIMEOUT_S = 45.0
MAX_PAGE_HEIGHT = 16384


class HtmlToImageSettings(ToolSettings):
    url: str = Field(max_length=2048, description="URL to capture (http/https only)")
    format: Literal["png", "jpg", "webp"] = Field("png", description="Output format: jpg, png, webp")
    quality: int = Field(90, ge=1, le=100, description="Quality 1-100 (JPG/WebP only)")
    fullPage: bool = Field(False, description=f"Capture the full scrollable page (up to {MAX_PAGE_HEIGHT} px tall)")
    devicePreset: Literal["desktop", "tablet", "mobile", "custom"] = Field(
        "desktop", description="desktop 1280x720, tablet 768x1024, mobile 390x844, or custom (viewportWidth/Height)"
    )
    viewportWidth: int = Field(1280, ge=320, le=3840, description="Custom viewport width 320-3840")
    viewportHeight: int = Field(720, ge=320, le=2160, description="Custom viewport height 320-2160")

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("only http and https URLs can be captured")
        return value


@tool(
    id="html-to-image",
    section="image",
    title="HTML to Image",
    description="Capture a web page as PNG, JPG or WebP with headless Chromium (desktop, tablet, mobile or custom).",
    settings=HtmlToImageSettings,
    inputs=Inputs(kinds=(), min_files=0, max_files=0),
    timeout_s=int(TOTAL_TIMEOUT_S) + 30,
)
def run(ctx: ToolContext, settings: HtmlToImageSettings) -> ToolResult:
    try:
        browser.check_url(settings.url)
    except browser.Blocked as exc:
        raise InputRejected(f"URL not allowed: {exc}", 400, "URL_NOT_ALLOWED") from None
    if settings.devicePreset == "custom":
        width, height, mobile = settings.viewportWidth, settings.viewportHeight, False
    else:
        width, height, mobile = DEVICES[settings.devicePreset]
    ctx.progress(10, "Waiting for a browser")
    try:
        with browser.page_slot():
            ctx.check_cancelled()
            ctx.progress(20, "Loading the page")
            shot = asyncio.run(
                asyncio.wait_for(
                    browser.capture(
                        settings.url,
                        width=width,
                        height=height,
                        full_page=settings.fullPage,
                        max_height=MAX_PAGE_HEIGHT,
                        mobile=mobile,
                        navigation_timeout_s=NAVIGATION_TIMEOUT_S,
                    ),
                    TOTAL_TIMEOUT_S,
                )
            )
    except browser.Blocked as exc:
        raise InputRejected(f"URL not allowed: {exc}", 400, "URL_NOT_ALLOWED") from None
    except TimeoutError as exc:
        raise ToolFailure(str(exc) or "the page took too long to capture") from None
    ctx.progress(80, "Encoding")
    with vips.vips_errors("Could not encode the screenshot"):
        image = pyvips.Image.new_from_buffer(shot.png, "")
        fmt = vips.FORMATS["jpeg" if settings.format == "jpg" else settings.format]
        out = vips.save(image, ctx.output_path(f"screenshot.{fmt.ext}"), fmt, settings.quality)
        data = {
            "width": image.width,
            "height": image.height,
            "truncated": shot.truncated,
            "finalUrl": shot.final_url,
            "blockedRequests": len(shot.blocked),
        }
    return ToolResult([out], data)
