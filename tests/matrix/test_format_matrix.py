"""The format matrix: every tool of the catalog, on a small real file of every input format it declares,
through the real HTTP API and engines. Generated from the registry, so a new tool or preset is covered
the moment it is registered.

A run passes when the output is a whole file of the kind its name says, with the properties that kind
must have (tests/matrix/checks.py), or when the tool refuses the file with a 4xx whose message is the
one listed for that case in KNOWN_REFUSALS (a true statement about the input). A 5xx, an "internal
error" or any other refusal fails. AI tools whose models this machine lacks must answer 501.

CI runs one base sample per tool and declared format (`BASE`) plus the variants that once broke a
tool (`CI_VARIANTS`); `-m matrix_full` runs every variant (`VARIANTS`: bit depths, channel layouts,
rotations, encodings ...) and reports what each tool made of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine import registry
from app.engine.media.sniff import KIND_GROUPS
from app.engine.tool import Tool
from tests.catalog_settings import example_settings
from tests.conftest import module_app
from tests.engine.helpers import read_events
from tests.matrix.checks import check, zip_members
from tests.matrix.samples import BASE, SAMPLES, VARIANTS, SampleStore

registry.load_all()
FILE_TOOLS = [t for t in registry.all_tools() if t.inputs.takes_files]

# Settings that make a tool do its real work where the schema-derived example would not.
SETTINGS: dict[str, dict[str, Any]] = {
    "redact-pdf": {"terms": ["matrix"], "patterns": ["email"]},
    "protect-pdf": {"userPassword": "matrix-pass"},
    "unlock-pdf": {"password": ""},
    "ai-canvas-expand": {"extendRight": 16},
}

# Refusals that are the right answer, with the message that says why (a substring of it).
KNOWN_REFUSALS: dict[tuple[str, str], str] = {
    ("chart-maker", "txt"): "No numeric column found to chart",  # the sample is prose
    ("passport-photo", "*"): "No face found",  # the samples are gradients, not portraits
    # Only the MKV sample carries a subtitle track.
    **{("extract-subtitles", v): "The video has no subtitle track" for v in ("mp4", "mov", "webm", "avi")},
}

# Variants that once broke a tool: they stay in the CI run.
CI_VARIANTS = ("wav-s16-44k-stereo", "webp-animated", "csv-latin1-semicolon")


def _kinds(tool: Tool) -> list[str]:
    """The concrete kinds a tool declares (groups expanded); a tool that takes anything gets three."""
    if not tool.inputs.kinds:
        return ["png", "pdf", "txt"]
    out: list[str] = []
    for k in tool.inputs.kinds:
        out += [c for c in KIND_GROUPS.get(k, (k,)) if c not in out]
    return out


def _cases(full: bool) -> Iterator[Any]:
    for tool in FILE_TOOLS:
        kinds = _kinds(tool)
        for kind in kinds:
            if kind in BASE and not full:
                yield pytest.param(tool, BASE[kind], id=f"{tool.id}[{BASE[kind]}]")
        for name, kind in VARIANTS.items():
            if kind in kinds and (full or name in CI_VARIANTS):
                marks = [pytest.mark.matrix_full] if full else []
                yield pytest.param(tool, name, id=f"{tool.id}[{name}]", marks=marks)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> SampleStore:
    return SampleStore(tmp_path_factory.mktemp("matrix-samples"))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with module_app(tmp_path_factory.mktemp("matrix") / "data") as client:
        r = client.put("/api/v1/settings", json={"enableExperimentalTools": "true"})
        assert r.status_code == 200, r.text
        yield client


def settings_for(tool: Tool) -> dict[str, Any]:
    return SETTINGS.get(tool.id, example_settings(tool) or {})


def _extra_sample(kinds: tuple[str, ...]) -> str | None:
    """The sample for a second upload, None when the matrix has none of its kinds (a PKCS#12 certificate)."""
    concrete = [c for k in kinds for c in KIND_GROUPS.get(k, (k,))]
    return next((BASE[c] for c in concrete if c in BASE), None)


def _call(client: TestClient, tool: Tool, samples: SampleStore, name: str) -> tuple[int, dict[str, Any]]:
    """Runs the tool on the sample (twice for tools that need two files); returns (status, body), waiting
    for a long tool's job to end (its failure is reported with the status the job carries)."""
    path = samples.path(name)
    parts = [("file", (f"{name}.{path.suffix[1:]}", path.read_bytes(), "application/octet-stream"))
             for _ in range(max(1, tool.inputs.min_files))]  # fmt: skip
    for extra in tool.inputs.extra:  # optional ones too: compare needs its second image
        sample = _extra_sample(extra.kinds)
        if sample is None:
            # Only an optional part may lack a sample (its tool's own tests send one): sign-pdf's certificate.
            assert not extra.required, f"{tool.id}: no matrix sample for its required part {extra.name!r}"
            continue
        other = samples.path(sample)
        parts.append((extra.name, (other.name, other.read_bytes(), "application/octet-stream")))
    settings = settings_for(tool)
    r = client.post(tool.path, files=parts, data={"settings": json.dumps(settings)})
    if r.status_code != 202:
        return r.status_code, r.json()
    final = read_events(client, r.json()["jobId"])[-1]
    if final["status"] == "completed":
        return 200, final["result"]
    return 422, final  # a failed job's frame carries the reason and code; 4xx is what the client is told


def _download(client: TestClient, url: str, into: Path) -> Path:
    r = client.get(url)
    assert r.status_code == 200, r.text
    out = into / httpx.URL(url).path.rsplit("/", 1)[-1]
    out.write_bytes(r.content)
    return out


def _record(case: str, status: int, body: dict[str, Any]) -> None:
    """Appends a refusal to MATRIX_REPORT (a JSON-lines file), when set: the full run's findings."""
    report = os.environ.get("MATRIX_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            f.write(json.dumps({"case": case, "status": status, "code": body.get("code"),
                                "error": body.get("error")}) + "\n")  # fmt: skip


def _judge(client: TestClient, tool: Tool, samples: SampleStore, name: str, tmp_path: Path, *,
           strict: bool = True) -> None:  # fmt: skip
    """strict (the CI run): a refusal must be listed in KNOWN_REFUSALS. Otherwise (variants) any 4xx with a
    message is an answer, recorded for the report, as long as it is not an internal error."""
    status, body = _call(client, tool, samples, name)
    case = f"{tool.id} on {name}"
    if status == 501 and tool.feature is not None:
        assert body["code"] == "FEATURE_NOT_INSTALLED", body
        pytest.skip(f"{case}: AI feature {tool.feature} not installed here")
    assert status < 500, f"{case}: {status} {body}"
    if status >= 400:
        error = str(body.get("error"))
        assert not error.startswith("internal error"), f"{case}: {error}"
        _record(case, status, body)
        assert body.get("code") != "VALIDATION_ERROR", f"{case}: the matrix's settings were refused: {error}"
        if strict:
            expected = KNOWN_REFUSALS.get((tool.id, name)) or KNOWN_REFUSALS.get((tool.id, "*"))
            refused = f"{case}: refused with {status} {body.get('code')}: {error}"
            assert expected is not None and expected in error, refused
        return
    urls = [d["downloadUrl"] for d in body.get("downloads") or []]
    if not urls and body.get("downloadUrl"):
        urls = [body["downloadUrl"]]
    assert urls or set(body) - {"jobId", "downloadUrl", "originalSize", "processedSize"}, f"{case}: empty answer"
    for url in urls[:4]:
        out = _download(client, url, tmp_path)
        # A tone has no speech to transcribe, a gradient no text to read: those answers say so themselves.
        props = check(
            out,
            empty_ok=body.get("words") == 0 or body.get("text") == "",
            password=settings_for(tool).get("userPassword", ""),
        )
        if props["kind"] == "zip" and tool.id != "create-zip":
            (tmp_path / "unzipped").mkdir(exist_ok=True)
            for member in zip_members(out, tmp_path / "unzipped")[:4]:
                check(member)


@pytest.mark.parametrize(("tool", "sample"), list(_cases(full=False)))
def test_tool_on_each_declared_format(api: TestClient, samples: SampleStore, tool: Tool, sample: str,
                                      tmp_path: Path) -> None:  # fmt: skip
    _judge(api, tool, samples, sample, tmp_path)


@pytest.mark.parametrize(("tool", "sample"), list(_cases(full=True)))
def test_tool_on_every_variant(api: TestClient, samples: SampleStore, tool: Tool, sample: str,
                               tmp_path: Path) -> None:  # fmt: skip
    _judge(api, tool, samples, sample, tmp_path, strict=False)


def test_every_sample_is_the_kind_it_claims(samples: SampleStore) -> None:
    from app.engine.media.sniff import sniff_file

    for name, (kind, _, _) in SAMPLES.items():
        assert sniff_file(samples.path(name)) == kind, name
