"""The key registry in the platform store: register, seed demo keys, authenticate.

A key that checked out is remembered for `cache_seconds` (settings: 5 s, like the grant
follower's refresh): every request presents its key, and a store round trip for each
(through aiosqlite, several hops to a thread, each waiting for the GIL on a busy
server) cost more than the audit record it then commits. So a key revoked in the
store stops working within `cache_seconds`; a key that expires is remembered no longer
than its expiry, so it stops working at that instant; a key that does not check out
is looked up every time, never remembered.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.keys import DEMO_SYSTEMS, demo_key, hash_key
from auth.lifecycle import System, issue, utc
from auth.tokens import TokenVerifier, looks_like_jwt
from errors import Unauthenticated
from policies import PUBLIC, Caller
from store import StoreUnavailable, api_keys

# Keys remembered at most; the least recently used is forgotten first.
CACHED_KEYS = 10_000


class KeyRegistry:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        demo: bool,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        tokens: TokenVerifier | None = None,
    ) -> None:
        self.engine = engine
        self.tokens = tokens
        """Verifies people's sign-on tokens; None: only API keys are accepted."""
        self.demo = demo
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._known: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        """Key hash -> (remembered until, on `clock`; the caller without an operator)."""

    async def register(
        self,
        department_code: str,
        department_name: str,
        system_id: str,
        system_name: str,
        attributes: Mapping[str, str] | None = None,
        *,
        operator: str | None = None,
    ) -> str:
        """Issue a key (audited: `auth.lifecycle.issue`) and return it, shown only once.

        `attributes` are what grant scopes compare rows with (township, industry):
        vouched for by the platform here, never taken from a request."""
        system = System(
            department_code, department_name, system_id, system_name, dict(attributes or {})
        )
        return (await issue(self.engine, system, operator=operator)).key

    async def seed_demo_keys(self, seed: int) -> None:
        """The demo keys, made again from the seed at every demo start (not audited: no
        one issues them)."""
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            await connection.execute(sa.delete(api_keys).where(api_keys.c.demo.is_(True)))
            await connection.execute(
                api_keys.insert(),
                [
                    {
                        "key_hash": hash_key(demo_key(seed, system.system_id)),
                        "department_code": system.department_code,
                        "department_name": system.department_name,
                        "system_id": system.system_id,
                        "system_name": system.system_name,
                        "attributes": dict(system.attributes),
                        "demo": True,
                        "created_at": now,
                    }
                    for system in DEMO_SYSTEMS
                ],
            )

    async def authenticate(self, authorization: str | None, operator: str | None) -> Caller:
        """No credential is the public; a credential that does not check out is refused.
        A bearer token shaped like a JWT is a person's sign-on token; anything else is
        an API key. StoreUnavailable when the key or system cannot be looked up."""
        if authorization is None:
            return PUBLIC
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")
        if looks_like_jwt(key.strip()):
            person = await self._signed_in(key.strip())
            return dataclasses.replace(person, operator=operator)
        key_hash = hash_key(key.strip())
        caller = self._remembered(key_hash)
        if caller is None:
            caller = await self._checked(key_hash)
        return dataclasses.replace(caller, operator=operator)

    async def _signed_in(self, token: str) -> Caller:
        """The system a person acts through, for that person: the token names the
        department and system, and the platform must know that system (a key of it
        that is in force); its name and attributes are the platform's, never the
        token's."""
        if self.tokens is None:
            raise Unauthenticated("this platform accepts no sign-on tokens, only API keys")
        signed_in = await self.tokens.verify(token)
        system = f"system:{signed_in.department}/{signed_in.system}"
        registered = self._remembered(system)
        if registered is None:
            registered, seconds = await self._registered(signed_in.department, signed_in.system)
            self._remember(system, registered, seconds)
        return dataclasses.replace(
            registered,
            credential=hash_key(f"person\0{signed_in.person}")[:16],
            person=signed_in.person,
            roles=signed_in.roles,
        )

    async def _registered(self, department: str, system: str) -> tuple[Caller, float]:
        """The system as registered, and how long to remember it: no longer than the
        key in force that vouches for it, as for a key itself."""
        columns = api_keys.c
        query = sa.select(api_keys).where(
            columns.department_code == department,
            columns.system_id == system,
            columns.revoked_at.is_(None),
        )
        if not self.demo:
            query = query.where(columns.demo.is_(False))
        try:
            async with self.engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        except SQLAlchemyError:
            raise StoreUnavailable from None
        now = datetime.datetime.now(datetime.UTC)
        row = next((r for r in rows if r.expires_at is None or utc(r.expires_at) > now), None)
        if row is None:
            raise Unauthenticated(
                "the sign-on token names a department system the platform does not know"
            )
        attributes = tuple(sorted((str(k), str(v)) for k, v in (row.attributes or {}).items()))
        caller = Caller(row.department_code, row.department_name, row.system_id, None, attributes)
        left = (utc(row.expires_at) - now).total_seconds() if row.expires_at else self.cache_seconds
        return caller, min(self.cache_seconds, left)

    async def _checked(self, key_hash: str) -> Caller:
        """The caller a key stands for, remembered for the next requests that bring it."""
        row = await self._lookup(key_hash)
        now = datetime.datetime.now(datetime.UTC)
        expires_at = utc(row.expires_at) if row is not None and row.expires_at else None
        if (
            row is None
            or row.revoked_at is not None
            or (row.demo and not self.demo)
            or (expires_at is not None and expires_at <= now)
        ):
            raise Unauthenticated("the API key is not valid")
        attributes = tuple(sorted((str(k), str(v)) for k, v in (row.attributes or {}).items()))
        caller = Caller(
            row.department_code, row.department_name, row.system_id, None, attributes, key_hash[:16]
        )
        left = (expires_at - now).total_seconds() if expires_at else self.cache_seconds
        self._remember(key_hash, caller, min(self.cache_seconds, left))
        return caller

    def _remembered(self, key_hash: str) -> Caller | None:
        known = self._known.get(key_hash)
        if known is None:
            return None
        until, caller = known
        if self._clock() >= until:
            del self._known[key_hash]
            return None
        self._known.move_to_end(key_hash)
        return caller

    def _remember(self, key_hash: str, caller: Caller, seconds: float) -> None:
        if seconds <= 0:
            return
        self._known[key_hash] = (self._clock() + seconds, caller)
        if len(self._known) > CACHED_KEYS:
            self._known.popitem(last=False)

    async def _lookup(self, key_hash: str) -> sa.Row[Any] | None:
        try:
            async with self.engine.connect() as connection:
                result = await connection.execute(
                    sa.select(api_keys).where(api_keys.c.key_hash == key_hash)
                )
                return result.first()
        except SQLAlchemyError:
            raise StoreUnavailable from None
