"""The GraphiQL page's vendored files: fetched again from the npm registry and checked.

The platform runs on the government extranet, usually offline, so the scripts and
styles the page loads are committed in `web/graphiql/`, pinned in its MANIFEST.json
(package, version, npm integrity of the tarball, licence, sha256 of each file).
This is how they were made and how an upgrade is made:

    python -m web.vendor           fetch every pinned package again; check the registry's
                                   integrity, the manifest and the committed files
    python -m web.vendor --write   after changing a version in MANIFEST.json: write the
                                   files, their licences and the manifest, then review the diff

It needs the registry (https://registry.npmjs.org) and nothing else; the server never
runs it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

REGISTRY = "https://registry.npmjs.org"
FOLDER = Path(__file__).resolve().parent / "graphiql"
MANIFEST = FOLDER / "MANIFEST.json"


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web.vendor", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the files and manifest")
    write = parser.parse_args(arguments).write
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    problems = []
    for package in manifest["packages"]:
        found = _vendor(package, write=write)
        problems += [f"{package['name']}@{package['version']}: {problem}" for problem in found]
        if not found:
            done = "written from" if write else "agree with"
            named = f"{package['name']}@{package['version']}"
            print(f"{named}: {len(package['files'])} file(s) {done} the registry's tarball")
    if write and not problems:
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        MANIFEST.write_text(text, encoding="utf-8")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _vendor(package: dict[str, Any], *, write: bool) -> list[str]:
    """Check (or, with `write`, update) one package's files against its tarball."""
    dist = _fetch_json(f"{REGISTRY}/{package['name']}/{package['version']}")["dist"]
    tarball = _fetch(dist["tarball"])
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if integrity != dist["integrity"]:
        return ["the tarball does not match the registry's integrity"]
    if not write and integrity != package["integrity"]:
        return [f"the registry now gives {integrity}, not the manifest's integrity"]
    members = _members(tarball)
    licence = json.loads(members["package/package.json"])["license"]
    problems = [] if write or licence == package["licence"] else [f"licence is now {licence}"]
    for name, file in package["files"].items():
        content = members.get(file["from"])
        if content is None:
            problems.append(f"{file['from']} is not in the tarball")
            continue
        digest = hashlib.sha256(content).hexdigest()
        if write:
            (FOLDER / name).parent.mkdir(parents=True, exist_ok=True)
            (FOLDER / name).write_bytes(content)
            file["sha256"] = digest
        elif digest != file["sha256"] or (FOLDER / name).read_bytes() != content:
            problems.append(f"{name} differs from {file['from']} in the tarball")
    package.update(integrity=integrity, licence=licence)
    return problems


def _members(tarball: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        return {
            member.name: extracted.read()
            for member in archive.getmembers()
            if member.isfile() and (extracted := archive.extractfile(member)) is not None
        }


def _fetch(url: str) -> bytes:
    if not url.startswith(f"{REGISTRY}/"):
        raise ValueError(f"{url} is not on the npm registry")
    with urllib.request.urlopen(url, timeout=60) as response:
        content: bytes = response.read()
    return content


def _fetch_json(url: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_fetch(url))
    return parsed


if __name__ == "__main__":
    sys.exit(main())
