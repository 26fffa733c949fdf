"""What is served, in force: the one holder of the catalog and the policy every request
is served and decided by.

It is one value, `InForce`: the catalog, the policy made from the catalog, the rule
files (`model.conf` and `rules/*.csv` under the policy directory) and the grants in
the platform store, what the catalog serves (the schemas, the meanings of their
coordinates, the source of each resource: made by the platform's `serve`), and the
versions of all of it. It is replaced whole, never changed: a request reads `current`
once, when it starts, and is served, decided and recorded under that value to its end,
whatever a reload does meanwhile.

`reload()` is the one seam that changes it, and everything that notices a change calls
it: the file watcher, a message from another instance, the periodic check
(`follower.py`). It looks at what the value was made from — the rule files' digest, the
catalog files' digest, the grant store's change sequence — and, when any moved, reads
them again and swaps in the value they make only when all of it loads. When only the
grants moved, it reads just the changes after its own sequence and applies them to the
policy in force (`_follow`: milliseconds at 100,000 grants, not a load of them all).
Otherwise the last good value stays in force, and the problem (file, line, problem) is
logged once and kept in `problem` until a reload succeeds; fixing the file is enough
to recover.

The policy version is derived, never counted: a digest of the rule set's own version
(the catalog version and the rule files' text) and the grant store's change sequence,
which names the grants in force exactly. Instances with the same files and the same
store therefore report the same version, however each came to it, and every audit
record names the one its request was decided under.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from catalog import Catalog, files_version, load_catalog
from errors import ConfigurationError
from grants.model import rules_of
from grants.store import GrantChanges, GrantsChanging, GrantStore
from policies import SharingPolicy, load_rules
from policies.rules import RuleSet, rule_files

logger = logging.getLogger("gov_share.policies")

FOLLOWED_CHANGES = 1000
"""Up to this many grant changes since the policy in force are applied to it; more, and
the grants are read again whole (as after a restart)."""

S = TypeVar("S")
"""What a catalog serves; the platform decides (schemas, meanings, sources)."""


@dataclass(frozen=True)
class Seen:
    """What a value in force was made from, cheaply told: while none of it moves, a
    reload has nothing to read."""

    rules: str
    """The rule files' digest."""
    catalog: str
    """The catalog files' digest (the catalog version)."""
    grants: int
    """The grant store's change sequence."""


@dataclass(frozen=True)
class InForce(Generic[S]):
    catalog: Catalog
    policy: SharingPolicy
    served: S
    seen: Seen
    since: datetime.datetime
    """When this value was put in force (UTC)."""

    @property
    def version(self) -> str:
        """The policy version, recorded with every audit record."""
        return self.policy.version


class PolicySource(Generic[S]):
    def __init__(
        self,
        in_force: InForce[S],
        *,
        catalog_dir: Path,
        policy_dir: Path,
        grants: GrantStore,
        serve: Callable[[Catalog], S],
    ) -> None:
        """Use `PolicySource.load`: a holder starts with a value that loaded."""
        self.catalog_dir = catalog_dir
        self.policy_dir = policy_dir
        self.grants = grants
        self._serve = serve
        self._in_force = in_force
        self._problem: str | None = None
        self._logged: tuple[str, ...] = ()
        self._reloading = asyncio.Lock()
        self.failures = 0
        """Reloads that failed since start-up."""
        self.succeeded_at = time.time()
        """When a reload last succeeded (seconds since the epoch): the policy in force
        was current then."""

    @classmethod
    async def load(
        cls,
        catalog: Catalog,
        *,
        catalog_dir: Path,
        policy_dir: Path,
        grants: GrantStore,
        serve: Callable[[Catalog], S],
    ) -> PolicySource[S]:
        """What is in force at start-up, `catalog` being the one in `catalog_dir`. There
        is nothing good yet to keep, so what is wrong is raised: a `ConfigurationError`
        naming the file, or the store's error."""
        rules_digest = files_version(rule_files(policy_dir))
        policy, sequence = await policy_in_force(catalog, policy_dir, grants)
        seen = Seen(rules_digest, catalog.version, sequence)
        in_force = InForce(catalog, policy, serve(catalog), seen, _now())
        return cls(
            in_force, catalog_dir=catalog_dir, policy_dir=policy_dir, grants=grants, serve=serve
        )

    @property
    def current(self) -> InForce[S]:
        return self._in_force

    @property
    def problem(self) -> str | None:
        """Why what is in force may not be what the files and grants make now (the last
        reload failed): the file, the place and the problem; None while it is."""
        return self._problem

    async def reload(self) -> bool:
        """Look at the rule files, the catalog files and the grants, and put what they
        make in force if any of them moved.

        True when what is in force is theirs; False when something did not load: the
        last good value then stays in force, and `problem` says why. Reloading what has
        not changed keeps the same value, and with it its schemas and cached decisions."""
        async with self._reloading:
            try:
                await self._read_again()
            except SQLAlchemyError as exc:
                # While the store cannot be read nothing is served anyway: the audit log
                # cannot be written to the same store.
                self._failing("the platform store cannot be read", error=type(exc).__name__)
            except ConfigurationError as exc:
                kept = "catalog and policy stay" if self._in_catalog(exc) else "policy stays"
                self._failing(
                    f"{_place(exc)}: {exc.problem}; the last good {kept} in force",
                    path=exc.file,
                    where=exc.where,
                    problem=exc.problem,
                )
            except OSError as exc:
                name = Path(str(exc.filename)).name if exc.filename else "a file"
                self._failing(f"{name} cannot be read ({exc.strerror})", error=type(exc).__name__)
            except GrantsChanging as exc:
                self._failing(str(exc))
            except Exception as exc:  # a defect: keep the last good value, never die silently
                self._failing("the policy could not be reloaded", error=type(exc).__name__)
            else:
                if self._problem is not None:
                    logger.info("policy reloaded again")
                    self._problem, self._logged = None, ()
                self.succeeded_at = time.time()
                return True
            self.failures += 1
            return False

    async def _read_again(self) -> None:
        now = self._in_force
        rules_digest = files_version(rule_files(self.policy_dir))
        catalog_digest = files_version(sorted(self.catalog_dir.glob("*.yaml")))
        sequence = await self.grants.sequence()
        if Seen(rules_digest, catalog_digest, sequence) == now.seen:
            return
        if (rules_digest, catalog_digest) == (now.seen.rules, now.seen.catalog):
            changes = await self.grants.changes_since(now.seen.grants, most=FOLLOWED_CHANGES)
            if changes is not None:
                self._follow(now, changes)
                return
        catalog, served = now.catalog, now.served
        if catalog_digest != now.seen.catalog:
            loaded = await asyncio.to_thread(load_catalog, self.catalog_dir)
            catalog = loaded if loaded.version != catalog.version else catalog
        policy, sequence = await policy_in_force(catalog, self.policy_dir, self.grants)
        if catalog is not now.catalog:
            # Built beside the requests being served, not in their way (a schema takes
            # a good part of a second); a catalog that cannot be served raises here.
            served = await asyncio.to_thread(self._serve, catalog)
        if policy.version == now.policy.version:
            policy = now.policy  # the same policy, with its cached decisions
        seen = Seen(rules_digest, catalog.version, sequence)
        since = now.since if policy is now.policy and served is now.served else _now()
        self._in_force = InForce(catalog, policy, served, seen, since)
        if since is not now.since:
            logger.info(
                "policy in force",
                extra={"policy_version": policy.version, "catalog_version": catalog.version},
            )

    def _follow(self, now: InForce[S], changes: GrantChanges) -> None:
        """Only grants changed: the policy in force with those grants made and revoked,
        not one loaded again (milliseconds at 100,000 grants, not seconds)."""
        revoked = {grant.id for grant in changes.revoked}
        made = {grant.id for grant in changes.made}
        added = rules_of([grant for grant in changes.made if grant.id not in revoked])
        removed = [
            rule
            for grant in changes.revoked
            if grant.id not in made
            for rule in dataclasses.replace(grant, revoked_at=None).rules()
        ]
        rules = now.policy.rules.changed(added, removed)
        policy = SharingPolicy(now.catalog, rules, derived_version(rules, changes.sequence))
        seen = dataclasses.replace(now.seen, grants=changes.sequence)
        self._in_force = InForce(now.catalog, policy, now.served, seen, _now())
        logger.info(
            "policy in force",
            extra={"policy_version": policy.version, "catalog_version": now.catalog.version},
        )

    def _in_catalog(self, error: ConfigurationError) -> bool:
        """A catalog file, or the catalog as a whole (its directory)."""
        where, catalog_dir = Path(error.file).resolve(), self.catalog_dir.resolve()
        return where == catalog_dir or (where.parent == catalog_dir and where.suffix == ".yaml")

    def _failing(self, reason: str, **details: str) -> None:
        """Log a problem once, not at every reload it lasts."""
        logged = (reason, *(f"{name}={value}" for name, value in sorted(details.items())))
        if self._logged != logged:
            logger.error(f"policy not reloaded: {reason}", extra=details)
        self._problem, self._logged = reason, logged


async def policy_in_force(
    catalog: Catalog, policy_dir: Path, grants: GrantStore
) -> tuple[SharingPolicy, int]:
    """The policy the rule files and the grants in force make over `catalog`, under its
    derived version, and the grant store's change sequence it was made at."""
    listed, sequence = await grants.in_force()
    rules = load_rules(policy_dir, catalog, rules_of(listed))
    return SharingPolicy(catalog, rules, derived_version(rules, sequence)), sequence


def derived_version(rules: RuleSet, sequence: int) -> str:
    """A digest of the rule set's own (catalog version, rule files' text) and the grant
    store's change sequence, which names the grants in force exactly: the same on every
    instance that reads the same files and store, another after any change. Short
    enough for the audit record."""
    digest = hashlib.new("sm3", f"{rules.version}\0{sequence}".encode())
    return digest.hexdigest()[:16]


def _place(error: ConfigurationError) -> str:
    """The file by its name (where it lives on the server is not the reader's
    business) and the place inside it."""
    name = Path(error.file).name
    return f"{name} {error.where}" if error.where else name


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
