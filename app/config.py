"""Runtime configuration: one Settings object read from the environment (the seed's variable names)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What "0 = unlimited" stands for where a number is compared: larger than anything that can arrive.
UNLIMITED_MEGAPIXELS = 1_000_000
UNLIMITED_UPLOAD_BYTES = 1 << 50  # 1 PiB
# The browser UI's languages (catalogues in app/web/static/i18n/), English first as the source.
LOCALES = ("en", "de", "fr", "es", "zh-CN", "ja")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = Field("0.0.0.0", description="Address the server binds to")
    port: int = Field(1349, description="HTTP port")
    data_dir: Path = Field(Path("./data"), description="Where the SQLite database and job files live")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite under DATA_DIR")

    auth_enabled: bool = Field(True, description="false runs without login (single-user mode)")
    default_username: str = Field("admin", description="Username of the account created on first start")
    default_password: str = Field("admin", description="Its initial password (must be changed on first login)")
    session_duration_hours: int = Field(168, ge=1, description="Lifetime of a login session")
    rate_limit_per_min: int = Field(0, ge=0, description="Requests per minute per credential; 0 = off")
    login_attempt_limit: int = Field(5, ge=1, description="Default failed logins per minute before 429")

    max_upload_size_mb: int = Field(100, ge=0, description="Largest accepted upload; 0 = no limit but free disk")
    max_megapixels: int = Field(100, ge=0, description="Largest accepted image, in megapixels; 0 = unlimited")
    max_video_duration_s: int = Field(3600, ge=1, description="Longest accepted video or audio file, in seconds")
    max_pdf_pages: int = Field(2000, ge=1, description="Most pages a PDF may have to be accepted by the PDF tools")
    hw_accel: str = Field("", description="Hardware H.264 encoder: nvenc, vaapi or qsv; empty = software (libx264)")
    concurrent_jobs: int = Field(0, ge=0, description="Jobs run at once; 0 = number of CPU cores")
    job_timeout_s: int = Field(
        600,
        ge=1,
        # PROCESSING_TIMEOUT_S is SnapOtter's name for the same limit.
        validation_alias=AliasChoices("JOB_TIMEOUT_S", "PROCESSING_TIMEOUT_S", "job_timeout_s"),
        description="Time limit of one job, in seconds (PROCESSING_TIMEOUT_S is an alias)",
    )
    worker_idle_s: int = Field(300, ge=1, description="Idle worker processes exit after this many seconds")
    spare_worker_idle_s: int = Field(
        20,
        ge=1,
        description="Extra workers a burst of jobs started exit after this many idle seconds (one stays WORKER_IDLE_S)",
    )
    max_batch_size: int = Field(0, ge=0, description="Files per batch; 0 = unlimited")
    max_pipeline_steps: int = Field(0, ge=0, description="Steps per pipeline; 0 = unlimited")
    # Scale-out (issue 16): with REDIS_URL, jobs run on `lutra worker` processes through Celery.
    redis_url: str = Field("", description="Redis for the scaled mode (Celery broker, events); empty = embedded mode")
    job_heartbeat_timeout_s: int = Field(
        60, ge=2, description="A running job whose worker sent no heartbeat for this long ends failed WORKER_LOST"
    )
    worker_wait_s: int = Field(10, ge=0, description="How long a fast tool waits for a worker to come online")
    worker_stop_grace_s: int = Field(30, ge=0, description="On SIGTERM a worker finishes its jobs within this")
    file_max_age_hours: float = Field(72, ge=0, description="Job workspaces older than this are deleted; 0 = kept")
    cleanup_interval_minutes: float = Field(10, gt=0, description="How often expired job workspaces are looked for")
    watch_root: Path | None = Field(
        None, description="Folder that bounds every automation's source and output paths; empty = DATA_DIR/watch"
    )
    automation_scan_interval_s: int = Field(
        30, ge=1, description="Watch folders are also scanned this often (network shares send no file events)"
    )
    max_resumable_upload_gb: int = Field(10, ge=1, description="Largest file a resumable upload session may declare")
    max_resumable_sessions_per_user: int = Field(10, ge=1, description="Open resumable upload sessions per user")
    max_resumable_bytes_per_user_gb: int = Field(
        20, ge=1, description="Bytes one user's open resumable sessions may declare together"
    )

    # Bounded admission (0 = derived from the host's cores and memory, see the properties below).
    max_concurrent_uploads_per_user: int = Field(0, ge=0, description="Uploads one user may stream at once (429)")
    max_concurrent_uploads: int = Field(0, ge=0, description="Uploads streaming at once, all users (503)")
    max_queued_jobs_per_user: int = Field(0, ge=0, description="Unfinished jobs one user may have (429)")
    max_queued_jobs: int = Field(0, ge=0, description="Unfinished jobs, all users (503)")
    db_pool_size: int = Field(0, ge=0, description="Database connections kept open; 0 = derived from the limits")
    min_free_disk_mb: int = Field(300, ge=0, description="Below this much free space uploads and jobs get 507")
    trust_proxy: str = Field(
        "", description="true, or a comma-separated list of proxy addresses whose X-Forwarded-For is believed"
    )
    login_ip_attempt_limit: int = Field(
        100, ge=1, description="Failed logins per minute from one address (all accounts) before 429"
    )

    max_users: int = Field(0, ge=0, description="Most user accounts (single sign-on ones included); 0 = unlimited")
    skip_must_change_password: bool = Field(
        False, description="true: new and reset accounts are not forced to change their password at first login"
    )
    app_name: str = Field("Lutra", min_length=1, max_length=60, description="Name shown in the UI and page titles")
    default_locale: str = Field(
        "en",
        description="Language of the browser UI when neither the user's choice nor the browser's languages are one of "
        + ", ".join(LOCALES),
    )

    # OpenID Connect single sign-on: on when OIDC_ISSUER_URL and OIDC_CLIENT_ID are set.
    oidc_issuer_url: str = Field("", description="The provider's issuer URL (discovery at /.well-known/...)")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = Field("openid profile email", description="Scopes asked of the provider")
    oidc_button_label: str = Field("Sign in with SSO", description="Text of the login page's SSO button")
    oidc_auto_create_users: bool = Field(True, description="Create an account at a user's first SSO login")
    oidc_default_role: str = Field("user", description="Role of accounts created by SSO")
    oidc_role_claim: str = Field("", description="ID token claim (e.g. groups) whose values can grant admin")
    oidc_admin_values: str = Field("", description="Comma-separated values of OIDC_ROLE_CLAIM that mean admin")
    oidc_redirect_uri: str = Field(
        "", description="Callback URL registered at the provider; empty = this server's /api/auth/oidc/callback"
    )
    oidc_disable_password_login: bool = Field(False, description="true: only SSO logins (API keys still work)")

    analytics_enabled: bool = Field(False, description="Off by default: then nothing is ever sent anywhere")
    posthog_api_key: str = ""
    posthog_host: str = ""
    sentry_dsn: str = ""
    analytics_sample_rate: float = 1.0

    log_level: str = Field("info", description="uvicorn log level")

    cors_origin: str = Field(
        "", description="Browser origins allowed to call the API, comma-separated; * = any (no cookies); empty = off"
    )
    webhook_allowed_hosts: str = Field(
        "", description="Hosts or IPs webhooks may target although internal (e.g. 127.0.0.1), comma-separated"
    )
    webhook_timeout_s: float = Field(10.0, gt=0, le=60, description="Time limit of one webhook delivery attempt")

    models_dir: Path | None = Field(None, description="Where installed AI models live; empty = DATA_DIR/models")
    onnx_providers: str = Field(
        "", description="ONNX Runtime providers to use, in order (e.g. cuda,cpu); empty = CUDA if present, then CPU"
    )
    ai_session_idle_s: int = Field(600, ge=1, description="A loaded AI model unused this long is dropped from memory")
    ai_memory_mb: int = Field(
        1024, ge=16, description="Memory a worker's loaded AI models may hold (MB); the least recently used go first"
    )
    ai_worker_idle_s: int = Field(
        45, ge=1, description="A worker that ran an AI tool exits after this long without jobs, freeing its memory"
    )
    ai_threads: int = Field(0, ge=0, description="CPU threads per AI inference; 0 = ONNX Runtime's default")
    ai_manifest: Path | None = Field(
        None, description="An extra model manifest (JSON) whose entries add to or replace Lutra's own"
    )
    model_mirror_url: str = Field(
        "", description="Fetch model downloads from this base URL (an internal mirror) instead of their public hosts"
    )

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        # Written as in HTML (zh-CN) or as an environment would (zh_cn): both name the same language.
        wanted = value.strip().replace("_", "-").lower()
        for locale in LOCALES:
            if locale.lower() == wanted:
                return locale
        raise ValueError(f"must be one of {', '.join(LOCALES)}")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("max_megapixels")
    @classmethod
    def _unlimited_pixels(cls, value: int) -> int:
        # 0 = unlimited: every check compares against this, and no image reaches a terapixel (libvips
        # itself caps each side at 10 million pixels; memory and disk bound the rest).
        return value or UNLIMITED_MEGAPIXELS

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer_url and self.oidc_client_id)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Plain postgres URLs get the psycopg 3 driver we ship.
            for plain in ("postgresql://", "postgres://"):
                if url.startswith(plain):
                    return "postgresql+psycopg://" + url[len(plain) :]
            return url
        return f"sqlite:///{self.data_dir / 'lutra.db'}"

    @property
    def scaled(self) -> bool:
        return bool(self.redis_url)

    @property
    def models_path(self) -> Path:
        return (self.models_dir or self.data_dir / "models").expanduser().resolve()

    @property
    def watch_root_path(self) -> Path:
        return (self.watch_root or self.data_dir / "watch").expanduser().resolve()

    @property
    def storage_mode(self) -> str:
        return "local"

    @property
    def job_concurrency(self) -> int:
        return self.concurrent_jobs or (os.cpu_count() or 1)

    @property
    def trusted_proxies(self) -> list[str]:
        """Peers whose X-Forwarded-For names the client (TRUST_PROXY): [] = none, ["*"] = any."""
        value = self.trust_proxy.strip()
        if value.lower() in ("", "false", "0", "no", "off"):
            return []
        if value.lower() in ("true", "1", "yes", "on", "*"):
            return ["*"]
        return [part.strip() for part in value.split(",") if part.strip()]

    @property
    def upload_limit_total(self) -> int:
        # Each streaming upload costs a socket, a file handle and a little memory; memory bounds it.
        return self.max_concurrent_uploads or max(16, min(256, 8 * _cores(), _memory_gb() * 8))

    @property
    def upload_limit_per_user(self) -> int:
        return self.max_concurrent_uploads_per_user or max(4, self.upload_limit_total // 4)

    @property
    def queued_limit_total(self) -> int:
        # Jobs wait for a worker slot: enough to keep every core busy for a while, not an unbounded backlog.
        return self.max_queued_jobs or max(32, 16 * self.job_concurrency)

    @property
    def queued_limit_per_user(self) -> int:
        return self.max_queued_jobs_per_user or max(8, self.queued_limit_total // 4)

    @property
    def pool_size(self) -> int:
        """Database connections: enough for every admitted upload plus the thread pool's sync routes."""
        return self.db_pool_size or min(64, max(10, self.upload_limit_total // 4))

    @property
    def max_upload_bytes(self) -> int:
        # 0 = no limit of Lutra's own: an upload is then bounded by the free space under DATA_DIR.
        return self.max_upload_size_mb * 1024 * 1024 if self.max_upload_size_mb else UNLIMITED_UPLOAD_BYTES


@lru_cache  # read on every upload's admission; os.cpu_count() reads a file in /sys each time
def _cores() -> int:
    return os.cpu_count() or 1


@lru_cache
def _memory_gb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3) or 1
    except (ValueError, OSError, AttributeError):
        return 4


@lru_cache
def get_settings() -> Settings:
    return Settings()
