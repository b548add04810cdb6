"""schemathesis over the served OpenAPI document: every operation, every phase, a bounded number of cases.

Marked `fuzz` (run alone: pytest -m fuzz) and part of the normal suite. The run goes through
schemathesis's own engine (what its CLI runs: examples, coverage, fuzzing and stateful phases) against
the app in-process, and fails on a server error, a status the document does not list for that
operation, or a reference that does not resolve (a schema error). FUZZ_EXAMPLES raises the examples
per operation (default 3, so the run takes a few minutes on two cores).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from tests.conftest import module_app

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(900)]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))


def test_every_operation_keeps_to_its_document(tmp_path: Path) -> None:
    # Small uploads keep generated bodies cheap; the disk floor off, so no 507 depends on the host.
    with module_app(tmp_path / "data", MAX_UPLOAD_SIZE_MB="2", MIN_FREE_DISK_MB="0") as c:
        key = c.post("/api/v1/api-keys", json={"name": "fuzz"}).json()["key"]  # a key survives a fuzzed logout
        config = SchemathesisConfig.from_dict(
            {
                "seed": 15,
                "request-timeout": 120,  # a real job (a video from images) may take a while on two cores
                "headers": {"Authorization": f"Bearer {key}"},
                "generation": {"max-examples": EXAMPLES},
                "checks": {
                    "enabled": False,
                    # Documented answers, not faults: 501 FEATURE_NOT_INSTALLED (an AI tool without its
                    # models, as the seed answers), 503 SERVER_BUSY and 507 INSUFFICIENT_STORAGE.
                    "not_a_server_error": {"enabled": True, "expected-statuses": ["2xx", "3xx", "4xx", 501, 503, 507]},
                    "status_code_conformance": {"enabled": True},
                },
            }
        )
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", c.app, config=config)
        failures: list[str] = []
        errors: list[str] = []
        cases = 0
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                cases += len(event.recorder.cases)
                for check_list in event.recorder.checks.values():
                    for check in check_list:
                        if check.failure_info is not None:
                            failure = check.failure_info.failure
                            failures.append(f"{event.recorder.label}: {failure.title}: {failure.message[:200]}")
            elif isinstance(event, events.NonFatalError | events.FatalError):
                errors.append(f"{getattr(event, 'label', '')}: {event.info.format()[:300]}")
    print(f"{cases} cases; {len(failures)} failures; {len(errors)} errors")
    report = sorted(set(failures))[:40] + errors[:10]
    assert not failures and not errors, "\n".join(report)
