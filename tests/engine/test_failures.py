"""Engine errors become messages true for the input, from real ffmpeg, libvips and qpdf failures."""

from __future__ import annotations

import io
import logging
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
import pyvips

from app.engine import failures
from app.engine.media import ffmpeg, pdf, vips
from app.engine.tool import ToolFailure

LOG_ID = re.compile(r"^internal error, see log id ([0-9a-f]{10})$")


def ffmpeg_stderr(*args: str) -> str:
    done = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0
    return done.stderr


def test_ffmpeg_causes_name_the_inputs_property(tmp_path: Path) -> None:
    wav = tmp_path / "mono.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=0.2:r=22050", str(wav)], check=True)
    # The old normalize-audio failure: a WAV's "unknown" layout handed to aresample.
    stderr = ffmpeg_stderr("-i", str(wav), "-af", "aresample=22050:ochl=unknown", "-f", "wav", str(tmp_path / "o.wav"))
    assert ffmpeg.explain(stderr) == "the input's channel layout could not be carried to the output"
    stderr = ffmpeg_stderr("-i", str(wav), "-map", "0:v:0", "-f", "mp4", str(tmp_path / "o.mp4"))
    assert ffmpeg.explain(stderr) == "the input has no video stream"
    cut = tmp_path / "cut.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=d=1:s=64x64", "-c:v", "libx264",
                    str(cut)], check=True)  # fmt: skip
    cut.write_bytes(cut.read_bytes()[:2000])
    assert ffmpeg.explain(ffmpeg_stderr("-i", str(cut), "-f", "null", "-")) in (
        "the file is cut short: its index (moov atom) is missing",
        "the input is damaged or not a supported media file",
    )


def test_unknown_causes_get_a_log_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="lutra.failures"):
        message = ffmpeg.explain("[foo @ 0x1] something nobody has seen before")
        log_id = LOG_ID.match(message)
        assert log_id, message
        assert log_id.group(1) in caplog.text and "something nobody has seen before" in caplog.text
        crash = failures.explain(KeyError("settings"))
        assert LOG_ID.match(crash) and "KeyError" in caplog.text
    assert failures.explain(MemoryError()) == "ran out of memory"
    assert failures.explain(OSError(28, "No space left on device")) == "the server ran out of disk space"


@pytest.mark.parametrize(
    ("suffix", "cut", "reason"),
    [
        (".webp", 40, "the image is damaged"),
        (".heic", 60, "the image is cut short or damaged (its data ends too early)"),
        (".jpg", 40, "the image is cut short or damaged (its data ends too early)"),
        (".gif", 40, "the image is cut short or damaged (its data ends too early)"),
        (".png", 40, "the PNG file could not be read (it is damaged or cut short)"),
    ],
)
def test_libvips_causes(suffix: str, cut: int, reason: str) -> None:
    data = pyvips.Image.black(64, 48).new_from_image([200, 10, 10]).cast("uchar").write_to_buffer(suffix)
    with pytest.raises(ToolFailure) as caught, vips.vips_errors():
        pyvips.Image.new_from_buffer(data[:cut], "").avg()
    assert str(caught.value) == reason


def test_libvips_unknown_error_is_not_called_a_decode_failure() -> None:
    with pytest.raises(ToolFailure) as caught, vips.vips_errors():
        pyvips.Image.black(4, 4).extract_area(10, 10, 5, 5)  # a programming error, not the input's fault
    assert LOG_ID.match(str(caught.value))
    # A caller's own message is kept when the cause is unknown.
    own = "the mask could not be applied"
    with pytest.raises(ToolFailure, match=rf"^{own}$"), vips.vips_errors(own):
        pyvips.Image.black(4, 4).extract_area(10, 10, 5, 5)


def test_qpdf_causes() -> None:
    doc = pikepdf.new()
    doc.add_blank_page()
    buf = io.BytesIO()
    doc.save(buf)
    broken = buf.getvalue().replace(b"startxref", b"startxreX").replace(b"xref", b"xreX")
    with pytest.raises(ToolFailure) as caught, pdf.pdf_errors():
        pikepdf.open(io.BytesIO(broken[:200]))
    assert "damaged" in str(caught.value)
    assert failures.qpdf("invalid password") == "the PDF is password-protected"
    assert failures.soffice("Error: source file could not be loaded").startswith("LibreOffice could not open")
    assert failures.onnx("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : CUDA failure 2: out of memory").startswith(
        "the AI model ran out of memory"
    )
