"""TOTP second factor (RFC 6238): enrolment, code checks with replay refusal, recovery codes and the
short-lived challenge between a password login and its code."""

from __future__ import annotations

import io
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth import tokens
from app.errors import AuthRequired, BadRequest
from app.models import MfaChallenge, MfaRecoveryCode, Role, User, UserSession
from app.settings.service import require_mfa_setting

ISSUER = "Lutra"
RECOVERY_CODE_COUNT = 10
CHALLENGE_TTL = timedelta(minutes=5)
# A challenge is spent after this many wrong codes, on top of the login throttle.
CHALLENGE_MAX_FAILURES = 5
# Codes of the previous and the next 30-second step are accepted too (clock drift).
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read off paper


def otpauth_url(secret: str, username: str) -> str:
    """otpauth://totp/Lutra:<user>?secret=...&issuer=Lutra (label prefix and parameter, as apps expect)."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(url: str) -> str:
    """A standalone SVG document (with its namespace, so it also works as an <img> data: URL)."""
    import segno  # 7 MB: loaded on the first enrolment, not by every server process

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue().decode()


def _normalise_recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))  # ~50 bits
    return f"{raw[:5]}-{raw[5:]}"


def issue_recovery_codes(db: Session, user_id: str) -> list[str]:
    """Replaces the user's recovery codes with a fresh set; returns them in clear (shown once)."""
    db.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.add(MfaRecoveryCode(user_id=user_id, code_hash=tokens.hash_token(_normalise_recovery(code))))
    db.flush()
    return codes


def recovery_codes_left(db: Session, user_id: str) -> int:
    query = select(func.count()).where(MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.used_at.is_(None))
    return db.scalar(query) or 0


def begin_enrolment(db: Session, user: User) -> dict[str, object]:
    """A new secret and recovery codes; nothing is enforced until a code confirms them."""
    import pyotp

    if user.mfa_enabled:
        raise BadRequest("Two-factor login is already on; disable it first", code="MFA_ALREADY_ENABLED")
    user.mfa_secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    user.mfa_last_step = None
    url = otpauth_url(user.mfa_secret, user.username)
    return {
        "secret": user.mfa_secret,
        "otpauthUrl": url,
        "qrSvg": qr_svg(url),
        "recoveryCodes": issue_recovery_codes(db, user.id),
    }


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    import pyotp

    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_totp(db: Session, user: User, code: str) -> bool:
    """True when `code` is a current TOTP code not accepted before (it is then spent)."""
    code = code.strip().replace(" ", "")
    if not user.mfa_secret or not (code.isascii() and code.isdigit() and len(code) == 6):
        return False
    step = _matching_step(user.mfa_secret, code, datetime.now(UTC))
    if step is None:
        return False
    # One conditional UPDATE: of two parallel requests carrying the same code only one moves the step.
    moved = db.execute(
        update(User)
        .where(User.id == user.id, or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return False
    user.mfa_last_step = step
    return True


def use_recovery_code(db: Session, user_id: str, code: str) -> bool:
    clean = _normalise_recovery(code)
    if len(clean) != 10:
        return False
    spent = db.execute(
        update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user_id,
            MfaRecoveryCode.code_hash == tokens.hash_token(clean),
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1


def enable(db: Session, user: User, keep_session_id: str | None) -> None:
    user.mfa_enabled = True
    _end_other_sessions(db, user.id, keep_session_id)
    if keep_session_id:
        db.execute(update(UserSession).where(UserSession.id == keep_session_id).values(mfa_enrolment_required=False))


def clear(db: Session, user: User, keep_session_id: str | None = None) -> None:
    """Turns the second factor off and forgets its secret and recovery codes."""
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_last_step = None
    db.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    db.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user.id))
    _end_other_sessions(db, user.id, keep_session_id)


def _end_other_sessions(db: Session, user_id: str, keep_session_id: str | None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id:
        stmt = stmt.where(UserSession.id != keep_session_id)
    db.execute(stmt)


def enrolment_required(db: Session, user: User) -> bool:
    """The requireMfa setting or the user's role makes a second factor mandatory."""
    if user.mfa_enabled:
        return False
    if require_mfa_setting(db):
        return True
    return bool(db.scalar(select(Role.require_mfa).where(Role.name == user.role)))


# -- the login's second step ------------------------------------------------------------------------


def start_challenge(db: Session, user: User) -> str:
    now = datetime.now(UTC)
    db.execute(delete(MfaChallenge).where(MfaChallenge.expires_at <= now))
    token = tokens.new_session_token()
    db.add(MfaChallenge(token_hash=tokens.hash_token(token), user_id=user.id, expires_at=now + CHALLENGE_TTL))
    return token


def find_challenge(db: Session, token: str) -> MfaChallenge:
    row = db.scalar(select(MfaChallenge).where(MfaChallenge.token_hash == tokens.hash_token(token)))
    if row is None or row.expires_at <= datetime.now(UTC):
        raise AuthRequired("The sign-in step has expired or was used; sign in again", code="MFA_TOKEN_INVALID")
    return row


def spend_challenge(db: Session, challenge: MfaChallenge) -> bool:
    """Deletes the challenge; False when a parallel request spent it first."""
    gone = db.execute(
        delete(MfaChallenge).where(MfaChallenge.id == challenge.id).execution_options(synchronize_session=False)
    )
    return gone.rowcount == 1


def count_failure(db: Session, challenge: MfaChallenge) -> None:
    challenge.failures += 1
    if challenge.failures >= CHALLENGE_MAX_FAILURES:
        db.delete(challenge)
