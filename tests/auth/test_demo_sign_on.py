"""The demo sign-on: a demo server verifies its tokens on the normal path, roles and
all; a server outside demo mode never trusts it, with or without a sign-on of its own;
and a demo token expires like any other."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from auth.demo_sign_on import DEMO_TOKEN_SECONDS, demo_jwks, demo_signing_key, demo_token
from auth.tokens import TokenVerifier
from policies.caller import Role
from settings import ROOT, Settings
from tests.auth.sso import AUDIENCE, ISSUER, SignOn, rsa_key
from tests.conftest import SEED, serving
from tests.processes import PATH

pytestmark = pytest.mark.anyio

TAXATION = "11410581005000005D"
APPLICATIONS = "{ applicationsToAnswer { id } }"
# What a server outside demo mode needs and the demo derives.
PRODUCTION = {
    "demo": False,
    "audit_key_id": "k1",
    "audit_keys": {"k1": SecretStr("0" * 32)},
    "cursor_key": SecretStr("1" * 32),
    "audit_signing_key": SecretStr("07" * 32),
}


def approver_token(settings: Settings, now: float | None = None) -> str:
    return demo_token(
        settings.seed,
        person="审批员 王",
        department=TAXATION,
        roles=frozenset({Role.PROVIDER_APPROVER}),
        claims=settings.sso_claims,
        now=now,
    )


def test_the_demo_key_is_made_again_from_the_seed_alone() -> None:
    assert demo_jwks(SEED) == demo_jwks(SEED)
    assert demo_jwks(SEED) != demo_jwks(SEED + 1)
    assert demo_signing_key(SEED).private_numbers() == demo_signing_key(SEED).private_numbers()


async def test_a_demo_server_takes_the_demo_token_with_its_roles(settings: Settings) -> None:
    verifier = TokenVerifier.from_settings(settings)
    assert verifier is not None
    signed_in = await verifier.verify(approver_token(settings))
    assert signed_in.department == TAXATION and signed_in.system == "tax-admin"
    assert signed_in.person == "审批员 王"
    assert signed_in.roles == frozenset({Role.PROVIDER_APPROVER})

    async with serving(settings) as gateway:
        response = await gateway.query(
            APPLICATIONS,
            system=None,
            purpose=None,
            headers={"Authorization": f"Bearer {approver_token(settings)}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {"applicationsToAnswer": []}
        record = await gateway.audit(response)
        assert (record["caller_system"], record["person"]) == ("tax-admin", "审批员 王")


async def refused(settings: Settings, token: str) -> str:
    async with serving(settings) as gateway:
        response = await gateway.query(
            APPLICATIONS,
            system=None,
            purpose=None,
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "审批员" not in response.text
    message: str = error["message"]
    return message


async def test_a_server_outside_demo_mode_refuses_demo_tokens(
    settings: Settings, tmp_path: Path
) -> None:
    token = approver_token(settings)
    production = settings.model_copy(update=PRODUCTION)
    assert TokenVerifier.from_settings(production) is None
    assert await refused(production, token) == (
        "this platform accepts no sign-on tokens, only API keys"
    )
    city = SignOn({"rsa-1": rsa_key()})
    with_city = production.model_copy(
        update={
            "sso_issuer": ISSUER,
            "sso_audience": AUDIENCE,
            "sso_jwks": str(city.write(tmp_path / "jwks.json")),
        }
    )
    assert await refused(with_city, token) == (
        "the sign-on token is signed with a key the sign-on does not publish"
    )


async def test_a_demo_server_with_a_sign_on_of_its_own_trusts_only_that(
    settings: Settings, tmp_path: Path
) -> None:
    city = SignOn({"rsa-1": rsa_key()})
    with_city = settings.model_copy(
        update={
            "sso_issuer": ISSUER,
            "sso_audience": AUDIENCE,
            "sso_jwks": str(city.write(tmp_path / "jwks.json")),
        }
    )
    assert await refused(with_city, approver_token(settings)) == (
        "the sign-on token is signed with a key the sign-on does not publish"
    )


async def test_a_demo_token_is_refused_after_it_expires(settings: Settings) -> None:
    minted = time.time() - DEMO_TOKEN_SECONDS - settings.sso_leeway_seconds - 1
    expired = approver_token(settings, now=minted)
    assert await refused(settings, expired) == "the sign-on token has expired"


def command(data_dir: Path, *arguments: str, demo: str | None) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": PATH, "GOV_SHARE_DATA_DIR": str(data_dir), "GOV_SHARE_SEED": str(SEED)}
    if demo is not None:
        environment["GOV_SHARE_DEMO"] = demo
    return subprocess.run(
        [sys.executable, "-m", "auth", "demo-token", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
async def test_the_command_line_prints_a_token_only_for_a_demo_server(
    settings: Settings, tmp_path: Path
) -> None:
    arguments = ("--person", "审批员 王", "--department", TAXATION, "--role", "provider_approver")
    printed = command(tmp_path, *arguments, demo="true")
    assert printed.returncode == 0, printed.stderr
    verifier = TokenVerifier.from_settings(settings)
    assert verifier is not None
    signed_in = await verifier.verify(printed.stdout.strip())
    assert signed_in.roles == frozenset({Role.PROVIDER_APPROVER})

    not_demo = command(tmp_path, *arguments, demo=None)
    assert not_demo.returncode == 2 and not not_demo.stdout
    assert "not a demo server" in not_demo.stderr

    unknown = command(tmp_path, "--person", "x", "--department", "X" * 18, demo="true")
    assert unknown.returncode == 2 and "not a demo department" in unknown.stderr
    wrong_role = command(tmp_path, *arguments, "--role", "superuser", demo="true")
    assert wrong_role.returncode == 2 and "invalid choice" in wrong_role.stderr
