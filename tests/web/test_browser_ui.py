"""The browser UI in a real browser: Chromium drives the pages of a real `lutra serve`, and every test
checks what happened (files' pixels, the API's state, the text on the page), not only that a page
loaded. Screenshots of the main pages land in test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyvips
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PageErrors, Server, screenshot, sign_in, start_server

NewPage = Callable[..., Page]


def size(width: int, height: int) -> str:
    """Pixel sizes as the page writes them, with a multiplication sign."""
    return f"{width} \u00d7 {height}"


def jpeg(path: Path, width: int = 64, height: int = 48) -> Path:
    noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40)
    (noise.bandjoin([noise, noise]) + [20, 120, 220]).cast("uchar").write_to_file(str(path), Q=90)
    return path


def png(path: Path, width: int = 40, height: int = 30, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    (pyvips.Image.black(width, height, bands=3) + list(colour)).cast("uchar").write_to_file(str(path))
    return path


def clip(path: Path, seconds: int = 2) -> Path:
    """A tiny H.264 video made by ffmpeg's own test source."""
    source = f"testsrc=size=160x120:rate=10:duration={seconds}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source,
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def video_width(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "probe.mp4"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    )
    return int(json.loads(out.stdout)["streams"][0]["width"])


def download(page: Page, link_name: str | re.Pattern[str], dest: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    info.value.save_as(dest)
    return dest


def field(page: Page, name: str, scope: str = "") -> str:
    """Selector of a generated settings field's main input."""
    control = ":is(input:not([type=range]):not([type=color]), select, textarea)"
    return f'{scope} .field[data-field="{name}"] {control}'.strip()


# -- sign-in --


def test_first_login_forces_a_password_change_and_logout_ends_the_session(browser: Browser, tmp_path: Path) -> None:
    fresh = start_server(tmp_path / "first-start")
    context = browser.new_context(base_url=fresh.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = PageErrors(page)
    try:
        page.goto("/files")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Ffiles$"))
        screenshot(page, "login")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password", exact=True).fill("wrong-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("Invalid credentials")

        page.get_by_label("Password", exact=True).fill("admin")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/change-password\?next=%2Ffiles$"))
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        # Nothing but the password page until it is changed: no navigation links yet.
        expect(page.locator(".nav-links")).to_have_count(0)
        page.get_by_label("Current password").fill("admin")
        page.get_by_label("New password", exact=True).fill("short")
        page.get_by_label("Repeat the new password").fill("short")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator('.field[data-field="newPassword"] .field-error')).to_contain_text("at least 8 characters")
        page.get_by_label("New password", exact=True).fill("first-password-1")
        page.get_by_label("Repeat the new password").fill("first-password-2")
        page.get_by_role("button", name="Change password").click()
        repeat_error = page.locator('.field[data-field="repeatPassword"] .field-error')
        expect(repeat_error).to_have_text("The two new passwords differ")
        screenshot(page, "change-password")
        page.get_by_label("Repeat the new password").fill("first-password-1")
        page.get_by_role("button", name="Change password").click()

        # Back where the user wanted to go, with the navigation of an admin.
        expect(page).to_have_url(re.compile(r"/files$"))
        expect(page.get_by_role("link", name="Settings")).to_be_visible()
        session = fresh.client(fresh.login("admin", "first-password-1")).get("/api/auth/session").json()
        assert session["user"]["mustChangePassword"] is False

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        assert not [c for c in context.cookies() if c["name"] == "lutra-session"]
        page.goto("/settings")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        assert not errors.errors, errors.errors
    finally:
        context.close()
        fresh.stop()


# -- catalog --


def searchable_text(tool: dict) -> str:
    """What the home page's search looks through: names, category, and the formats a tool takes or makes."""
    props = tool["settingsSchema"].get("properties", {})
    made = [v for name in ("format", "outputFormat", "targetFormat") for v in props.get(name, {}).get("enum", [])]
    parts = [tool["id"], tool["title"], tool["description"], tool["category"], *tool["formats"]]
    parts += [*tool["inputs"]["kinds"], *tool["inputs"]["accepts"], *(p["format"] for p in tool["produces"]), *made]
    return " ".join(str(p) for p in parts).lower()


def test_the_catalog_search_finds_tools_by_format(new_page: NewPage, server: Server) -> None:
    page = sign_in(new_page())
    catalog = server.api().get("/api/v1/tools").json()["tools"]
    expect(page.locator(".tool-card")).to_have_count(len(catalog))
    screenshot(page, "home")

    page.get_by_label("Search tools").fill("heic")
    takes_heic = {t["id"] for t in catalog if "heic" in searchable_text(t)}
    assert {"resize", "convert"} <= takes_heic
    expect(page.locator(".tool-card")).to_have_count(len(takes_heic))
    shown = set(page.locator(".tool-card").evaluate_all("cards => cards.map(c => c.dataset.tool)"))
    assert shown == takes_heic
    expect(page.locator(".count")).to_have_text(f"{len(takes_heic)} of {len(catalog)} tools match “heic”")
    screenshot(page, "home-search-heic")

    page.locator('.tool-card[data-tool="resize"] a').click()
    expect(page).to_have_url(re.compile(r"/tools/image/resize$"))
    expect(page.get_by_role("heading", name="Resize", exact=True)).to_be_visible()


# -- tools --


def test_resize_an_image_from_the_tool_page_and_download_it(new_page: NewPage, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/image/resize")
    expect(page.get_by_role("heading", name="Resize", exact=True)).to_be_visible()
    # The form comes from the schema: an enum is a select with its default, a boolean a checkbox.
    expect(page.locator(field(page, "fit"))).to_have_value("1")  # "contain", the second option
    expect(page.locator(field(page, "fit") + " option:checked")).to_have_text("contain")
    expect(page.locator('.field[data-field="withoutEnlargement"] input[type=checkbox]')).not_to_be_checked()

    page.locator(".dropzone input[type=file]").set_input_files(str(jpeg(tmp_path / "photo.jpg", 64, 48)))
    expect(page.locator(".file-list")).to_contain_text("photo.jpg")
    page.locator(field(page, "width")).fill("32")
    page.get_by_role("button", name="Run", exact=True).click()

    result = page.get_by_role("region", name="Result")
    expect(result.locator(".after-label .dims")).to_have_text(size(32, 24))
    expect(result.locator(".before-label .dims")).to_have_text(size(64, 48))
    expect(result.locator(".result-stats")).to_contain_text(size(32, 24) + " px")
    expect(page.locator(".progress-text")).to_have_text("100% · Done")
    screenshot(page, "tool-resize-result")

    saved = download(page, re.compile(r"^Download photo_resized\.jpg"), tmp_path / "out.jpg")
    image = pyvips.Image.new_from_file(str(saved))
    assert (image.width, image.height) == (32, 24)


def test_a_bad_setting_or_file_shows_its_error_where_it_belongs(new_page: NewPage, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/image/resize")
    page.locator(".dropzone input[type=file]").set_input_files(str(jpeg(tmp_path / "photo.jpg")))
    page.locator(field(page, "width")).fill("0")
    page.get_by_role("button", name="Run", exact=True).click()
    width_error = page.locator('.field[data-field="width"] .field-error')
    expect(width_error).to_have_text("Input should be greater than or equal to 1")
    expect(page.locator('.field[data-field="width"]')).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator(".run-bar .error")).to_have_text("Invalid settings: see the marked settings.")
    expect(page.locator(".result")).to_have_count(0)
    screenshot(page, "tool-bad-setting")

    # Fixing it clears the message; a file that is no image is refused at the drop zone instead.
    page.locator(field(page, "width")).fill("10")
    page.locator(".file-list button").click()
    text = tmp_path / "notes.jpg"
    text.write_text("not an image at all, only text\n" * 20)
    page.locator(".dropzone input[type=file]").set_input_files(str(text))
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".dropzone-wrap .error")).to_contain_text("jpeg")
    expect(width_error).to_be_hidden()
    expect(page.locator(".result")).to_have_count(0)


def test_a_long_tool_shows_live_progress_up_to_100_percent(new_page: NewPage, server: Server, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/video/resize-video")
    expect(page.locator(".tool-head")).to_contain_text("runs in the background")
    page.locator(".dropzone input[type=file]").set_input_files(str(clip(tmp_path / "clip.mp4")))
    page.locator(field(page, "preset")).select_option(label="custom")
    page.locator(field(page, "width")).fill("96")
    # Every value the bar shows, as the page shows it.
    page.evaluate(
        """() => {
            window.seenProgress = [];
            const bar = document.querySelector('.progress');
            new MutationObserver(() => {
                if (bar.dataset.percent !== undefined) window.seenProgress.push(
                    [Number(bar.dataset.percent), bar.querySelector('.progress-text').textContent]);
            }).observe(bar, {attributes: true, subtree: true, characterData: true, childList: true});
        }"""
    )
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".progress-text")).to_have_text("100% · Done", timeout=60_000)
    video = page.get_by_role("region", name="Result").locator("video")
    expect(video).to_have_attribute("src", re.compile(r"^/api/v1/download/[^/]+/clip.*\.mp4(\?.*)?$"))
    screenshot(page, "tool-video-done")

    seen = page.evaluate("window.seenProgress")
    percents = [p for p, _ in seen]
    assert percents[-1] == 100, seen
    # Uploading starts at 0; the job's own events (Queued/Resizing) come over SSE before the end.
    assert any(p < 100 and "Upload" not in label for p, label in seen), seen
    job_part = percents[next(i for i, (_, label) in enumerate(seen) if "Upload" not in label) :]
    assert job_part == sorted(job_part), seen

    r = server.api().get(video.get_attribute("src") or "")
    assert r.status_code == 200
    assert video_width(r.content, tmp_path) == 96


def test_a_batch_of_three_files_gives_one_zip(new_page: NewPage, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/image/resize")
    files = [png(tmp_path / f"red-{i}.png", 40 + 10 * i, 30) for i in range(3)]
    page.locator(".dropzone input[type=file]").set_input_files([str(f) for f in files])
    expect(page.locator(".mode-note")).to_contain_text("Batch: each of the 3 files")
    page.locator(field(page, "width")).fill("16")
    page.get_by_role("button", name="Run on 3 files").click()

    result = page.get_by_role("region", name="Batch result")
    expect(result.locator(".result-stats")).to_have_text("3 of 3 files processed")
    expect(result.locator("li.succeeded")).to_have_count(3)
    screenshot(page, "tool-batch-result")

    archive = download(page, re.compile(r"^Download batch-resize-.*\.zip"), tmp_path / "batch.zip")
    with zipfile.ZipFile(archive) as z:
        names = sorted(z.namelist())
        assert len(names) == 3, names
        for name in names:
            image = pyvips.Image.new_from_buffer(z.read(name), "")
            assert image.width == 16, name


# -- pipelines --


def test_build_save_run_and_delete_a_two_step_pipeline(new_page: NewPage, server: Server, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/pipelines")
    adder = page.get_by_label("Tool to add")
    adder.select_option(label="Resize")
    adder.select_option(label="Convert")
    steps = page.locator("li.step")
    expect(steps).to_have_count(2)
    expect(steps.nth(0).locator("h3")).to_have_text("1. Resize")
    steps.nth(0).locator(field(page, "width")).fill("40")
    steps.nth(1).locator(field(page, "format")).select_option(label="webp")
    page.get_by_label("Name").fill("Web thumbnails")
    page.get_by_role("button", name="Save pipeline").click()
    saved = page.locator(".saved-pipeline")
    expect(saved).to_have_count(1)
    expect(saved.locator(".chain")).to_have_text("Resize → Convert")

    listed = server.api().get("/api/v1/pipeline/list").json()["pipelines"]
    steps_saved = [
        {"toolId": "resize", "settings": {"width": 40}},
        {"toolId": "convert", "settings": {"format": "webp"}},
    ]
    assert [(p["name"], p["steps"]) for p in listed] == [("Web thumbnails", steps_saved)]

    page.locator(".run-form input[type=file]").set_input_files(str(jpeg(tmp_path / "photo.jpg", 80, 60)))
    page.get_by_role("button", name="Run pipeline").click()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("Steps: 1. Resize")
    expect(result.locator(".after-label .dims")).to_have_text(size(40, 30))
    screenshot(page, "pipelines")
    out = download(page, re.compile(r"^Download .*\.webp"), tmp_path / "out.webp")
    assert out.read_bytes()[8:12] == b"WEBP"
    assert pyvips.Image.new_from_file(str(out)).width == 40

    # A saved pipeline loads back into the builder, and deletes after a confirmation.
    page.get_by_role("button", name="Remove step 2").click()
    expect(steps).to_have_count(1)
    saved.get_by_role("button", name="Load").click()
    expect(steps).to_have_count(2)
    expect(steps.nth(0).locator(field(page, "width"))).to_have_value("40")
    saved.get_by_role("button", name="Delete").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".saved-list")).to_have_text("No saved pipelines yet.")
    assert server.api().get("/api/v1/pipeline/list").json()["pipelines"] == []


# -- files --


def test_upload_to_the_library_run_a_tool_on_it_and_see_its_versions(
    new_page: NewPage, server: Server, tmp_path: Path
) -> None:
    page = sign_in(new_page(), then="/files")
    # A name that would be markup if the page used innerHTML: it must show as plain text.
    name = "<img src=x onerror=alert(1)>.png"
    page.locator(".dropzone input[type=file]").set_input_files(str(png(tmp_path / name, 60, 40)))
    page.get_by_role("button", name="Upload").click()
    card = page.locator(".file-card").filter(has_text=name)
    expect(card).to_have_count(1)
    expect(card.locator(".file-name")).to_have_text(name)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    thumb = card.locator(".thumb img")
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    screenshot(page, "files")

    card.locator("a.file-open").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("dl.data")).to_contain_text("1 of 1")
    page.get_by_label("Tool to run on this file").select_option(label="Resize")
    expect(page).to_have_url(re.compile(r"/tools/image/resize\?fileId="))
    expect(page.locator(".chosen")).to_contain_text(name)
    page.locator(field(page, "width")).fill("30")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".result")).to_contain_text("Saved as the next version of the library file")
    page.get_by_role("link", name="Open in library").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Versions \(2\)$"))).to_be_visible()
    rows = page.locator(".versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Resize")
    expect(rows.nth(0)).to_contain_text(size(30, 20))
    expect(rows.nth(1)).to_contain_text("upload")
    screenshot(page, "file-versions")

    file_id = page.url.rsplit("/", 1)[-1]
    detail = server.api().get(f"/api/v1/files/{file_id}").json()
    assert [(v["version"], v["toolId"], v["width"]) for v in detail["versions"]] == [(1, None, 60), (2, "resize", 30)]


# -- settings --


def test_create_an_api_key_shown_once_then_delete_it(new_page: NewPage, server: Server) -> None:
    page = sign_in(new_page(), then="/settings/api-keys")
    page.get_by_label("Name").fill("ci-script")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("code.api-key").inner_text()
    assert re.fullmatch(r"si_[0-9a-f]{96}", key), key
    expect(page.locator(".key-once")).to_contain_text("will never show it again")
    with_key = server.client(key)
    assert with_key.get("/api/auth/session").json()["user"]["username"] == "admin"
    screenshot(page, "settings-api-keys")

    page.reload()
    row = page.locator("tbody tr").filter(has_text="ci-script")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(key[:8])
    assert key not in page.content()

    row.get_by_role("button", name="Delete key ci-script").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".keys-list")).to_have_text("No API keys yet.")
    assert with_key.get("/api/auth/session").status_code == 401


def test_an_admin_turns_a_tool_off_and_it_disappears_for_a_user(new_page: NewPage, server: Server) -> None:
    admin = sign_in(new_page(), then="/settings/users")
    admin.get_by_label("Username").fill("maria")
    admin.get_by_label("Temporary password").fill("temporary-pass-1")
    admin.get_by_role("button", name="Create user").click()
    expect(admin.locator("tbody tr").filter(has_text="maria")).to_contain_text("must change password")
    screenshot(admin, "settings-users")

    try:
        admin.goto("/settings/tools")
        admin.get_by_label("Filter tools").fill("rotate")
        admin.get_by_label("Enable Rotate & Flip").uncheck()
        admin.get_by_role("button", name="Save tool availability").click()
        expect(admin.locator(".tools-form .ok")).to_have_text("Saved: 1 tool turned off.")
        screenshot(admin, "settings-tools")

        user = new_page()
        user.goto("/login")
        user.get_by_label("Username").fill("maria")
        user.get_by_label("Password", exact=True).fill("temporary-pass-1")
        user.get_by_role("button", name="Log in").click()
        expect(user).to_have_url(re.compile(r"/change-password$"))
        user.get_by_label("Current password").fill("temporary-pass-1")
        user.get_by_label("New password", exact=True).fill("marias-password-1")
        user.get_by_label("Repeat the new password").fill("marias-password-1")
        user.get_by_role("button", name="Change password").click()
        user.get_by_label("Search tools").fill("rotate")
        expect(user.locator('.tool-card[data-tool="rotate-video"]')).to_be_visible()
        expect(user.locator('.tool-card[data-tool="rotate"]')).to_have_count(0)
        # A user's role has no admin tabs.
        user.goto("/settings")
        expect(user.locator(".tabs a")).to_have_text(["Profile", "API keys", "Webhooks"])  # webhooks are per user
        user.goto("/tools/image/rotate")
        expect(user.get_by_role("heading", name="Tool not found")).to_be_visible()

        as_user = server.api("maria", "marias-password-1")
        assert "rotate" not in {t["id"] for t in as_user.get("/api/v1/tools").json()["tools"]}
        assert as_user.post("/api/v1/tools/image/rotate", json={}).status_code == 404
    finally:
        server.api().put("/api/v1/settings", json={"disabledTools": []})


def test_the_admin_pages_show_teams_roles_audit_ai_and_health(new_page: NewPage, server: Server) -> None:
    page = sign_in(new_page(), then="/settings/teams")
    page.get_by_role("textbox", name="New team").fill("Studio")
    page.get_by_role("button", name="Create team").click()
    row = page.locator("tbody tr").filter(has_text="Studio")
    expect(row).to_contain_text("0")
    assert "Studio" in {t["name"] for t in server.api().get("/api/v1/teams").json()["teams"]}
    row.get_by_role("button", name="Delete").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tbody tr").filter(has_text="Studio")).to_have_count(0)

    page.get_by_role("link", name="Roles").click()
    for role in ("admin", "editor", "user"):
        expect(page.locator(f'.role[data-role="{role}"]')).to_contain_text("built-in")
    page.get_by_label("Name").fill("auditor")
    page.locator(".role-form").get_by_label("audit:read").check()
    page.get_by_role("button", name="Create role").click()
    expect(page.locator('.role[data-role="auditor"]')).to_contain_text("audit:read")
    screenshot(page, "settings-roles")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("ROLE_CREATED")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".audit-list tbody tr")).to_have_count(1)
    expect(page.locator(".audit-list tbody tr")).to_contain_text("auditor")
    screenshot(page, "settings-audit")

    page.get_by_role("link", name="AI features").click()
    bundles = server.api().get("/api/v1/features").json()["bundles"]
    expect(page.locator(".bundle")).to_have_count(len(bundles))
    for bundle in bundles:
        state = "installed" if bundle["installed"] else "not installed"
        expect(page.locator(f'.bundle[data-bundle="{bundle["id"]}"] h3 .badge')).to_have_text(state)

    page.get_by_role("link", name="System").click()
    # The Status card's badge (the AI card's bundles have badges of their own).
    expect(page.get_by_role("region", name="Status").locator(".badge.status-ok")).to_have_text("healthy")
    expect(page.get_by_role("region", name="Engines")).to_contain_text("ffmpeg")
    screenshot(page, "settings-system")


def test_pages_fit_a_phone_screen_with_a_collapsible_menu(new_page: NewPage) -> None:
    page = sign_in(new_page(390, 844))
    for path in ["/", "/tools/image/resize", "/files", "/settings/api-keys"]:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        nav_link = page.get_by_role("link", name="Files", exact=True)
        expect(nav_link).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(nav_link).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")
        page.get_by_role("button", name="Menu").click()
        expect(nav_link).to_be_hidden()
        # Nothing wider than the screen: no sideways scrolling (wide tables scroll in their own box).
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        screenshot(page, f"phone-{path.strip('/').replace('/', '-') or 'home'}")
    # Following a link from the open menu closes it.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Pipelines").click()
    expect(page.get_by_role("heading", name="Pipelines", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Files", exact=True)).to_be_hidden()


def test_results_of_other_types_get_their_own_preview(new_page: NewPage, tmp_path: Path) -> None:
    """Audio gets a player; a PDF its first page as an image."""
    audio = tmp_path / "tone.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", str(audio)],
        check=True,
    )
    page = sign_in(new_page(), then="/tools/audio/convert-audio")
    page.locator(".dropzone input[type=file]").set_input_files(str(audio))
    page.get_by_role("button", name="Run", exact=True).click()
    player = page.get_by_role("region", name="Result").locator("audio")
    expect(player).to_have_attribute("src", re.compile(r"^/api/v1/download/"))

    page.goto("/tools/image/image-to-pdf")
    page.locator(".dropzone input[type=file]").set_input_files(str(png(tmp_path / "page.png", 200, 100)))
    page.get_by_role("button", name="Run", exact=True).click()
    preview = page.get_by_role("region", name="Result").locator('.preview[data-kind="pdf"] img')
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => img.naturalWidth") > 0


def test_every_tool_in_the_catalog_gets_a_page_with_its_settings_form(new_page: NewPage, server: Server) -> None:
    """No tool needs UI code: each page is generated from the catalog entry, one input per setting."""
    page = sign_in(new_page())
    catalog = server.api().get("/api/v1/tools").json()["tools"]
    for tool in catalog:
        # In-app navigation (History API), as a click on the catalog does: no reload per tool.
        page.evaluate(
            "path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }",
            f"/tools/{tool['section']}/{tool['id']}",
        )
        expect(page.locator("main h1")).to_have_text(tool["title"])
        settings = list(tool["settingsSchema"].get("properties", {}))
        fields = page.locator(".schema-form > .field").evaluate_all("els => els.map(e => e.dataset.field)")
        assert fields == settings, tool["id"]
        extras = [p["name"] for p in tool["inputs"]["extra"]]
        for name in extras:
            expect(page.locator(f'.inputs .field[data-field="{name}"] input[type=file]')).to_have_count(1)
        drop_zones = 0 if tool["inputs"]["jsonBody"] else 1
        expect(page.locator(".dropzone")).to_have_count(drop_zones)
