"""The auditor's commands, as the README writes them, after `python server.py --demo`:
each a process of its own with nothing but the data directory set, in the order a
reader meets them. They find the settings the server ran with, demo mode included."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from auth import demo_key
from tests.conftest import SEED, source_urls
from tests.processes import run, serving

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow


def test_the_audit_commands_work_as_written_after_serving_the_demo(
    tmp_path: Path, demo_dir: Path
) -> None:
    data_dir = tmp_path / "var"
    # The session's demo databases, so that the server need not generate its own.
    server_env = {
        "GOV_SHARE_DATA_DIR": str(data_dir),
        "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
    }
    with serving("--demo", env=server_env, log=tmp_path / "server.log") as base:
        for system in ("marriage-registry", "tax-admin", None):
            headers = {"Authorization": f"Bearer {demo_key(SEED, system)}"} if system else {}
            response = httpx.post(
                f"{base}/graphql",
                json={"query": "{ enterprises(first: 2) { edges { node { name } } } }"},
                headers={**headers, "X-Purpose": "work_reference"},
            )
            assert response.status_code == 200
    env = {"GOV_SHARE_DATA_DIR": str(data_dir)}

    # python -m audit public-key > auditors.pub
    public_key = run("-m", "audit", "public-key", env=env)
    assert public_key.returncode == 0, public_key.stderr
    assert public_key.stdout.startswith("-----BEGIN PUBLIC KEY-----\n")
    auditors_pub = tmp_path / "auditors.pub"
    auditors_pub.write_text(public_key.stdout)

    verified = run("-m", "audit", "verify", "--public-key", str(auditors_pub), env=env)
    assert verified.returncode == 0, verified.stderr
    assert "is intact: 3 records from genesis to record 3" in verified.stdout
    assert "signed checkpoints agree" in verified.stdout

    retained = run("-m", "audit", "retain", env=env)
    assert retained.returncode == 0, retained.stderr
    assert retained.stdout == "nothing is older than 183 days\n"

    exports = run("-m", "audit", "verify-export", env=env)
    assert exports.returncode == 0, exports.stderr
    assert exports.stdout == (
        f"no exported segments in {data_dir / 'audit-export'} yet: "
        "`python -m audit retain` exports records older than 183 days\n"
    )
