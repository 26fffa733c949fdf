"""The demo's sign-on: a stand-in for the city's, so a newcomer can act as a person.

Approving an application, deciding an escalation, reading the audit log and
registering documents each take a person signed in with a role, and the demo has no
city sign-on to sign anyone in. In demo mode, with no sign-on configured, the platform
trusts one signing key instead, derived from the demo seed as the demo API keys are
(anyone with the seed can make it: it is for the demo alone). `python -m auth
demo-token` signs tokens with it, and the server verifies them on the normal path
(`auth.tokens.TokenVerifier`), issuer, audience and expiry all checked. Outside demo
mode the key is never trusted, so a demo token is refused like any unknown signer's.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from auth.keys import DEMO_SYSTEMS
from errors import ConfigurationError
from policies.caller import Role

DEMO_ISSUER = "https://sign-on.demo.gov-share.invalid"
DEMO_AUDIENCE = "gov-share-demo"
# Short: a token copied from the README stops working soon after the walkthrough.
DEMO_TOKEN_SECONDS = 15 * 60
# The order of P-256's base point: a private key is an integer in [1, order).
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def demo_key_id(seed: int) -> str:
    return f"gov-share-demo-{seed}"


def demo_signing_key(seed: int) -> ec.EllipticCurvePrivateKey:
    """The same key for the same seed, in the server and in the command line."""
    digest = hashlib.new("sm3", f"gov-share-demo-sign-on:{seed}".encode()).digest()
    secret = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(secret, ec.SECP256R1())


def demo_jwks(seed: int) -> dict[str, Any]:
    """What the demo sign-on publishes: its one public key."""
    public = ECAlgorithm.to_jwk(demo_signing_key(seed).public_key(), as_dict=True)
    return {"keys": [{**public, "kid": demo_key_id(seed), "alg": "ES256", "use": "sig"}]}


def demo_system(department: str) -> str:
    """The demo system a person of `department` signs in through (each demo department
    has one); a ConfigurationError for a department the demo does not have."""
    for system in DEMO_SYSTEMS:
        if system.department_code == department:
            return system.system_id
    known = ", ".join(f"{s.department_code} ({s.department_name})" for s in DEMO_SYSTEMS)
    raise ConfigurationError(
        "demo sign-on", "--department", f"not a demo department; the demo has: {known}"
    )


def demo_token(
    seed: int,
    *,
    person: str,
    department: str,
    roles: frozenset[Role],
    claims: dict[str, str],
    seconds: int = DEMO_TOKEN_SECONDS,
    now: float | None = None,
) -> str:
    """A token of the demo sign-on, its claims named as the platform reads them
    (`claims`: GOV_SHARE_SSO_CLAIMS), for `person` of `department` acting through the
    department's demo system."""
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "iss": DEMO_ISSUER,
        "aud": DEMO_AUDIENCE,
        "iat": issued,
        "nbf": issued,
        "exp": issued + seconds,
        claims["person"]: person,
        claims["department"]: department,
        claims["system"]: demo_system(department),
        claims["roles"]: sorted(role.value for role in roles),
    }
    return jwt.encode(
        payload, demo_signing_key(seed), algorithm="ES256", headers={"kid": demo_key_id(seed)}
    )
