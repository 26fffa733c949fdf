"""A TCP proxy on loopback in front of a real database server, for the tests of a
source that goes away: it counts the connections made through it (each a call the
platform made to the source), and can stop forwarding (`hang`), as a network that
drops packets does, or `close` every connection and refuse new ones, as a stopped
server does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.connections = 0
        self.hanging = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def hang(self) -> None:
        """Stop forwarding: what is sent is held, on old connections and new."""
        self.hanging = True

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            if self.hanging:
                await reader.read()  # hold the connection until the client gives up
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            async with asyncio.TaskGroup() as pumps:
                pumps.create_task(self._pump(reader, up_writer))
                pumps.create_task(self._pump(up_reader, writer))
        except (OSError, ExceptionGroup):
            pass
        finally:
            writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                while self.hanging:  # held, never forwarded
                    await asyncio.sleep(0.05)
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[TcpProxy]:
        """Listen on a free loopback port until the block ends."""
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", 0)
        try:
            yield self
        finally:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()


def proxy(host: str, port: int) -> contextlib.AbstractAsyncContextManager[TcpProxy]:
    return TcpProxy(host, port).serving()
