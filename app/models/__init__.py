"""ORM classes. Importing this package registers every table on Base.metadata."""

from app.models.automations import Automation, AutomationRun
from app.models.base import Base
from app.models.files import IdempotencyRecord, LibraryFile, UploadPart, UploadSession
from app.models.identity import ApiKey, Role, Team, User, UserSession
from app.models.jobs import Job, Pipeline
from app.models.preferences import UserPreferences
from app.models.quotas import StorageQuota
from app.models.system import AuditEntry, Setting

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Automation",
    "AutomationRun",
    "Base",
    "IdempotencyRecord",
    "Job",
    "LibraryFile",
    "Pipeline",
    "Role",
    "Setting",
    "StorageQuota",
    "Team",
    "UploadPart",
    "UploadSession",
    "User",
    "UserPreferences",
    "UserSession",
]
