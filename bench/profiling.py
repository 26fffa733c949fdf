"""Where (c)'s time goes: cProfile over sequential executions.

Cumulative times of coroutines are only indicative (cProfile sees each resumption as
a call, and SQLAlchemy's greenlet switches blur callers); own times are exact, so
they are also summed by package and by project module.
"""

from __future__ import annotations

import cProfile
import pstats
import sysconfig
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BENCH = ROOT / "bench"
STDLIB = sysconfig.get_paths()["stdlib"]
PACKAGES = ("graphql", "strawberry", "sqlalchemy", "aiosqlite", "aiodataloader", "asyncio")

Entry = tuple[str, int, str]
"""(file, line, function), as pstats keys them."""
Row = tuple[Entry, float, float, float]
"""(entry, calls, own seconds, cumulative seconds)."""


async def profile(run: Callable[[], Awaitable[Any]], times: int, top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        await run()
    profiler.disable()
    stats: dict[Entry, tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows: list[Row] = [(entry, calls, tt, ct) for entry, (_, calls, tt, ct, _) in stats.items()]
    total = sum(tt for _, _, tt, _ in rows)
    ours = [row for row in rows if _ours(row[0][0])]
    lines = [
        f"cProfile, {times} sequential executions: {total * 1000 / times:.1f} ms each under the"
        " profiler (several times slower than unprofiled)",
        "",
        f"top {top} by cumulative time, project code + strawberry + graphql-core:",
        *_table(sorted(ours, key=lambda row: row[3], reverse=True)[:top], times),
        "",
        f"top {top} by own time, project code + strawberry + graphql-core:",
        *_table(sorted(ours, key=lambda row: row[2], reverse=True)[:top], times),
        "",
        "own time by package (project code by module):",
    ]
    groups: dict[str, float] = {}
    for (file, _, _), _, tt, _ in rows:
        groups[_group(file)] = groups.get(_group(file), 0.0) + tt
    for group, tt in sorted(groups.items(), key=lambda item: item[1], reverse=True)[:14]:
        lines.append(f"{tt * 1000 / times:10.2f} ms/exec {100 * tt / total:5.1f}%  {group}")
    return "\n".join(lines)


def _table(rows: list[Row], times: int) -> list[str]:
    lines = [f"{'cum ms/exec':>11} {'own ms/exec':>11} {'calls/exec':>10}  function"]
    for (file, line, name), calls, tt, ct in rows:
        lines.append(
            f"{ct * 1000 / times:11.2f} {tt * 1000 / times:11.2f} {calls / times:10.0f}"
            f"  {_short(file)}:{line} {name}"
        )
    return lines


def _project(file: str) -> bool:
    path = Path(file)
    return path.is_relative_to(ROOT) and not any(map(path.is_relative_to, (VENV, BENCH)))


def _ours(file: str) -> bool:
    return _project(file) or "/strawberry/" in file or "/graphql/" in file


def _group(file: str) -> str:
    if _project(file):
        return "project " + str(Path(file).relative_to(ROOT))
    if "/site-packages/" in file:
        return file.split("/site-packages/", 1)[1].split("/", 1)[0]
    if "/asyncio/" in file:
        return "asyncio"
    if file == "~":
        return "builtins and C functions"
    return "stdlib " + Path(file).stem if file.startswith(STDLIB) else "other"


def _short(file: str) -> str:
    if _project(file):
        return str(Path(file).relative_to(ROOT))
    for package in PACKAGES:
        if f"/{package}/" in file:
            return package + "/" + file.split(f"/{package}/", 1)[1]
    return file
