"""Runtime configuration: one Settings object read from the environment (the seed's variable names)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    max_upload_size_mb: int = Field(100, ge=1, description="Largest accepted upload")
    max_megapixels: int = Field(100, ge=1, description="Largest accepted image, in megapixels")
    max_video_duration_s: int = Field(3600, ge=1, description="Longest accepted video or audio file, in seconds")
    max_pdf_pages: int = Field(2000, ge=1, description="Most pages a PDF may have to be accepted by the PDF tools")
    hw_accel: str = Field("", description="Hardware H.264 encoder: nvenc, vaapi or qsv; empty = software (libx264)")
    concurrent_jobs: int = Field(0, ge=0, description="Jobs run at once; 0 = number of CPU cores")
    job_timeout_s: int = Field(600, ge=1, description="Time limit of one job, in seconds")
    worker_idle_s: int = Field(300, ge=1, description="Idle worker processes exit after this many seconds")
    max_batch_size: int = Field(0, ge=0, description="Files per batch; 0 = unlimited")
    max_pipeline_steps: int = Field(0, ge=0, description="Steps per pipeline; 0 = unlimited")
    file_max_age_hours: int = Field(72, ge=1, description="Job workspaces older than this are deleted")
    # Scale-out (issue 16): with REDIS_URL, jobs run on `lutra worker` processes through Celery.
    redis_url: str = Field("", description="Redis for the scaled mode (Celery broker, events); empty = embedded mode")
    job_heartbeat_timeout_s: int = Field(
        60, ge=2, description="A running job whose worker sent no heartbeat for this long ends failed WORKER_LOST"
    )
    worker_wait_s: int = Field(10, ge=0, description="How long a fast tool waits for a worker to come online")
    worker_stop_grace_s: int = Field(30, ge=0, description="On SIGTERM a worker finishes its jobs within this")
    watch_root: Path | None = Field(
        None, description="Folder that bounds every automation's source and output paths; empty = DATA_DIR/watch"
    )
    automation_scan_interval_s: int = Field(
        30, ge=1, description="Watch folders are also scanned this often (network shares send no file events)"
    )
    max_resumable_upload_gb: int = Field(10, ge=1, description="Largest file a resumable upload session may declare")

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
    ai_threads: int = Field(0, ge=0, description="CPU threads per AI inference; 0 = ONNX Runtime's default")
    ai_manifest: Path | None = Field(
        None, description="An extra model manifest (JSON) whose entries add to or replace Lutra's own"
    )
    model_mirror_url: str = Field(
        "", description="Fetch model downloads from this base URL (an internal mirror) instead of their public hosts"
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

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
    def max_upload_bytes(self) -> int:
        return self.max_upload_size_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
