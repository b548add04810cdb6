"""Who is making a request, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: str
    permissions: frozenset[str]
    team_id: str | None = None
    via: str = "session"  # session | api_key | open (AUTH_ENABLED=false)
    session_id: str | None = None
    api_key_id: str | None = None
    must_change_password: bool = False
    # A password login while a second factor is mandatory and not yet set up: may only enrol.
    mfa_enrolment_required: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def credential_id(self) -> str:
        """Identifies the credential for rate limiting: one bucket per key or session."""
        if self.api_key_id:
            return f"key:{self.api_key_id}"
        if self.session_id:
            return f"session:{self.session_id}"
        return f"user:{self.user_id}"
