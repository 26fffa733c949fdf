"""GraphiQL from the project's own files: the page, its Content-Security-Policy, its
setting, the vendored files against their manifest, and the page rendered by headless
Chromium with every outside host unreachable."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from settings import ROOT, Settings
from tests.conftest import serving
from tests.processes import free_port
from web.app import create_app

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

ASSETS = ROOT / "web" / "graphiql"
MANIFEST = json.loads((ASSETS / "MANIFEST.json").read_text(encoding="utf-8"))
VENDORED = {
    name: file["sha256"]
    for package in MANIFEST["packages"]
    for name, file in package["files"].items()
}
OUR_OWN = ("gov-share.js", "gov-share.css")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
OUTSIDE = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.mark.anyio
async def test_the_page_loads_only_its_own_files(settings: Settings) -> None:
    async with serving(settings) as gateway:
        page = await gateway.client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
        assert "unsafe" not in policy
        assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
        assert not OUTSIDE.search(page.text)
        loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(loaded) == sorted(
            f"graphiql/{name}" for name in (*OUR_OWN, *VENDORED) if not name.startswith("licences/")
        )
        for path in loaded:
            asset = await gateway.client.get(f"/{path}")
            assert asset.status_code == 200, path
            name = path.removeprefix("graphiql/")
            if name in VENDORED:
                assert hashlib.sha256(asset.content).hexdigest() == VENDORED[name], name
            else:
                assert not OUTSIDE.search(asset.text), name
        css = (ASSETS / "graphiql.min.css").read_text(encoding="utf-8")
        assert "@import" not in css
        urls = re.findall(r"url\(([^)]*)\)", css)
        assert urls and all(url.strip("'\"").startswith("data:") for url in urls)


def test_the_vendored_files_match_their_manifest() -> None:
    assert {p["name"]: p["version"] for p in MANIFEST["packages"]} == {
        "graphiql": "3.9.0",
        "react": "18.3.1",
        "react-dom": "18.3.1",
    }
    for package in MANIFEST["packages"]:
        assert package["licence"] == "MIT" and package["integrity"].startswith("sha512-")
        assert f"licences/{package['name']}.txt" in package["files"]
    for name, digest in VENDORED.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    on_disk = {str(p.relative_to(ASSETS)) for p in ASSETS.rglob("*") if p.is_file()}
    assert on_disk == {*VENDORED, *OUR_OWN, "MANIFEST.json"}
    assert sum((ASSETS / name).stat().st_size for name in VENDORED) < 5_000_000


@pytest.mark.anyio
async def test_graphiql_is_a_setting(settings: Settings) -> None:
    """On in demo mode unless switched off; off outside it unless switched on."""
    off = settings.model_copy(update={"graphiql": False})
    async with serving(off) as gateway:
        page = await gateway.client.get("/graphql", headers=HTML)
        assert page.status_code == 404
        assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert (await gateway.audit(page))["outcome"] == "not_found"
        assert (await gateway.client.get("/graphiql/gov-share.js")).status_code == 404
    production = Settings(
        data_dir=settings.data_dir,
        sources=settings.sources,
        graphiql=True,
        audit_key_id="k1",
        audit_keys={"k1": "0" * 32},
        cursor_key="1" * 32,
        audit_signing_key="07" * 32,
    )
    async with serving(production) as gateway:
        page = await gateway.client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert 'data-headers=""' in page.text  # no demo key outside demo mode
        assert (await gateway.client.get("/graphiql/gov-share.js")).status_code == 200


def test_graphiql_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(demo=True).graphiql_served() and not Settings().graphiql_served()
    monkeypatch.setenv("GOV_SHARE_GRAPHIQL", "false")
    assert not Settings(demo=True).graphiql_served()
    monkeypatch.setenv("GOV_SHARE_GRAPHIQL", "true")
    assert Settings().graphiql_served()


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        message = "chromium is not installed: apt-get install -y --no-install-recommends chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def running(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread of its own."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn")
    thread.start()
    try:
        for _ in range(600):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_chromium_renders_graphiql_offline(
    running: str, settings: Settings, tmp_path: Path
) -> None:
    """Every host but the loopback address fails to resolve, as on an offline extranet:
    the editor still renders, the schema is fetched with the README's demo headers, and
    the browser reports no Content-Security-Policy violation."""
    chromium = _chromium()
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--enable-logging=stderr",
            "--log-level=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{running}/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom, console = result.stdout, result.stderr
    assert result.returncode == 0, console[-2000:]
    assert 'class="graphiql-container"' in dom, dom[:2000]
    assert re.search(r'class="[^"]*graphiql-query-editor', dom)
    assert "CodeMirror" in dom
    assert "X-Purpose-Reference" in dom and "2026-MZ-0118" in dom  # the headers editor
    assert "Content Security Policy" not in console
    assert "Loading GraphiQL" not in dom

    with sqlite3.connect(settings.data_dir / "platform.db") as store:
        asked = store.execute(
            "SELECT caller_system, operator, purpose, purpose_reference, outcome FROM audit_records"
        ).fetchall()
    assert (
        "marriage-registry",
        "mz-0231",
        "administrative_basis",
        "2026-MZ-0118",
        "served",
    ) in asked
