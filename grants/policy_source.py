"""The policy in force: the one holder of the policy every request is decided by.

The policy is made from the catalog, the rule files (`model.conf` and `rules/*.csv`
under the policy directory) and the grants in force in the platform store, and is
replaced whole, never changed: a request reads `current` once, when it starts, and is
decided and recorded under that policy to its end, whatever a reload does meanwhile.

`reload()` is the one seam that changes it. It reads the rule files and the grants
again and swaps in the policy they make only when all of it loads; otherwise the last
good policy stays in force, and the problem is logged once (with the file, line and
problem) and kept in `problem` until a reload succeeds. The grants follower calls it
at every interval; a file watcher, or a message from another instance, would call the
same seam.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from catalog import Catalog, files_version
from errors import ConfigurationError
from grants.model import rules_of
from grants.store import GrantStore
from policies import SharingPolicy, load_rules
from policies.rules import rule_files

logger = logging.getLogger("gov_share.policies")

_Seen = tuple[str, object]
"""What the policy in force was made from, cheaply told: the rule files' digest and the
grant store's change marker. While neither moves, a reload has nothing to read."""


class PolicySource:
    def __init__(
        self,
        catalog: Catalog,
        policy_dir: Path,
        grants: GrantStore,
        policy: SharingPolicy,
        seen: _Seen,
    ) -> None:
        """Use `PolicySource.load`: a holder starts with a policy that loaded."""
        self.catalog = catalog
        self.policy_dir = policy_dir
        self.grants = grants
        self._policy = policy
        self._seen = seen
        self._problem: str | None = None
        self._logged: tuple[str, ...] = ()
        self._reloading = asyncio.Lock()

    @classmethod
    async def load(cls, catalog: Catalog, policy_dir: Path, grants: GrantStore) -> PolicySource:
        """The policy in force at start-up. There is no good policy yet to keep, so what
        is wrong is raised: a `ConfigurationError` naming the rule file, or the store's
        error."""
        seen = await _seen(policy_dir, grants)
        return cls(catalog, policy_dir, grants, await _made(catalog, policy_dir, grants), seen)

    @property
    def current(self) -> SharingPolicy:
        return self._policy

    @property
    def problem(self) -> str | None:
        """Why the policy in force may not be the one the rule files and grants make
        now (the last reload failed); None while it is."""
        return self._problem

    async def reload(self) -> bool:
        """Read the rule files and grants again and put the policy they make in force.

        True when the policy in force is theirs; False when something did not load: the
        last good policy then stays in force, and `problem` says why. Reloading what
        has not changed keeps the same policy, and with it its cached decisions."""
        async with self._reloading:
            try:
                await self._read_again()
            except SQLAlchemyError as exc:
                # While the store cannot be read nothing is served anyway: the audit log
                # cannot be written to the same store.
                self._failing("the platform store cannot be read", error=type(exc).__name__)
            except ConfigurationError as exc:
                self._failing(
                    f"{Path(exc.file).name} does not load; the last good policy stays in force",
                    path=exc.file,
                    where=exc.where,
                    problem=exc.problem,
                )
            except Exception as exc:  # a defect: keep the last good policy, never die silently
                self._failing("grants could not be applied", error=type(exc).__name__)
            else:
                if self._problem is not None:
                    logger.info("grants followed again")
                    self._problem, self._logged = None, ()
                return True
            return False

    async def _read_again(self) -> None:
        seen = await _seen(self.policy_dir, self.grants)
        if seen == self._seen:
            return
        policy = await _made(self.catalog, self.policy_dir, self.grants)
        if policy.version != self._policy.version:
            self._policy = policy
        self._seen = seen

    def _failing(self, reason: str, **details: str) -> None:
        """Log a problem once, not at every reload it lasts."""
        logged = (reason, *(f"{name}={value}" for name, value in sorted(details.items())))
        if self._logged != logged:
            logger.error(f"grants not followed: {reason}", extra=details)
        self._problem, self._logged = reason, logged


async def _seen(policy_dir: Path, grants: GrantStore) -> _Seen:
    return files_version(rule_files(policy_dir)), await grants.version()


async def _made(catalog: Catalog, policy_dir: Path, grants: GrantStore) -> SharingPolicy:
    in_force = rules_of(await grants.listed())
    return SharingPolicy(catalog, load_rules(policy_dir, catalog, in_force))
