"""The Automations page in a real browser: create a watch folder from a saved pipeline, see the file it
took (and the result on disk), pause it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyvips
from playwright.sync_api import Page, expect

from tests.web.conftest import Server, screenshot, sign_in


def test_create_an_automation_see_its_runs_and_pause_it(new_page: Callable[..., Page], server: Server) -> None:
    api = server.api()
    r = api.post(
        "/api/v1/pipeline/save", json={"name": "Thumbnails", "steps": [{"toolId": "resize", "settings": {"width": 20}}]}
    )
    assert r.status_code == 201, r.text
    page = sign_in(new_page(), then="/automations")
    expect(page.get_by_role("heading", name="Automations", exact=True)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Camera uploads")
    page.get_by_label("Saved pipeline").select_option(label="Thumbnails")
    page.get_by_label("Watch folder").fill("camera")
    page.get_by_label("Output folder").fill("thumbs")
    page.get_by_label("Files to take").fill("*.png")
    page.get_by_label("Wait until unchanged for (seconds)").fill("0")
    page.get_by_role("button", name="Create automation").click()
    card = page.locator("li.automation")
    expect(card).to_have_count(1)
    expect(card.locator(".status")).to_have_text("Watching")
    [automation] = api.get("/api/v1/automations").json()["automations"]
    assert automation["filter"] == {"globs": ["*.png"], "minAgeSeconds": 0}

    watch = server.data_dir / "watch"
    image = (pyvips.Image.black(40, 30, bands=3) + [10, 200, 30]).cast("uchar")
    image.write_to_file(str(watch / "camera" / "beach.png"))
    out = watch / "thumbs" / "beach_resize.png"
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pyvips.Image.new_from_file(str(out)).width == 20

    card.get_by_role("button", name="Runs").click()
    row = card.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("beach.png")
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text(re.compile(r"thumbs/beach_resize\.png"))
    screenshot(page, "automations")

    card.get_by_role("button", name="Pause").click()
    expect(page.locator("li.automation .status")).to_have_text("Paused")
    assert api.get(f"/api/v1/automations/{automation['id']}").json()["enabled"] is False
