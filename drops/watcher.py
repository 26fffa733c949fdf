"""The watched drop folder: a department puts a file in the folder of its resource,
`<folder>/<resource id>/`, and the server loads it once it is completely written.

Complete means settled: its size and modification time unchanged for
`settle_seconds`. Senders over SFTP or a network share write a file in place, so the
platform does not rely on them renaming it; one that writes under a temporary name
(`.part`, `.tmp`, a leading dot, Excel's `~$`) and renames it when done works too,
since only `.csv` and `.xlsx` names are read. A file loaded is moved to `processed/`; a
refused one to `refused/`, with `<name>.error.txt` beside it saying which row and
column and why, for the department to correct and send again. Both names are
prefixed with the time of the load (UTC), so a month's file never overwrites the last.

The folder is watched with watchfiles (the operating system's notifications), and
scanned every `settle_seconds` while a file is settling, every `check_seconds`
otherwise: a folder without notifications (some network shares) is still followed.
A load that fails for the platform's own reason (the staging database unreachable)
leaves the file where it is, to be tried again at the next check. The log names the
source, resource, file and problem, never a value of the file.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from watchfiles import awatch

from catalog import Catalog
from connectors import DropOptions
from drops.files import SUFFIXES
from drops.load import Refused, load_file
from drops.staging import Staging, Stamp
from errors import ConfigurationError

logger = logging.getLogger("gov_share.drops")
PROCESSED = "processed"
REFUSED = "refused"


@dataclass
class _Sighting:
    signature: tuple[int, int]
    since: float


class DropFolder:
    """One file-drop source's folder, followed while the server runs."""

    def __init__(self, source: str, options: DropOptions, catalog: Callable[[], Catalog]) -> None:
        self.source = source
        self.options = options
        self.catalog = catalog
        self._seen: dict[Path, _Sighting] = {}
        self._retry_after: dict[Path, float] = {}

    def resources(self) -> list[str]:
        """The resources of this source in the catalog in force now."""
        catalog = self.catalog()
        return sorted(
            resource.id
            for department in catalog.departments
            if department.source == self.source
            for resource in department.resources
        )

    async def prepare(self) -> None:
        """A folder per resource, so the department sees where each file goes (a
        ConfigurationError if one cannot be made), and the staging database ready
        before the server reads it (a SQLite file must exist to be opened read-only).

        A staging database that cannot be reached now is like any source down: its
        fields are unavailable, and it is prepared again before each load."""
        try:
            staging = await _prepared(self.options.staging_url.get_secret_value())
        except (SQLAlchemyError, OSError) as exc:
            logger.warning(
                "staging database not reachable",
                extra={"source": self.source, "error": type(exc).__name__},
            )
        else:
            await staging.close()
        for resource in self.resources():
            try:
                (self.options.folder / resource).mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ConfigurationError(
                    "settings",
                    f"GOV_SHARE_SOURCES ({self.source})",
                    f"the drop folder of {resource} cannot be made: {error.strerror}",
                ) from None

    async def follow(self) -> None:
        """Load each file as it settles, until cancelled."""
        settle = self.options.settle_seconds
        last_check = -float("inf")
        try:
            async for changes in awatch(
                self.options.folder,
                rust_timeout=int(settle * 1000),
                yield_on_timeout=True,
                recursive=True,
            ):
                now = time.monotonic()
                if changes or self._seen or now - last_check >= self.options.check_seconds:
                    last_check = now
                    await self.check()
        except Exception as exc:  # the periodic check still follows: say so, and go on
            logger.warning(
                "drop folder not watched; files are found by the periodic check",
                extra={"source": self.source, "error": type(exc).__name__},
            )
        while True:
            await self.check()
            await asyncio.sleep(settle if self._seen else self.options.check_seconds)

    async def load_waiting(self) -> None:
        """Load every file in the folder now, without waiting for it to settle: only for
        files known to be whole, such as those the demo set-up wrote (and renamed into
        place) before the server started, so they are served from its first request."""
        for resource in self.resources():
            for path in sorted(_delivered(self.options.folder / resource)):
                await self._load(resource, path)

    async def check(self) -> None:
        """Load every file that has settled since the last check."""
        now = time.monotonic()
        present: set[Path] = set()
        for resource in self.resources():
            for path in sorted(_delivered(self.options.folder / resource)):
                present.add(path)
                if self._settled(path, now) and self._retry_after.get(path, 0) <= now:
                    await self._load(resource, path)
        for gone in set(self._seen) - present:
            del self._seen[gone]

    def _settled(self, path: Path, now: float) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        signature = (stat.st_size, stat.st_mtime_ns)
        seen = self._seen.get(path)
        if seen is None or seen.signature != signature:
            self._seen[path] = _Sighting(signature, now)
            return False
        return now - seen.since >= self.options.settle_seconds

    async def _load(self, resource: str, path: Path) -> None:
        told = {"source": self.source, "resource": resource, "file": path.name}
        staging_url = self.options.staging_url.get_secret_value()
        try:
            stamp = await asyncio.to_thread(_load_now, staging_url, self.catalog(), resource, path)
        except Refused as refusal:
            logger.warning("file refused", extra={**told, "problem": str(refusal)})
            _move_aside(path, REFUSED, told, problem=str(refusal))
        except (SQLAlchemyError, OSError) as exc:
            logger.error(
                "file not loaded; tried again at the next check",
                extra={**told, "error": type(exc).__name__},
            )
            self._retry_after[path] = time.monotonic() + self.options.check_seconds
            return
        else:
            logger.info(
                "file loaded", extra={**told, "records": stamp.record_count, "digest": stamp.digest}
            )
            _move_aside(path, PROCESSED, told)
        self._seen.pop(path, None)
        self._retry_after.pop(path, None)


def _delivered(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    return [
        path
        for path in entries
        if path.suffix.lower() in SUFFIXES
        and not path.name.startswith((".", "~$"))
        and path.is_file()
    ]


def _load_now(staging_url: str, catalog: Catalog, resource: str, path: Path) -> Stamp:
    """The load, in a worker thread with its own event loop and connection: parsing a
    large file never holds up the server's requests."""

    async def load() -> Stamp:
        staging = await _prepared(staging_url)  # if unreachable when the server started
        try:
            return await load_file(staging, catalog, resource, path)
        finally:
            await staging.close()

    return asyncio.run(load())


async def _prepared(staging_url: str) -> Staging:
    staging = Staging(staging_url)
    try:
        await staging.prepare()
    except BaseException:
        await staging.close()
        raise
    return staging


def _move_aside(path: Path, into: str, told: Mapping[str, str], problem: str | None = None) -> None:
    """Out of the resource's folder, so it is loaded once; a file that cannot be moved
    (the folder not writable) is logged, and would be loaded again."""
    folder = path.parent / into
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = folder / f"{stamp}_{path.name}"
    try:
        folder.mkdir(exist_ok=True)
        path.replace(moved)
        if problem is not None:
            moved.with_name(f"{moved.name}.error.txt").write_text(
                f"{path.name} was not loaded: {problem}\n", encoding="utf-8"
            )
    except OSError as exc:
        logger.error(f"file not moved to {into}/", extra={**told, "error": type(exc).__name__})
