"""One error type for the whole service, rendered as {"error", "code"[, "details"]}."""

from __future__ import annotations

from typing import Any


class LutraError(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        # Extra top-level fields some answers carry (501 FEATURE_NOT_INSTALLED: feature, featureName ...).
        self.fields = fields or {}
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code, **self.fields}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(LutraError):
    status, code = 400, "BAD_REQUEST"


class ValidationFailed(LutraError):
    status, code = 400, "VALIDATION_ERROR"


class AuthRequired(LutraError):
    status, code = 401, "AUTH_REQUIRED"

    def __init__(self, message: str = "Authentication required", **kw: Any) -> None:
        super().__init__(message, **kw)


class Forbidden(LutraError):
    status, code = 403, "FORBIDDEN"

    def __init__(self, message: str = "Insufficient permissions", **kw: Any) -> None:
        super().__init__(message, **kw)


class NotFound(LutraError):
    status, code = 404, "NOT_FOUND"

    def __init__(self, message: str = "Not found", **kw: Any) -> None:
        super().__init__(message, **kw)


class Conflict(LutraError):
    status, code = 409, "CONFLICT"


class PayloadTooLarge(LutraError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedMedia(LutraError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class ProcessingFailed(LutraError):
    status, code = 422, "PROCESSING_FAILED"


class TooManyRequests(LutraError):
    status, code = 429, "RATE_LIMITED"


class NotImplementedFeature(LutraError):
    status, code = 501, "FEATURE_NOT_INSTALLED"


class ServerBusy(LutraError):
    """The server as a whole is at a limit (uploads, queued jobs, database connections): retry later."""

    status, code = 503, "SERVER_BUSY"


class InsufficientStorage(LutraError):
    status, code = 507, "INSUFFICIENT_STORAGE"
