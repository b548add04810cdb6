"""`python -m app.engine.ai.status`: prints the AI runtime's providers and the bundles' state as JSON.

The server runs this in a child process at start, so it can log and report the ONNX providers
without importing onnxruntime itself (which would add tens of MB to an idle server).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def collect() -> dict[str, Any]:
    from app.engine.ai import bundles
    from app.engine.media import onnx

    status = onnx.runtime_status()
    status["bundles"] = {b.id: b.installed() for b in bundles.all_bundles()}
    return status


def main() -> None:
    json.dump(collect(), sys.stdout)


if __name__ == "__main__":
    main()
