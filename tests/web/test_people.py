"""A front-end application acting for a signed-in person: the person's sign-on token is
the bearer credential, and the audit record names the person as verified, apart from
the operator a system merely asserts. The sign-on's keys may be served at a URL."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from auth.jwks import KeySet
from settings import ROOT, Settings
from tests.auth.sso import AUDIENCE, ISSUER, MARRIAGE, SignOn, ec_key, rsa_key
from tests.conftest import serving

pytestmark = pytest.mark.anyio

NAMES = "{ enterprises(first: 1) { edges { node { name } } } }"


def with_sign_on(settings: Settings, jwks: str) -> Settings:
    return settings.model_copy(
        update={"sso_issuer": ISSUER, "sso_audience": AUDIENCE, "sso_jwks": jwks}
    )


async def test_the_audit_record_names_the_verified_person(
    settings: Settings, tmp_path: Path
) -> None:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    async with serving(with_sign_on(settings, jwks)) as gateway:
        response = await gateway.query(
            NAMES,
            system=None,
            headers={"Authorization": f"Bearer {sign_on.token()}", "X-Operator": "mz-0231"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["enterprises"]["edges"]
        record = await gateway.audit(response)
        assert record["caller_department"] == MARRIAGE
        assert record["caller_system"] == "marriage-registry"
        assert record["person"] == "zhangsan-0231"
        assert record["operator"] == "mz-0231"

        with_key = await gateway.query(NAMES, headers={"X-Operator": "mz-0231"})
        assert (await gateway.audit(with_key))["person"] is None


async def test_a_refused_token_is_on_record_without_a_person(
    settings: Settings, tmp_path: Path
) -> None:
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    async with serving(with_sign_on(settings, jwks)) as gateway:
        expired = sign_on.token(exp=int(time.time()) - 600)
        response = await gateway.query(
            NAMES, system=None, headers={"Authorization": f"Bearer {expired}"}
        )
        assert response.status_code == 401
        [error] = response.json()["errors"]
        assert error["message"] == "the sign-on token has expired"
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "zhangsan" not in response.text
        record = await gateway.audit(response)
        assert record["outcome"] == "unauthenticated" and record["person"] is None


class JwksServer:
    """The sign-on's JWKS endpoint, counting how often it is asked."""

    def __init__(self, sign_on: SignOn) -> None:
        self.sign_on = sign_on
        self.requests = 0

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.sign_on.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/realms/city/certs"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_keys_at_a_url_are_fetched_again_for_a_new_key_only_now_and_then() -> None:
    sign_on = SignOn({"rsa-1": rsa_key()})
    endpoint = JwksServer(sign_on)
    clock = Clock()
    with endpoint.running() as url:
        keys = KeySet(url, refresh_seconds=60, clock=clock)
        assert await keys.key("rsa-1") is not None
        assert await keys.key("rsa-1") is not None
        assert endpoint.requests == 1  # never fetched per request

        sign_on.keys["ec-2"] = ec_key()  # the sign-on rotates
        assert await keys.key("ec-2") is None  # read too recently to read again
        clock.now += 60
        assert await keys.key("ec-2") is not None
        assert endpoint.requests == 2

        for _ in range(5):  # tokens naming made-up keys: no fetch within the interval
            assert await keys.key("made-up") is None
        assert endpoint.requests == 2
        clock.now += 60
        assert await keys.key("made-up") is None
        assert endpoint.requests == 3


async def test_a_sign_on_that_cannot_be_reached_refuses_its_tokens(
    settings: Settings,
) -> None:
    sign_on = SignOn({"rsa-1": rsa_key()})
    endpoint = JwksServer(sign_on)
    with endpoint.running() as url:
        pass  # stopped: nothing listens at the URL any more
    async with serving(with_sign_on(settings, url)) as gateway:
        response = await gateway.query(
            NAMES, system=None, headers={"Authorization": f"Bearer {sign_on.token()}"}
        )
        assert response.status_code == 401
        message = response.json()["errors"][0]["message"]
        assert message == "the sign-on token is signed with a key the sign-on does not publish"


async def test_tokens_verify_against_keys_served_at_a_url(settings: Settings) -> None:
    sign_on = SignOn({"ec-1": ec_key()})
    with JwksServer(sign_on).running() as url:
        async with serving(with_sign_on(settings, url)) as gateway:
            token = sign_on.token("ec-1", roles=["auditor"])
            response = await gateway.query(
                NAMES, system=None, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            assert (await gateway.audit(response))["person"] == "zhangsan-0231"


def readme_curl() -> tuple[dict[str, str], dict[str, Any]]:
    """The headers and body of the README's curl example for integrators."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Department system integrators", 1)[1]
    [block] = re.findall(r"```console\n(.*?)\n```", section.split("\n## ", 1)[0], re.S)
    command = block.split("$ curl", 1)[1].replace("\\\n", " ")
    words = shlex.split(command)
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    return headers, json.loads(words[words.index("-d") + 1])


async def test_the_readme_request_for_integrators(settings: Settings, tmp_path: Path) -> None:
    headers, body = readme_curl()
    assert headers.pop("Authorization") == "Bearer $TOKEN"
    sign_on = SignOn({"rsa-1": rsa_key()})
    jwks = str(sign_on.write(tmp_path / "jwks.json"))
    async with serving(with_sign_on(settings, jwks)) as gateway:
        response = await gateway.client.post(
            "/graphql",
            content=json.dumps(body),
            headers={**headers, "Authorization": f"Bearer {sign_on.token()}"},
        )
        assert response.status_code == 200, response.text
        [edge] = response.json()["data"]["enterprises"]["edges"]
        assert edge["node"]["name"] and edge["node"]["creditCode"]
        record = await gateway.audit(response)
        assert record["person"] == "zhangsan-0231"
        assert record["purpose_reference"] == "2026-MZ-0118"
