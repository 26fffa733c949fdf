"""Log on and log off: the end-to-end request (d) with the platform's own audit writer,
or with a bench-only writer that stores nothing.

`NoAudit` is the only off switch there is: this code puts it on
`app.state.platform.audit` after start-up; the platform has no setting for it. Both
variants share one running app, so they read through the same pools. Each puts its
writer in place before every request it sends; turns never overlap, so a turn runs
with one writer throughout, and `restore()` puts the real log back before shutdown.
"""

from __future__ import annotations

from typing import cast

from audit import AuditLog, AuditRecord
from bench.governed import GovernedEndToEnd, Json, Running


class NoAudit:
    """Accepts every record and stores nothing. Benchmark code only."""

    async def write(self, record: AuditRecord) -> None:
        return None

    async def close(self) -> None:
        return None


class AuditSwitch(GovernedEndToEnd):
    """(d) with a given audit writer; counts the requests it sent."""

    def __init__(self, running: Running, name: str, writer: AuditLog) -> None:
        super().__init__(running)
        self.name = name
        self.writer = writer
        self.sent = 0

    async def run(self, n: int) -> Json:
        self.running.platform.audit = self.writer
        self.sent += 1
        return await super().run(n)


def log_on_and_off(running: Running) -> tuple[AuditSwitch, AuditSwitch]:
    """The real log (as start-up made it) and the bench-only one, on one running app."""
    real = running.platform.audit
    # A stand-in by duck typing: the server calls write(), Platform.close() calls close().
    off = cast(AuditLog, NoAudit())
    return AuditSwitch(running, "log on", real), AuditSwitch(running, "log off", off)


def restore(on: AuditSwitch) -> None:
    """The real log back in place, so shutdown commits and checkpoints through it."""
    on.running.platform.audit = on.writer
