"""People signed in through the city's single sign-on: their tokens verified (PyJWT).

A front-end application acting for a signed-in person presents the person's token as
its bearer credential instead of an API key. The token must be signed (RS256 or
ES256 only: never `none`, never a shared secret) by a key the sign-on publishes
(`auth.jwks`), be issued by the trusted issuer for this platform's audience, and be
current, give or take the bounded clock skew. Its claims, named by GOV_SHARE_SSO_CLAIMS,
give the department, the person, the person's roles and the system acted through.

Each failure is refused with its own message, which says what is wrong with the
token and never echoes what it holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from auth.demo_sign_on import DEMO_AUDIENCE, DEMO_ISSUER, demo_jwks
from auth.jwks import KeySet
from errors import ConfigurationError, Unauthenticated
from policies.caller import Role
from settings import Settings

ALGORITHMS = ("RS256", "ES256")
# What the audit record's columns hold (caller_system, person).
LONGEST_CLAIM = 100
# Three base64url parts: what a compact JWS looks like, and an API key (gsk_…) does not.
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
WRONG_ALGORITHM = f"the sign-on token must be signed with {' or '.join(ALGORITHMS)}"
_FAILURES: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the sign-on token has expired"),
    (jwt.ImmatureSignatureError, "the sign-on token is not valid yet"),
    (jwt.InvalidAudienceError, "the sign-on token is not meant for this platform (audience)"),
    (jwt.InvalidIssuerError, "the sign-on token is not from the trusted sign-on (issuer)"),
    (jwt.InvalidSignatureError, "the sign-on token's signature does not verify"),
    (jwt.InvalidAlgorithmError, WRONG_ALGORITHM),
)


def looks_like_jwt(credential: str) -> bool:
    return _JWT.fullmatch(credential) is not None


@dataclass(frozen=True)
class SignedIn:
    """What a verified token says: who, for which department, through which system."""

    department: str
    system: str
    person: str
    roles: frozenset[Role]


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySet,
        leeway_seconds: float,
        claims: Mapping[str, str],
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.leeway_seconds = leeway_seconds
        self.claims = dict(claims)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier | None:
        """None when no sign-on is trusted; a ConfigurationError when one is half set.

        In demo mode without a sign-on of its own, the demo sign-on's (`auth.demo_sign_on`):
        never outside demo mode."""
        if settings.sso_issuer is None:
            if not settings.demo:
                return None
            return cls(
                issuer=DEMO_ISSUER,
                audience=DEMO_AUDIENCE,
                keys=KeySet.holding(demo_jwks(settings.seed), source="the demo sign-on"),
                leeway_seconds=settings.sso_leeway_seconds,
                claims=settings.sso_claims,
            )
        if not settings.sso_audience or not settings.sso_jwks:
            raise ConfigurationError(
                "settings",
                "GOV_SHARE_SSO_AUDIENCE, GOV_SHARE_SSO_JWKS",
                "required with GOV_SHARE_SSO_ISSUER: the audience tokens must be for, and "
                "the sign-on's public keys (a JWKS file or URL)",
            )
        keys = KeySet(settings.sso_jwks, refresh_seconds=settings.sso_jwks_refresh_seconds)
        return cls(
            issuer=settings.sso_issuer,
            audience=settings.sso_audience,
            keys=keys,
            leeway_seconds=settings.sso_leeway_seconds,
            claims=settings.sso_claims,
        )

    async def verify(self, token: str) -> SignedIn:
        """The person the token stands for; Unauthenticated when it does not verify."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a well-formed JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated(WRONG_ALGORITHM)
        key_id = header.get("kid")
        key = await self.keys.key(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise Unauthenticated(
                "the sign-on token is signed with a key the sign-on does not publish"
            )
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as missing:
            raise Unauthenticated(f"the sign-on token has no '{missing.claim}' claim") from None
        except jwt.PyJWTError as failure:
            raise Unauthenticated(_message(failure)) from None
        return self._signed_in(payload)

    def _signed_in(self, payload: Mapping[str, Any]) -> SignedIn:
        department, system, person = (
            self._text(payload, n) for n in ("department", "system", "person")
        )
        return SignedIn(department, system, person, _roles(payload.get(self.claims["roles"])))

    def _text(self, payload: Mapping[str, Any], meaning: str) -> str:
        claim = self.claims[meaning]
        value = payload.get(claim)
        if not isinstance(value, str) or not value.strip():
            raise Unauthenticated(f"the sign-on token has no '{claim}' claim (the {meaning})")
        if len(value.strip()) > LONGEST_CLAIM:
            raise Unauthenticated(f"the sign-on token's '{claim}' claim is too long")
        return value.strip()


def _message(failure: jwt.PyJWTError) -> str:
    for kind, message in _FAILURES:
        if isinstance(failure, kind):
            return message
    return "the bearer token is not a well-formed JWT"


def _roles(claimed: object) -> frozenset[Role]:
    """The platform's roles among those claimed (a list, or space-separated as OAuth
    scopes are): a sign-on serves many applications, and their roles are not ours."""
    names = claimed.split() if isinstance(claimed, str) else claimed
    if not isinstance(names, list):
        return frozenset()
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in names if isinstance(name, str) and name in known)
