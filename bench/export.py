"""Peak memory of a batch download (GET /export) at two sizes: it must stay flat.

    uv run --frozen python bench/export.py [--rows 100000,1000000]

The synthetic city is generated into a temp dir, then its enterprise table is grown to
the largest size asked for (copies of one record under new keys); each size is exported
as JSONL through the ASGI app (auth, governed pages, audit per page), the body read and
dropped as it arrives. Memory is the process's resident set (VmRSS), sampled at every
chunk; a streamed export holds one page at a time, so peak@large / peak@small is near 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import socket
import sqlite3
import tempfile
import time

import httpx
import uvicorn

from bench.governed import Running
from bench.options import positive_ints
from bench.workload import PURPOSE, generated

FIELDS = "creditCode,name,status,registeredCapital,contactPhone"


def resident_bytes() -> int:
    """The process's resident set now (Linux /proc), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def grow(database: Path, rows: int) -> None:
    """Make the enterprise table `rows` long: copies of its first record, new keys."""
    with sqlite3.connect(database) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(enterprise)")]
        have = connection.execute("SELECT count(*) FROM enterprise").fetchone()[0]
        picked = ", ".join(
            "printf('X%017d', n)" if column == "credit_code" else column for column in columns
        )
        connection.execute(
            f"INSERT INTO enterprise ({', '.join(columns)}) "
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
            f"SELECT {picked} FROM seq, (SELECT * FROM enterprise LIMIT 1)",
            (rows - have,),
        )


async def exported(
    running: Running, client: httpx.AsyncClient, limit: int
) -> tuple[int, int, float]:
    """(rows, peak resident bytes, seconds) of one export, stopped after `limit` rows."""
    headers = {"Authorization": f"Bearer {running.key}", "X-Purpose": PURPOSE}
    params = {"format": "jsonl", "fields": FIELDS}
    gc.collect()
    peak, rows, started = resident_bytes(), 0, time.perf_counter()
    async with client.stream(
        "GET", "/export/enterprises", params=params, headers=headers, timeout=None
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export failed: {response.status_code} {await response.aread()!r}")
        async for chunk in response.aiter_bytes():
            rows += chunk.count(b"\n")
            peak = max(peak, resident_bytes())
            if rows >= limit:
                break
    return rows, peak, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=positive_ints, default=(100_000, 1_000_000))
    sizes = sorted(parser.parse_args().rows)
    with tempfile.TemporaryDirectory(prefix="gov-share-export-") as temp:
        paths, _ = await generated(Path(temp) / "sources")
        await asyncio.to_thread(grow, paths["market_regulation"], sizes[-1])
        running = Running(paths, Path(temp) / "platform")
        await running.start()
        # Over TCP, through uvicorn: the in-process ASGI transport would buffer the body.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(
            running.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                await asyncio.sleep(0.05)
            peaks = {}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for size in sizes:
                    rows, peak, seconds = await exported(running, client, size)
                    peaks[size] = peak
                    print(
                        f"{rows:>9} rows  peak RSS {peak / 2**20:8.1f} MiB"
                        f"  {rows / seconds:8.0f} rows/s"
                    )
        finally:
            server.should_exit = True
            await serving
            await running.close()
    print(f"peak@{sizes[-1]} / peak@{sizes[0]} = {peaks[sizes[-1]] / peaks[sizes[0]]:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
