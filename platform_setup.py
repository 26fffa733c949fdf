"""Assemble the platform from settings: catalog, rules, schema, sources, store, keys.

Everything that can be wrong with a file or a setting is found here, at start-up,
and stops the server with a `ConfigurationError` naming the file and the problem
(`startup.check` finds what it can before the server starts serving). While it
serves, the catalog and the policy are the policy source's (`grants.PolicySource`),
which reloads them; the platform only says how a catalog is served (`_serving`).

    python -m platform_setup keys    # fresh secrets for serving outside demo mode
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from applications import ApplicationStore
from audit import AuditLog, SubjectHasher
from auth import KeyRegistry
from auth.tokens import TokenVerifier
from catalog import Catalog, DepartmentCatalog, load_catalog
from connectors import (
    SOURCE_KINDS,
    DropOptions,
    GuardedConnector,
    RemoteConnector,
    RestConnector,
    SourceKinds,
)
from drops import DropFolder
from drops.staging import Staging
from errors import ConfigurationError
from freshness import FreshnessWatch
from grants import Announcements, GrantStore, PolicySource, follow
from notifications import Notifier, Outbox
from quota import VerificationQuota
from resolvers import Executor, Limits, Served
from schema.build import build_schema
from settings import Settings
from store import store_engine, upgrade
from workdays import WorkingCalendar, load_calendar


@dataclass
class Platform:
    settings: Settings
    policy_source: PolicySource[Served]
    """The one holder of the catalog and policy in force, and of what the catalog
    serves; the executor reads it, nothing keeps a copy."""
    executor: Executor
    keys: KeyRegistry
    audit: AuditLog
    hasher: SubjectHasher
    sources: dict[str, GuardedConnector]
    """By source name: opened at start-up, the same for every catalog reloaded."""
    store: AsyncEngine
    freshness: FreshnessWatch
    """Each resource's last update against its update cycle, checked in the background."""
    calendar: WorkingCalendar
    """The working days answers to applications are due by (Art. 8)."""
    applications: ApplicationStore
    """Applications for conditional items; an approval is a grant of `grants`."""
    announcements: Announcements | None = None
    drop_folders: list[DropFolder] = field(default_factory=list)
    """The folders of the file-drop sources, whose files it loads while it serves."""
    notifier: Notifier | None = None
    """Tells department systems of their applications; None without webhooks."""
    _follower: asyncio.Task[None] | None = None
    _drops: list[asyncio.Task[None]] = field(default_factory=list)
    _freshness_checks: asyncio.Task[None] | None = None
    _notifying: asyncio.Task[None] | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalog in force now (a request keeps the one it started with)."""
        return self.policy_source.current.catalog

    @property
    def grants(self) -> GrantStore:
        return self.policy_source.grants

    async def start(self) -> None:
        settings = self.settings
        self._follower = asyncio.create_task(
            follow(
                self.policy_source,
                interval=settings.policy_refresh_seconds,
                watched=(settings.policy_dir, settings.catalog_dir),
                announcements=self.announcements,
            ),
            name="policy-follower",
        )
        self._drops = [
            asyncio.create_task(folder.follow(), name=f"drops-{folder.source}")
            for folder in self.drop_folders
        ]
        self._freshness_checks = asyncio.create_task(
            self.freshness.follow(settings.freshness_check_seconds), name="freshness"
        )
        if self.notifier is not None:
            self._notifying = asyncio.create_task(
                self.notifier.follow(settings.notify_seconds), name="notifications"
            )

    async def close(self) -> None:
        """Commit what the audit log still holds and sign its last checkpoint first.

        Every step runs whatever failed before it, and a failure is raised once all have
        run: the audit log is closed even if stopping the follower failed."""
        async with contextlib.AsyncExitStack() as closing:
            closing.push_async_callback(self.store.dispose)
            closing.push_async_callback(self.freshness.close)
            for connector in self.sources.values():
                closing.push_async_callback(connector.close)
            closing.push_async_callback(self.audit.close)
            closing.push_async_callback(self._stop_following)

    async def _stop_following(self) -> None:
        background = [self._follower, self._freshness_checks, self._notifying]
        for task in [*self._drops, *filter(None, background)]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def prepare_platform(settings: Settings, kinds: SourceKinds = SOURCE_KINDS) -> None:
    """What is done once per data directory and store, not once per process: the demo
    data made, the store migrated, the demo keys seeded. Several workers (`workers.py`)
    each building their platform would race at it (two generating the same SQLite
    files, two seeding the same keys), so the server does it before they start, and
    they build theirs `prepared`; the demo's file deliveries are loaded here too, once,
    not by every worker at the same moment."""
    catalog = load_catalog(settings.catalog_dir)
    await _prepare_store(settings, catalog)
    if settings.demo:
        store = store_engine(settings.store_url())
        try:
            await KeyRegistry(store, demo=True).seed_demo_keys(settings.seed)
        finally:
            await store.dispose()
        for name, options in _drop_options(settings, catalog, kinds).items():
            if settings.demo_delivered(name):
                folder = DropFolder(name, options, lambda: catalog)
                await folder.prepare()
                await folder.load_waiting()


async def _prepare_store(settings: Settings, catalog: Catalog) -> None:
    if settings.demo:
        await asyncio.to_thread(_ensure_demo_data, settings, catalog)
    if settings.platform_store_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.store_url())


async def build_platform(
    settings: Settings, kinds: SourceKinds = SOURCE_KINDS, *, prepared: bool = False
) -> Platform:
    """The platform the settings describe; `kinds` are the kinds of source it can read
    (a test adds its own, such as the in-memory connector). `prepared`: by
    `prepare_platform`, once for all the server's workers."""
    catalog = load_catalog(settings.catalog_dir)
    calendar = load_calendar(settings.calendar_dir)
    hasher = SubjectHasher(*settings.audit_key())
    cursor_key = settings.cursor_secret()
    if not prepared:
        await _prepare_store(settings, catalog)
    store = store_engine(settings.store_url())
    announcements = Announcements.from_settings(settings)
    sources = _sources(settings, catalog, kinds)
    drop_options = _drop_options(settings, catalog, kinds)
    policy_source = await PolicySource.load(
        catalog,
        catalog_dir=settings.catalog_dir,
        policy_dir=settings.policy_dir,
        grants=GrantStore(store, announcements),
        serve=_serving(settings, sources),
    )
    keys = KeyRegistry(
        store,
        demo=settings.demo,
        cache_seconds=settings.auth_cache_seconds,
        tokens=TokenVerifier.from_settings(settings),
    )
    if settings.demo and not prepared:
        await keys.seed_demo_keys(settings.seed)

    def current() -> Catalog:
        return policy_source.current.catalog

    folders = [DropFolder(name, options, current) for name, options in drop_options.items()]
    for folder in folders:
        await folder.prepare()
        if settings.demo_delivered(folder.source) and not prepared:  # the demo's, whole
            await folder.load_waiting()
    stagings = {
        name: Staging(options.staging_url.get_secret_value())
        for name, options in drop_options.items()
    }
    freshness = FreshnessWatch(current, sources, stagings)
    applications = ApplicationStore(store, policy_source.grants, calendar)
    notifier = None
    if settings.application_webhooks:
        outbox = Outbox(store, applications, frozenset(settings.application_webhooks))
        notifier = Notifier.from_settings(settings, outbox)
    executor = Executor(
        policy_source,
        cursor_key=cursor_key,
        limits=limits_of(settings),
        quota=VerificationQuota(store, settings.verification_quota_per_day),
        stale=freshness.stale,
        compiled=settings.compiled,
    )
    return Platform(
        settings,
        policy_source,
        executor,
        keys,
        AuditLog.from_settings(store, settings),
        hasher,
        sources,
        store,
        freshness,
        calendar,
        applications,
        announcements,
        folders,
        notifier,
    )


def limits_of(settings: Settings) -> Limits:
    """What a document may be: also what a registered one is reviewed against
    (`schema.document_review`), so that none is registered that a call would refuse."""
    return Limits(
        max_first=settings.max_first,
        batch_bound=settings.batch_bound,
        max_tokens=settings.max_tokens,
        rules=[
            *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        ],
    )


def _serving(
    settings: Settings, sources: dict[str, GuardedConnector]
) -> Callable[[Catalog], Served]:
    """How a catalog is served: its two schemas, and its resources read from the sources
    opened at start-up. A source's URL is a setting, read once: a catalog that names a
    source not open is refused (a reload keeps the last good catalog), and takes a
    restart."""
    default_first = settings.default_first()

    def serve(catalog: Catalog) -> Served:
        for department in catalog.departments:
            if department.source not in sources:
                raise ConfigurationError(
                    str(settings.catalog_dir),
                    "source",
                    f"department {department.department.code} names source "
                    f"{department.source!r}, which was not open when the server started: "
                    "a new source takes a restart",
                )
            _declared_for_an_api(settings, department, sources[department.source])
        schema, meanings = build_schema(catalog, default_first=default_first)
        public_schema, _ = build_schema(catalog, default_first=default_first, public=True)
        by_resource = {
            resource_id: sources[catalog.provider_of[resource_id].source]
            for resource_id in catalog.resources
        }
        return Served(schema._schema, public_schema._schema, meanings, by_resource, catalog.version)

    return serve


def _declared_for_an_api(
    settings: Settings, department: DepartmentCatalog, source: GuardedConnector
) -> None:
    """A source that is an API or another platform reads nothing the catalog does not
    declare: a resource of it without its `api` or `remote` block is refused with the
    catalog, not on every read."""
    if isinstance(source.source, RestConnector):
        block, what = "api", "a REST API"
    elif isinstance(source.source, RemoteConnector):
        block, what = "remote", "another sharing platform"
    else:
        return
    for resource in department.resources:
        if getattr(resource, block) is None:
            raise ConfigurationError(
                str(settings.catalog_dir),
                f"resources({resource.id}).{block}",
                f"source {department.source!r} is {what}: each of its resources "
                f"declares how it is served there ({block}:)",
            )


def _sources(
    settings: Settings, catalog: Catalog, kinds: SourceKinds
) -> dict[str, GuardedConnector]:
    names = {department.source for department in catalog.departments}
    timeout = settings.statement_timeout_seconds
    return {
        name: kinds.open(name, settings.source_setting(name), timeout_seconds=timeout)
        for name in sorted(names)
    }


def _drop_options(
    settings: Settings, catalog: Catalog, kinds: SourceKinds
) -> dict[str, DropOptions]:
    """The options of the sources that are file drops (`file://` folders)."""
    found = {}
    for name in sorted({department.source for department in catalog.departments}):
        setting = settings.source_setting(name)
        timeout = settings.statement_timeout_seconds
        _, options = kinds.options(name, setting, timeout_seconds=timeout)
        if isinstance(options, DropOptions):
            found[name] = options
    return found


def _ensure_demo_data(settings: Settings, catalog: Catalog) -> None:
    """Generate the demo department databases on first start, and the files of the demo's
    file-drop departments (loaded when their folders are ready); they are never committed.

    The demo sources are made together, from one seed, one catalog version and one
    generator, so they refer to each other consistently: if any is missing or was made
    from another seed, catalog or generator, all of them are made again.
    """
    from demo import generate_demo_city, generator_version

    sources = sorted({d.source for d in catalog.departments} - set(settings.sources))
    if not sources:
        return
    delivered = [name for name in sources if settings.demo_delivered(name)]
    made = [
        settings.staging_path(name) if name in delivered else settings.demo_source_path(name)
        for name in sources
    ]
    stamp = settings.data_dir / "sources" / "made-from.txt"
    made_from = f"seed={settings.seed} catalog={catalog.version} generator={generator_version()}"
    current = stamp.exists() and stamp.read_text() == made_from
    if current and all(path.exists() for path in made):
        return
    stamp.parent.mkdir(parents=True, exist_ok=True)
    urls = {
        name: f"sqlite:///{settings.demo_source_path(name)}"
        for name in sources
        if name not in delivered
    }
    folders = {name: settings.demo_drop_folder(name) for name in delivered}
    departments = [d for d in catalog.departments if d.source in sources]
    generate_demo_city(departments, urls, folders, seed=settings.seed)
    stamp.write_text(made_from)


if __name__ == "__main__":
    from startup import main

    sys.exit(main())
