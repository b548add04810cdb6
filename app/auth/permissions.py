"""The 18 permissions and the three built-in roles."""

from __future__ import annotations

PERMISSIONS: tuple[str, ...] = (
    "tools:use",
    "files:own",
    "files:all",
    "apikeys:own",
    "apikeys:all",
    "pipelines:own",
    "pipelines:all",
    "settings:read",
    "settings:write",
    "users:manage",
    "teams:manage",
    "features:manage",
    "system:health",
    "audit:read",
    "compliance:manage",
    "webhooks:manage",
    "security:manage",
    "automations:manage",
)

_USER = ["tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read"]

BUILTIN_ROLES: dict[str, dict[str, object]] = {
    "admin": {"description": "Full access to everything", "permissions": list(PERMISSIONS)},
    "editor": {
        "description": "A user who also sees everyone's files and pipelines",
        "permissions": [*_USER, "files:all", "pipelines:all"],
    },
    "user": {"description": "Uses tools and manages their own files, pipelines and keys", "permissions": _USER},
}
