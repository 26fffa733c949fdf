"""The frame of a command line that changes the platform store (`python -m auth`,
`python -m policies`): the settings the server ran with, the store migrated first, and
a configuration problem said as one line per problem, exit status 2."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from errors import ConfigurationError
from settings import Settings, tool_settings
from store.migrate import migrated

REFUSED = 2


def run_on_store(prog: str, run: Callable[[Settings, AsyncEngine], Awaitable[int]]) -> int:
    """`run`'s exit status; anything but a configuration problem propagates."""

    async def on_store() -> int:
        settings = tool_settings()
        async with migrated(settings.store_url()) as engine:
            return await run(settings, engine)

    try:
        return asyncio.run(on_store())
    except ConfigurationError as refused:
        problems: list[Exception] = [refused]
    except ExceptionGroup as invalid:  # settings that do not validate, all at once
        problems = list(invalid.exceptions)
    for problem in problems:
        print(f"{prog}: {problem}", file=sys.stderr)
    return REFUSED
