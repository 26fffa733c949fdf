"""A single sign-on for tests: real keys made here, their JWKS in a file, and tokens
signed as the city's sign-on would sign them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://sso.linzhou.gov.cn/realms/city"
AUDIENCE = "gov-share"
MARRIAGE = "11410581005000006G"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        alg = "RS256"
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        alg = "ES256"
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@dataclass
class SignOn:
    keys: dict[str, PrivateKey] = field(default_factory=dict)
    """By kid: the keys the sign-on signs with and publishes."""

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def token(
        self,
        kid: str = "rsa-1",
        *,
        key: PrivateKey | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token for 张三 of the civil affairs bureau, acting through the marriage
        registry; `claims` replace or (as None) remove the defaults."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "zhangsan-0231",
            "department": MARRIAGE,
            "azp": "marriage-registry",
            "roles": ["provider_approver", "wiki_editor"],
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        signing = key or self.keys[kid]
        alg = "RS256" if isinstance(signing, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(payload, signing, algorithm=alg, headers={"kid": kid, **(headers or {})})
