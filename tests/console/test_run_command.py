"""`lutra run`, `lutra tools`, `lutra pipeline run` and `lutra mcp --stdio` as a user runs them: the real
command in a subprocess on real files, in-process and against a real `lutra serve`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from tests.web.conftest import ROOT, SETTINGS_VARS, Server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def lutra(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS and not k.startswith("LUTRA_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean["DATA_DIR"] = str(cwd / "data")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png(path: Path, width: int, height: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pyvips.Image.black(width, height, bands=3).write_to_file(str(path))
    return path


def size_of(path: Path) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height


# -- in-process ---------------------------------------------------------------------------------------------


def test_runs_a_tool_on_one_file(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 64, 48)
    done = lutra("run", "resize", "photo.png", "--set", "width=32", "-o", "small.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "small.png"
    assert size_of(tmp_path / "small.png") == (32, 24)
    assert not (tmp_path / "data").exists()  # no server, no database


def test_a_tool_without_inputs_and_a_numeric_looking_text(tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    # `text` is a string setting: 12345 stays the text "12345" (other settings still read 2 as a number).
    done = lutra("run", "barcode-generate", "--set", "text=12345", "--set", "scale=2", "-o", "code.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "code.png") as image:
        assert [r.text for r in zxingcpp.read_barcodes(image)] == ["12345"]


def test_default_output_never_overwrites(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 64, 48)
    png(tmp_path / "photo_resized.png", 5, 5)
    done = lutra("run", "image_resize", "photo.png", "--settings", '{"width": 16}', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert size_of(tmp_path / "photo_resized.png") == (5, 5)
    assert size_of(tmp_path / "photo_resized_1.png") == (16, 12)


def test_set_is_merged_over_settings_and_json_prints_the_answer(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 64, 48)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"width": 10, "height": 10, "fit": "fill"}))
    done = lutra(
        "run", "resize", "photo.png", "--settings", f"@{settings}", "--set", "width=20", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["width"], answer["height"]) == (20, 10)
    assert answer["originalSize"] == (tmp_path / "photo.png").stat().st_size
    assert size_of(Path(answer["outputs"][0])) == (20, 10)


def test_a_folder_runs_as_a_batch_named_like_the_zip(tmp_path: Path) -> None:
    png(tmp_path / "in" / "a.png", 40, 20)
    png(tmp_path / "in" / "b.png", 40, 20)
    png(tmp_path / "more" / "a.png", 80, 40)
    (tmp_path / "in" / "notes.png").write_text("not an image")
    done = lutra("run", "resize", "in", "more/*.png", "--set", "percentage=50", "-o", "out", cwd=tmp_path)
    # One file was not an image: the others are done, the run reports the failure (exit 1).
    assert done.returncode == 1, done.stderr
    assert "notes.png" in done.stderr and "Unsupported file type" in done.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["a_resized.png", "a_resized_1.png", "b_resized.png"]
    assert size_of(tmp_path / "out" / "a_resized.png") == (20, 10)
    assert size_of(tmp_path / "out" / "a_resized_1.png") == (40, 20)


def test_bad_settings_exit_2_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 8, 8)
    for args, expected in (
        (["--set", "width=0"], "width: Input should be greater than or equal to 1"),
        (["--set", "widht=5"], "widht: Extra inputs are not permitted"),
        (["--settings", "{nope"], "--settings is not valid JSON"),
    ):
        done = lutra("run", "resize", "photo.png", *args, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
    missing = lutra("run", "resize", "nothing.png", "--set", "width=4", cwd=tmp_path)
    assert missing.returncode == 2 and "nothing.png: no such file" in missing.stderr
    unknown = lutra("run", "enlarge-everything", "photo.png", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown tool" in unknown.stderr


def test_a_tool_failure_exits_1_with_its_reason(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 8, 8)
    done = lutra("run", "crop", "photo.png", "--set", "left=50", "--set", "width=2", "--set", "height=2", cwd=tmp_path)
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == "lutra: The crop area (left 50, top 0, 2x2 px) extends beyond the image, which is 8x8 pixels"
    )


def _logo_and_background(folder: Path) -> None:
    pyvips.Image.black(20, 20).invert().write_to_file(str(folder / "logo.png"))
    png(folder / "bg.png", 200, 100)


def _watermarked(path: Path) -> tuple[list[float], list[float]]:
    image = pyvips.Image.new_from_file(str(path))
    return image.getpoint(170, 75), image.getpoint(10, 10)


def test_extra_inputs_and_multi_file_tools(tmp_path: Path) -> None:
    _logo_and_background(tmp_path)
    args = ("watermark-image", "bg.png", "--part", "watermark=logo.png", "--set", "opacity=100", "-o", "wm.png")
    done = lutra("run", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _watermarked(tmp_path / "wm.png") == ([255.0] * 3, [0.0] * 3)  # white mark bottom right only
    wrong = lutra("run", "watermark-image", "bg.png", "--part", "mask=logo.png", cwd=tmp_path)
    assert wrong.returncode == 2 and "takes: watermark" in wrong.stderr
    from tests.tools.pdf.helpers import page_texts, text_pdf

    (tmp_path / "a.pdf").write_bytes(text_pdf(["Alpha"]))
    (tmp_path / "b.pdf").write_bytes(text_pdf(["Beta", "Gamma"]))
    merged = lutra("run", "merge-pdf", "a.pdf", "b.pdf", "-o", "all.pdf", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert [" ".join(t.split()) for t in page_texts((tmp_path / "all.pdf").read_bytes())] == ["Alpha", "Beta", "Gamma"]


def _sine(path: Path, seconds: int = 3) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", str(path)],
        check=True,
    )
    return path


def test_long_tool_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    _sine(tmp_path / "t.wav")
    master, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "reverse-audio", "t.wav", "-o", "r.wav"],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k not in SETTINGS_VARS},
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the command has exited and closed the terminal
        while chunk := os.read(master, 4096):
            shown += chunk
    os.close(master)
    assert process.wait(60) == 0
    text = shown.decode("utf-8", "replace")
    assert "reverse-audio" in text and "\u2501" in text and "100%" in text  # rich's bar, drawn in place
    assert (tmp_path / "r.wav").stat().st_size > 0


def test_tools_lists_and_shows_settings(tmp_path: Path) -> None:
    listed = lutra("tools", "pdf", cwd=tmp_path)
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()
    assert rows and all(row.startswith("pdf ") for row in rows)
    assert any(row.split()[1] == "merge-pdf" for row in rows)
    shown = lutra("tools", "show", "resize", cwd=tmp_path)
    assert shown.returncode == 0
    assert "width: integer | null; range [1..16384]; default null" in shown.stdout
    assert "Target width in pixels" in shown.stdout
    as_json = json.loads(lutra("tools", "show", "crop", "--json", cwd=tmp_path).stdout)
    height = next(s for s in as_json["settings"] if s["name"] == "height")
    assert height["required"] and height["range"] == "(0..]"
    assert lutra("tools", "show", "nope", cwd=tmp_path).returncode == 2


def test_pipeline_file_runs_its_steps_in_order(tmp_path: Path) -> None:
    png(tmp_path / "photo.png", 60, 30)
    steps = {
        "steps": [{"toolId": "resize", "settings": {"width": 30}}, {"toolId": "rotate", "settings": {"angle": 90}}]
    }
    (tmp_path / "chain.json").write_text(json.dumps(steps))
    done = lutra("pipeline", "run", "chain.json", "photo.png", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert size_of(tmp_path / "out.png") == (15, 30)
    bad = {"steps": [{"toolId": "resize", "settings": {"width": 30}}, {"toolId": "rotate", "settings": {"angle": "x"}}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = lutra("pipeline", "run", "bad.json", "photo.png", cwd=tmp_path)
    assert refused.returncode == 2 and "Step 2 (rotate): Invalid settings: angle" in refused.stderr


# -- remote mode ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_env(server: Server) -> dict[str, str]:
    key = server.api().post("/api/v1/api-keys", json={"name": "cli"}).json()["key"]
    return {"LUTRA_URL": server.base, "LUTRA_API_KEY": key}


def test_remote_single_and_batch(tmp_path: Path, server: Server, remote_env: dict[str, str]) -> None:
    png(tmp_path / "photo.png", 64, 48)
    done = lutra(
        "run", "resize", "photo.png", "--set", "width=32", "-o", "r.png", "--json", cwd=tmp_path, env=remote_env
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["downloadUrl"].startswith("/api/v1/download/") and answer["width"] == 32
    assert size_of(tmp_path / "r.png") == (32, 24)
    png(tmp_path / "in" / "a.png", 40, 20)
    png(tmp_path / "in" / "b.png", 20, 40)
    batch = lutra("run", "resize", "in", "--set", "width=10", "--server", server.base, cwd=tmp_path, env=remote_env)
    assert batch.returncode == 0, batch.stderr
    assert size_of(tmp_path / "batch-resize" / "a_resized.png") == (10, 5)
    assert size_of(tmp_path / "batch-resize" / "b_resized.png") == (10, 20)


def test_remote_extra_input(tmp_path: Path, remote_env: dict[str, str]) -> None:
    _logo_and_background(tmp_path)
    args = ("watermark-image", "bg.png", "--part", "watermark=logo.png", "--set", "opacity=100", "-o", "wm.png")
    done = lutra("run", *args, cwd=tmp_path, env=remote_env)
    assert done.returncode == 0, done.stderr
    assert _watermarked(tmp_path / "wm.png") == ([255.0] * 3, [0.0] * 3)


def test_remote_catalog_and_saved_pipeline(tmp_path: Path, server: Server, remote_env: dict[str, str]) -> None:
    shown = lutra("tools", "show", "image_resize", cwd=tmp_path, env=remote_env)
    assert shown.returncode == 0 and "width: integer | null; range [1..16384]; default null" in shown.stdout
    steps = [{"toolId": "resize", "settings": {"width": 30}}, {"toolId": "rotate", "settings": {"angle": 90}}]
    api = server.client(remote_env["LUTRA_API_KEY"])
    saved = api.post("/api/v1/pipeline/save", json={"name": "thumb", "steps": steps})
    assert saved.status_code == 201, saved.text
    png(tmp_path / "photo.png", 60, 30)
    done = lutra("pipeline", "run", saved.json()["id"], "photo.png", "-o", "t.png", cwd=tmp_path, env=remote_env)
    assert done.returncode == 0, done.stderr
    assert size_of(tmp_path / "t.png") == (15, 30)


def test_remote_long_tool_follows_progress(tmp_path: Path, remote_env: dict[str, str]) -> None:
    _sine(tmp_path / "t.wav")
    done = lutra("run", "reverse-audio", "t.wav", "-o", "rev.wav", cwd=tmp_path, env=remote_env)
    assert done.returncode == 0, done.stderr
    assert "reverse-audio: 100%" in done.stderr  # plain progress lines: stderr is not a terminal here
    duration = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(tmp_path / "rev.wav")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert abs(float(duration) - 3) < 0.1


def test_remote_errors_map_to_exit_codes(tmp_path: Path, remote_env: dict[str, str]) -> None:
    png(tmp_path / "photo.png", 8, 8)
    bad = lutra("run", "resize", "photo.png", "--set", "width=-1", cwd=tmp_path, env=remote_env)
    assert bad.returncode == 2 and "width: Input should be greater than or equal to 1" in bad.stderr
    failed = lutra(
        "run",
        "crop",
        "photo.png",
        "--set",
        "left=50",
        "--set",
        "width=2",
        "--set",
        "height=2",
        cwd=tmp_path,
        env=remote_env,
    )
    assert failed.returncode == 1 and "extends beyond the image, which is 8x8 pixels" in failed.stderr
    unreachable = lutra(
        "run", "resize", "photo.png", "--set", "width=4", "--server", "http://127.0.0.1:9", cwd=tmp_path
    )
    assert unreachable.returncode == 3 and "cannot reach http://127.0.0.1:9" in unreachable.stderr


def test_mcp_stdio_bridges_to_the_server(tmp_path: Path, remote_env: dict[str, str]) -> None:
    from mcp import Client, StdioServerParameters

    picture = png(tmp_path / "photo.png", 50, 50).read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.cli", "mcp", "--stdio"],
        env={**env, "PYTHONPATH": str(ROOT), **remote_env},
        cwd=str(tmp_path),
    )

    async def main() -> tuple[set[str], dict[str, object], list[float]]:
        seen: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(progress)

        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            args = {
                "file": {"base64": base64.b64encode(picture).decode(), "filename": "p.png"},
                "settings": {"width": 5},
            }
            result = await client.call_tool("image_resize", args, progress_callback=on_progress)
            return names, result.structured_content or {}, seen

    names, answer, seen = asyncio.run(main())
    assert "image_resize" in names and "find_tools" in names
    assert (answer["width"], answer["height"]) == (5, 5)
    assert seen and seen[-1] == 100


def test_mcp_stdio_without_a_server_says_so(tmp_path: Path) -> None:
    done = lutra("mcp", "--stdio", "--server", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1].startswith("lutra: cannot reach http://127.0.0.1:9/mcp")
