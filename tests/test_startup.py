"""`python server.py` that cannot start says why in one block: each problem's file (or
setting), place and problem, every missing secret at once by its environment variable
and how to make it; no traceback, a non-zero status, before anything is served."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import public_key_pem
from settings import ROOT, SECRETS
from tests.conftest import source_urls
from tests.processes import free_port, run, serving

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

CONFIGURATION_ERROR = 2


def test_missing_secrets_are_listed_at_once_with_how_to_make_them(tmp_path: Path) -> None:
    started = run("server.py", env={"GOV_SHARE_DATA_DIR": str(tmp_path)})
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr and started.stdout == ""
    block = started.stderr
    assert block.startswith("gov-share cannot start: 3 problems with its configuration\n")
    assert "  setting: GOV_SHARE_AUDIT_KEY_ID, GOV_SHARE_AUDIT_KEYS\n" in block
    assert "  setting: GOV_SHARE_AUDIT_SIGNING_KEY\n" in block
    assert "  setting: GOV_SHARE_CURSOR_KEY\n" in block
    assert block.count("  problem: missing: ") == 2  # the signing key's own words differ
    assert "python -m platform_setup keys" in block
    assert "Uvicorn" not in block and "Started server" not in block


def test_a_bad_setting_value_names_its_variable_and_never_echoes_it(tmp_path: Path) -> None:
    secret = "not-hex-" + "5" * 24
    started = run(
        "server.py",
        "--demo",
        env={
            "GOV_SHARE_DATA_DIR": str(tmp_path),
            "GOV_SHARE_MAX_FIRST": "abc",
            "GOV_SHARE_SOURCES": "{not json",
        },
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr
    assert "  setting: GOV_SHARE_SOURCES\n  problem: not valid JSON\n" in started.stderr

    started = run(
        "server.py",
        "--demo",
        env={"GOV_SHARE_DATA_DIR": str(tmp_path), "GOV_SHARE_MAX_FIRST": "abc"},
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr
    assert (
        "  setting: GOV_SHARE_MAX_FIRST\n"
        "  problem: Input should be a valid integer, unable to parse string as an integer\n"
    ) in started.stderr + "\n"
    assert "abc" not in started.stderr

    started = run(
        "server.py",
        "--demo",
        env={"GOV_SHARE_DATA_DIR": str(tmp_path), "GOV_SHARE_CURSOR_KEY": secret},
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "  setting: GOV_SHARE_CURSOR_KEY\n  problem: must be 32 hex digits" in started.stderr
    assert secret not in started.stderr
    assert not (tmp_path / "sources").exists()  # stopped before making demo data


def test_a_broken_catalog_file_is_one_block_with_file_place_and_problem(tmp_path: Path) -> None:
    catalog = tmp_path / "departments"
    shutil.copytree(ROOT / "catalog" / "departments", catalog)
    taxation = catalog / "taxation.yaml"
    lines = taxation.read_text(encoding="utf-8").splitlines()
    del lines[next(n for n, line in enumerate(lines) if "legal_basis:" in line)]
    taxation.write_text("\n".join(lines), encoding="utf-8")
    started = run(
        "server.py",
        "--demo",
        env={"GOV_SHARE_DATA_DIR": str(tmp_path / "var"), "GOV_SHARE_CATALOG_DIR": str(catalog)},
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr
    assert started.stderr.splitlines() == [
        "gov-share cannot start: a problem with its configuration",
        "",
        f"  file:    {taxation}",
        "  place:   resources[0](tax_registration).items[6](annualTaxPaid)",
        "  problem: Value error, a not_shared item must cite its legal_basis (Art. 4)",
    ]


def exported(lines: str) -> dict[str, str]:
    values = {}
    for line in lines.splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        [values[name]] = shlex.split(value)
    return values


def test_the_keys_command_makes_secrets_a_server_starts_with(
    tmp_path: Path, demo_dir: Path
) -> None:
    made = run("-m", "platform_setup", "keys", env={})
    assert made.returncode == 0, made.stderr
    secrets = exported(made.stdout)
    assert tuple(secrets) == SECRETS
    assert secrets != exported(run("-m", "platform_setup", "keys", env={}).stdout)
    key_id = secrets["GOV_SHARE_AUDIT_KEY_ID"]
    assert list(json.loads(secrets["GOV_SHARE_AUDIT_KEYS"])) == [key_id]

    # A data directory the demo was served from: served now outside demo mode, the
    # command lines must stop reading it with the demo's secrets.
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / "demo.json").write_text('{"seed": 20201}\n')
    env = {
        **secrets,
        "GOV_SHARE_DATA_DIR": str(data_dir),
        "GOV_SHARE_SOURCES": json.dumps(source_urls(demo_dir)),
    }
    with serving(env=env, log=tmp_path / "server.log") as base:
        assert httpx.get(f"{base}/readyz").status_code == 200
    assert not (data_dir / "demo.json").exists()
    signing = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(secrets["GOV_SHARE_AUDIT_SIGNING_KEY"])
    )
    public_key = run("-m", "audit", "public-key", env={"GOV_SHARE_DATA_DIR": str(data_dir)})
    assert public_key.returncode == 2  # not the demo's key: this one is not in the environment
    assert "GOV_SHARE_AUDIT_SIGNING_KEY" in public_key.stderr
    public_key = run("-m", "audit", "public-key", env=env)
    assert public_key.stdout == public_key_pem(signing.public_key())


def test_a_store_that_cannot_be_reached_is_said_before_serving(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://gov_share:s3cret@127.0.0.1:{free_port()}/platform"
    started = run(
        "server.py",
        "--demo",
        env={"GOV_SHARE_DATA_DIR": str(tmp_path), "GOV_SHARE_PLATFORM_STORE_URL": url},
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr and "s3cret" not in started.stderr
    assert started.stderr.startswith(
        "gov-share cannot start: a problem with its configuration\n\n"
        "  setting: GOV_SHARE_PLATFORM_STORE_URL\n"
        f"  problem: the platform store {url.replace('s3cret', '***')} cannot be reached or "
        "migrated: ConnectionRefusedError"
    )


def test_a_source_of_no_known_kind_or_option_is_said_before_serving(tmp_path: Path) -> None:
    secret = "s3cret-Pa55"
    sources = {
        "taxation": f"ftp://reader:{secret}@files.tax.linzhou.gov.cn/v1",
        "civil_affairs": {"url": f"sqlite:///{tmp_path / 'civil_affairs.db'}", "pool_sise": 2},
    }
    started = run(
        "server.py",
        "--demo",
        env={"GOV_SHARE_DATA_DIR": str(tmp_path / "var"), "GOV_SHARE_SOURCES": json.dumps(sources)},
    )
    assert started.returncode == CONFIGURATION_ERROR
    assert "Traceback" not in started.stderr and secret not in started.stderr
    assert started.stderr.splitlines() == [
        "gov-share cannot start: 2 problems with its configuration",
        "",
        "  setting: GOV_SHARE_SOURCES (civil_affairs)",
        "  problem: unknown option 'pool_sise': this kind of source takes url, timeout_seconds, "
        "circuit, retries, pool_size, max_overflow",
        "",
        "  setting: GOV_SHARE_SOURCES (taxation)",
        "  problem: no kind of source reads ftp:// URLs (known: file://, graphql+http://, "
        "graphql+https://, http://, https://, mysql+asyncmy://, postgresql+asyncpg://, "
        "sqlite://, sqlite+aiosqlite://, sqlite+pysqlite://)",
    ]
    assert not (tmp_path / "var" / "sources").exists()  # stopped before making demo data
