"""File names that never overwrite: `name`, else `stem<sep>1.ext`, `stem<sep>2.ext` ..."""

from __future__ import annotations

from pathlib import Path


def free_name(folder: Path, name: str, sep: str = "-") -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 1
    while candidate.exists():
        candidate = folder / f"{stem}{sep}{number}{suffix}"
        number += 1
    return candidate
