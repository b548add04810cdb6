"""Multi-file uploads and ZIP/PDF reading for the optimisation tool tests."""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import zipfile
from typing import Any

import httpx
from fastapi.testclient import TestClient


def post_files(
    client: TestClient, tool_id: str, files: list[tuple[str, bytes]], settings: dict[str, Any]
) -> httpx.Response:
    return client.post(
        f"/api/v1/tools/image/{tool_id}",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        data={"settings": json.dumps(settings)},
    )


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page, read by qpdf (a real PDF parser, not our writer)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        check = subprocess.run(["qpdf", "--check", f.name], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        report = subprocess.run(["qpdf", "--json", f.name], capture_output=True, text=True, check=True)
    doc = json.loads(report.stdout)
    objects = doc["qpdf"][1] if "qpdf" in doc else doc["objects"]
    sizes = []
    for page in doc["pages"]:
        ref = page["object"]
        entry = objects.get(f"obj:{ref}", objects.get(ref))
        value = entry.get("value", entry) if isinstance(entry, dict) else entry
        box = value["/MediaBox"]
        sizes.append((float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
    return sizes


def pdf_text(data: bytes) -> str:
    return data.decode("latin-1")


def filters(data: bytes) -> list[str]:
    return re.findall(r"/Filter /(\w+)", pdf_text(data))
