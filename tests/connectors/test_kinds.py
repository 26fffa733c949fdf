"""A source's kind is found by its URL's scheme: a URL alone keeps working as it always
did, an object of typed options is checked against its kind's, and a scheme no kind
reads, an unknown option or a bad value is refused naming the source and the setting,
never quoting the URL (it may hold a password)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors import (
    SOURCE_KINDS,
    Connector,
    MemoryConnector,
    SourceKind,
    SourceOptions,
    SourceSetting,
    SqlConnector,
    SqliteConnector,
)
from errors import ConfigurationError

pytestmark = pytest.mark.anyio

SECRET = "s3cret-Pa55"


@pytest.fixture
async def opened() -> AsyncIterator[list[Connector]]:
    connectors: list[Connector] = []
    yield connectors
    for connector in connectors:
        await connector.close()


def refused(setting: SourceSetting) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as raised:
        SOURCE_KINDS.options("taxation", setting, timeout_seconds=5)
    assert raised.value.file == "settings"
    assert raised.value.where == "GOV_SHARE_SOURCES (taxation)"
    assert SECRET not in str(raised.value)
    return raised.value


async def test_a_url_alone_opens_the_connector_of_its_scheme(
    tmp_path: Path, opened: list[Connector]
) -> None:
    for url, kind, dialect in [
        (f"sqlite:///{tmp_path / 'a.db'}", SqliteConnector, "sqlite"),
        (f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", SqliteConnector, "sqlite"),
        (f"postgresql+asyncpg://reader:{SECRET}@127.0.0.1/taxation", SqlConnector, "postgresql"),
        (f"mysql+asyncmy://reader:{SECRET}@127.0.0.1/taxation", SqlConnector, "mysql"),
    ]:
        connector = SOURCE_KINDS.open("taxation", url, timeout_seconds=4)
        opened.append(connector)
        assert isinstance(connector.source, kind) and connector.source.dialect == dialect
        assert connector.name == "taxation" and connector.timeout_seconds == 4


async def test_typed_options_reach_the_connector(tmp_path: Path, opened: list[Connector]) -> None:
    sqlite = SOURCE_KINDS.open(
        "taxation",
        {"url": f"sqlite:///{tmp_path / 'a.db'}", "timeout_seconds": 2.5, "pool_size": 3},
        timeout_seconds=5,
    )
    postgres = SOURCE_KINDS.open(
        "taxation",
        {"url": "postgresql+asyncpg://reader@127.0.0.1/taxation", "pool_size": 7},
        timeout_seconds=5,
    )
    opened += [sqlite, postgres]
    assert isinstance(sqlite.source, SqliteConnector)
    assert isinstance(postgres.source, SqlConnector)
    assert sqlite.source.timeout_seconds == 2.5 and postgres.source.timeout_seconds == 5
    assert sqlite.timeout_seconds == 2.5  # the guard's too
    assert sqlite.source.sync_engine.pool.size() == 3  # type: ignore[attr-defined]
    assert postgres.source.engine.pool.size() == 7


def test_the_options_never_show_the_url() -> None:
    url = f"postgresql+asyncpg://reader:{SECRET}@127.0.0.1/taxation"
    _, options = SOURCE_KINDS.options("taxation", url, timeout_seconds=5)
    assert options.url.get_secret_value() == url
    assert SECRET not in repr(options) and SECRET not in str(options)


def test_a_scheme_no_kind_reads_is_refused_with_the_known_ones() -> None:
    problem = refused(f"ftp://reader:{SECRET}@files.tax.linzhou.gov.cn/v1").problem
    assert problem == (
        "no kind of source reads ftp:// URLs (known: file://, graphql+http://, "
        "graphql+https://, http://, https://, mysql+asyncmy://, postgresql+asyncpg://, "
        "sqlite://, sqlite+aiosqlite://, sqlite+pysqlite://)"
    )
    # A SQLAlchemy scheme the platform has no async driver for is no kind either.
    assert refused(f"postgresql://reader:{SECRET}@host/db").problem.startswith(
        "no kind of source reads postgresql:// URLs"
    )


def test_what_is_not_a_url_is_refused_without_quoting_it() -> None:
    assert refused(SECRET).problem == (
        "not a URL: a source's url begins with its scheme, e.g. sqlite://"
    )
    assert refused({"pool_size": 3}).problem == (
        "no url: a source is a URL, or an object of options with a url"
    )
    assert refused(f"postgresql+asyncpg://reader:{SECRET}@host:port/db").problem == (
        "url: Value error, not a SQLAlchemy database URL with a driver this platform has"
    )


def test_unknown_options_and_bad_values_are_each_named() -> None:
    problem = refused(
        {"url": "sqlite:///a.db", "pool_sise": 3, "timeout_seconds": 0, "password": SECRET}
    ).problem
    assert problem == (
        "timeout_seconds: Input should be greater than 0; "
        "unknown option 'pool_sise': this kind of source takes url, timeout_seconds, circuit, "
        "retries, pool_size, max_overflow; "
        "unknown option 'password': this kind of source takes url, timeout_seconds, circuit, "
        "retries, pool_size, max_overflow"
    )
    assert refused(
        {
            "url": "sqlite:///a.db",
            "circuit": {"failures": 0, "cool_down": 5},
            "retries": {"budget": 2},
        }
    ).problem == (
        "circuit.failures: Input should be greater than 0; "
        "unknown option 'circuit.cool_down': this kind of source takes failures, failure_rate, "
        "window_seconds, cool_down_seconds; "
        "retries.budget: Input should be less than or equal to 1"
    )
    assert refused({"url": "sqlite:///a.db", "pool_size": "many"}).problem == (
        "pool_size: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_kind_registered_in_a_copy_opens_its_scheme_there_only() -> None:
    memory = MemoryConnector("taxation", {"tax_registration": []})
    kinds = SOURCE_KINDS.copy()
    kinds.register("memory", SourceKind(SourceOptions, lambda name, options: memory))
    assert kinds.open("taxation", "memory://taxation", timeout_seconds=5).source is memory
    assert kinds.open("taxation", {"url": "memory://"}, timeout_seconds=5).source is memory
    with pytest.raises(ConfigurationError, match="no kind of source reads memory:// URLs"):
        SOURCE_KINDS.open("taxation", "memory://taxation", timeout_seconds=5)
    with pytest.raises(ValueError, match="already reads memory:// URLs"):
        kinds.register("memory", SourceKind(SourceOptions, lambda name, options: memory))
