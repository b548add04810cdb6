"""JobSpec and Outcome as JSON-safe dicts: what travels in a Celery message and in a reply."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from app.engine.spec import InputRef, JobSpec, Outcome, Step, StepReport


def spec_to_dict(spec: JobSpec) -> dict[str, Any]:
    return asdict(spec)


def spec_from_dict(data: dict[str, Any]) -> JobSpec:
    return JobSpec(
        job_id=data["job_id"],
        steps=[Step(**s) for s in data["steps"]],
        inputs=[InputRef(**i) for i in data["inputs"]],
        workdir=data["workdir"],
        extra={k: InputRef(**v) for k, v in data.get("extra", {}).items()},
        timeout_s=float(data.get("timeout_s", 600.0)),
        step_limits=tuple(data["step_limits"]) if data.get("step_limits") else None,  # type: ignore[arg-type]
    )


def outcome_to_dict(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)


def outcome_from_dict(data: dict[str, Any]) -> Outcome:
    fields = dict(data)
    fields["steps"] = [StepReport(**s) for s in fields.get("steps", [])]
    return Outcome(**fields)
