"""The configured OpenID provider: discovery, the authorization code flow with PKCE, and ID token
validation against its JWKS (Authlib for OAuth 2, joserfc - Authlib's JOSE library - for the JWT)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import LutraError

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import OAuth2Client
    from joserfc.jwk import KeySet

# Authlib and joserfc are imported where they are used: only servers with single sign-on load them.

HTTP_TIMEOUT_S = 10.0
DISCOVERY_TTL_S = 3600.0
# Signature algorithms an ID token may use; "none" and HMAC with a guessable secret never pass.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class OidcError(LutraError):
    status, code = 400, "OIDC_ERROR"


class ProviderUnavailable(OidcError):
    status, code = 502, "OIDC_PROVIDER_UNAVAILABLE"


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


_cache: dict[str, tuple[float, Metadata]] = {}
_jwks: dict[str, KeySet] = {}
_lock = threading.Lock()


def _get_json(url: str) -> dict[str, Any]:
    import httpx

    try:
        r = httpx.get(url, timeout=HTTP_TIMEOUT_S, follow_redirects=False, headers={"Accept": "application/json"})
        r.raise_for_status()
        body = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"The identity provider did not answer usably ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("The identity provider answered something other than a JSON object")
    return body


def metadata(settings: Settings) -> Metadata:
    """The provider's /.well-known/openid-configuration, cached for an hour."""
    issuer = settings.oidc_issuer_url.rstrip("/")
    with _lock:
        hit = _cache.get(issuer)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    doc = _get_json(f"{issuer}/.well-known/openid-configuration")
    # OpenID Connect Discovery 4.3: the document must name exactly the issuer it was fetched for.
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable("The provider's discovery document names another issuer")
    try:
        meta = Metadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            end_session_endpoint=str(doc["end_session_endpoint"]) if doc.get("end_session_endpoint") else None,
        )
    except KeyError as exc:
        raise ProviderUnavailable(f"The provider's discovery document lacks {exc.args[0]}") from None
    with _lock:
        _cache[issuer] = (time.monotonic() + DISCOVERY_TTL_S, meta)
    return meta


def forget_cache() -> None:
    with _lock:
        _cache.clear()
        _jwks.clear()


def _keys(meta: Metadata, refresh: bool) -> KeySet:
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    with _lock:
        keys = None if refresh else _jwks.get(meta.jwks_uri)
    if keys is None:
        try:
            keys = KeySet.import_key_set(_get_json(meta.jwks_uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError):
            raise ProviderUnavailable("The provider's JWKS could not be read") from None
        with _lock:
            _jwks[meta.jwks_uri] = keys
    return keys


def _client(settings: Settings, redirect_uri: str) -> OAuth2Client:
    from authlib.integrations.httpx_client import OAuth2Client

    return OAuth2Client(
        settings.oidc_client_id,
        settings.oidc_client_secret or None,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_S,
    )


def new_login() -> tuple[str, str, str]:
    """Fresh (state, nonce, PKCE code verifier): 256, 256 and 384 bits, URL-safe."""
    return secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)


def authorization_url(settings: Settings, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
    meta = metadata(settings)
    with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            meta.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier
        )
    return url


def exchange_code(settings: Settings, redirect_uri: str, code: str, verifier: str, nonce: str) -> dict[str, Any]:
    import httpx

    """Trades the code for tokens and returns the ID token's claims once they are proven genuine."""
    from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError

    meta = metadata(settings)
    try:
        with _client(settings, redirect_uri) as client:
            token = client.fetch_token(meta.token_endpoint, code=code, code_verifier=verifier)
    except (AuthlibOAuthError, httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"The provider refused the login ({type(exc).__name__})", code="OIDC_TOKEN_ERROR") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("The provider sent no ID token", code="OIDC_TOKEN_ERROR")
    return validate_id_token(settings, meta, id_token, nonce)


def validate_id_token(settings: Settings, meta: Metadata, id_token: str, nonce: str) -> dict[str, Any]:
    from joserfc import jwt
    from joserfc.errors import InvalidKeyIdError, JoseError

    try:
        try:
            decoded = jwt.decode(id_token, _keys(meta, refresh=False), algorithms=ID_TOKEN_ALGORITHMS)
        except InvalidKeyIdError:
            # A key id we do not know: the provider may have rotated its keys since we fetched them.
            decoded = jwt.decode(id_token, _keys(meta, refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise OidcError(
            "The ID token is not valid", code="OIDC_INVALID_ID_TOKEN", details={"reason": str(exc)[:200]}
        ) from None
    return decoded.claims


def end_session_url(settings: Settings, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser after logout, when the provider offers RP-initiated logout."""
    try:
        meta = metadata(settings)
    except OidcError:
        return None
    if not meta.end_session_endpoint:
        return None
    import httpx

    query = httpx.QueryParams(client_id=settings.oidc_client_id, post_logout_redirect_uri=post_logout_redirect_uri)
    sep = "&" if "?" in meta.end_session_endpoint else "?"
    return f"{meta.end_session_endpoint}{sep}{query}"
