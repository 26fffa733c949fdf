"""A department's REST API for the tests: a small Starlette app served by uvicorn on
loopback in a thread of the test process, so the REST connector is tested over real
HTTP — sockets, pools, timeouts — and the test can read what the API was asked.

It serves person records as a department API might: its own JSON names (`idNumber`,
`address.township`), `?ids=a,b` and `POST /persons/search` for batches, `/persons/{id}`
for one, filters, `?sort=`, `?fields=`, and pages by number, offset, cursor or link.
Calls without the bearer token are answered 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "tok-3f9a1c7e5b2d"


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: Any
    client_port: int
    """The caller's port: calls on one pooled connection share it."""


@dataclass
class DepartmentApi:
    records: list[dict[str, Any]]
    url: str = ""
    delay_seconds: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    next_link: str | None = None
    """If set, the link a page gives to the next one instead of the API's own."""
    answer: Any = None
    """If set, every list call answers this body instead."""
    last_modified: str | None = None
    """If set, list calls carry it as their `Last-Modified` header."""
    busy: int = 0
    """Calls still to answer 503, as a gateway in front of an overloaded API does."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/health", self._health),
                Route("/persons", self._list),
                Route("/persons/search", self._list, methods=["POST"]),
                Route("/persons/{id_number}", self._one),
            ]
        )

    def by_id(self, id_number: str) -> dict[str, Any]:
        return next(record for record in self.records if record["idNumber"] == id_number)

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"up": True})

    async def _one(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        try:
            found = [r for r in self.records if r["idNumber"] == request.path_params["id_number"]]
            if not found:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse(_fields(found[0], request.query_params.get("fields")))
        finally:
            self.in_flight -= 1

    async def _list(self, request: Request) -> Response:
        refused = await self._enter(request)
        if refused is not None:
            return refused
        try:
            headers = {} if self.last_modified is None else {"Last-Modified": self.last_modified}
            if self.answer is not None:
                return JSONResponse(self.answer, headers=headers)
            return JSONResponse(self._page(request, await _body(request)), headers=headers)
        finally:
            self.in_flight -= 1

    async def _enter(self, request: Request) -> Response | None:
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                list(request.query_params.multi_items()),
                dict(request.headers),
                await _body(request),
                request.client.port if request.client else 0,
            )
        )
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.busy:
            self.busy -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.delay_seconds)
        return None

    def _page(self, request: Request, body: Any) -> dict[str, Any]:
        query = request.query_params
        found = list(self.records)
        ids = body["ids"] if body else query.get("ids", query.get("id", "")).split(",")
        if body or "ids" in query or "id" in query:
            found = [r for r in found if r["idNumber"] in ids]
        if "township" in query:
            found = [r for r in found if r["address"]["township"] == query["township"]]
        if "townships" in query:
            townships = query["townships"].split(",")
            found = [r for r in found if r["address"]["township"] in townships]
        if "born_from" in query:
            found = [r for r in found if r["birthDate"] >= query["born_from"]]
        if "id_after" in query:
            found = [r for r in found if r["idNumber"] > query["id_after"]]
        for key in reversed(query.get("sort", "").split(",") if "sort" in query else []):
            name = key.removeprefix("-")
            found.sort(key=lambda r, name=name: r[name], reverse=key.startswith("-"))
        meta: dict[str, Any] = {}
        if "page" in query:
            size = int(query["per_page"])
            start = (int(query["page"]) - 1) * size
        elif "offset" in query:
            size, start = int(query["limit"]), int(query["offset"])
        elif "limit" in query:
            size, start = int(query["limit"]), int(query.get("cursor", "0"))
            if start + size < len(found):
                meta["next_cursor"] = str(start + size)
                following = [(k, v) for k, v in query.multi_items() if k != "cursor"]
                link = "/persons?" + "&".join(f"{k}={v}" for k, v in following)
                meta["next"] = self.next_link or f"{link}&cursor={start + size}"
        else:
            size, start = len(found), 0
        fields = query.get("fields")
        return {"data": [_fields(r, fields) for r in found[start : start + size]], "meta": meta}


async def _body(request: Request) -> Any:
    return await request.json() if request.method == "POST" else None


def _fields(record: dict[str, Any], fields: str | None) -> dict[str, Any]:
    if fields is None:
        return record
    tops = {name.split(".")[0] for name in fields.split(",")}
    return {name: value for name, value in record.items() if name in tops}


@contextlib.contextmanager
def serving(api: DepartmentApi) -> Iterator[DepartmentApi]:
    """`api` served on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    api.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(api.app(), lifespan="off", ws="none", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "the department API did not start"
        yield api
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def person_records(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Person rows as the API writes them: its own names, dates as text, the address
    nested."""
    return [
        {
            "idNumber": row["id_number"],
            "name": row["name"],
            "gender": row["gender"],
            "ethnicity": row["ethnicity"],
            "birthDate": str(row["birth_date"]),
            "address": {"township": row["township"], "household": row["household_address"]},
            "phone": row["phone"],
        }
        for row in rows
    ]
