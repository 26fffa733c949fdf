"""Grant changes announced on Redis: `python -m policies grant | revoke` publishes the
store's new change sequence once the change is committed, and still records it, with a
warning, when Redis is away; a server's subscription says when it is lost and comes
back by itself when Redis does."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as redis

from grants import Announcements
from tests.processes import free_port, redis_server, run

pytestmark = pytest.mark.anyio

CIVIL_AFFAIRS = "11410581005000006G"  # a department of the catalog: no key needed
BY = ("--operator", "gs-admin", "--reason", "test")
GRANT = (
    *("-m", "policies", "grant", "--consumer", CIVIL_AFFAIRS, "--resource", "person"),
    *("--items", "phone", "--action", "read_clear", "--purpose", "business_collaboration"),
    *("--reference", "林公数〔2026〕12号", "--operator", "gs-admin", "--reason", "test"),
)


@contextlib.asynccontextmanager
async def heard_on(url: str, channel: str) -> AsyncIterator[list[str]]:
    """The messages published on `channel` while the block runs."""
    messages: list[str] = []
    client = redis.from_url(url, decode_responses=True)
    async with client, client.pubsub(ignore_subscribe_messages=True) as pubsub:
        await pubsub.subscribe(channel)

        async def listen() -> None:
            async for message in pubsub.listen():
                messages.append(message["data"])

        listening = asyncio.create_task(listen())
        try:
            yield messages
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening


async def eventually_equal(messages: list[str], expected: list[str]) -> None:
    for _ in range(200):
        if messages == expected:
            return
        await asyncio.sleep(0.05)
    assert messages == expected


async def test_the_command_line_announces_each_change_it_commits(
    tmp_path: Path, redis_url: str
) -> None:
    channel = f"gov-share-test:{uuid.uuid4().hex}"
    env = {
        "GOV_SHARE_DATA_DIR": str(tmp_path),
        "GOV_SHARE_REDIS_URL": redis_url,
        "GOV_SHARE_REDIS_CHANNEL": channel,
    }
    async with heard_on(redis_url, channel) as messages:
        granted = await asyncio.to_thread(run, *GRANT, env=env)
        assert (granted.returncode, granted.stdout, granted.stderr) == (0, "grant 1 recorded\n", "")
        await eventually_equal(messages, ["1"])
        revoked = await asyncio.to_thread(run, "-m", "policies", "revoke", "1", *BY, env=env)
        assert (revoked.returncode, revoked.stderr) == (0, "")
        again = await asyncio.to_thread(run, "-m", "policies", "revoke", "1", *BY, env=env)
        assert again.returncode == 1, "nothing revoked, nothing announced"
        await eventually_equal(messages, ["1", "2"])


async def test_with_redis_away_the_command_line_records_and_warns(tmp_path: Path) -> None:
    env = {
        "GOV_SHARE_DATA_DIR": str(tmp_path),
        "GOV_SHARE_REDIS_URL": f"redis://:s3cret@127.0.0.1:{free_port()}/0",
    }
    granted = await asyncio.to_thread(run, *GRANT, env=env)
    assert (granted.returncode, granted.stdout) == (0, "grant 1 recorded\n")
    assert granted.stderr == (
        "the grant change was not announced; servers follow it within 5 s by polling\n"
    )
    assert "s3cret" not in granted.stderr
    listed = await asyncio.to_thread(run, "-m", "policies", "grants", env=env)
    assert listed.stdout.startswith(f"1\t{CIVIL_AFFAIRS}\tperson.{{phone}}")


async def test_a_lost_subscription_is_said_and_made_again(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    announcements = Announcements(url, "gov-share-test", retry_seconds=0.1)
    heard: list[float] = []

    async def reload() -> bool:
        heard.append(asyncio.get_running_loop().time())
        return True

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(400):
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the subscription never came to that")

    listening = asyncio.create_task(announcements.listen(reload))
    try:
        await until(lambda: announcements.problem is not None)
        assert not announcements.listening and heard == []
        with redis_server(port, tmp_path):
            await until(lambda: announcements.listening)
            assert announcements.problem is None
            await until(lambda: len(heard) == 1)  # what was missed meanwhile is read again
            assert await Announcements(url, "gov-share-test", retry_seconds=1).announce(7)
            await until(lambda: len(heard) == 2)
        await until(lambda: not announcements.listening)
        assert announcements.problem is not None and "polling every 0.1 s" in announcements.problem
        with redis_server(port, tmp_path):
            await until(lambda: announcements.listening and len(heard) == 3)
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
