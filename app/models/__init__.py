"""ORM classes. Importing this package registers every table on Base.metadata."""

from app.models.automations import Automation, AutomationRun
from app.models.base import Base
from app.models.files import IdempotencyRecord, LibraryFile, UploadPart, UploadSession
from app.models.identity import ApiKey, MfaChallenge, MfaRecoveryCode, OidcLoginState, Role, Team, User, UserSession
from app.models.jobs import Job, Pipeline
from app.models.preferences import UserPreferences
from app.models.quotas import StorageQuota
from app.models.system import AuditEntry, Setting
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Automation",
    "AutomationRun",
    "Base",
    "IdempotencyRecord",
    "Job",
    "LibraryFile",
    "MfaChallenge",
    "MfaRecoveryCode",
    "OidcLoginState",
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
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
