"""The platform store's engine: on SQLite, WAL and synchronous=FULL on every connection,
so a committed audit record survives a crash of the process or the machine."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# Every request looks up its key here and commits its audit record. With SQLAlchemy's
# default pool of 5, requests arriving in bursts open and close overflow connections
# (on PostgreSQL a backend each): at concurrency 16, some 700 connections per 2,000
# requests, costing more than the statements they carried (bench/audit_cost.py setup).
POOL_SIZE = 20

# Tries at switching a new store to WAL (see _wal), 10, 20, 30, 40 ms apart.
_WAL_ATTEMPTS = 5

# Connection events a thread engine passes on to its store engine (see below).
_PASSED_ON = ("begin", "commit", "rollback", "before_cursor_execute", "after_cursor_execute")


def store_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=POOL_SIZE)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _durable(connection: Any, _record: object) -> None:
            cursor = connection.cursor()
            _wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine


def _wal(cursor: Any) -> None:
    """Put the file in WAL mode (a no-op once it is).

    The first switch needs the file to itself, and SQLite answers "database is locked"
    at once, without waiting, to a connection that asks while another one is switching
    (two engines starting together on a new store: tests/audit/test_chain.py's two logs
    failed so, now and then). Asked again a moment later, it succeeds; a switch that
    keeps failing is raised, and the connection is not used. The waits block the thread
    that connects (the event loop's, through aiosqlite) only in that race.
    """
    for attempt in range(_WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def thread_engine(store: AsyncEngine) -> sa.Engine:
    """The same SQLite store for work done in one worker-thread hop, through pysqlite.

    aiosqlite makes every cursor call a round trip to its own thread; a transaction of
    a few statements done in one hop costs one. It is the store's engine in all but
    driver: its connections get the store engine's connect listeners (WAL and
    synchronous=FULL, and whatever else was registered there), and the store engine's
    listeners see its transactions and statements.

    Its connections are in autocommit: a statement is its own transaction, and one of
    several statements is begun explicitly (`audit.lock.locked`: BEGIN IMMEDIATE).
    pysqlite's own implicit BEGIN before a write would cost a statement more.
    """
    if store.dialect.name != "sqlite":
        raise ValueError("a thread engine is for SQLite stores")
    engine = sa.create_engine(store.url.set(drivername="sqlite"), isolation_level="AUTOCOMMIT")
    source = store.sync_engine
    event.listen(engine, "connect", lambda *args: source.pool.dispatch.connect(*args))
    for name in _PASSED_ON:
        event.listen(engine, name, _passing_on(source, name))
    return engine


def _passing_on(source: sa.Engine, name: str) -> Any:
    """A listener that calls the listeners `source` has for the event when it happens
    (looked up then: listeners registered after this engine was made count too)."""

    def pass_on(*args: Any) -> None:
        getattr(source.dispatch, name)(*args)

    return pass_on
