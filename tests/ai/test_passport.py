"""passport-photo through the HTTP API, on a drawn portrait the Haar cascade finds and the packaged
U2-Net-p segments: the photo's pixel size is the country's millimetres at 300 dpi, the head has the
specified height and sits centred, the background is replaced, sheets hold the expected copies, and
/generate reuses /analyze's cached analysis."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips
from fastapi.testclient import TestClient

from app.engine.media.passport_specs import MM_PER_INCH, SHEETS, SPECS
from tests.ai.scenes import decode, fail_long, fetch, person_scene, png, portrait, post, run_long

PORTRAIT = portrait(width=400, height=500, cx=200, cy=230, face_width=150)  # a size the cascade finds


def px(mm: float) -> int:
    return round(mm / MM_PER_INCH * 300)


def person_rows(photo: np.ndarray, background: tuple[int, int, int], cx: int) -> tuple[int, int]:
    """(crown row, chin row) in an output photo: the first row, in the middle columns, that is not
    background, and the last row of face-coloured pixels in the face's middle column."""
    middle = photo[:, cx - 5 : cx + 5, :3].astype(int)
    not_bg = np.abs(middle - background).max(axis=2).min(axis=1) > 30
    crown = int(np.flatnonzero(not_bg)[0])
    skin = np.abs(photo[:, cx - 30, :3].astype(int) - (200, 160, 140)).max(axis=1) < 16
    chin = int(np.flatnonzero(skin)[-1])
    return crown, chin


def test_spec_data_covers_37_countries_with_sane_sizes(admin: TestClient) -> None:
    assert len(SPECS) == 37
    for spec in SPECS.values():
        assert 25 <= spec.width_mm <= 51 and 32 <= spec.height_mm <= 70, spec.code
        assert spec.head_mm[0] < spec.head_mm[1] < spec.height_mm, spec.code
        assert spec.background.startswith("#")
    assert (SPECS["US"].width_px, SPECS["US"].height_px) == (600, 600)
    assert (SPECS["GB"].width_px, SPECS["GB"].height_px) == (413, 531)
    tool = admin.get("/api/v1/tools/image/passport-photo").json()
    assert len(tool["settingsSchema"]["properties"]["country"]["enum"]) == 37
    assert {a["name"] for a in tool["actions"]} == {"analyze", "generate"}


def test_us_photo_has_the_specified_size_head_height_and_centred_face(admin: TestClient) -> None:
    body = run_long(admin, "passport-photo", png(PORTRAIT.rgb), {"country": "us", "printLayout": "none"})
    assert body["country"] == "US" and body["analysisCached"] is False and body["faceDetector"] == "haar"
    assert "downloads" not in body and body["downloadUrl"].split("?")[0].endswith("/passport_us.jpg")
    data = fetch(admin, body)
    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == (600, 600)
    assert round(image.xres * MM_PER_INCH) == 300
    photo = decode(data)
    assert photo[2, 2].min() > 245 and photo[2, -3].min() > 245  # the grey background became white
    crown, chin = person_rows(photo, (255, 255, 255), 300)
    head = chin - crown
    assert px(25.4) <= head <= px(34.9)  # 1 to 1 3/8 inch
    eye_line = 600 - (crown + head / 2)  # the eyes are halfway down the head
    assert px(26) <= eye_line <= px(36)
    # Centred: the hair reaches as far left as right of the middle.
    hair_row = photo[crown + 30, :, :3].astype(int)
    dark = np.flatnonzero(hair_row.max(axis=1) < 80)
    assert abs((dark[0] + dark[-1]) / 2 - 300) <= 6


def test_uk_sheet_tiles_copies_on_a_4x6_sheet_with_the_chosen_background(admin: TestClient) -> None:
    body = run_long(admin, "passport-photo", png(PORTRAIT.rgb), {"country": "GB", "backgroundColor": "#3050a0"})
    names = [d["filename"] for d in body["downloads"]]
    assert names == ["passport_gb_4x6.jpg", "passport_gb.jpg"]
    assert (body["widthPx"], body["heightPx"]) == (413, 531)
    sheet = decode(fetch(admin, body, body["downloads"][0]["downloadUrl"]))
    photo = decode(fetch(admin, body, body["downloads"][1]["downloadUrl"]))
    assert photo.shape[:2] == (531, 413)
    assert np.abs(photo[3, 3].astype(int) - (0x30, 0x50, 0xA0)).max() < 12
    assert sheet.shape[:2] == (px(101.6), px(152.4))  # 6 x 4 in landscape fits the most
    assert body["copies"] == 8 and (body["sheetWidthPx"], body["sheetHeightPx"]) == (1800, 1200)
    blue = np.abs(sheet[..., :3].astype(int) - (0x30, 0x50, 0xA0)).max(axis=2) < 14
    assert blue.sum() > 8 * 0.3 * 413 * 531  # eight photos' backgrounds
    assert sheet[1, 1].min() > 245  # white margin
    crown, chin = person_rows(photo, (0x30, 0x50, 0xA0), 206)
    assert px(29) <= chin - crown <= px(34)


def test_a4_sheet_for_china(admin: TestClient) -> None:
    body = run_long(admin, "passport-photo", png(PORTRAIT.rgb), {"country": "CN", "printLayout": "A4"})
    assert (body["widthPx"], body["heightPx"]) == (px(33), px(48))
    short, long = px(SHEETS["A4"][0]), px(SHEETS["A4"][1])
    assert {body["sheetWidthPx"], body["sheetHeightPx"]} == {short, long}
    margin, gap = px(5), px(2)  # office printers need a margin
    fits = max(
        ((w - 2 * margin + gap) // (px(33) + gap)) * ((h - 2 * margin + gap) // (px(48) + gap))
        for w, h in ((short, long), (long, short))
    )
    assert body["copies"] == fits == 32
    photo = decode(fetch(admin, body, body["downloads"][1]["downloadUrl"]))
    crown, chin = person_rows(photo, (255, 255, 255), photo.shape[1] // 2)
    assert px(26) <= chin - crown <= px(35)
    assert px(2) <= crown <= px(7)  # 3-5 mm above the head


def test_analyze_then_generate_reuses_the_analysis(admin: TestClient) -> None:
    data = png(PORTRAIT.rgb)
    r = post(admin, "passport-photo/analyze", data, {"country": "DE"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["analysisCached"] is False and len(first["analysisId"]) == 64
    face = first["face"]
    assert abs(face["x"] + face["width"] / 2 - PORTRAIT.cx) < 12
    assert abs(first["crown"] - PORTRAIT.crown) < 8
    assert abs(first["chin"] - PORTRAIT.chin) < 25
    assert first["spec"]["code"] == "DE" and first["model"] == "u2netp"

    r = post(admin, "passport-photo/generate", data, {"country": "DE"})
    assert r.status_code == 200, r.text
    assert r.headers["x-analysis-cached"] == "True"
    assert r.headers["content-type"] == "image/jpeg"
    sheet = decode(r.content)
    assert sheet.shape[:2] == (1200, 1800)

    r = post(admin, "passport-photo/generate", data, {"country": "US", "printLayout": "none"})
    assert r.headers["x-analysis-cached"] == "True"
    assert decode(r.content).shape[:2] == (600, 600)
    again = post(admin, "passport-photo/analyze", data, {}).json()
    assert again["analysisCached"] is True and again["analysisId"] == first["analysisId"]


def test_picture_without_a_face_fails_with_a_reason(admin: TestClient) -> None:
    picture, _ = person_scene(200, 150)
    final = fail_long(admin, "passport-photo", png(picture), {})
    assert "No face found" in str(final)


@pytest.mark.parametrize("country", ["XX", "", 5])
def test_unknown_country_is_a_400(admin: TestClient, country: object) -> None:
    r = post(admin, "passport-photo", png(PORTRAIT.rgb), {"country": country})
    assert r.status_code == 400, r.text
