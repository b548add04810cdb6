"""A small but real OpenID Connect provider for the tests: an HTTP server on 127.0.0.1 with discovery,
JWKS, an authorization endpoint that signs the configured person in at once, a token endpoint that
checks the client secret and the PKCE verifier, and RS256 ID tokens signed with joserfc."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "lutra-test"
CLIENT_SECRET = "lutra-test-secret"


@dataclass
class Provider:
    """The provider's state: who signs in next, and what the tests want it to do wrong."""

    claims: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "user-1",
            "preferred_username": "carol",
            "email": "carol@example.test",
            "email_verified": True,
            "groups": ["staff"],
        }
    )
    tamper_id_token: bool = False
    wrong_nonce: bool = False
    with_end_session: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
    )
    issuer: str = ""

    def discovery(self) -> dict[str, Any]:
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }
        if self.with_end_session:
            doc["end_session_endpoint"] = f"{self.issuer}/logout"
        return doc

    def authorize(self, query: dict[str, str]) -> str:
        """Signs `claims` in and answers the redirect back to the client (RFC 6749 4.1.2)."""
        assert query["response_type"] == "code"
        assert query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        assert "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(query)
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        basic = base64.b64decode(authorization.removeprefix("Basic ")).decode() if authorization else ""
        client = form.get("client_id"), form.get("client_secret")
        if basic != f"{CLIENT_ID}:{CLIENT_SECRET}" and client != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": "not-the-nonce" if self.wrong_nonce else grant["nonce"],
            **self.claims,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        if self.tamper_id_token:
            # Change one claim, keep the signature: exactly what a forger without the key can do.
            head, body, sig = id_token.split(".")
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            payload["groups"] = ["lutra-admins"]
            forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
            id_token = f"{head}.{forged}.{sig}"
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": id_token}


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | None = None, location: str | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            provider.requests.append(url.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._send(200, provider.discovery())
            elif url.path == "/jwks":
                self._send(200, KeySet([provider.key]).as_dict(private=False))
            elif url.path == "/authorize":
                self._send(302, location=provider.authorize(query))
            elif url.path == "/logout":
                self._send(302, location=query.get("post_logout_redirect_uri", "/"))
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            provider.requests.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path == "/token":
                self._send(*provider.token(form, self.headers.get("Authorization", "")))
            else:
                self._send(404, {"error": "not_found"})

    return Handler


class RunningProvider:
    """The provider serving on a free port of 127.0.0.1 until stop()."""

    def __init__(self) -> None:
        self.provider = Provider()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.provider))
        self.provider.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "OIDC_ISSUER_URL": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            **extra,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
