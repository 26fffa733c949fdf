"""People signed in through the city's single sign-on: a token verifies against the
sign-on's published keys, or is refused with a message that says why (and never what
the token holds). Keys are real, made here; the JWKS is a file."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from auth import KeyRegistry
from auth.jwks import KeySet
from auth.tokens import TokenVerifier
from errors import ConfigurationError, Unauthenticated
from policies.caller import Role
from settings import read_settings
from store import api_keys, store_engine, upgrade
from tests.auth.sso import AUDIENCE, ISSUER, MARRIAGE, SignOn, ec_key, rsa_key

pytestmark = pytest.mark.anyio

CLAIMS = {"department": "department", "person": "sub", "roles": "roles", "system": "azp"}


@pytest.fixture(scope="module")
def sign_on() -> SignOn:
    return SignOn({"rsa-1": rsa_key(), "ec-1": ec_key()})


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
    await asyncio.to_thread(upgrade, url)
    made = store_engine(url)
    yield made
    await made.dispose()


@pytest.fixture
async def registry(engine: AsyncEngine, sign_on: SignOn, tmp_path: Path) -> KeyRegistry:
    keys = KeySet(str(sign_on.write(tmp_path / "jwks.json")), refresh_seconds=60)
    verifier = TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys=keys, leeway_seconds=60, claims=CLAIMS
    )
    made = KeyRegistry(engine, demo=False, cache_seconds=5, tokens=verifier)
    await made.register(
        MARRIAGE, "林州市民政局", "marriage-registry", "婚姻登记系统", {"township": "开元街道"}
    )
    return made


def encoded(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


async def refusal(registry: KeyRegistry, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await registry.authenticate(f"Bearer {token}", None)
    assert refused.value.status_code == 401 and refused.value.code == "UNAUTHENTICATED"
    return refused.value.message


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
async def test_a_signed_in_person_acts_through_their_system(
    registry: KeyRegistry, sign_on: SignOn, kid: str
) -> None:
    caller = await registry.authenticate(f"Bearer {sign_on.token(kid)}", "mz-0231")
    assert (caller.department, caller.department_name, caller.system) == (
        MARRIAGE,
        "林州市民政局",
        "marriage-registry",
    )
    assert caller.person == "zhangsan-0231"
    assert caller.operator == "mz-0231"  # still what the system asserts, kept apart
    assert caller.roles == frozenset({Role.PROVIDER_APPROVER})  # wiki_editor is not ours
    assert caller.attribute_values == {"township": "开元街道"}  # the platform's, not the token's


async def test_roles_may_be_space_separated(registry: KeyRegistry, sign_on: SignOn) -> None:
    token = sign_on.token(roles="auditor policy_admin")
    caller = await registry.authenticate(f"Bearer {token}", None)
    assert caller.roles == frozenset({Role.AUDITOR, Role.POLICY_ADMIN})


async def test_an_expired_token_is_refused(registry: KeyRegistry, sign_on: SignOn) -> None:
    token = sign_on.token(exp=int(time.time()) - 120)
    assert await refusal(registry, token) == "the sign-on token has expired"


async def test_clock_skew_within_the_leeway_is_forgiven(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    token = sign_on.token(exp=int(time.time()) - 30, nbf=int(time.time()) + 30)
    assert (await registry.authenticate(f"Bearer {token}", None)).person == "zhangsan-0231"


async def test_a_token_not_valid_yet_is_refused(registry: KeyRegistry, sign_on: SignOn) -> None:
    token = sign_on.token(nbf=int(time.time()) + 600)
    assert await refusal(registry, token) == "the sign-on token is not valid yet"


async def test_a_token_for_another_audience_is_refused(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    message = await refusal(registry, sign_on.token(aud="wiki"))
    assert message == "the sign-on token is not meant for this platform (audience)"


async def test_a_token_from_another_issuer_is_refused(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    message = await refusal(registry, sign_on.token(iss="https://evil.example"))
    assert message == "the sign-on token is not from the trusted sign-on (issuer)"


async def test_a_bad_signature_is_refused(registry: KeyRegistry, sign_on: SignOn) -> None:
    forged = sign_on.token("rsa-1", key=rsa_key())  # the published kid, another key
    assert await refusal(registry, forged) == "the sign-on token's signature does not verify"


async def test_a_changed_payload_does_not_verify(registry: KeyRegistry, sign_on: SignOn) -> None:
    header, payload, signature = sign_on.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "lisi-0001"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    message = await refusal(registry, f"{header}.{changed}.{signature}")
    assert message == "the sign-on token's signature does not verify"


async def test_a_key_the_sign_on_does_not_publish_is_refused(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    unknown = sign_on.token("rsa-9", key=rsa_key())
    message = await refusal(registry, unknown)
    assert message == "the sign-on token is signed with a key the sign-on does not publish"
    assert "rsa-9" not in message


async def test_a_token_naming_no_key_is_refused(registry: KeyRegistry, sign_on: SignOn) -> None:
    token = jwt.encode({"sub": "x"}, sign_on.keys["rsa-1"], algorithm="RS256")
    message = await refusal(registry, token)
    assert message == "the sign-on token is signed with a key the sign-on does not publish"


@pytest.mark.parametrize("alg", ["HS256", "none"])
async def test_shared_secrets_and_no_signature_are_refused(
    registry: KeyRegistry, sign_on: SignOn, alg: str
) -> None:
    """HS256 keyed with the published key's text is the classic confusion attack."""
    header = encoded({"alg": alg, "kid": "rsa-1", "typ": "JWT"})
    signing_input = f"{header}.{encoded({'sub': 'x', 'iss': ISSUER, 'aud': AUDIENCE})}"
    public = json.dumps(sign_on.jwks()["keys"][0]).encode()
    mac = hmac.new(public, signing_input.encode(), "sha256").digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    message = await refusal(registry, f"{signing_input}.{signature}")
    assert message == "the sign-on token must be signed with RS256 or ES256"


async def test_a_malformed_token_is_refused(registry: KeyRegistry) -> None:
    message = await refusal(registry, "bm90LWpzb24.e30.c2ln")
    assert message == "the bearer token is not a well-formed JWT"


async def test_a_token_without_its_claims_is_refused(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    assert (
        await refusal(registry, sign_on.token(exp=None)) == "the sign-on token has no 'exp' claim"
    )
    message = await refusal(registry, sign_on.token(department=None))
    assert message == "the sign-on token has no 'department' claim (the department)"


async def test_a_system_the_platform_does_not_know_is_refused(
    registry: KeyRegistry, sign_on: SignOn
) -> None:
    for claims in ({"azp": "tax-admin"}, {"department": "11410581005000005D"}):
        message = await refusal(registry, sign_on.token(**claims))
        assert message == "the sign-on token names a department system the platform does not know"


async def test_an_api_key_is_still_an_api_key(registry: KeyRegistry) -> None:
    key = await registry.register(MARRIAGE, "林州市民政局", "marriage-registry", "婚姻登记系统")
    caller = await registry.authenticate(f"Bearer {key}", "mz-0231")
    assert caller.system == "marriage-registry" and caller.person is None


async def test_without_a_sign_on_tokens_are_refused(engine: AsyncEngine, sign_on: SignOn) -> None:
    registry = KeyRegistry(engine, demo=False)
    message = await refusal(registry, sign_on.token())
    assert message == "this platform accepts no sign-on tokens, only API keys"


def test_an_issuer_without_audience_or_keys_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as raised:
        TokenVerifier.from_settings(read_settings(sso_issuer=ISSUER))
    assert "GOV_SHARE_SSO_AUDIENCE, GOV_SHARE_SSO_JWKS" in str(raised.value)


def test_claims_setting_must_name_every_meaning() -> None:
    with pytest.raises(ExceptionGroup) as raised:
        read_settings(sso_claims={"person": "sub"})
    [problem] = raised.value.exceptions
    assert "GOV_SHARE_SSO_CLAIMS" in str(problem) and "department, roles, system" in str(problem)


async def test_a_system_whose_keys_are_revoked_stops_accepting_tokens(
    engine: AsyncEngine, registry: KeyRegistry, sign_on: SignOn
) -> None:
    """The system is remembered for `cache_seconds`, like a key."""
    now = [1000.0]
    registry._clock = lambda: now[0]
    token = sign_on.token()
    assert (await registry.authenticate(f"Bearer {token}", None)).person == "zhangsan-0231"
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(api_keys).values(revoked_at=datetime.datetime.now(datetime.UTC))
        )
    assert (await registry.authenticate(f"Bearer {token}", None)).person == "zhangsan-0231"
    now[0] += 5
    message = await refusal(registry, token)
    assert message == "the sign-on token names a department system the platform does not know"
